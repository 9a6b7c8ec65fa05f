package configs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulSource keeps the config under one Consul KV key. Replicas watch it
// with blocking queries and writes are check-and-set on ModifyIndex.
type ConsulSource struct {
	kv  *api.KV
	key string
	// MaxBackoff caps the wait between retries while Consul is down; zero
	// means 5s.
	MaxBackoff time.Duration
	// WaitTime bounds one blocking query; zero means 1 minute.
	WaitTime time.Duration
}

// NewConsulSource keeps the config under key, through one long-lived
// Consul client.
func NewConsulSource(c *api.Client, key string) *ConsulSource {
	return &ConsulSource{kv: c.KV(), key: key}
}

func (s *ConsulSource) String() string { return "consul key " + s.key }

// Read implements Source. It reads consistently: the index it returns is
// what the next Write checks against, and a stale one would be refused.
func (s *ConsulSource) Read(ctx context.Context) (Revision, error) {
	pair, _, err := s.kv.Get(s.key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return Revision{}, fmt.Errorf("reading consul key %s: %w", s.key, err)
	}
	if pair == nil {
		return Revision{}, fmt.Errorf("consul key %s: %w", s.key, ErrNotFound)
	}
	return Revision{Data: pair.Value, Index: pair.ModifyIndex}, nil
}

// Write implements Source with check-and-set: expected 0 creates the key
// only if it does not exist.
func (s *ConsulSource) Write(ctx context.Context, data []byte, expected uint64) (Revision, error) {
	ok, _, err := s.kv.CAS(&api.KVPair{Key: s.key, Value: data, ModifyIndex: expected}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return Revision{}, fmt.Errorf("writing consul key %s: %w", s.key, err)
	}
	if !ok {
		return Revision{}, ErrStale
	}
	return s.Read(ctx)
}

// Seed writes data only when the key is empty. It reports whether it wrote.
func (s *ConsulSource) Seed(ctx context.Context, data []byte) (bool, error) {
	_, err := s.Write(ctx, data, 0)
	if errors.Is(err, ErrStale) {
		return false, nil
	}
	return err == nil, err
}

// Watch implements Source with blocking queries: each query waits for an
// index past the last one seen. An index that goes backwards (a Consul
// snapshot restore, a new cluster) resets the wait, and so does an error;
// errors back off, doubling up to MaxBackoff, and the caller keeps its
// last good config meanwhile.
func (s *ConsulSource) Watch(ctx context.Context, fn func(Revision)) {
	maxBackoff, wait := s.MaxBackoff, s.WaitTime
	if maxBackoff <= 0 {
		maxBackoff = 5 * time.Second
	}
	if wait <= 0 {
		wait = time.Minute
	}
	var index uint64
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		pair, meta, err := s.kv.Get(s.key, (&api.QueryOptions{WaitIndex: index, WaitTime: wait}).WithContext(ctx))
		if err != nil {
			// After an outage the agent may be a new one whose index is
			// behind ours, and a blocking query with a future index would
			// sit out its whole wait: read afresh instead.
			index = 0
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = 100 * time.Millisecond
		switch {
		case meta.LastIndex < index:
			index = 0 // went backwards: start over
			continue
		case meta.LastIndex == index:
			continue // the wait timed out with no change
		}
		index = meta.LastIndex
		if pair != nil {
			fn(Revision{Data: pair.Value, Index: pair.ModifyIndex})
		}
	}
}
