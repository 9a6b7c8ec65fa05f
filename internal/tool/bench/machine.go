package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the numbers were measured.
type Machine struct {
	Cores     int     `json:"cores"` // logical CPUs this process may use
	MemoryGiB float64 `json:"memory_gib"`
	CPU       string  `json:"cpu,omitempty"`
	Go        string  `json:"go"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
}

// ThisMachine reads the machine's description (memory and CPU model from
// /proc on Linux; left empty elsewhere).
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if kb, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if n, err := strconv.ParseFloat(strings.TrimSuffix(kb, " kB"), 64); err == nil {
			m.MemoryGiB = round3(n / (1 << 20))
		}
	}
	m.CPU, _ = procField("/proc/cpuinfo", "model name")
	return m
}

// Markdown is the machine as the benchmark documents describe it, e.g.
// "2 cores (CPU model), 7.7 GiB memory, go1.26 linux/amd64".
func (m Machine) Markdown() string {
	cpu := ""
	if m.CPU != "" {
		cpu = " (" + m.CPU + ")"
	}
	return fmt.Sprintf("%d cores%s, %.1f GiB memory, %s %s/%s", m.Cores, cpu, m.MemoryGiB, m.Go, m.OS, m.Arch)
}

// procField returns the value of the first "key: value" line with key.
func procField(path, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// LoadAverage is the one-minute load average (Linux; 0 elsewhere): how
// busy the machine was with other work while measuring.
func LoadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
