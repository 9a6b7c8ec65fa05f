package configs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrVersionMismatch is returned by Replace when the caller's version is
// not the config in force (HTTP 412).
var ErrVersionMismatch = errors.New("config version does not match the one in force")

var (
	// ErrNotStored is returned by Replace when the source could not be
	// written (other than ErrStale): nothing changed.
	ErrNotStored = errors.New("config not stored")
	// ErrStoredNotApplied is returned by Replace when the new config was
	// stored but Apply refused it: the source holds it, the old one stays
	// in force. Check exists to make this rare.
	ErrStoredNotApplied = errors.New("config stored but not applied")
)

// Watcher is the one place a config is applied from a source: it decodes
// strictly, validates completely, has the change recorded (Audit), hands
// the new config to Apply, and keeps the old one on any error. Unchanged
// configs are dropped.
type Watcher struct {
	// Source is where the config text lives.
	Source Source
	// Apply swaps a validated config in; an error keeps the old one.
	Apply func(*Config) error
	// Check, if set, vets a config before it is audited, stored or
	// applied (for what validation cannot see, such as a GeoIP file that
	// must open).
	Check func(*Config) error
	// Audit, if set, records every change before it is written (Replace)
	// or applied (a revision from the source, Reload, Start). An error
	// keeps the old config in force with nothing written: Replace fails
	// with ErrNotAudited, and a revision from the source is offered again
	// every Retry until it is recorded (or the source moves on): it is
	// already in the source, so it cannot be refused, only held back.
	// done hears the outcome: nil once the config is in force, else why
	// it is not.
	Audit func(ctx context.Context, ch Change) (done func(error), err error)
	// Retry is how often a revision held back by Audit is offered again;
	// zero means 2s.
	Retry time.Duration
	// OnReject, if set, hears about every refused revision, and every
	// offer of a held-back one (for metrics and logs); the old config
	// stays in force.
	OnReject func(error)
	// OnApply, if set, hears about every applied config.
	OnApply func(*Config)

	mu       sync.Mutex
	current  *Config
	index    uint64
	rejected string   // version of the last refused revision
	pending  *pending // a revision Audit could not record yet
}

// Origin is what brought a config to the Watcher.
type Origin int

// Origins of a Change.
const (
	FromStart   Origin = iota // the source's config when Start is called
	FromSource                // the source changed (its Watch)
	FromReload                // Reload (SIGHUP)
	FromReplace               // Replace (the admin API)
)

// Change is a config about to be put in force.
type Change struct {
	// Old is the config in force, New the one replacing it. At start-up
	// Old is nil, and New may already be in force (Prime): the change is
	// audited so that a config edited while no gateway ran is recorded.
	Old, New *Config
	Origin   Origin
}

// ErrNotAudited is returned when Audit could not record a change: nothing
// was written or applied.
var ErrNotAudited = errors.New("config change not audited")

type pending struct {
	rev    Revision
	origin Origin
}

// Start reads and applies the current config; an error here stops
// start-up. Then it watches the source until ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	rev, err := w.Source.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading config from %s: %w", w.Source, err)
	}
	if err := w.start(ctx, rev); err != nil {
		return fmt.Errorf("config from %s: %w", w.Source, err)
	}
	go w.Source.Watch(ctx, func(rev Revision) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.report(w.offer(ctx, rev, FromSource))
	})
	go w.retry(ctx)
	return nil
}

// start offers the source's config; one already in force (Prime) is only
// audited.
func (w *Watcher) start(ctx context.Context, rev Revision) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current == nil || VersionOf(rev.Data) != w.current.Version() {
		return w.offer(ctx, rev, FromStart)
	}
	w.index = rev.Index
	return w.audited(ctx, Change{New: w.current, Origin: FromStart}, func() error { return nil })
}

// retry offers a held-back revision again every Retry until ctx ends.
func (w *Watcher) retry(ctx context.Context) {
	every := w.Retry
	if every <= 0 {
		every = 2 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		if p := w.pending; p != nil {
			w.report(w.offer(ctx, p.rev, p.origin))
		}
		w.mu.Unlock()
	}
}

func (w *Watcher) report(err error) {
	if err != nil && w.OnReject != nil {
		w.OnReject(err)
	}
}

// Prime records cfg, already applied by the caller, as the config in
// force at the source's index, without applying it again. Start may be
// called afterwards to follow the source.
func (w *Watcher) Prime(cfg *Config, index uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.current, w.index = cfg, index
}

