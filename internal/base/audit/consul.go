package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulStore keeps the chain in Consul KV under a prefix, shared by every
// gateway replica: one key per entry (entries/<seq, 20 digits>), the head
// record (head) and the marks (marks/<key>). Keys directly under the
// prefix are entries from before the chain.
//
// Replicas append concurrently, so the chain is linearised on the head:
// an append reads the head, then in one transaction creates the next
// entry's key, moves the head with check-and-set on the index it read,
// and sets the entry's mark (check-and-set too). If another replica
// appended in between, the transaction fails as a whole and the append
// starts over from the new head. No two entries get one seq, and none
// chains after anything but its true predecessor.
type ConsulStore struct {
	kv     *api.KV
	txn    *api.Txn
	prefix string
	// MaxAttempts bounds the retries of one append under contention; zero
	// means 100.
	MaxAttempts int
}

// NewConsulStore keeps entries under prefix (e.g. "regiongate/audit/").
func NewConsulStore(c *api.Client, prefix string) *ConsulStore {
	return &ConsulStore{kv: c.KV(), txn: c.Txn(), prefix: prefix}
}

func (c *ConsulStore) headKey() string           { return c.prefix + "head" }
func (c *ConsulStore) markKey(key string) string { return c.prefix + "marks/" + key }
func (c *ConsulStore) entryKey(seq uint64) string {
	return fmt.Sprintf("%sentries/%020d", c.prefix, seq)
}
func consistent(ctx context.Context) *api.QueryOptions {
	return (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx)
}

// Append implements Store.
func (c *ConsulStore) Append(ctx context.Context, e Entry, when Condition) (Entry, bool, error) {
	attempts := c.MaxAttempts
	if attempts <= 0 {
		attempts = 100
	}
	var why string
	for range attempts {
		sealed, ops, skip, err := c.prepare(ctx, e, when)
		if err != nil || skip {
			return Entry{}, false, err
		}
		ok, resp, _, err := c.txn.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
		if err != nil {
			return Entry{}, false, fmt.Errorf("writing audit entry: %w", err)
		}
		if ok {
			return sealed, true, nil
		}
		// Another replica moved the head or the mark first: start over.
		why = txnErrors(resp)
		select {
		case <-ctx.Done():
			return Entry{}, false, ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(5 * time.Millisecond)))):
		}
	}
	return Entry{}, false, fmt.Errorf("audit head still contended after %d attempts (%s); a head behind its entries also does this", attempts, why)
}

// prepare reads the head and the mark and returns e sealed after the head
// with the transaction that stores it, or skip when the mark holds it back.
func (c *ConsulStore) prepare(ctx context.Context, e Entry, when Condition) (Entry, api.TxnOps, bool, error) {
	hp, _, err := c.kv.Get(c.headKey(), consistent(ctx))
	if err != nil {
		return Entry{}, nil, false, fmt.Errorf("reading audit head: %w", err)
	}
	var head Head
	var headIndex uint64
	if hp != nil {
		if err := json.Unmarshal(hp.Value, &head); err != nil {
			return Entry{}, nil, false, fmt.Errorf("reading audit head: %w", err)
		}
		headIndex = hp.ModifyIndex
	}
	var ops api.TxnOps
	if key, value := splitMark(e.Mark); key != "" {
		mp, _, err := c.kv.Get(c.markKey(key), consistent(ctx))
		if err != nil {
			return Entry{}, nil, false, fmt.Errorf("reading audit mark %s: %w", key, err)
		}
		var markIndex uint64
		if mp != nil {
			if when == IfMarkDiffers && string(mp.Value) == value {
				return Entry{}, nil, true, nil
			}
			markIndex = mp.ModifyIndex
		}
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: c.markKey(key), Value: []byte(value), Index: markIndex}})
	}
	sealed := seal(e, head)
	entry, err := json.Marshal(sealed)
	if err != nil {
		return Entry{}, nil, false, err
	}
	newHead, _ := json.Marshal(sealed.head())
	// Index 0 creates only: an entry key is never overwritten.
	ops = append(ops,
		&api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: c.entryKey(sealed.Seq), Value: entry, Index: 0}},
		&api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: c.headKey(), Value: newHead, Index: headIndex}})
	return sealed, ops, false, nil
}

func txnErrors(resp *api.TxnResponse) string {
	if resp == nil {
		return "rolled back"
	}
	var msgs []string
	for _, e := range resp.Errors {
		msgs = append(msgs, e.What)
	}
	return strings.Join(msgs, "; ")
}

// List implements Store: entries from before the chain first, then the
// chain in seq order. It reads consistently: an auditor asking right after
// a change, on any replica, must see it.
func (c *ConsulStore) List(ctx context.Context) ([]Entry, error) {
	pairs, _, err := c.kv.List(c.prefix, consistent(ctx))
	if err != nil {
		return nil, fmt.Errorf("listing audit entries: %w", err)
	}
	slices.SortFunc(pairs, func(a, b *api.KVPair) int { return strings.Compare(a.Key, b.Key) })
	var legacy, chain []Entry
	for _, p := range pairs {
		rest := strings.TrimPrefix(p.Key, c.prefix)
		var e Entry
		if rest == "head" || strings.HasPrefix(rest, "marks/") || json.Unmarshal(p.Value, &e) != nil {
			continue
		}
		if strings.HasPrefix(rest, "entries/") {
			chain = append(chain, e)
		} else {
			legacy = append(legacy, e)
		}
	}
	return append(append(make([]Entry, 0, len(legacy)+len(chain)), legacy...), chain...), nil
}

// Head implements Store.
func (c *ConsulStore) Head(ctx context.Context) (Head, error) {
	hp, _, err := c.kv.Get(c.headKey(), consistent(ctx))
	if err != nil || hp == nil {
		return Head{}, err
	}
	var h Head
	if err := json.Unmarshal(hp.Value, &h); err != nil {
		return Head{}, fmt.Errorf("reading audit head: %w", err)
	}
	return h, nil
}
