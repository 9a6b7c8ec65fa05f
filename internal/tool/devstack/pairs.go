package devstack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/assembly/workerd"
	"github.com/regiongate/regiongate/router"
)

// ReplicaPairs are the dev stack's replicated pairs (make dev
// REPLICATION=1, StackOptions.Replication): each region of a pair is the
// other's replica. Their residency lists are the same, so each replica is
// lawful.
var ReplicaPairs = [][2]string{{"us-east", "us-west"}, {"eu-west", "eu-central"}}

// replicatedConfig is the dev config text with each region's replica added
// after its failover list.
func replicatedConfig(text []byte) (*configs.Config, error) {
	out := string(text)
	for _, p := range ReplicaPairs {
		for _, r := range [][2]string{p, {p[1], p[0]}} {
			anchor := "  - name: " + r[0] + "\n"
			i := strings.Index(out, anchor)
			if i < 0 {
				return nil, fmt.Errorf("dev config: no region %s", r[0])
			}
			j := strings.Index(out[i:], "    failover: ")
			if j < 0 {
				return nil, fmt.Errorf("dev config: region %s has no failover line", r[0])
			}
			end := i + j + strings.Index(out[i+j:], "\n") + 1
			out = out[:end] + "    replica: " + r[1] + "\n" + out[end:]
		}
	}
	cfg, err := configs.Parse([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("replicated dev config: %w", err)
	}
	return cfg, nil
}

// startPairs starts a replicated cluster per region, named after it,
// connects each pair and registers every region's namespaces as global
// namespaces active in its own cluster and replicated to its replica's.
func (s *Stack) startPairs(ctx context.Context, dir string, cfg *configs.Config) error {
	err := s.startEach(cfg, func(i int, r configs.Region) (*Temporal, error) {
		return StartCluster(ctx, dir, r.Name, i+1)
	})
	if err != nil {
		return err
	}
	for _, p := range ReplicaPairs {
		if err := Connect(ctx, s.Temporal[p[0]], s.Temporal[p[1]]); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []error
	for _, p := range ReplicaPairs { // one pair at a time touches its two clusters
		wg.Go(func() {
			var err error
			for _, name := range p {
				r, _ := cfg.Region(name)
				if err = RegisterGlobal(ctx, s.Temporal[r.Name], s.Temporal[r.Replica], router.Namespaces(cfg, r)...); err != nil {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StopWorker stops a region's worker: its workflows wait, running, until
// a worker polls their queues again.
func (s *Stack) StopWorker(region string) {
	for i, w := range s.workers {
		if w != nil && w.Plan.Region == region {
			w.Stop()
			s.workers[i] = nil
		}
	}
}

// StartWorker starts a region's worker again after StopWorker.
func (s *Stack) StartWorker(ctx context.Context, region string) error {
	w, err := workerd.Start(ctx, s.workerOpts(region))
	if err != nil {
		return fmt.Errorf("worker of %s: %w", region, err)
	}
	for i := range s.workers {
		if s.workers[i] == nil {
			s.workers[i] = w
			return nil
		}
	}
	s.workers = append(s.workers, w)
	return nil
}
