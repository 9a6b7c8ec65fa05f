package bench

import (
	"strings"
	"testing"
)

const goTestOutput = `goos: linux
goarch: amd64
pkg: github.com/regiongate/regiongate/router
cpu: AMD EPYC 7B13
BenchmarkDecide/all-up-2         	18874150	        63.19 ns/op	       0 B/op	       0 allocs/op
BenchmarkDecide/home-open-2      	 9797372	       107.0 ns/op	      16 B/op	       1 allocs/op
BenchmarkDecide/all-up-2         	18874150	        59.00 ns/op	       0 B/op	       0 allocs/op
BenchmarkDecide/all-up-2         	18874150	        56.00 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	github.com/regiongate/regiongate/router	5.1s
pkg: github.com/regiongate/regiongate/gateway
BenchmarkConsulPropagation-2     	     232	   4957311 ns/op	         3.500 p50-ms	        27.90 p99-ms
BenchmarkOdd-name-12-2   	 100	 5 ns/op
Benchmark line that is not one
--- BENCH: BenchmarkSomething
ok  	github.com/regiongate/regiongate/gateway	9.3s
`

func TestParseGoBench(t *testing.T) {
	benches, cpu, err := ParseGoBench(strings.NewReader(goTestOutput))
	if err != nil {
		t.Fatal(err)
	}
	if cpu != "AMD EPYC 7B13" {
		t.Errorf("cpu %q", cpu)
	}
	var names []string
	for _, b := range benches {
		names = append(names, b.Pkg[strings.LastIndexByte(b.Pkg, '/')+1:]+" "+b.Name)
	}
	want := "router Decide/all-up|router Decide/home-open|gateway ConsulPropagation|gateway Odd-name-12"
	if strings.Join(names, "|") != want {
		t.Fatalf("benchmarks %q, want %q", strings.Join(names, "|"), want)
	}
	allUp := benches[0]
	if len(allUp.Runs) != 3 {
		t.Fatalf("all-up has %d runs, want 3", len(allUp.Runs))
	}
	if v, _ := allUp.Median("ns/op"); v != 59 {
		t.Errorf("median ns/op %v, want 59", v)
	}
	if v, ok := allUp.Median("allocs/op"); !ok || v != 0 {
		t.Errorf("allocs/op %v %v", v, ok)
	}
	if _, ok := allUp.Median("p99-ms"); ok {
		t.Error("all-up reported no p99-ms")
	}
	prop := benches[2]
	if got := strings.Join(prop.Units(), " "); got != "ns/op p50-ms p99-ms" {
		t.Errorf("units %q", got)
	}
	if v, _ := prop.Median("p99-ms"); v != 27.9 {
		t.Errorf("p99-ms %v", v)
	}
}

func TestMedianOfAnEvenNumberOfRuns(t *testing.T) {
	b := GoBench{Runs: []map[string]float64{{"ns/op": 4}, {"ns/op": 1}, {"ns/op": 3}, {"ns/op": 2}}}
	if v, _ := b.Median("ns/op"); v != 2.5 {
		t.Fatalf("median %v, want 2.5", v)
	}
}
