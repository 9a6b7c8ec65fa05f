package router

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRouteTableGolden pins the dev config's whole routing matrix: any
// change to who may be stored where shows up as a diff in review.
func TestRouteTableGolden(t *testing.T) {
	var got bytes.Buffer
	if err := devPolicy(t).WriteTable(&got); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "route_table_dev.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./router -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("route table differs from %s; if the change is intended, run go test ./router -update and review the diff", golden)
	}
}
