package configs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

type applied struct {
	mu       sync.Mutex
	versions []string
	rejects  int
}

func (a *applied) watcher(src Source) *Watcher {
	return &Watcher{
		Source: src,
		Apply: func(c *Config) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.versions = append(a.versions, c.Version())
			return nil
		},
		OnReject: func(error) { a.mu.Lock(); defer a.mu.Unlock(); a.rejects++ },
	}
}

func (a *applied) snapshot() ([]string, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.versions...), a.rejects
}

func TestWatcherAppliesValidatesAndKeepsTheOld(t *testing.T) {
	dev := DefaultYAML()
	src := NewMemorySource(dev)
	var a applied
	w := a.watcher(src)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := w.Current()

	// The same content again is dropped.
	if _, err := src.Write(ctx, dev, 1); err != nil {
		t.Fatal(err)
	}
	// An invalid one is refused once, and the old one stays.
	bad := []byte(strings.Replace(string(dev), "failover: [eu-central]", "failover: [nowhere]", 1))
	if _, err := src.Write(ctx, bad, 2); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the refusal", func() bool { _, r := a.snapshot(); return r == 1 })
	if cur, _ := w.Current(); cur.Version() != first.Version() {
		t.Fatal("an invalid config replaced the valid one")
	}
	// A valid edit is applied.
	good := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 250", 1))
	if _, err := src.Write(ctx, good, 3); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the edit", func() bool { v, _ := a.snapshot(); return len(v) == 2 })
	versions, rejects := a.snapshot()
	if versions[0] != first.Version() || versions[1] != VersionOf(good) || rejects != 1 {
		t.Fatalf("applied %v with %d rejects", versions, rejects)
	}
}

func TestWatcherReplaceChecksVersionAndSource(t *testing.T) {
	ctx := context.Background()
	dev := DefaultYAML()
	src := NewMemorySource(dev)
	var a applied
	w := a.watcher(src)
	w.Prime(Default(), 1)
	edited := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 300", 1))
	if _, _, err := w.Replace(ctx, edited, "stale"); !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("stale version: %v", err)
	}
	var ve *ValidationError
	if _, _, err := w.Replace(ctx, []byte("environment: dev\n"), Default().Version()); !errors.As(err, &ve) {
		t.Fatalf("invalid config: %v", err)
	}
	if _, err := src.Write(ctx, dev, 1); err != nil { // someone else writes meanwhile
		t.Fatal(err)
	}
	if _, _, err := w.Replace(ctx, edited, Default().Version()); !errors.Is(err, ErrStale) {
		t.Fatalf("source moved on: %v", err)
	}
	w.Prime(Default(), 2)
	old, cfg, err := w.Replace(ctx, edited, Default().Version())
	if err != nil || old.Version() != Default().Version() || cfg.Version() != VersionOf(edited) {
		t.Fatalf("replace: %v", err)
	}
	if rev, _ := src.Read(ctx); string(rev.Data) != string(edited) {
		t.Fatal("the source does not hold the new config")
	}
}

