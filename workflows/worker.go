package workflows

import (
	"fmt"
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// Pool is the set of workers one process runs for one region: one worker
// per task queue, all sharing one client (one connection).
type Pool struct{ workers []worker.Worker }

// StartPool starts a worker on each queue, registering every workflow and
// activity on each, and returns once all are polling. opts applies to every
// worker (concurrency limits or a tuner such as NewResourceTuner's, the
// graceful stop timeout).
func StartPool(c client.Client, queues []string, acts *Activities, opts worker.Options) (*Pool, error) {
	if err := checkTuning(opts); err != nil {
		return nil, err
	}
	p := &Pool{}
	for _, q := range queues {
		w := worker.New(c, q, opts)
		Register(w, acts)
		if err := w.Start(); err != nil {
			p.Stop()
			return nil, fmt.Errorf("starting worker on %s: %w", q, err)
		}
		p.workers = append(p.workers, w)
	}
	return p, nil
}

// Stop stops every worker, letting running activities finish within the
// workers' WorkerStopTimeout. The workers stop together, so stopping takes
// one timeout at most, not one per queue.
func (p *Pool) Stop() {
	var wg sync.WaitGroup
	for _, w := range p.workers {
		wg.Go(w.Stop)
	}
	wg.Wait()
}
