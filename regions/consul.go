package regions

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/hashicorp/consul/api"
)

// ConsulRecords keeps routing records in Consul KV, one key per workflow
// id, so every gateway replica sees the same id -> region map. Claim, Move
// and Release are check-and-set on the key's ModifyIndex, which is the
// record's Version.
type ConsulRecords struct {
	kv     *api.KV
	txn    *api.Txn
	prefix string
}

// NewConsulRecords keeps records under prefix (e.g. "regiongate/records/").
func NewConsulRecords(c *api.Client, prefix string) *ConsulRecords {
	return &ConsulRecords{kv: c.KV(), txn: c.Txn(), prefix: prefix}
}

// cas writes at under id's key if its ModifyIndex is still index (0: only
// if absent) and returns the version it wrote, taken from the same
// transaction: reading it back afterwards could pick up another replica's
// write and adopt it as ours. The value is the placement (Placement.String).
func (c *ConsulRecords) cas(ctx context.Context, id string, at Placement, index uint64) (Record, bool, error) {
	ops := api.TxnOps{{KV: &api.KVTxnOp{Verb: api.KVCAS, Key: c.key(id), Value: []byte(at.String()), Index: index}}}
	ok, resp, _, err := c.txn.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return Record{}, false, err
	}
	if !ok || resp == nil || len(resp.Results) != 1 || resp.Results[0].KV == nil {
		return Record{}, false, nil
	}
	return Record{Placement: at, Version: resp.Results[0].KV.ModifyIndex}, true, nil
}

// key escapes the id: workflow ids may hold "/" and other characters
// that mean something in a KV path.
func (c *ConsulRecords) key(id string) string { return c.prefix + url.PathEscape(id) }

// Lookup implements Records. It reads consistently: a stale read could
// miss a claim another replica just made.
func (c *ConsulRecords) Lookup(ctx context.Context, id string) (Record, error) {
	p, _, err := c.kv.Get(c.key(id), (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return Record{}, fmt.Errorf("reading routing record %s: %w", id, err)
	}
	if p == nil {
		return Record{}, nil
	}
	return Record{Placement: parsePlacement(string(p.Value)), Version: p.ModifyIndex}, nil
}

// Claim implements Records (CAS with index 0: create only).
func (c *ConsulRecords) Claim(ctx context.Context, id string, at Placement) (Record, error) {
	rec, ok, err := c.cas(ctx, id, at, 0)
	if err != nil {
		return Record{}, fmt.Errorf("claiming %s for %s: %w", id, at, err)
	}
	if ok {
		return rec, nil
	}
	existing, err := c.Lookup(ctx, id)
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
func (c *ConsulRecords) Move(ctx context.Context, id string, from Record, to Placement) (Record, error) {
	if from.Version == 0 {
		return Record{}, ErrRecordChanged
	}
	rec, ok, err := c.cas(ctx, id, to, from.Version)
	if err != nil {
		return Record{}, fmt.Errorf("moving %s to %s: %w", id, to, err)
	}
	if !ok {
		return Record{}, ErrRecordChanged
	}
	return rec, nil
}

// Release implements Records.
func (c *ConsulRecords) Release(ctx context.Context, id string, from Record) error {
	ok, _, err := c.kv.DeleteCAS(&api.KVPair{Key: c.key(id), ModifyIndex: from.Version}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("releasing %s: %w", id, err)
	}
	if !ok {
		return ErrRecordChanged
	}
	return nil
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
