package configs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// auditLog is an Audit hook that records what it hears, and fails while
// down is set.
type auditLog struct {
	mu       sync.Mutex
	down     bool
	changes  []Change
	outcomes []error
}

func (l *auditLog) audit(_ context.Context, ch Change) (func(error), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errors.New("audit store unreachable")
	}
	l.changes = append(l.changes, ch)
	return func(err error) { l.mu.Lock(); defer l.mu.Unlock(); l.outcomes = append(l.outcomes, err) }, nil
}

func (l *auditLog) setDown(down bool) { l.mu.Lock(); defer l.mu.Unlock(); l.down = down }

func (l *auditLog) snapshot() ([]Change, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Change(nil), l.changes...), append([]error(nil), l.outcomes...)
}

func edit(burst string) []byte {
	return []byte(strings.Replace(string(DefaultYAML()), "tenantBurst: 200", "tenantBurst: "+burst, 1))
}

// TestWatcherReplaceIsAuditedBeforeItIsWritten: an unwritable audit log
// refuses the Replace with nothing stored; a Replace the source then
// refuses is reported to the audit as failed.
func TestWatcherReplaceIsAuditedBeforeItIsWritten(t *testing.T) {
	ctx := context.Background()
	src := NewMemorySource(DefaultYAML())
	var a applied
	var log auditLog
	w := a.watcher(src)
	w.Audit = log.audit
	w.Prime(Default(), 1)

	log.setDown(true)
	if _, _, err := w.Replace(ctx, edit("300"), Default().Version()); !errors.Is(err, ErrNotAudited) {
		t.Fatalf("replace with the audit down: %v", err)
	}
	if rev, _ := src.Read(ctx); rev.Index != 1 {
		t.Fatal("a change that could not be audited was written")
	}
	log.setDown(false)

	if _, err := src.Write(ctx, edit("301"), 1); err != nil { // someone else, unseen yet
		t.Fatal(err)
	}
	if _, _, err := w.Replace(ctx, edit("300"), Default().Version()); !errors.Is(err, ErrStale) {
		t.Fatalf("replace over an unseen write: %v", err)
	}
	changes, outcomes := log.snapshot()
	if len(changes) != 1 || changes[0].Origin != FromReplace || changes[0].New.Version() != VersionOf(edit("300")) ||
		len(outcomes) != 1 || !errors.Is(outcomes[0], ErrStale) {
		t.Fatalf("audit heard %+v with outcomes %v", changes, outcomes)
	}
}

// TestWatcherHoldsBackWhatItCannotAudit: a revision from the source that
// cannot be recorded is not applied; it is once the audit log is back.
func TestWatcherHoldsBackWhatItCannotAudit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := NewMemorySource(DefaultYAML())
	var a applied
	var log auditLog
	w := a.watcher(src)
	w.Audit, w.Retry = log.audit, 10*time.Millisecond
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if changes, _ := log.snapshot(); len(changes) != 1 || changes[0].Origin != FromStart || changes[0].Old != nil {
		t.Fatalf("start-up audit: %+v", changes)
	}
	log.setDown(true)
	if _, err := src.Write(ctx, edit("300"), 1); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the held-back revision to be counted", func() bool { _, r := a.snapshot(); return r >= 2 })
	if cur, _ := w.Current(); cur.Version() != Default().Version() {
		t.Fatal("a revision that could not be audited is in force")
	}
	log.setDown(false)
	poll.Until(t, 10*time.Second, "the revision once audited", func() bool {
		cur, _ := w.Current()
		return cur.Version() == VersionOf(edit("300"))
	})
	changes, outcomes := log.snapshot()
	last := changes[len(changes)-1]
	if len(changes) != 2 || last.Origin != FromSource || last.Old.Version() != Default().Version() || outcomes[1] != nil {
		t.Fatalf("audit heard %+v with outcomes %v", changes, outcomes)
	}
}

// TestWatcherStartNeedsTheAudit: a primed config is audited at start-up,
// and a gateway whose audit log is down does not start.
func TestWatcherStartNeedsTheAudit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var a applied
	var log auditLog
	log.setDown(true)
	w := a.watcher(NewMemorySource(DefaultYAML()))
	w.Audit = log.audit
	w.Prime(Default(), 1)
	if err := w.Start(ctx); !errors.Is(err, ErrNotAudited) {
		t.Fatalf("start with the audit down: %v", err)
	}
	log.setDown(false)
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	changes, _ := log.snapshot()
	if versions, _ := a.snapshot(); len(changes) != 1 || changes[0].New.Version() != Default().Version() || len(versions) != 0 {
		t.Fatalf("primed start: audited %+v, applied %v", changes, versions)
	}
}
