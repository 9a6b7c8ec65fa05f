package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"
)

// batchInterval is how long one batch takes to "process".
const batchInterval = 100 * time.Millisecond

// LongRunningInput is the input of the LongRunningProcessing workflow.
// ProcessedTotal and Run are carried from one run to the next by
// continue-as-new; a client starting the workflow leaves them zero.
type LongRunningInput struct {
	BatchSize      int `json:"batchSize"`
	MaxPerRun      int `json:"maxPerRun"`
	ProcessedTotal int `json:"processedTotal,omitempty"`
	Run            int `json:"run,omitempty"`
}

// LongRunningStatus is what the getStatus query of LongRunningProcessing
// returns.
type LongRunningStatus struct {
	Run              int `json:"run"`
	ProcessedThisRun int `json:"processedThisRun"`
	ProcessedTotal   int `json:"processedTotal"`
}

// Bounds on LongRunningProcessing's input. The totals are carried from
// run to run forever, so a run's items are bounded far below where they
// could overflow: a batch and a run of 2^62 items each overflowed the
// total in the second run, and the third was refused.
const (
	maxLongRunningBatch  = 10_000
	maxLongRunningPerRun = 1_000_000
	// maxLongRunningTotal bounds processedTotal and run as a client may
	// send them; at a million items a run, runs never reach it.
	maxLongRunningTotal = 1 << 53
)

func (in LongRunningInput) validate() error {
	switch {
	case in.BatchSize <= 0 || in.BatchSize > maxLongRunningBatch:
		return validationError("batchSize must be between 1 and %d, got %d", maxLongRunningBatch, in.BatchSize)
	case in.MaxPerRun < in.BatchSize || in.MaxPerRun > maxLongRunningPerRun:
		return validationError("maxPerRun must be between batchSize (%d) and %d, got %d", in.BatchSize, maxLongRunningPerRun, in.MaxPerRun)
	case in.ProcessedTotal < 0 || in.Run < 0 || in.ProcessedTotal > maxLongRunningTotal || in.Run > maxLongRunningTotal:
		return validationError("processedTotal and run must be between 0 and %d", maxLongRunningTotal)
	}
	return nil
}

// LongRunningProcessing processes batches forever. It never completes: to
// keep its history bounded it continues as new after maxPerRun items, or
// sooner when the server suggests it, carrying the totals into the next run.
func LongRunningProcessing(ctx workflow.Context, in LongRunningInput) error {
	if err := in.validate(); err != nil {
		return err
	}
	st := LongRunningStatus{Run: max(in.Run, 1), ProcessedTotal: in.ProcessedTotal}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (LongRunningStatus, error) { return st, nil }); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}

	for !shouldContinueAsNew(ctx, st, in.MaxPerRun) {
		// The last batch of a run is trimmed so every run handles exactly
		// maxPerRun items, which keeps the totals easy to reason about.
		n := min(in.BatchSize, in.MaxPerRun-st.ProcessedThisRun)
		if err := workflow.Sleep(ctx, batchInterval); err != nil {
			return fmt.Errorf("long running processing stopped in run %d: %w", st.Run, err)
		}
		st.ProcessedThisRun += n
		st.ProcessedTotal += n
	}

	workflow.GetLogger(ctx).Info("continuing as new", "run", st.Run, "processedTotal", st.ProcessedTotal)
	next := LongRunningInput{
		BatchSize:      in.BatchSize,
		MaxPerRun:      in.MaxPerRun,
		ProcessedTotal: st.ProcessedTotal,
		Run:            st.Run + 1,
	}
	// Named explicitly so the next run is the type Register set up, which
	// is what clients and the server know this workflow as.
	return workflow.NewContinueAsNewError(ctx, longRunningProcessingName, next)
}

// shouldContinueAsNew reports whether this run is done. The server's
// suggestion is ignored until the run has made progress, so a suggestion
// that is still set in a fresh run cannot cause a tight loop of empty runs.
func shouldContinueAsNew(ctx workflow.Context, st LongRunningStatus, maxPerRun int) bool {
	if st.ProcessedThisRun >= maxPerRun {
		return true
	}
	return st.ProcessedThisRun > 0 && workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}
