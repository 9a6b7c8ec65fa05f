package recordsbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/consul/api"

	"github.com/regiongate/regiongate/internal/tool/bench"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

const (
	// consulPrefix is where serve --consul keeps records (UseConsul).
	consulPrefix = "regiongate/records/"
	// consulTxnOps is the most operations Consul takes in one transaction.
	consulTxnOps = 64
	// consulFillers are transactions in flight during a fill: each waits
	// for a Raft commit, and the leader batches what arrives meanwhile.
	consulFillers = 8
)

// consulTarget is a one-server Consul cluster with its data on disk, as
// production servers keep it (Raft log and snapshots, fsync), not a dev
// agent holding everything in memory.
type consulTarget struct {
	agent   *devstack.Consul
	client  *api.Client
	dataDir string
	store   *regions.ConsulRecords
}

func openConsul(ctx context.Context, dir string) (*consulTarget, error) {
	c := &consulTarget{dataDir: filepath.Join(dir, "data")}
	var err error
	if c.agent, err = devstack.StartConsulWith(ctx, dir, devstack.ConsulOptions{DataDir: c.dataDir}); err != nil {
		return nil, err
	}
	if c.client, err = c.agent.Client(); err != nil {
		c.agent.Stop()
		return nil, err
	}
	c.store = regions.NewConsulRecords(c.client, consulPrefix)
	return c, nil
}

func (c *consulTarget) records() regions.Records { return c.store }
func (c *consulTarget) serverPid() int           { return c.agent.Pid() }
func (c *consulTarget) close()                   { c.agent.Stop() }

// fill writes the records in transactions of 64 sets, several in flight.
// A pair is what ConsulRecords writes: the placement and a nonce, the
// expiry in Flags; its ModifyIndex is the version.
func (c *consulTarget) fill(ctx context.Context, d dataset, n int) (int, error) {
	var next, written atomic.Int64
	errs := make([]error, consulFillers)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() { errs[w] = c.fillTxns(ctx, d, n, &next, &written) })
	}
	wg.Wait()
	return int(written.Load()), errors.Join(errs...)
}

func (c *consulTarget) fillTxns(ctx context.Context, d dataset, n int, next, written *atomic.Int64) error {
	txn := c.client.Txn()
	for {
		start := int(next.Add(consulTxnOps)) - consulTxnOps
		if start >= n {
			return nil
		}
		ops := make(api.TxnOps, 0, consulTxnOps)
		for i := start; i < min(start+consulTxnOps, n); i++ {
			rec := d.record(i)
			value := rec.Placement.String() + " " + strconv.FormatUint(rand.Uint64(), 36)
			ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: consulPrefix + url.PathEscape(d.key(i)),
				Value: []byte(value), Flags: uint64(rec.Expires)}})
		}
		ok, resp, _, err := txn.Txn(ops, (&api.QueryOptions{}).WithContext(ctx))
		switch {
		case err != nil:
			return err
		case !ok:
			return fmt.Errorf("a fill transaction was refused: %v", resp.Errors)
		}
		written.Add(int64(len(ops)))
	}
}

// footprint: the agent's data directory (Raft log and snapshots) and a
// snapshot's size (what a backup holds); in memory, the agent's resident
// set now and at its peak.
func (c *consulTarget) footprint(context.Context) (Footprint, error) {
	var fp Footprint
	var err error
	if fp.Disk, err = dirSize(c.dataDir); err != nil {
		return fp, err
	}
	m, err := bench.ReadProcMemory(c.agent.Pid())
	if err != nil {
		return fp, err
	}
	fp.Memory, fp.PeakMemory = int64(m.RSS), int64(m.Peak)
	snap, _, err := c.client.Snapshot().Save(nil)
	if err != nil {
		return fp, fmt.Errorf("taking a snapshot: %w", err)
	}
	defer snap.Close()
	fp.Snapshot, err = io.Copy(io.Discard, snap)
	return fp, err
}
