package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/tool/bench"
)

// LoadOptions shape the client load; zero values take the defaults.
type LoadOptions struct {
	Rate        float64 // requests begun per second (retries come on top); default 3
	MaxInFlight int     // requests of the mix in flight at most; default 48
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.Rate <= 0 {
		o.Rate = 3
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 48
	}
	return o
}

// The load's mix.
var (
	// Tenants are the dev client keys' tenants (northwind is isolated: its
	// own namespaces) and "" for anonymous callers.
	Tenants   = []string{"acme", "acme", "globex", "northwind", ""}
	Countries = []string{"DE", "DE", "FR", "GB", "CH", "US", "US", "CA", "JP"}
	Classes   = []string{"pii", "financial", "public", "internal"}
)

// Workflow inputs: quick ones finish in about a second, long ones run
// about 40s, long enough to be signalled and cancelled.
var (
	quickInput   = json.RawMessage(`{"items":2,"itemDelayMs":100}`)
	longInput    = json.RawMessage(`{"items":40,"itemDelayMs":1000}`)
	bookingInput = json.RawMessage(`{"propertyId":"p-1","nights":1,"amountCents":1000,"cardToken":"tok_visa"}`)
)

// maxRetries bounds the retries of one start during the run; what is still
// unsettled then is retried by the auditor.
const maxRetries = 6

// workflow is one start the load has sent, by tenant and caller id.
type workflow struct {
	req    Entry // the start as first sent: tenant, country, class, type, id or key, input
	long   bool
	acked  time.Time // zero until a start was acknowledged
	region string
	ended  bool // cancelled: signals and cancels are no longer sent
}

// load runs the client side of the chaos: a paced mix of starts (with ids
// and Idempotency-Keys), repeats, retries, signals, cancels and describes,
// across both replicas.
type load struct {
	o   LoadOptions
	c   *caller
	tag string // prefix of this run's ids and keys

	mu    sync.Mutex
	rng   *rand.Rand
	n     int
	wfs   map[string]*workflow // by Entry.Key
	acked []*workflow
	long  []*workflow

	wg      sync.WaitGroup
	sem     chan struct{}
	skipped atomic.Int64
}

func newLoad(o LoadOptions, c *caller, seed uint64) *load {
	o = o.withDefaults()
	return &load{
		o: o, c: c, tag: fmt.Sprintf("s%d", seed),
		rng: rand.New(rand.NewPCG(seed, 0x5eed)), wfs: map[string]*workflow{},
		sem: make(chan struct{}, o.MaxInFlight),
	}
}

// run paces the mix until stop ends, then waits for what is in flight
// (requests are bound to ctx, not stop, so they end with an answer).
func (l *load) run(ctx, stop context.Context) {
	t := time.NewTicker(time.Duration(float64(time.Second) / l.o.Rate))
	defer t.Stop()
	for {
		select {
		case <-stop.Done():
			l.wg.Wait()
			return
		case <-t.C:
		}
		select {
		case l.sem <- struct{}{}:
		default:
			l.skipped.Add(1) // the gateways are slower than the pace: keep the load bounded
			continue
		}
		op := l.next()
		l.wg.Go(func() {
			defer func() { <-l.sem }()
			op(ctx, stop)
		})
	}
}

type op func(ctx, stop context.Context)

// next draws the next request of the mix.
func (l *load) next() op {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, via := l.rng.Float64(), l.rng.IntN(len(l.c.gateways))
	switch {
	case r < 0.10:
		if w := l.pick(l.acked, false); w != nil {
			return func(ctx, stop context.Context) { l.start(ctx, stop, w, KindRepeat, via) }
		}
	case r < 0.20:
		if w := l.pick(l.long, true); w != nil {
			return func(ctx, _ context.Context) { l.signal(ctx, w, via) }
		}
	case r < 0.25:
		if w := l.pick(l.long, true); w != nil {
			w.ended = true
			return func(ctx, _ context.Context) { l.cancel(ctx, w, via) }
		}
	case r < 0.35:
		if w := l.pick(l.acked, false); w != nil {
			return func(ctx, _ context.Context) { l.describe(ctx, w, via) }
		}
	}
	w := l.newWorkflow(r > 0.85)
	return func(ctx, stop context.Context) { l.start(ctx, stop, w, KindStart, via) }
}

// pick draws one of ws; running ones only: acknowledged less than 25s
// ago and not cancelled (a long workflow runs about 40s).
func (l *load) pick(ws []*workflow, running bool) *workflow {
	for range 5 {
		if len(ws) == 0 {
			return nil
		}
		w := ws[l.rng.IntN(len(ws))]
		if !running || (!w.ended && time.Since(w.acked) < 25*time.Second) {
			return w
		}
	}
	return nil
}

