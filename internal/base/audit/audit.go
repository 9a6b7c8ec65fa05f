// Package audit records who changed what and when: config edits, drains, restores, drills.
package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
)

// Entry is one audited change.
type Entry struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // the admin token's name
	Action string    `json:"action"` // config.replace, region.drain, region.restore, drill.start, drill.end
	Target string    `json:"target"` // a region, a config version, a drill id
	Detail string    `json:"detail,omitempty"`
}

// Store keeps entries; nothing is ever rewritten or deleted.
type Store interface {
	Append(ctx context.Context, e Entry) error
	// List returns entries oldest first.
	List(ctx context.Context) ([]Entry, error)
}

// FileStore appends JSON lines to a local file, synced on every write.
type FileStore struct {
	Path string
	mu   sync.Mutex
}

// Append implements Store.
func (f *FileStore) Append(_ context.Context, e Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening audit log: %w", err)
	}
	defer file.Close()
	if _, err := file.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("writing audit log: %w", err)
	}
	return file.Sync()
}

// List implements Store.
func (f *FileStore) List(context.Context) ([]Entry, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	out := []Entry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// ConsulStore keeps one KV entry per audit entry under a prefix, so every
// gateway replica sees every change.
type ConsulStore struct {
	kv     *api.KV
	prefix string
	seq    atomic.Uint64 // orders this replica's entries within one instant
}

// NewConsulStore keeps entries under prefix (e.g. "regiongate/audit/").
func NewConsulStore(c *api.Client, prefix string) *ConsulStore {
	return &ConsulStore{kv: c.KV(), prefix: prefix}
}

// Append implements Store. Keys sort by time, then by this replica's
// sequence; a random suffix keeps two replicas writing in the same
// nanosecond apart.
func (c *ConsulStore) Append(ctx context.Context, e Entry) error {
	value, err := json.Marshal(e)
	if err != nil {
		return err
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	key := fmt.Sprintf("%s%020d-%012d-%s", c.prefix, e.Time.UnixNano(), c.seq.Add(1), hex.EncodeToString(r[:]))
	// CAS with index 0: create only, never overwrite.
	ok, _, err := c.kv.CAS(&api.KVPair{Key: key, Value: value}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("writing audit entry: %w", err)
	}
	if !ok {
		return fmt.Errorf("audit key %s already exists", key)
	}
	return nil
}

// List implements Store. It reads consistently: an auditor asking right
// after a change, on any replica, must see it.
func (c *ConsulStore) List(ctx context.Context) ([]Entry, error) {
	pairs, _, err := c.kv.List(c.prefix, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	slices.SortFunc(pairs, func(a, b *api.KVPair) int { return strings.Compare(a.Key, b.Key) })
	out := make([]Entry, 0, len(pairs))
	for _, p := range pairs {
		var e Entry
		if json.Unmarshal(p.Value, &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Memory keeps entries in memory, for tests.
type Memory struct {
	mu      sync.Mutex
	entries []Entry
}

// Append implements Store.
func (m *Memory) Append(_ context.Context, e Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
	return nil
}

// List implements Store.
func (m *Memory) List(context.Context) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Entry{}, m.entries...), nil
}
