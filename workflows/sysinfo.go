package workflows

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/worker"
)

// sysInfoRefresh is how stale a reading may be. The SDK asks on every slot
// it considers handing out; reading /proc that often would cost more than
// the tasks.
const sysInfoRefresh = 100 * time.Millisecond

// sysInfo reports CPU and memory use as fractions of what this process may
// use: its cgroup's limits (cgroup v2) where there are limits, else the
// machine's (/proc). Under cgroup v1 it sees the machine's numbers.
type sysInfo struct {
	root string // "/" but in tests
	now  func() time.Time

	mu       sync.Mutex
	at       time.Time
	cpu, mem float64
	last     cpuSample
}

// cpuSample is a cumulative CPU counter at one moment: busy and total
// time, in the same unit.
type cpuSample struct {
	busy, total float64
	ok          bool
}

var _ worker.SysInfoProvider = (*sysInfo)(nil)

func newSysInfo(root string, now func() time.Time) (*sysInfo, error) {
	s := &sysInfo{root: root, now: now}
	if err := s.refresh(); err != nil {
		return nil, fmt.Errorf("reading system load: %w (resource-based tuning needs Linux /proc)", err)
	}
	return s, nil
}

// MemoryUsage is the SDK's question: the share of memory in use.
func (s *sysInfo) MemoryUsage(*worker.SysInfoContext) (float64, error) {
	return s.read(func() float64 { return s.mem })
}

// CpuUsage is the SDK's question: the share of CPU in use since the last
// reading.
func (s *sysInfo) CpuUsage(*worker.SysInfoContext) (float64, error) {
	return s.read(func() float64 { return s.cpu })
}

// read refreshes the readings if they are stale and returns one of them.
func (s *sysInfo) read(reading func() float64) (float64, error) {
	if err := s.maybeRefresh(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return reading(), nil
}

func (s *sysInfo) maybeRefresh() error {
	s.mu.Lock()
	fresh := s.now().Sub(s.at) < sysInfoRefresh
	s.mu.Unlock()
	if fresh {
		return nil
	}
	return s.refresh()
}

func (s *sysInfo) refresh() error {
	mem, err := s.memory()
	if err != nil {
		return err
	}
	now := s.now()
	sample, err := s.cpuCounter(now)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.ok && sample.total > s.last.total {
		s.cpu = min(max((sample.busy-s.last.busy)/(sample.total-s.last.total), 0), 1)
	}
	s.mem, s.last, s.at = mem, sample, now
	return nil
}

// memory is the cgroup's working set over its limit, else the machine's
// (MemTotal - MemAvailable) / MemTotal.
func (s *sysInfo) memory() (float64, error) {
	if limit, ok := s.cgroupNumber("memory.max"); ok && limit > 0 {
		current, ok := s.cgroupNumber("memory.current")
		if ok {
			// Like the kubelet's working set: reclaimable page cache is not use.
			inactive, _ := s.cgroupStat("memory.stat", "inactive_file")
			return min(max(current-inactive, 0)/limit, 1), nil
		}
	}
	info, err := s.keyed("proc/meminfo")
	if err != nil {
		return 0, err
	}
	total, avail := info["MemTotal:"], info["MemAvailable:"]
	if total <= 0 {
		return 0, errors.New("/proc/meminfo has no MemTotal")
	}
	return min(max((total-avail)/total, 0), 1), nil
}

// cpuCounter is the cgroup's CPU time against its quota's share of wall
// time, else the machine's busy and total jiffies from /proc/stat.
func (s *sysInfo) cpuCounter(now time.Time) (cpuSample, error) {
	if quota, ok := s.cpuQuota(); ok {
		if usage, ok := s.cgroupStat("cpu.stat", "usage_usec"); ok {
			wall := float64(now.UnixMicro()) * quota
			return cpuSample{busy: usage, total: wall, ok: true}, nil
		}
	}
	data, err := os.ReadFile(filepath.Join(s.root, "proc/stat"))
	if err != nil {
		return cpuSample{}, err
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return cpuSample{}, errors.New("/proc/stat has no cpu line")
	}
	var total, idle float64
	for i, f := range fields[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return cpuSample{}, fmt.Errorf("/proc/stat: %w", err)
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return cpuSample{busy: total - idle, total: total, ok: true}, nil
}

// cpuQuota is the cgroup's CPU limit in CPUs ("200000 100000" is 2), false
// when there is none.
func (s *sysInfo) cpuQuota() (float64, bool) {
	data, err := os.ReadFile(filepath.Join(s.root, "sys/fs/cgroup/cpu.max"))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	quota, err1 := strconv.ParseFloat(f[0], 64)
	period, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0, false
	}
	return quota / period, true
}

// cgroupNumber reads a one-number cgroup v2 file; "max" and absence are
// false.
func (s *sysInfo) cgroupNumber(name string) (float64, bool) {
	data, err := os.ReadFile(filepath.Join(s.root, "sys/fs/cgroup", name))
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	return v, err == nil
}

func (s *sysInfo) cgroupStat(file, key string) (float64, bool) {
	m, err := s.keyed(filepath.Join("sys/fs/cgroup", file))
	if err != nil {
		return 0, false
	}
	v, ok := m[key]
	return v, ok
}

// keyed reads "key value ..." lines (/proc/meminfo, cgroup stat files).
func (s *sysInfo) keyed(name string) (map[string]float64, error) {
	f, err := os.Open(filepath.Join(s.root, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[1], 64); err == nil {
			out[fields[0]] = v
		}
	}
	return out, sc.Err()
}
