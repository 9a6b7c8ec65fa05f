package chaos

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// FinalRetryOptions bound the auditor's retries after the run; zero values
// take the defaults.
type FinalRetryOptions struct {
	For         time.Duration // how long one workflow's start is retried; default 2m
	Concurrency int           // default 4
}

// finalRetries sends, after the run, the start of every workflow that ever
// had a 5xx or no answer again (same body, same id or Idempotency-Key,
// through the replicas in turn) until it settles or For passes. The answers
// go to the ledger (kind final-retry) and to hs.
func finalRetries(ctx context.Context, o AuditOptions, entries []Entry, hs map[string]*history, res *AuditResult) error {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(hs)) {
		if hs[k].unsettled {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	fo := o.Final
	if fo.For <= 0 {
		fo.For = 2 * time.Minute
	}
	if fo.Concurrency <= 0 {
		fo.Concurrency = 4
	}
	var last int64
	if len(entries) > 0 {
		last = entries[len(entries)-1].Seq
	}
	l, err := OpenLedger(o.Ledger, last)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Progress, "%s  audit: retrying the starts of %d workflows that had a 5xx or no answer\n", clock(), len(keys))
	c := newCaller(o.Gateways, l)
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range fo.Concurrency {
		wg.Go(func() {
			for k := range work {
				e := retryUntilSettled(ctx, c, hs[k].req, fo.For)
				mu.Lock()
				hs[k].note(e)
				mu.Unlock()
			}
		})
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return l.Close()
}

// retryUntilSettled sends req's start until the answer is not a 5xx and
// not missing, or for passes; it returns the last answer.
func retryUntilSettled(ctx context.Context, c *caller, req Entry, within time.Duration) Entry {
	deadline := time.Now().Add(within)
	for via := 0; ; via++ {
		e := req.Request()
		e.Kind = KindFinalRetry
		e = c.send(ctx, via%len(c.gateways), e, http.MethodPost, "/v1/workflows", startBody(e), startHeaders(e))
		if !e.ServerError() || time.Now().After(deadline) || bench.Sleep(ctx, retryDelay(e, 0)) != nil {
			return e
		}
	}
}
