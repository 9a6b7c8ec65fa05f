package workflows

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// fakeRoot is a directory laid out like / for sysInfo.
type fakeRoot struct {
	t   *testing.T
	dir string
	now time.Time
}

func newFakeRoot(t *testing.T) *fakeRoot {
	r := &fakeRoot{t: t, dir: t.TempDir(), now: time.Unix(1000, 0)}
	r.write("proc/meminfo", "MemTotal:       1000 kB\nMemFree:   100 kB\nMemAvailable:    750 kB\n")
	r.write("proc/stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
	return r
}

func (r *fakeRoot) write(name, data string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, []byte(data), 0o644))
}

func (r *fakeRoot) info() *sysInfo {
	r.t.Helper()
	s, err := newSysInfo(r.dir, func() time.Time { return r.now })
	require.NoError(r.t, err)
	return s
}

func usage(t *testing.T, s *sysInfo) (cpu, mem float64) {
	t.Helper()
	cpu, err := s.CpuUsage(nil)
	require.NoError(t, err)
	mem, err = s.MemoryUsage(nil)
	require.NoError(t, err)
	return cpu, mem
}

func TestSysInfoFromProc(t *testing.T) {
	r := newFakeRoot(t)
	s := r.info()
	cpu, mem := usage(t, s)
	require.Zero(t, cpu, "no interval measured yet")
	require.InDelta(t, 0.25, mem, 1e-9)

	// 1000 more jiffies, 600 of them busy (user+system), 400 idle+iowait.
	r.write("proc/stat", "cpu  400 0 400 1000 200 0 0 0 0 0\n")
	r.now = r.now.Add(50 * time.Millisecond)
	cpu, _ = usage(t, s)
	require.Zero(t, cpu, "a reading younger than the refresh interval is reused")
	r.now = r.now.Add(sysInfoRefresh)
	cpu, _ = usage(t, s)
	require.InDelta(t, 0.6, cpu, 1e-9)
}

func TestSysInfoFromCgroupLimits(t *testing.T) {
	r := newFakeRoot(t)
	r.write("sys/fs/cgroup/memory.max", "1000\n")
	r.write("sys/fs/cgroup/memory.current", "700\n")
	r.write("sys/fs/cgroup/memory.stat", "anon 400\ninactive_file 200\n")
	r.write("sys/fs/cgroup/cpu.max", "200000 100000\n") // 2 CPUs
	r.write("sys/fs/cgroup/cpu.stat", "usage_usec 5000000\nuser_usec 1\n")
	s := r.info()
	_, mem := usage(t, s)
	require.InDelta(t, 0.5, mem, 1e-9, "(700 - 200 inactive) / 1000")

	// One second of wall time, 1.5 s of CPU out of the 2 allowed.
	r.write("sys/fs/cgroup/cpu.stat", "usage_usec 6500000\n")
	r.now = r.now.Add(time.Second)
	cpu, _ := usage(t, s)
	require.InDelta(t, 0.75, cpu, 1e-9)
}

func TestSysInfoWithoutLimitsUsesTheMachine(t *testing.T) {
	r := newFakeRoot(t)
	r.write("sys/fs/cgroup/memory.max", "max\n")
	r.write("sys/fs/cgroup/memory.current", "700\n")
	r.write("sys/fs/cgroup/cpu.max", "max 100000\n")
	_, mem := usage(t, r.info())
	require.InDelta(t, 0.25, mem, 1e-9)
}

func TestSysInfoNeedsProc(t *testing.T) {
	_, err := newSysInfo(t.TempDir(), time.Now)
	require.ErrorContains(t, err, "resource-based tuning needs Linux /proc")
}

func TestNewResourceTuner(t *testing.T) {
	tuner, err := NewResourceTuner(ResourceTuning{})
	require.NoError(t, err)
	require.NotNil(t, tuner.GetActivityTaskSlotSupplier())
	for _, bad := range []ResourceTuning{{TargetCPU: -0.1}, {TargetMemory: 1.5}} {
		_, err := NewResourceTuner(bad)
		require.Error(t, err, "%+v", bad)
	}
}

func TestStartPoolRefusesATunerWithLimits(t *testing.T) {
	tuner, err := NewResourceTuner(ResourceTuning{})
	require.NoError(t, err)
	_, err = StartPool(nil, []string{"q"}, NewActivities(), worker.Options{Tuner: tuner, MaxConcurrentActivityExecutionSize: 4})
	require.ErrorIs(t, err, ErrTunerWithLimits)
}
