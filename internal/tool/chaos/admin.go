package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// Dev admin tokens (the contract's): who does what mid-run.
const (
	operatorToken   = "dev-operator"
	complianceToken = "dev-compliance"
	viewerToken     = "dev-viewer"
)

// admin takes a plan's admin actions one after another, on the replicas in
// turn (an edit on one must reach the other through Consul): drains and
// restores, drills, config edits. Each call goes to the ledger.
type admin struct {
	gws      []Gateway
	ledger   *Ledger
	http     *http.Client
	progress io.Writer
	turn     int
}

func newAdmin(gws []Gateway, l *Ledger, progress io.Writer) *admin {
	return &admin{gws: gws, ledger: l, http: &http.Client{Timeout: ClientTimeout}, progress: progress}
}

// run takes steps until one would not end before until, or ctx ends.
func (a *admin) run(ctx context.Context, steps []Step, until time.Time) {
	for _, s := range steps {
		if bench.Sleep(ctx, s.Gap) != nil || time.Now().Add(s.For+healMargin).After(until) {
			return
		}
		fmt.Fprintf(a.progress, "%s  admin: %s %s\n", clock(), s.Kind, s.Target)
		switch s.Kind {
		case Drain:
			if a.try(ctx, Drain, s.Target, http.MethodPost, "/admin/v1/regions/"+s.Target+"/drain", operatorToken, nil, nil) {
				_ = bench.Sleep(ctx, s.For)
				a.try(context.WithoutCancel(ctx), "restore", s.Target, http.MethodPost, "/admin/v1/regions/"+s.Target+"/restore", operatorToken, nil, nil)
			}
		case Drill:
			body := fmt.Sprintf(`{"region":%q,"durationSeconds":%d}`, s.Target, int(s.For.Seconds()))
			// A drill that would strand resident data (its partner is down)
			// is refused with 409: a fine answer, not retried.
			if a.try(ctx, Drill, s.Target, http.MethodPost, "/admin/v1/drills", operatorToken, []byte(body), nil) {
				_ = bench.Sleep(ctx, s.For)
			}
		case ConfigEdit:
			a.editConfig(ctx, s.Target)
		}
	}
}

// adminAnswer is one admin call's ledger entry, body and headers.
type adminAnswer struct {
	Entry
	body []byte
	hdr  http.Header
}

// call sends one admin request to the next replica in turn.
func (a *admin) call(ctx context.Context, action, target, method, path, token string, body []byte, hdr http.Header) adminAnswer {
	gw := a.gws[a.turn%len(a.gws)]
	a.turn++
	e := Entry{Kind: KindAdmin, Time: time.Now(), Via: gw.Name, Action: action, Target: target}
	var out adminAnswer
	req, err := http.NewRequestWithContext(ctx, method, gw.AdminURL+path, bytes.NewReader(body))
	if err == nil {
		req.Header = hdr.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil && !strings.HasSuffix(path, "/config") {
			req.Header.Set("Content-Type", "application/json")
		}
		var resp *http.Response
		if resp, err = a.http.Do(req); err == nil {
			out.body, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			e.Status, out.hdr = resp.StatusCode, resp.Header
			var p struct{ Type, Detail string }
			if resp.StatusCode >= 300 && json.Unmarshal(out.body, &p) == nil {
				e.Problem, e.Detail = strings.TrimPrefix(p.Type, problemPrefix), p.Detail
			}
		}
	}
	e.Ms = time.Since(e.Time).Milliseconds()
	if err != nil {
		// A replica that is down refuses the connection; the next call
		// goes to the other.
		e.Err, e.Refused = shortError(err), errors.Is(err, syscall.ECONNREFUSED)
	}
	out.Entry = a.ledger.Add(e)
	return out
}

// try sends the call, on the replicas in turn, until it is answered with
// anything but an error of the stack's (a replica or Consul down), for at
// most a minute; it reports whether it got a 2xx.
func (a *admin) try(ctx context.Context, action, target, method, path, token string, body []byte, hdr http.Header) bool {
	deadline := time.Now().Add(time.Minute)
	for {
		ans := a.call(ctx, action, target, method, path, token, body, hdr)
		var pause time.Duration
		switch {
		case ans.Refused:
			pause = 100 * time.Millisecond // the other replica, almost at once
		case ans.ServerError():
			pause = 2 * time.Second
		default:
			return ans.Status/100 == 2
		}
		if time.Now().After(deadline) || bench.Sleep(ctx, pause) != nil {
			return false
		}
	}
}

// editConfig swaps the places of a pair of regions in the config in force
// (GET, then PUT with If-Match), moving the home region of their countries
// without touching any residency. A 412 (a concurrent edit) reads it
// again.
func (a *admin) editConfig(ctx context.Context, pair string) {
	first, second, _ := strings.Cut(pair, "/")
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		got := a.call(ctx, "config-read", pair, http.MethodGet, "/admin/v1/config", viewerToken, nil, nil)
		if got.Status != http.StatusOK {
			if bench.Sleep(ctx, 2*time.Second) != nil {
				return
			}
			continue
		}
		edited, err := swapRegions(got.body, first, second)
		if err != nil {
			a.ledger.Add(Entry{Kind: KindAdmin, Time: time.Now(), Action: ConfigEdit, Target: pair, Err: err.Error()})
			return
		}
		put := a.call(ctx, ConfigEdit, pair, http.MethodPut, "/admin/v1/config", complianceToken, edited,
			http.Header{"If-Match": {got.hdr.Get("ETag")}})
		if !put.ServerError() && put.Status != http.StatusPreconditionFailed {
			return
		}
		if bench.Sleep(ctx, 2*time.Second) != nil {
			return
		}
	}
}
