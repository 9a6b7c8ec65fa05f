package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// What the ceiling measures of a process from outside it, from /proc
// (Linux only), and how it pins processes to CPUs.

// clockTick is the unit of /proc's CPU times (USER_HZ, 100 on every
// Linux the project runs on).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user and system, every thread, exited ones
// included) a process has used.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// memStat is a process's memory from /proc/<pid>/status, in bytes: its
// resident set now (VmRSS) and at its peak (VmHWM), and of the set now
// what is anonymous (RssAnon: heap, stacks) and what maps files (RssFile:
// the binary's pages, bbolt's mmap), which the kernel can drop.
type memStat struct{ rss, hwm, anon, file uint64 }

func procMem(pid int) (memStat, error) {
	var m memStat
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*uint64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		dst := fields[k]
		if !ok || dst == nil {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status %s: %w", pid, k, err)
		}
		*dst = kb << 10
	}
	return m, sc.Err()
}

// ProcMemory is a process's memory as procMem reads it, for other tools.
type ProcMemory struct{ RSS, Peak, Anon, File uint64 }

// ReadProcMemory reads pid's memory from /proc/<pid>/status (Linux).
func ReadProcMemory(pid int) (ProcMemory, error) {
	m, err := procMem(pid)
	return ProcMemory{RSS: m.rss, Peak: m.hwm, Anon: m.anon, File: m.file}, err
}

// procRunDelay is how long a process's threads have waited, runnable, for
// a CPU (the second field of each /proc/<pid>/task/<tid>/schedstat;
// threads that exited are not counted, and Go's seldom exit).
func procRunDelay(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // exited meanwhile
		}
		if f := strings.Fields(string(data)); len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += time.Duration(ns)
		}
	}
	return sum, nil
}

// cpuTimes are one CPU's busy and total time, from /proc/stat.
type cpuTimes struct{ busy, total uint64 }

// readCPUTimes reads every CPU's times (ticks), by CPU number.
func readCPUTimes() map[int]cpuTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	out := map[int]cpuTimes{}
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		n, err := strconv.Atoi(f[0][3:])
		if err != nil {
			continue
		}
		var t cpuTimes
		for i, s := range f[1:9] { // user nice system idle iowait irq softirq steal
			v, _ := strconv.ParseUint(s, 10, 64)
			t.total += v
			if i != 3 && i != 4 {
				t.busy += v
			}
		}
		out[n] = t
	}
	return out
}

// busyShare is how busy cpu was between two readings, 0 to 1.
func busyShare(before, after map[int]cpuTimes, cpu int) float64 {
	b, a := before[cpu], after[cpu]
	if a.total <= b.total {
		return 0
	}
	return float64(a.busy-b.busy) / float64(a.total-b.total)
}

// allowedCPUs is the CPU list this process may run on, as taskset takes
// it ("0-1").
func allowedCPUs() (string, error) {
	v, ok := procField("/proc/self/status", "Cpus_allowed_list")
	if !ok {
		return "", fmt.Errorf("no Cpus_allowed_list in /proc/self/status")
	}
	return v, nil
}

// pinSelf moves every thread of this process to cpus (taskset's syntax);
// threads started later inherit it from their creators.
func pinSelf(cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s: %v: %s", cpus, err, bytes.TrimSpace(out))
	}
	return nil
}
