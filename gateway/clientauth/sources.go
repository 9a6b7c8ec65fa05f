package clientauth

import (
	"bytes"
	"context"
	"fmt"

	"github.com/regiongate/regiongate/configs"
)

// Key sources reuse the config's: configs.NewFileSource (a file, watched
// with fsnotify and a poll) and configs.NewConsulSource (a KV key, watched
// with blocking queries that reset a backwards index and back off with a
// cap while Consul is down). Each fills the layer of Keys named by the
// source's String, so a file and a Consul key can be in force together.

// Load reads src once and puts its keys in force: at start, so a bad key
// file stops the gateway instead of locking every client out. A source
// holding nothing yet returns an error wrapping configs.ErrNotFound.
func Load(ctx context.Context, src configs.Source, keys *Keys) error {
	rev, err := src.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading client keys: %w", err)
	}
	return apply(src, rev, keys)
}

// Watch keeps the keys of src in force until ctx ends: every change is
// parsed and put in force whole; a text that does not parse is reported
// (once per content) and the last good keys stay. A source that vanishes
// (a deleted file or Consul key) also leaves them: to revoke every key of
// a source, store an empty text. report may be nil.
func Watch(ctx context.Context, src configs.Source, keys *Keys, report func(error)) {
	var last []byte
	seen := false
	src.Watch(ctx, func(rev configs.Revision) {
		// By content, not index: the file source reports every poll tick,
		// and a restarted Consul agent numbers its indexes afresh.
		if seen && bytes.Equal(rev.Data, last) {
			return
		}
		seen, last = true, rev.Data
		if err := apply(src, rev, keys); err != nil && report != nil {
			report(fmt.Errorf("%w; the previous keys stay in force", err))
		}
	})
}

func apply(src configs.Source, rev configs.Revision, keys *Keys) error {
	parsed, err := ParseKeys(string(rev.Data))
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return keys.Replace(src.String(), parsed)
}
