package atomicfile_test

import (
	"bytes"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/regiongate/regiongate/internal/base/atomicfile"
)

// TestWriteFailingMidFileLeavesTheOldFile makes the write itself fail
// halfway (a file size limit, as a full disk would) with an old file in
// place: the old file must be whole and no temporary file left behind.
// It changes process-wide limits, so it must not run in parallel.
func TestWriteFailingMidFileLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	old := []byte(`{"old":true}`)
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &saved); err != nil {
		t.Skipf("no file size limit here: %v", err)
	}
	// Over the limit a write gets EFBIG, provided SIGXFSZ does not kill us.
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	limit := syscall.Rlimit{Cur: 4096, Max: saved.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skipf("cannot lower the file size limit: %v", err)
	}
	err := atomicfile.Write(path, bytes.Repeat([]byte("x"), 64<<10), 0o600)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &saved); rerr != nil {
		t.Fatalf("restoring the file size limit: %v", rerr)
	}
	if !errors.Is(err, syscall.EFBIG) {
		t.Fatalf("want EFBIG from the oversized write, got %v", err)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, old) {
		t.Fatalf("old file now %q, %v; want %q", got, err, old)
	}
	if names := entries(t, dir); !slices.Equal(names, []string{"state.json"}) {
		t.Fatalf("directory holds %v; want only state.json", names)
	}
}
