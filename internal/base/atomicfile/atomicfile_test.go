package atomicfile_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/regiongate/regiongate/internal/base/atomicfile"
)

// entries lists the names in dir, to catch a temporary file left behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{`{"v":1}`, `{"v":2,"longer":true}`, ``, `{"v":3}`} {
		if err := atomicfile.Write(path, []byte(content), 0o600); err != nil {
			t.Fatalf("writing %q: %v", content, err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
		if names := entries(t, dir); !slices.Equal(names, []string{"state.json"}) {
			t.Fatalf("directory holds %v; want only state.json", names)
		}
	}
}

func TestWriteSetsExactlyPerm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	for _, perm := range []os.FileMode{0o600, 0o644, 0o640} {
		if err := atomicfile.Write(path, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != perm {
			t.Fatalf("mode %v, %v; want %v", st.Mode().Perm(), err, perm)
		}
	}
}

func TestWriteFailureLeavesTheOldContent(t *testing.T) {
	t.Run("missing directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "no-such-dir", "f")
		if err := atomicfile.Write(path, []byte("x"), 0o600); err == nil {
			t.Fatal("wrote into a directory that does not exist")
		}
	})
	t.Run("rename refused", func(t *testing.T) {
		// A non-empty directory where the file should go: the temporary
		// file is written and synced, then the rename fails.
		dir := t.TempDir()
		path := filepath.Join(dir, "target")
		if err := os.MkdirAll(filepath.Join(path, "keep"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := atomicfile.Write(path, []byte("new"), 0o600); err == nil {
			t.Fatal("replaced a non-empty directory")
		}
		if names := entries(t, dir); !slices.Equal(names, []string{"target"}) {
			t.Fatalf("directory holds %v; want only target (no temporary file)", names)
		}
		if names := entries(t, path); !slices.Equal(names, []string{"keep"}) {
			t.Fatalf("target holds %v; want it untouched", names)
		}
	})
}