// TestWatcherRefusedRevisionCanBeRepaired: a bad config written to the
// source directly (not through Replace) leaves the old one in force, and
// a Replace against the version in force writes over it rather than
// failing as stale forever; a Reload offers a refused revision again, for
// a failure its environment caused and has since fixed.
func TestWatcherRefusedRevisionCanBeRepaired(t *testing.T) {
	ctx := context.Background()
	dev := DefaultYAML()
	src := NewMemorySource(dev)
	geoipMissing := true
	var a applied
	w := a.watcher(src)
	apply := w.Apply
	w.Apply = func(c *Config) error {
		if geoipMissing && strings.Contains(string(c.Raw()), "tenantBurst: 260") {
			return errors.New("geoip file missing")
		}
		return apply(c)
	}
	if err := w.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	inForce, _ := w.Current()

	bad := []byte(strings.Replace(string(dev), "failover: [eu-central]", "failover: [nowhere]", 1))
	if _, err := src.Write(ctx, bad, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.Reload(ctx); err == nil {
		t.Fatal("an invalid revision was applied")
	}
	fixed := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 250", 1))
	if _, cfg, err := w.Replace(ctx, fixed, inForce.Version()); err != nil || cfg.Version() != VersionOf(fixed) {
		t.Fatalf("repairing a refused revision with a PUT: %v", err)
	}

	needsGeoIP := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 260", 1))
	if _, err := src.Write(ctx, needsGeoIP, 3); err != nil { // after the bad write and the repair
		t.Fatal(err)
	}
	if err := w.Reload(ctx); err == nil {
		t.Fatal("applied although Apply failed")
	}
	geoipMissing = false
	if err := w.Reload(ctx); err != nil {
		t.Fatalf("reload after the environment was fixed: %v", err)
	}
	if cur, _ := w.Current(); cur.Version() != VersionOf(needsGeoIP) {
		t.Fatalf("in force %s, want the reloaded revision", cur.Version())
	}
}

func TestFileSourceWritesAtomicallyAndWatches(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	// No poll within the test: the edit must arrive as a change event.
	src := &FileSource{Path: path, Poll: time.Hour}
	if _, err := src.Read(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing file: %v", err)
	}
	rev, err := src.Write(ctx, DefaultYAML(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Write(ctx, DefaultYAML(), 0); !errors.Is(err, ErrStale) {
		t.Fatalf("create over an existing file: %v", err)
	}
	var a applied
	w := a.watcher(src)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// An editor replacing the file is noticed. The watch starts in its own
	// goroutine, so the editor saves again until the change event arrives.
	edited := []byte(strings.Replace(string(DefaultYAML()), "tenantBurst: 200", "tenantBurst: 222", 1))
	tmp := path + ".new"
	save := func() {
		if err := os.WriteFile(tmp, edited, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 10*time.Second, "the edited file", func() bool {
		if v, _ := a.snapshot(); len(v) == 2 {
			return true
		}
		save()
		return false
	})
	if _, err := src.Write(ctx, DefaultYAML(), rev.Index); !errors.Is(err, ErrStale) {
		t.Fatalf("write with an old index: %v", err)
	}
}

// brokenStore fails every write, as a Consul agent that is down would.
type brokenStore struct{ *MemorySource }

func (brokenStore) Write(context.Context, []byte, uint64) (Revision, error) {
	return Revision{}, errors.New("connection refused")
}

// TestWatcherReplaceSaysWhatHappened: a store that cannot be written
// changes nothing (ErrNotStored); a config stored but refused by Apply
// says so (ErrStoredNotApplied) and does not block the next Replace.
func TestWatcherReplaceSaysWhatHappened(t *testing.T) {
	ctx := context.Background()
	dev := DefaultYAML()
	edited := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 300", 1))

	var a applied
	w := a.watcher(brokenStore{NewMemorySource(dev)})
	w.Prime(Default(), 1)
	if _, _, err := w.Replace(ctx, edited, Default().Version()); !errors.Is(err, ErrNotStored) {
		t.Fatalf("write to a broken store: %v", err)
	}

	src := NewMemorySource(dev)
	w = a.watcher(src)
	apply := w.Apply
	w.Apply = func(c *Config) error {
		if c.Version() == VersionOf(edited) {
			return errors.New("no codec keys")
		}
		return apply(c)
	}
	w.Prime(Default(), 1)
	if _, _, err := w.Replace(ctx, edited, Default().Version()); !errors.Is(err, ErrStoredNotApplied) {
		t.Fatalf("apply refused after the write: %v", err)
	}
	if cur, _ := w.Current(); cur.Version() != Default().Version() {
		t.Fatal("the refused config is in force")
	}
	again := []byte(strings.Replace(string(dev), "tenantBurst: 200", "tenantBurst: 310", 1))
	if _, cfg, err := w.Replace(ctx, again, Default().Version()); err != nil || cfg.Version() != VersionOf(again) {
		t.Fatalf("the next PUT after a stored-but-refused one: %v", err)
	}
}
