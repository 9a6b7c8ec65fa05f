package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/worker"
)

// Default targets of ResourceTuning.
const (
	DefaultTargetCPU    = 0.8
	DefaultTargetMemory = 0.8
)

// ResourceTuning sizes the workers' task slots by how busy the machine is
// (the SDK's resource-based tuner), instead of the fixed limits of
// worker.Options.MaxConcurrent*: a slot is handed out while CPU and memory
// use stay under their targets. Use is measured against the process's
// cgroup v2 limits where it has them, else the machine's (/proc).
type ResourceTuning struct {
	// TargetCPU is the share of CPU, in (0, 1], to stay under; 0 means
	// DefaultTargetCPU.
	TargetCPU float64
	// TargetMemory is the share of memory, in (0, 1], to stay under; 0
	// means DefaultTargetMemory. Past it no slot is handed out at all.
	TargetMemory float64
}

// ErrTunerWithLimits: worker.Options holds both a tuner and fixed
// concurrency limits, which the SDK refuses (it would panic).
var ErrTunerWithLimits = errors.New("a worker tuner and fixed concurrency limits (MaxConcurrent*) exclude each other")

// NewResourceTuner returns the tuner of a whole process: put the one value
// in the worker.Options of every pool (Options.Tuner), with the
// MaxConcurrent* limits left zero. The SDK's resource controller assumes it
// is the only one watching the machine, so never build one per worker.
func NewResourceTuner(t ResourceTuning) (worker.WorkerTuner, error) {
	cpu, mem := t.TargetCPU, t.TargetMemory
	if cpu == 0 {
		cpu = DefaultTargetCPU
	}
	if mem == 0 {
		mem = DefaultTargetMemory
	}
	if cpu < 0 || cpu > 1 || mem < 0 || mem > 1 {
		return nil, errors.New("resource tuning targets must be in (0, 1]")
	}
	info, err := newSysInfo("/", time.Now)
	if err != nil {
		return nil, err
	}
	return worker.NewResourceBasedTuner(worker.ResourceBasedTunerOptions{TargetCpu: cpu, TargetMem: mem, InfoSupplier: info})
}

// checkTuning refuses what worker.New would panic on.
func checkTuning(o worker.Options) error {
	if o.Tuner != nil && (o.MaxConcurrentActivityExecutionSize != 0 || o.MaxConcurrentWorkflowTaskExecutionSize != 0 ||
		o.MaxConcurrentLocalActivityExecutionSize != 0 || o.MaxConcurrentNexusTaskExecutionSize != 0) {
		return ErrTunerWithLimits
	}
	return nil
}
