// Package filewatch calls back when files change: on change events in their directories, and on a poll for filesystems whose events get lost.
package filewatch

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultPoll is the poll interval when none is given.
const DefaultPoll = 2 * time.Second

// Watch calls fn after every change event that names one of paths, and on
// every poll tick (poll <= 0 means DefaultPoll), until ctx ends. fn decides
// whether anything really changed: a tick calls it for nothing.
//
// Editors and atomic writers replace a file by rename, so the directories
// are watched, not the files. A Kubernetes Secret or ConfigMap volume
// swaps all its files at once by renaming a "..data" link, and those
// events name the link, not the file: they count too. Events for other
// files are ignored, so a busy neighbour (a database in the same
// directory) costs nothing.
func Watch(ctx context.Context, paths []string, poll time.Duration, fn func()) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	clean := make([]string, len(paths))
	for i, p := range paths {
		clean[i] = filepath.Clean(p)
	}
	var events <-chan fsnotify.Event
	var errs <-chan error // must be drained, or fsnotify stops sending events
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		added := 0
		for _, dir := range dirs(clean) {
			if w.Add(dir) == nil {
				added++
			}
		}
		if added > 0 {
			events, errs = w.Events, w.Errors
		}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-errs: // an overflowed event queue: look now, as a tick would
		case ev := <-events:
			name := filepath.Clean(ev.Name)
			if !slices.Contains(clean, name) && !strings.HasPrefix(filepath.Base(name), "..") {
				continue
			}
		case <-tick.C:
		}
		fn()
	}
}

func dirs(paths []string) []string {
	var out []string
	for _, p := range paths {
		if d := filepath.Dir(p); !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}
