package recordsbench

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/regiongate/regiongate/regions"
)

// What BoltRecords keeps, written here by the fill: its bucket, and a
// record as "region@namespace version [expires]". A change there that is
// not made here fails this package's test, which reads the filled records
// back through BoltRecords.
var boltBucket = []byte("routing-records")

func boltValue(rec regions.Record) []byte {
	v := rec.Placement.String() + " " + strconv.FormatUint(rec.Version, 10)
	if rec.Expires != 0 {
		v += " " + strconv.FormatInt(rec.Expires, 10)
	}
	return []byte(v)
}

const (
	// boltBatch is records per fill transaction.
	boltBatch = 100_000
	// boltFillPercent is how full the fill leaves each page. Keys go in in
	// order (one at a time in random order would rewrite most of the file
	// per transaction); at bbolt's default, 50%, every page would stay half
	// full, while a file grown by claims in random order averages about
	// 70% (a page splits in two when full and fills again).
	boltFillPercent = 0.7
)

// boltTarget is a records file. The fill writes it with bbolt directly;
// the measurements open it as a gateway does (OpenBoltRecords).
type boltTarget struct {
	path  string // absolute, as /proc/self/smaps names the mapping
	store *regions.BoltRecords
}

func openBolt(dir string) (*boltTarget, error) {
	path, err := filepath.Abs(filepath.Join(dir, "records.db"))
	return &boltTarget{path: path}, err
}

func (b *boltTarget) records() regions.Records { return b.store }
func (b *boltTarget) serverPid() int           { return 0 }

func (b *boltTarget) close() {
	if b.store != nil {
		b.store.Close()
	}
}

// fill writes the records in key order, in large transactions without
// fsync and one sync at the end, then opens the store.
func (b *boltTarget) fill(ctx context.Context, d dataset, n int) (int, error) {
	written, err := b.write(ctx, d, n)
	if err != nil {
		return written, err
	}
	b.store, err = regions.OpenBoltRecords(b.path)
	return written, err
}

type boltEntry struct {
	key [32]byte
	i   uint32
}

func (b *boltTarget) write(ctx context.Context, d dataset, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	entries := sortedKeys(d, n)
	db, err := bolt.Open(b.path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	written := 0
	for written < n {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		batch := entries[written:min(written+boltBatch, n)]
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(boltBucket)
			if err != nil {
				return err
			}
			bk.FillPercent = boltFillPercent
			for _, e := range batch {
				if err := bk.Put([]byte(hex.EncodeToString(e.key[:])), boltValue(d.record(int(e.i)))); err != nil {
					return err
				}
			}
			// The next claim's version follows the fill's (record.Version).
			return bk.SetSequence(uint64(n))
		})
		if err != nil {
			return written, fmt.Errorf("writing %s: %w", b.path, err)
		}
		written += len(batch)
	}
	return written, db.Sync()
}

// sortedKeys is the n records' keys in order, with each one's index.
func sortedKeys(d dataset, n int) []boltEntry {
	entries := make([]boltEntry, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				entries[i].i = uint32(i)
				_, _ = hex.Decode(entries[i].key[:], []byte(d.key(i))) // RecordKeys' hex: always 32 bytes
			}
		})
	}
	wg.Wait()
	slices.SortFunc(entries, func(a, b boltEntry) int { return bytes.Compare(a.key[:], b.key[:]) })
	return entries
}

// footprint: the file's size; in memory, how much of bbolt's mmap of it
// is resident after a sweep pass, as a gateway's sweeper leaves it every
// interval: the pass reads the whole file. (The kernel may drop those
// pages, and reads them back when they are needed. Read right after a
// write that grew the file, the figure would say little: bbolt maps it
// anew then.)
func (b *boltTarget) footprint(ctx context.Context) (Footprint, error) {
	st, err := os.Stat(b.path)
	if err != nil {
		return Footprint{}, err
	}
	if _, err := b.store.RemoveExpired(ctx, time.Unix(0, 0), 1); err != nil { // nothing expired then
		return Footprint{}, err
	}
	resident, err := mappedRSS(b.path)
	return Footprint{Disk: st.Size(), Memory: resident}, err
}
