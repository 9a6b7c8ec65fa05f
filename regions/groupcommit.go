package regions

import (
	"errors"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// groupCommit runs the writes of many callers in shared bbolt
// transactions. While one commit waits for the disk, the writes that arrive
// queue up and go to disk together in the next one: concurrent starts pay
// for one commit (two fdatasyncs) between them instead of one each, and a
// lone write waits for nobody. bbolt's own DB.Batch coalesces too, but
// holds every batch for MaxBatchDelay first, which a lone start would pay.
type groupCommit struct {
	db *bolt.DB

	mu    sync.Mutex
	queue []*write
	busy  bool // a goroutine is committing; new writes just queue
}

// A write runs against the records bucket inside a shared transaction.
// Returning ErrRecordExists or ErrRecordChanged is an answer, not a
// failure, and promises the write changed nothing; any other error rolls
// the transaction back and the others are committed without it.
type write struct {
	fn   func(*bolt.Bucket) error
	done chan error
}

// errNoChange rolls back a transaction in which every write only read.
var errNoChange = errors.New("nothing to commit")

func isAnswer(err error) bool {
	return errors.Is(err, ErrRecordExists) || errors.Is(err, ErrRecordChanged)
}

// do runs fn in the next commit and returns its result once that commit is
// durable (or rolled back, for a write that changed nothing).
func (g *groupCommit) do(fn func(*bolt.Bucket) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if lead {
		g.commitQueued()
	}
	return <-w.done
}

// commitQueued commits what is queued; if more queued meanwhile, a new
// goroutine commits that, so the caller that led one commit is not kept
// serving the others.
func (g *groupCommit) commitQueued() {
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()

	g.commit(batch)

	g.mu.Lock()
	more := len(g.queue) > 0
	g.busy = more
	g.mu.Unlock()
	if more {
		go g.commitQueued()
	}
}

// commit runs the batch in one transaction. A write that fails is answered
// with its error and the transaction is retried without it, so one bad
// write cannot undo the others.
func (g *groupCommit) commit(batch []*write) {
	batch = slices.Clone(batch) // failed writes are dropped from the copy
	results := make([]error, len(batch))
	for len(batch) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bolt.Tx) error {
			bk := tx.Bucket(recordsBucket)
			changed := false
			for i, w := range batch {
				err := w.fn(bk)
				if err != nil && !isAnswer(err) {
					failed = i
					return err
				}
				results[i] = err
				changed = changed || err == nil
			}
			if !changed {
				return errNoChange
			}
			return nil
		})
		if failed >= 0 {
			batch[failed].done <- err
			batch = slices.Delete(batch, failed, failed+1)
			results = results[:len(batch)]
			continue
		}
		for i, w := range batch {
			if err != nil && !errors.Is(err, errNoChange) {
				w.done <- err
			} else {
				w.done <- results[i]
			}
		}
		return
	}
}
