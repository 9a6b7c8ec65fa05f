package recordsbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// cell is one store at one size: its server or file from the fill until
// it has been measured, and the claims measured on it so far.
type cell struct {
	res *Result
	t   target
	dir string
	// ctx ends when the server passes the memory limit (watchRSS): every
	// phase of the cell runs in it.
	ctx               context.Context
	cancel            context.CancelCauseFunc
	claims, saturated bench.Sample
}

// openCell starts res.Store empty in dir and fills it to res.Size.
func openCell(ctx context.Context, o Options, d dataset, dir string, res *Result) (*cell, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "%s, %d records: starting\n", res.Store, res.Size)
	t, err := open(ctx, res.Store, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", res.Store, err)
	}
	c := &cell{res: res, t: t, dir: dir}
	c.ctx, c.cancel = context.WithCancelCause(ctx)
	if pid := t.serverPid(); pid != 0 {
		go watchRSS(c.ctx, pid, o.MaxServerRSS, c.cancel)
	}
	if err := fillTo(c.ctx, o, t, d, res); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// limit is the limit that stopped the cell, if one did.
func (c *cell) limit() error {
	if cause := context.Cause(c.ctx); errors.Is(cause, errStopped) {
		return cause
	}
	return nil
}

func (c *cell) close() {
	c.cancel(nil)
	c.t.close()
	os.RemoveAll(c.dir)
}

// fillTo fills t to res.Size within the fill timeout, and counts what the
// store holds then.
func fillTo(ctx context.Context, o Options, t target, d dataset, res *Result) error {
	fctx, cancel := context.WithTimeoutCause(ctx, o.FillTimeout,
		atLimit("the fill took over %s", o.FillTimeout))
	defer cancel()
	start := time.Now()
	n, err := t.fill(fctx, d, res.Size)
	res.FillSeconds = round3(time.Since(start).Seconds())
	if res.FillSeconds > 0 {
		res.FillPerSecond = round3(float64(n) / res.FillSeconds)
	}
	if err != nil {
		if cause := context.Cause(fctx); errors.Is(cause, errStopped) {
			err = cause // the limit, not the cancelled call it caused
		}
		return fmt.Errorf("fill stopped at %s of %s records after %.0f s: %w", countText(float64(n)), countText(float64(res.Size)), res.FillSeconds, err)
	}
	fmt.Fprintf(o.Progress, "%s: filled %d records in %.1f s\n", res.Store, n, res.FillSeconds)
	if pid := t.serverPid(); pid != 0 {
		if m, err := bench.ReadProcMemory(pid); err == nil {
			res.FilledRSS = int64(m.RSS)
		}
	}
	count, err := t.records().Count(ctx)
	if err != nil {
		return fmt.Errorf("counting: %w", err)
	}
	res.Records = count
	if count != res.Size {
		return fmt.Errorf("the store holds %d records after a fill of %d", count, res.Size)
	}
	return nil
}

// watchRSS cancels once pid's resident memory passes limit.
func watchRSS(ctx context.Context, pid int, limit uint64, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if m, err := bench.ReadProcMemory(pid); err == nil && m.RSS > limit {
			cancel(atLimit("the server's RSS reached %s, over the %s limit", bytesText(int64(m.RSS)), bytesText(int64(limit))))
			return
		}
	}
}
