package regions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var recordsBucket = []byte("routing-records")

// BoltRecords keeps routing records in an embedded bbolt file, so they
// survive a gateway restart. One process may open a file at a time. Every
// write is on disk (fdatasync) before it returns; concurrent writes share
// commits (groupCommit).
type BoltRecords struct {
	db     *bolt.DB
	writes *groupCommit

	// sweepFrom is the key the next RemoveExpired scan starts at (nil:
	// the first), so a backlog removed in batches is read once in all
	// rather than from the first key again for every batch.
	sweepMu   sync.Mutex
	sweepFrom []byte
}

// OpenBoltRecords opens (creating if needed) the records file at path.
func OpenBoltRecords(path string) (*BoltRecords, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening routing records %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(recordsBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("preparing routing records %s: %w", path, err)
	}
	return &BoltRecords{db: db, writes: &groupCommit{db: db}}, nil
}

// Close closes the file.
func (b *BoltRecords) Close() error { return b.db.Close() }

// A stored record is "placement version [expires]" (see
// Placement.String). Files written before records had versions hold only
// the placement; they read as version 1, which the bucket's sequence never
// hands out again.
func decodeRecord(v []byte) Record {
	if v == nil {
		return Record{}
	}
	fields := strings.Fields(string(v))
	rec := Record{Placement: parsePlacement(fields[0]), Version: 1}
	if len(fields) > 1 {
		n, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return rec
		}
		rec.Version = n
	}
	if len(fields) > 2 {
		rec.Expires, _ = strconv.ParseInt(fields[2], 10, 64)
	}
	return rec
}

func encodeRecord(rec Record) []byte {
	v := rec.Placement.String() + " " + strconv.FormatUint(rec.Version, 10)
	if rec.Expires != 0 {
		v += " " + strconv.FormatInt(rec.Expires, 10)
	}
	return []byte(v)
}

func (b *BoltRecords) put(bk *bolt.Bucket, key string, at Placement, expires int64) (Record, error) {
	seq, err := bk.NextSequence()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Placement: at, Version: seq + 1, Expires: expires} // 1 is the legacy version
	return rec, bk.Put([]byte(key), encodeRecord(rec))
}

// Lookup implements Records.
func (b *BoltRecords) Lookup(_ context.Context, key string) (Record, error) {
	var rec Record
	err := b.db.View(func(tx *bolt.Tx) error {
		rec = decodeRecord(tx.Bucket(recordsBucket).Get([]byte(key)))
		return nil
	})
	return rec, storeErr("reading routing record "+key, err)
}

// Claim implements Records.
func (b *BoltRecords) Claim(_ context.Context, key string, at Placement) (Record, error) {
	var rec Record
	err := b.writes.do(func(bk *bolt.Bucket) error {
		if rec = decodeRecord(bk.Get([]byte(key))); rec.Region != "" {
			return ErrRecordExists
		}
		var err error
		rec, err = b.put(bk, key, at, 0)
		return err
	})
	switch {
	case errors.Is(err, ErrRecordExists):
		return rec, err
	case err != nil:
		return Record{}, storeErr(fmt.Sprintf("claiming %s for %s", key, at), err)
	}
	return rec, nil
}

// rewrite replaces key's record by what fn makes of it, only if it is
// still from.
func (b *BoltRecords) rewrite(key string, from Record, fn func(*bolt.Bucket) (Record, error)) (Record, error) {
	var rec Record
	err := b.writes.do(func(bk *bolt.Bucket) error {
		if decodeRecord(bk.Get([]byte(key))) != from || from.Region == "" {
			return ErrRecordChanged
		}
		var err error
		rec, err = fn(bk)
		return err
	})
	if err != nil {
		return Record{}, storeErr("writing routing record "+key, err)
	}
	return rec, nil
}

// Move implements Records.
func (b *BoltRecords) Move(_ context.Context, key string, from Record, to Placement) (Record, error) {
	return b.rewrite(key, from, func(bk *bolt.Bucket) (Record, error) { return b.put(bk, key, to, from.Expires) })
}

// Release implements Records.
func (b *BoltRecords) Release(_ context.Context, key string, from Record) error {
	_, err := b.rewrite(key, from, func(bk *bolt.Bucket) (Record, error) { return Record{}, bk.Delete([]byte(key)) })
	return err
}

// Expire implements Records.
func (b *BoltRecords) Expire(_ context.Context, key string, from Record, at time.Time) (Record, error) {
	if from.Expires == expiryOf(at) {
		return sameExpiry(context.Background(), b, key, from)
	}
	return b.rewrite(key, from, func(bk *bolt.Bucket) (Record, error) {
		return b.put(bk, key, from.Placement, expiryOf(at))
	})
}

// RemoveExpired implements Records. It finds them in a read transaction,
// going on from where the previous call stopped and round the key space
// once at most, then deletes those still as found in one write.
func (b *BoltRecords) RemoveExpired(_ context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	b.sweepMu.Lock()
	defer b.sweepMu.Unlock()
	var found map[string]Record
	err := b.db.View(func(tx *bolt.Tx) error {
		found, b.sweepFrom = expiredFrom(tx.Bucket(recordsBucket).Cursor(), b.sweepFrom, now, limit)
		return nil
	})
	if err != nil {
		return 0, storeErr("finding expired routing records", err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	n := 0
	err = b.writes.do(func(bk *bolt.Bucket) error {
		n = 0
		for key, rec := range found {
			if decodeRecord(bk.Get([]byte(key))) != rec {
				continue // written since: not ours to remove
			}
			if err := bk.Delete([]byte(key)); err != nil {
				return err
			}
			n++
		}
		if n == 0 {
			return ErrRecordChanged // nothing to commit
		}
		return nil
	})
	if errors.Is(err, ErrRecordChanged) {
		return 0, nil
	}
	return n, storeErr("removing expired routing records", err)
}

// expiredFrom collects up to limit expired records, starting at key from
// (nil: the first) and wrapping round to the first key once. It returns
// them and where the next scan starts: the key after the last one read
// when it stopped at limit, nil when it went all the way round.
func expiredFrom(c *bolt.Cursor, from []byte, now time.Time, limit int) (map[string]Record, []byte) {
	found := map[string]Record{}
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
	}
	wrapped := from == nil
	for {
		if k == nil {
			if wrapped {
				return found, nil
			}
			wrapped = true
			k, v = c.First()
			continue
		}
		if wrapped && from != nil && bytes.Compare(k, from) >= 0 {
			return found, nil // all the way round
		}
		if rec := decodeRecord(v); rec.expired(now) {
			found[string(k)] = rec
			if len(found) >= limit {
				next, _ := c.Next()
				return found, bytes.Clone(next)
			}
		}
		k, v = c.Next()
	}
}

// Count implements Records.
func (b *BoltRecords) Count(context.Context) (int, error) {
	var n int
	err := b.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(recordsBucket).Stats().KeyN
		return nil
	})
	return n, storeErr("counting routing records", err)
}
