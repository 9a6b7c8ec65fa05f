package chaos

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// healMargin is the time a step needs after its For to heal (a restart
// on this machine) before the load stops: a step that would not fit is not
// begun.
const healMargin = 20 * time.Second

// faulter applies a plan's faults one after another, healing each before
// the next: processes killed with SIGKILL and restarted by restart.sh,
// toxics added to a region's proxy and removed. Each fault's begin and end
// go to the ledger.
type faulter struct {
	st       *stack
	px       *proxies
	ledger   *Ledger
	progress io.Writer
}

// run applies steps until one would not end before until, or ctx ends.
func (f *faulter) run(ctx context.Context, steps []Step, until time.Time) {
	for _, s := range steps {
		if bench.Sleep(ctx, s.Gap) != nil || time.Now().Add(s.For+healMargin).After(until) {
			return
		}
		f.apply(ctx, s)
	}
}

func (f *faulter) apply(ctx context.Context, s Step) {
	detail := fmt.Sprintf("for %s", s.For)
	if s.Kind == Latency {
		detail = fmt.Sprintf("%s each way for %s", s.Latency, s.For)
	}
	f.ledger.Add(Entry{Kind: KindFault, Time: time.Now(), Action: s.Kind, Target: s.Target, Phase: "begin", Detail: detail})
	fmt.Fprintf(f.progress, "%s  fault: %s %s (%s)\n", clock(), s.Kind, s.Target, detail)
	var err error
	switch s.Kind {
	case Latency, Reset, Blackhole:
		if err = f.px.apply(s); err == nil {
			_ = bench.Sleep(ctx, s.For)
			f.px.heal(s.Target)
		}
	default:
		if err = f.st.kill9(ctx, s.Target); err == nil {
			_ = bench.Sleep(ctx, s.For)
			err = f.restart(ctx, s.Target)
		}
	}
	end := Entry{Kind: KindFault, Time: time.Now(), Action: s.Kind, Target: s.Target, Phase: "end", Detail: "healed"}
	if err != nil {
		end.Detail = err.Error()
	}
	f.ledger.Add(end)
	fmt.Fprintf(f.progress, "%s  healed: %s %s (%s)\n", clock(), s.Kind, s.Target, end.Detail)
}

// restart brings name back, trying again when it was not ready in time
// (a busy machine); a failure is left for the final heal.
func (f *faulter) restart(ctx context.Context, name string) error {
	var err error
	for range 3 {
		if err = f.st.restart(ctx, name); err == nil || ctx.Err() != nil || f.st.alive(name) {
			return err
		}
	}
	return err
}

// clock is the wall time in progress lines.
func clock() string { return time.Now().Format("15:04:05") }
