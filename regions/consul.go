package regions

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulRecords keeps routing records in Consul KV, one key per record
// key, so every gateway replica sees the same map. Claim, Move, Release and
// Expire are check-and-set on the key's ModifyIndex, which is the record's
// Version; the value is the placement, the expiry is the KV pair's Flags.
type ConsulRecords struct {
	kv     *api.KV
	txn    *api.Txn
	prefix string
}

// NewConsulRecords keeps records under prefix (e.g. "regiongate/records/").
func NewConsulRecords(c *api.Client, prefix string) *ConsulRecords {
	return &ConsulRecords{kv: c.KV(), txn: c.Txn(), prefix: prefix}
}

// cas writes at (and expires) under key if its ModifyIndex is still index
// (0: only if absent) and returns the version it wrote, taken from the
// same transaction: reading it back afterwards could pick up another
// replica's write and adopt it as ours.
//
// The value carries a nonce after the placement: Consul leaves the
// ModifyIndex alone when a write repeats the value and flags it holds,
// and a pin (a move to the same placement) must take a new version.
func (c *ConsulRecords) cas(ctx context.Context, key string, at Placement, expires int64, index uint64) (Record, bool, error) {
	value := at.String() + " " + strconv.FormatUint(rand.Uint64(), 36)
	ops := api.TxnOps{{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: c.path(key), Value: []byte(value), Flags: uint64(expires), Index: index}}}
	ok, resp, _, err := c.txn.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return Record{}, false, err
	}
	if !ok || resp == nil || len(resp.Results) != 1 || resp.Results[0].KV == nil {
		return Record{}, false, nil
	}
	return Record{Placement: at, Version: resp.Results[0].KV.ModifyIndex, Expires: expires}, true, nil
}

// path escapes the key: keys of records written before they were hashed
// are workflow ids, which may hold "/" and other characters that mean
// something in a KV path.
func (c *ConsulRecords) path(key string) string { return c.prefix + url.PathEscape(key) }

func pairRecord(p *api.KVPair) Record {
	if p == nil {
		return Record{}
	}
	at, _, _ := strings.Cut(string(p.Value), " ") // the nonce, if any (cas)
	return Record{Placement: parsePlacement(at), Version: p.ModifyIndex, Expires: int64(p.Flags)}
}

// Lookup implements Records. It reads consistently: a stale read could
// miss a claim another replica just made.
func (c *ConsulRecords) Lookup(ctx context.Context, key string) (Record, error) {
	p, _, err := c.kv.Get(c.path(key), (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return Record{}, storeErr("reading routing record "+key, err)
	}
	return pairRecord(p), nil
}

// Claim implements Records (CAS with index 0: create only).
func (c *ConsulRecords) Claim(ctx context.Context, key string, at Placement) (Record, error) {
	rec, ok, err := c.cas(ctx, key, at, 0, 0)
	if err != nil {
		return Record{}, storeErr(fmt.Sprintf("claiming %s for %s", key, at), err)
	}
	if ok {
		return rec, nil
	}
	existing, err := c.Lookup(ctx, key)
	if err != nil {
		return Record{}, err
	}
	if existing.Region == "" {
		// Released between the failed create and the read: try again.
		return Record{}, ErrRecordChanged
	}
	return existing, ErrRecordExists
}

// Move implements Records.
func (c *ConsulRecords) Move(ctx context.Context, key string, from Record, to Placement) (Record, error) {
	if from.Version == 0 {
		return Record{}, ErrRecordChanged
	}
	rec, ok, err := c.cas(ctx, key, to, from.Expires, from.Version)
	if err != nil {
		return Record{}, storeErr(fmt.Sprintf("moving %s to %s", key, to), err)
	}
	if !ok {
		return Record{}, ErrRecordChanged
	}
	return rec, nil
}

// Release implements Records.
func (c *ConsulRecords) Release(ctx context.Context, key string, from Record) error {
	if from.Version == 0 {
		return ErrRecordChanged
	}
	ok, err := c.deleteIf(ctx, c.path(key), from.Version)
	if err != nil {
		return storeErr("releasing "+key, err)
	}
	if !ok {
		return ErrRecordChanged
	}
	return nil
}

// deleteIf deletes path if its ModifyIndex is still index. Consul's own
// delete-CAS reports success for a key that is already gone; a checked
// index in the same transaction fails then.
func (c *ConsulRecords) deleteIf(ctx context.Context, path string, index uint64) (bool, error) {
	ops := api.TxnOps{
		{KV: &api.KVTxnOp{Verb: api.KVCheckIndex, Key: path, Index: index}},
		{KV: &api.KVTxnOp{Verb: api.KVDelete, Key: path}},
	}
	ok, _, _, err := c.txn.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
	return ok, err
}

// Expire implements Records.
func (c *ConsulRecords) Expire(ctx context.Context, key string, from Record, at time.Time) (Record, error) {
	if from.Version == 0 {
		return Record{}, ErrRecordChanged
	}
	if from.Expires == expiryOf(at) {
		return sameExpiry(ctx, c, key, from)
	}
	rec, ok, err := c.cas(ctx, key, from.Placement, expiryOf(at), from.Version)
	if err != nil {
		return Record{}, storeErr("setting the expiry of "+key, err)
	}
	if !ok {
		return Record{}, ErrRecordChanged
	}
	return rec, nil
}

// RemoveExpired implements Records. Consul has no index on Flags: it lists
// every record (fine for the small deployments Consul records are for; at
// volume, use PostgresRecords) and deletes the expired ones with
// delete-CAS, so a record rewritten meanwhile stays.
func (c *ConsulRecords) RemoveExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	pairs, _, err := c.kv.List(c.prefix, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return 0, storeErr("listing routing records", err)
	}
	n := 0
	for _, p := range pairs {
		if n >= limit {
			break
		}
		if !pairRecord(p).expired(now) {
			continue
		}
		ok, err := c.deleteIf(ctx, p.Key, p.ModifyIndex)
		if err != nil {
			return n, storeErr("removing expired routing records", err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Count implements Records.
func (c *ConsulRecords) Count(ctx context.Context) (int, error) {
	keys, _, err := c.kv.Keys(c.prefix, "", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return 0, storeErr("counting routing records", err)
	}
	return len(keys), nil
}

// ConsulDrains keeps drain state in Consul KV, one key per drained region,
// so a drain on one replica reaches every replica.
type ConsulDrains struct {
	kv     *api.KV
	prefix string
}

// NewConsulDrains keeps drains under prefix (e.g. "regiongate/drains/").
func NewConsulDrains(c *api.Client, prefix string) *ConsulDrains {
	return &ConsulDrains{kv: c.KV(), prefix: prefix}
}

// Load implements DrainStore.
func (c *ConsulDrains) Load(ctx context.Context) (map[string]bool, error) {
	pairs, _, err := c.kv.List(c.prefix, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading drains: %w", err)
	}
	out := map[string]bool{}
	for _, p := range pairs {
		out[strings.TrimPrefix(p.Key, c.prefix)] = true
	}
	return out, nil
}

// Set implements DrainStore.
func (c *ConsulDrains) Set(ctx context.Context, region string, drained bool) error {
	var err error
	if drained {
		_, err = c.kv.Put(&api.KVPair{Key: c.prefix + region, Value: []byte("drained")}, (&api.WriteOptions{}).WithContext(ctx))
	} else {
		_, err = c.kv.Delete(c.prefix+region, (&api.WriteOptions{}).WithContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("storing drain of %s: %w", region, err)
	}
	return nil
}
