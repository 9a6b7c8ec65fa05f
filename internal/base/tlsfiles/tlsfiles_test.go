package tlsfiles

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file that stops loading keeps the last good value, and says so once
// however often it is looked at; a good one replaces it.
func TestRefreshKeepsTheLastGoodValue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("s3cret-1\n")
	var log bytes.Buffer
	set := &Set{Name: "region r", Logger: slog.New(slog.NewTextHandler(&log, nil))}
	v, err := set.Secret("API key", path)
	if err != nil || v.Get() != "s3cret-1" {
		t.Fatalf("first read: %q %v", v.Get(), err)
	}
	write("  \n")
	set.Refresh()
	set.Refresh()
	if v.Get() != "s3cret-1" {
		t.Fatalf("an empty file replaced the key: %q", v.Get())
	}
	if n := strings.Count(log.String(), "could not reload API key"); n != 1 {
		t.Fatalf("%d warnings for one lasting problem:\n%s", n, log.String())
	}
	write("s3cret-2")
	set.Refresh()
	if v.Get() != "s3cret-2" || !strings.Contains(log.String(), "reloaded API key") || !strings.Contains(log.String(), "for=\"region r\"") {
		t.Fatalf("after a good write: %q\n%s", v.Get(), log.String())
	}
	if strings.Contains(log.String(), "s3cret") {
		t.Fatalf("the log shows the secret:\n%s", log.String())
	}
	if _, err := set.Secret("API key", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "API key: open ") {
		t.Fatalf("a missing file: %v", err)
	}
}
