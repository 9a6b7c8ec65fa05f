package configs

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// strictly, validates completely, hands the new config to Apply, and keeps
// the old one on any error. Unchanged configs are dropped.
type Watcher struct {
	// Source is where the config text lives.
	Source Source
	// Apply swaps a validated config in; an error keeps the old one.
	Apply func(*Config) error
	// Check, if set, vets a config before Replace stores it (for what
	// validation cannot see, such as a GeoIP file that must open).
	Check func(*Config) error
	// OnReject, if set, hears about every refused revision (for metrics
	// and logs); the old config stays in force.
	OnReject func(error)
	// OnApply, if set, hears about every applied config.
	OnApply func(*Config)

	mu       sync.Mutex
	current  *Config
	index    uint64
	rejected string // version of the last refused revision
}

// Start reads and applies the current config; an error here stops
// start-up. Then it watches the source until ctx ends.
func (w *Watcher) Start(ctx context.Context) error {
	rev, err := w.Source.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading config from %s: %w", w.Source, err)
	}
	if err := w.offer(rev); err != nil {
		return fmt.Errorf("config from %s: %w", w.Source, err)
	}
	go w.Source.Watch(ctx, func(rev Revision) {
		if err := w.offer(rev); err != nil && w.OnReject != nil {
			w.OnReject(err)
		}
	})
	return nil
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
	w.rejected = ""
	w.mu.Unlock()
	err = w.offer(rev)
	if err != nil && w.OnReject != nil {
		w.OnReject(err)
	}
	return err
}

// offer applies a revision unless it is unchanged or invalid.
func (w *Watcher) offer(rev Revision) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Unchanged content is dropped. The index alone cannot tell: a
	// restarted Consul agent numbers its writes afresh, so a new config
	// can arrive with the index of an old one.
	if w.current != nil && VersionOf(rev.Data) == w.current.Version() {
		w.index = rev.Index
		return nil
	}
	// A refused revision is refused once, not again at every poll.
	version := VersionOf(rev.Data)
	if version == w.rejected {
		return nil
	}
	cfg, err := Parse(rev.Data)
	if err == nil {
		err = w.Apply(cfg)
		if err != nil {
			err = fmt.Errorf("applying config %s: %w", cfg.Version(), err)
		}
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

// Replace validates data, writes it to the source if the config in force
// is still ifVersion and the source has not moved on, and applies it. It
// returns the old and the new config. Errors: ErrVersionMismatch or
// ErrStale (someone else changed it), a *ValidationError or decoding error
// (nothing written), or the source's own error.
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
	rev, err := w.Source.Write(ctx, data, w.index)
	switch {
	case errors.Is(err, ErrStale):
		return old, nil, err
	case err != nil:
		return old, nil, fmt.Errorf("%w in %s: %w", ErrNotStored, w.Source, err)
	}
	if err := w.Apply(cfg); err != nil {
		// The source has it, refused as if it had arrived from there: the
		// next Replace writes over it.
		w.rejected, w.index = cfg.Version(), rev.Index
		return old, nil, fmt.Errorf("%w: config %s: %w", ErrStoredNotApplied, cfg.Version(), err)
	}
	w.current, w.index = cfg, rev.Index
	if w.OnApply != nil {
		w.OnApply(cfg)
	}
	return old, cfg, nil
}