// Current returns the config in force and the source index it came from.
func (w *Watcher) Current() (*Config, uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current, w.index
}

// Reload reads the source now (SIGHUP) and offers it even if it was
// refused before: what made Apply fail (a GeoIP file, say) may be fixed.
func (w *Watcher) Reload(ctx context.Context) error {
	rev, err := w.Source.Read(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejected = ""
	err = w.offer(ctx, rev, FromReload)
	w.report(err)
	return err
}

// offer applies a revision unless it is unchanged or invalid. The caller
// holds w.mu.
func (w *Watcher) offer(ctx context.Context, rev Revision, origin Origin) error {
	// Unchanged content is dropped. The index alone cannot tell: a
	// restarted Consul agent numbers its writes afresh, so a new config
	// can arrive with the index of an old one.
	if w.current != nil && VersionOf(rev.Data) == w.current.Version() {
		w.index, w.pending = rev.Index, nil
		return nil
	}
	// A refused revision is refused once, not again at every poll.
	version := VersionOf(rev.Data)
	if version == w.rejected {
		return nil
	}
	cfg, err := Parse(rev.Data)
	if err == nil && w.Check != nil {
		err = w.Check(cfg)
	}
	if err == nil {
		err = w.audited(ctx, Change{Old: w.current, New: cfg, Origin: origin}, func() error {
			if err := w.Apply(cfg); err != nil {
				return fmt.Errorf("applying config %s: %w", cfg.Version(), err)
			}
			return nil
		})
	}
	w.pending = nil
	if errors.Is(err, ErrNotAudited) {
		// Held back, not refused: offered again until it is recorded.
		w.pending = &pending{rev: rev, origin: origin}
		return err
	}
	if err != nil {
		// The source has moved on to the refused revision: a Replace
		// (PUT) must be able to write over it.
		w.rejected, w.index = version, rev.Index
		return err
	}
	w.current, w.index, w.rejected = cfg, rev.Index, ""
	if w.OnApply != nil {
		w.OnApply(cfg)
	}
	return nil
}

// audited records ch (Audit), then puts it in force with put and reports
// the outcome. Nothing is put in force that could not be recorded.
func (w *Watcher) audited(ctx context.Context, ch Change, put func() error) error {
	if w.Audit == nil {
		return put()
	}
	done, err := w.Audit(ctx, ch)
	if err != nil {
		return fmt.Errorf("%w: config %s: %w", ErrNotAudited, ch.New.Version(), err)
	}
	err = put()
	done(err)
	return err
}

// Replace validates data, writes it to the source if the config in force
// is still ifVersion and the source has not moved on, and applies it. It
// returns the old and the new config. Errors: ErrVersionMismatch or
// ErrStale (someone else changed it), a *ValidationError or decoding error
// (nothing written), ErrNotAudited (nothing written), ErrNotStored or
// ErrStoredNotApplied.
func (w *Watcher) Replace(ctx context.Context, data []byte, ifVersion string) (old, cfg *Config, err error) {
	cfg, err = Parse(data)
	if err != nil {
		return nil, nil, err
	}
	if w.Check != nil {
		if err := w.Check(cfg); err != nil {
			return nil, nil, err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	old = w.current
	if old == nil {
		return nil, nil, errors.New("config watcher not started")
	}
	if old.Version() != ifVersion {
		return old, nil, ErrVersionMismatch
	}
	var rev Revision
	err = w.audited(ctx, Change{Old: old, New: cfg, Origin: FromReplace}, func() error {
		var err error
		rev, err = w.Source.Write(ctx, data, w.index)
		switch {
		case errors.Is(err, ErrStale):
			return err
		case err != nil:
			return fmt.Errorf("%w in %s: %w", ErrNotStored, w.Source, err)
		}
		if err := w.Apply(cfg); err != nil {
			// The source has it, refused as if it had arrived from there:
			// the next Replace writes over it.
			w.rejected, w.index = cfg.Version(), rev.Index
			return fmt.Errorf("%w: config %s: %w", ErrStoredNotApplied, cfg.Version(), err)
		}
		return nil
	})
	if err != nil {
		return old, nil, err
	}
	w.current, w.index, w.pending = cfg, rev.Index, nil
	if w.OnApply != nil {
		w.OnApply(cfg)
	}
	return old, cfg, nil
}