// newWorkflow draws a new start: with an Idempotency-Key instead of an id
// when idem; now and then with the id of another tenant's workflow, which
// must become a separate workflow.
func (l *load) newWorkflow(idem bool) *workflow {
	l.n++
	w := &workflow{req: Entry{
		Tenant:  Tenants[l.rng.IntN(len(Tenants))],
		Country: Countries[l.rng.IntN(len(Countries))],
		Class:   Classes[l.rng.IntN(len(Classes))],
		Type:    "DataProcessing", Input: quickInput,
	}}
	switch r := l.rng.Float64(); {
	case r < 0.2:
		w.req.Type, w.req.Input = "PropertyBooking", bookingInput
	case r < 0.4:
		w.req.Input, w.long = longInput, true
	}
	w.req.WorkflowID = fmt.Sprintf("%s-%d", l.tag, l.n)
	if len(l.acked) > 0 && l.rng.Float64() < 0.1 {
		if other := l.acked[l.rng.IntN(len(l.acked))]; other.req.Tenant != w.req.Tenant && other.req.IdemKey == "" {
			w.req.WorkflowID = other.req.WorkflowID
		}
	}
	if idem {
		w.req.IdemKey = fmt.Sprintf("%s-key-%d", l.tag, l.n)
		w.req.WorkflowID = gateway.IdempotentWorkflowID(w.req.Tenant, w.req.IdemKey)
	}
	if _, taken := l.wfs[w.req.Key()]; taken {
		w.req.WorkflowID = fmt.Sprintf("%s-%d", l.tag, l.n)
	}
	l.wfs[w.req.Key()] = w
	return w
}

// start sends w's start, and again (same body, same id or key) while the
// answer does not settle it, until stop.
func (l *load) start(ctx, stop context.Context, w *workflow, kind string, via int) {
	for attempt := 0; ; attempt++ {
		e := w.req
		e.Kind = kind
		e = l.c.send(ctx, via, e, http.MethodPost, "/v1/workflows", startBody(e), startHeaders(e))
		l.settle(w, e)
		if !e.ServerError() || attempt == maxRetries || bench.Sleep(stop, retryDelay(e, l.jitter())) != nil {
			return
		}
		kind, via = KindRetry, (via+1)%len(l.c.gateways)
	}
}

func (l *load) jitter() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Duration(l.rng.IntN(1000)) * time.Millisecond
}

// retryDelay is the answer's Retry-After (at most 5s; 1s without one),
// plus jitter.
func retryDelay(e Entry, jitter time.Duration) time.Duration {
	d := time.Second
	if e.RetryAfter > 0 {
		d = time.Duration(min(e.RetryAfter, 5)) * time.Second
	}
	return d + jitter
}

// settle notes where an acknowledged start lives.
func (l *load) settle(w *workflow, e Entry) {
	if !e.Acked() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.acked.IsZero() {
		w.acked, w.region = time.Now(), e.Region
		l.acked = append(l.acked, w)
		if w.long {
			l.long = append(l.long, w)
		}
	}
}

func (l *load) signal(ctx context.Context, w *workflow, via int) {
	e := Entry{Kind: KindSignal, Tenant: w.req.Tenant, WorkflowID: w.req.WorkflowID}
	body := []byte(fmt.Sprintf(`{"input":{"text":"note at %s"}}`, time.Now().Format(time.RFC3339Nano)))
	l.c.send(ctx, via, e, http.MethodPost, workflowPath(w.req.WorkflowID)+"/signals/note", body, nil)
}

func (l *load) cancel(ctx context.Context, w *workflow, via int) {
	e := Entry{Kind: KindCancel, Tenant: w.req.Tenant, WorkflowID: w.req.WorkflowID}
	l.c.send(ctx, via, e, http.MethodPost, workflowPath(w.req.WorkflowID)+"/cancel", []byte(`{}`), nil)
}

func (l *load) describe(ctx context.Context, w *workflow, via int) {
	e := Entry{Kind: KindDescribe, Tenant: w.req.Tenant, WorkflowID: w.req.WorkflowID}
	l.c.send(ctx, via, e, http.MethodGet, workflowPath(w.req.WorkflowID), nil, nil)
}

func workflowPath(id string) string { return "/v1/workflows/" + url.PathEscape(id) }

// startBody is the start request of a ledger entry: the same body for the
// first send, every retry and the auditor's final retry. An
// Idempotency-Key start names no id; the gateway derives it from the key.
func startBody(e Entry) []byte {
	b := struct {
		WorkflowType       string          `json:"workflowType"`
		WorkflowID         string          `json:"workflowId,omitempty"`
		UserLocation       string          `json:"userLocation"`
		DataClassification string          `json:"dataClassification"`
		Input              json.RawMessage `json:"input,omitempty"`
	}{e.Type, e.WorkflowID, e.Country, e.Class, e.Input}
	if e.IdemKey != "" {
		b.WorkflowID = ""
	}
	data, _ := json.Marshal(b)
	return data
}

func startHeaders(e Entry) http.Header {
	if e.IdemKey == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {e.IdemKey}}
}
