package bench

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// GoBench is one benchmark of `go test -bench` output, with every run of it.
type GoBench struct {
	Pkg  string `json:"pkg"`
	Name string `json:"name"` // without "Benchmark" and the -GOMAXPROCS suffix
	// Runs hold each run's figures by unit: "ns/op", "B/op", "allocs/op"
	// and any the benchmark reports itself.
	Runs []map[string]float64 `json:"runs"`
}

// Median returns the median of unit over the runs, and whether any run
// reported it.
func (b GoBench) Median(unit string) (float64, bool) {
	var vs []float64
	for _, r := range b.Runs {
		if v, ok := r[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

// Units lists the units any run reported, the standard ones first.
func (b GoBench) Units() []string {
	var extra []string
	seen := map[string]bool{}
	for _, r := range b.Runs {
		for u := range r {
			if !seen[u] && u != "ns/op" && u != "B/op" && u != "allocs/op" {
				extra = append(extra, u)
			}
			seen[u] = true
		}
	}
	slices.Sort(extra)
	var out []string
	for _, u := range []string{"ns/op", "B/op", "allocs/op"} {
		if seen[u] {
			out = append(out, u)
		}
	}
	return append(out, extra...)
}

// ParseGoBench reads `go test -bench` output (several packages, -count
// repeats) and returns the benchmarks in order of first appearance, and
// the "cpu:" line's model if there was one. Other lines are ignored.
func ParseGoBench(r io.Reader) (benches []GoBench, cpu string, err error) {
	index := map[string]int{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "cpu: "):
			cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "Benchmark"):
			name, run, ok := parseBenchLine(line)
			if !ok {
				continue
			}
			key := pkg + " " + name
			i, seen := index[key]
			if !seen {
				i = len(benches)
				index[key] = i
				benches = append(benches, GoBench{Pkg: pkg, Name: name})
			}
			benches[i].Runs = append(benches[i].Runs, run)
		}
	}
	return benches, cpu, sc.Err()
}

// parseBenchLine reads "BenchmarkX-2  1000  63.1 ns/op  0 B/op ...".
func parseBenchLine(line string) (name string, run map[string]float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", nil, false
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return "", nil, false
	}
	name = strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	run = map[string]float64{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		run[f[i+1]] = v
	}
	return name, run, true
}
