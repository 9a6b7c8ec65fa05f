package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What every answer of the fuzzed handlers must be, whatever was sent.

// maxProblemBytes bounds a problem: its detail may quote the request (a
// workflow type, a country code) but only so much of it. A refused config
// lists every problem of the config, so it is bounded by the config cap.
const maxProblemBytes = 8 << 10

// checkAnswer: never a 500 (the recovery middleware turns a panic into
// one), every error a problem, a bounded answer, Retry-After on 503 and
// 429, JSON on success, and redirects that stay on this host. The codec
// endpoint speaks the Temporal codec-server protocol, whose errors are
// plain text; its answers are checked in checkCodec.
func checkAnswer(t *testing.T, g *fuzzGateway, in httpInput, a answer) {
	t.Helper()
	what := fmt.Sprintf("%s %q (setup %#x) -> %d", in.method, in.target, in.setup, a.status)
	if a.status == http.StatusInternalServerError {
		t.Fatalf("%s: a 500: %s\nlogs:\n%s", what, a.body, g.logs)
	}
	if len(a.body) > maxAnswerBytes {
		t.Fatalf("%s: an answer over %d bytes", what, maxAnswerBytes)
	}
	path := g.seenPath()
	if strings.HasPrefix(path, "/codec/") {
		checkCodec(t, what, a)
		return
	}
	if (a.status == 503 || a.status == 429) && a.header.Get("Retry-After") == "" {
		t.Fatalf("%s without Retry-After", what)
	}
	switch {
	case in.method == http.MethodHead: // headers only: no body to check
		if ct := a.header.Get("Content-Type"); a.status >= 400 && ct != "application/problem+json" {
			t.Fatalf("%s: an error as %q, not a problem", what, ct)
		}
	case a.status >= 400:
		checkProblemAnswer(t, what, a)
	case a.status >= 300:
		loc := a.header.Get("Location")
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, `/\`) {
			t.Fatalf("%s: redirect to %q, off this host", what, loc)
		}
	case a.status >= 200 && len(a.body) > 0 && path != "/metrics" && path != "/admin/v1/config":
		if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || !json.Valid(a.body) {
			t.Fatalf("%s: a success that is not JSON (%s): %.300s", what, ct, a.body)
		}
	}
}

func checkProblemAnswer(t *testing.T, what string, a answer) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: an error as %q, not a problem: %.300s", what, ct, a.body)
	}
	var p struct {
		Type, Title, Detail *string
		Status              *int
	}
	if err := json.Unmarshal(a.body, &p); err != nil || p.Type == nil || p.Title == nil || p.Detail == nil || p.Status == nil {
		t.Fatalf("%s: a problem without type, title, status and detail (%v): %.300s", what, err, a.body)
	}
	i := slices.IndexFunc(problemKinds, func(k problemKind) bool { return problemTypeBase+k.slug == *p.Type })
	if i < 0 {
		t.Fatalf("%s: unknown problem type %q", what, *p.Type)
	}
	k := problemKinds[i]
	if *p.Status != a.status || k.status != a.status || *p.Title != k.title || *p.Detail == "" {
		t.Fatalf("%s: problem %+v does not match its kind %+v", what, a.body, k)
	}
	if len(a.body) > maxProblemBytes && k != kindConfigInvalid {
		t.Fatalf("%s: a problem of %d bytes (at most %d): %.300s", what, len(a.body), maxProblemBytes, a.body)
	}
}

// checkCodec: decoded payloads are never cached; errors are the
// protocol's plain text, never a 500.
func checkCodec(t *testing.T, what string, a answer) {
	t.Helper()
	if a.status == http.StatusOK && a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s: codec answer without Cache-Control: no-store", what)
	}
}

// Secrets the dev stack knows; any of them in a log line, an answer or an
// audit entry is a leak.
var devSecrets = []string{"dev-viewer", "dev-compliance", "dev-operator", "dev-admin",
	"dev-client-acme", "dev-client-globex", "dev-client-northwind"}

// presentedSecrets are the credentials an input sends that the gateway
// must not repeat: a dev secret, or any credential of 12 bytes or more
// that says it is a secret, when it appears nowhere else in the request.
func presentedSecrets(in httpInput) []string {
	var out, rest []string
	for _, h := range headerLines(in.header) {
		if !strings.EqualFold(h.name, "Authorization") {
			rest = append(rest, h.value)
			continue
		}
		_, cred, ok := strings.Cut(h.value, " ")
		if !ok {
			cred = h.value
		}
		cred = strings.TrimSpace(cred)
		if slices.Contains(devSecrets, cred) || len(cred) >= 12 && strings.Contains(cred, "secret") {
			out = append(out, cred)
		}
	}
	others := in.target + "\n" + strings.Join(rest, "\n") + "\n" + string(in.body)
	return slices.DeleteFunc(out, func(s string) bool { return strings.Contains(others, s) })
}

// checkSecrets: no credential the input presented is in the logs, the
// answer, the audit log or the queued refusal entries.
func checkSecrets(t *testing.T, g *fuzzGateway, in httpInput, a answer) {
	t.Helper()
	secrets := presentedSecrets(in)
	if len(secrets) == 0 {
		return
	}
	entries, _ := g.audit.List(context.Background())
	g.srv.refused.mu.Lock()
	entries = append(entries, g.srv.refused.queue...)
	g.srv.refused.mu.Unlock()
	recorded, _ := json.Marshal(entries)
	for _, s := range secrets {
		escaped, _ := json.Marshal(s)
		for where, text := range map[string]string{"the log": g.logs.String(), "the answer": string(a.body), "the audit log": string(recorded)} {
			if strings.Contains(text, s) || strings.Contains(text, string(escaped[1:len(escaped)-1])) {
				t.Fatalf("%s %q: the credential %q is in %s", in.method, in.target, s, where)
			}
		}
	}
}

// fuzzState is what an admin call can change, and the audit log's length.
type fuzzState struct {
	drained  map[string]bool
	version  string
	drills   int
	entries  []string // "action target" of each audit entry
	refusals int      // refused admin calls noted (recorded or counted)
}

func (g *fuzzGateway) state(t *testing.T) fuzzState {
	t.Helper()
	ctx := context.Background()
	s := fuzzState{drained: map[string]bool{}, version: g.srv.Config().Version()}
	for _, r := range g.mgr.All() {
		s.drained[r.Name()] = r.Drained()
	}
	list, err := g.srv.drills.store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.drills = len(list)
	entries, _ := g.audit.List(ctx)
	for _, e := range entries {
		s.entries = append(s.entries, e.Action+" "+e.Target)
	}
	g.srv.refused.mu.Lock()
	for _, w := range g.srv.refused.windows {
		s.refusals += w.recorded + w.unrecorded
	}
	g.srv.refused.mu.Unlock()
	return s
}

// checkAudited: every change an admin call made has its audit entry, every
// use of the codec endpoint too, and every call refused for its token is
// noted for the log.
func checkAudited(t *testing.T, g *fuzzGateway, in httpInput, a answer, before fuzzState) {
	t.Helper()
	after := g.state(t)
	added := after.entries[len(before.entries):]
	what := fmt.Sprintf("%s %q -> %d", in.method, in.target, a.status)
	has := func(entry string) bool { return slices.Contains(added, entry) }
	for name, drained := range after.drained {
		action := map[bool]string{true: "region.drain", false: "region.restore"}[drained]
		if before.drained[name] != drained && !has(action+" "+name) {
			t.Fatalf("%s: %s changed unaudited (entries added: %q)", what, name, added)
		}
	}
	if after.version != before.version && !has("config.replace "+after.version) {
		t.Fatalf("%s: config %s put in force unaudited (entries added: %q)", what, after.version, added)
	}
	if after.drills != before.drills && !slices.ContainsFunc(added, func(e string) bool { return strings.HasPrefix(e, "drill.start ") }) {
		t.Fatalf("%s: a drill created unaudited (entries added: %q)", what, added)
	}
	path := g.seenPath()
	switch {
	case strings.HasPrefix(path, "/codec/") && a.status == http.StatusOK:
		if !slices.ContainsFunc(added, func(e string) bool { return strings.HasPrefix(e, "codec.") }) {
			t.Fatalf("%s: a codec use unaudited", what)
		}
	case strings.HasPrefix(path, "/codec/") && a.status == http.StatusUnauthorized && len(added) > 0:
		t.Fatalf("%s: a refused codec call wrote %q", what, added)
	case strings.HasPrefix(path, "/admin/") && (a.status == 401 || a.status == 403) && after.refusals != before.refusals+1:
		t.Fatalf("%s: a refused admin call noted %d times", what, after.refusals-before.refusals)
	}
}

// checkBounded: what requests leave behind in a gateway stays bounded: a
// limiter bucket per tenant a credential names (or the anonymous one),
// none of them holding a start after the request is over; no routing
// record from a start that reached no region; the latency window.
func checkBounded(t *testing.T, g *fuzzGateway, what string) {
	t.Helper()
	if n := g.srv.limits.size(); n > len(devSecrets) {
		t.Fatalf("%s: %d limiter buckets, for at most 3 tenants and the anonymous callers", what, n)
	}
	g.srv.limits.mu.Lock()
	for tenant, b := range g.srv.limits.buckets {
		if b.inFlight != 0 {
			g.srv.limits.mu.Unlock()
			t.Fatalf("%s: tenant %q holds %d starts in flight after its request", what, tenant, b.inFlight)
		}
	}
	g.srv.limits.mu.Unlock()
	if n := g.records.held(); n != 0 {
		t.Fatalf("%s: %d routing records held, but no start reached a region", what, n)
	}
	g.srv.lat.mu.Lock()
	n := len(g.srv.lat.samples)
	g.srv.lat.mu.Unlock()
	if n > latencyWindow {
		t.Fatalf("%s: %d latency samples kept", what, n)
	}
}

// checkMetricLabels: every label of every series /metrics serves is from
// a bounded set (routes, not paths; the config's regions and classes;
// fixed reasons): a series, once there, is kept for as long as the
// process runs.
func checkMetricLabels(t *testing.T, g *fuzzGateway, what string) {
	t.Helper()
	families, err := g.metrics.Gather()
	if err != nil {
		t.Fatalf("%s: gathering metrics: %v", what, err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !g.labelAllowed(l.GetName(), l.GetValue()) {
					t.Fatalf("%s: metric %s has label %s=%q, from no bounded set", what, f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

var (
	methodLabels = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
	reasonLabels = []string{"no_region_available", "no_lawful_region", refusedMissingToken, refusedInvalidToken, refusedLacksRole}
)

func (g *fuzzGateway) labelAllowed(key, v string) bool {
	switch key {
	case "route":
		return v == "unmatched" || g.routes[v]
	case "method":
		return slices.Contains(methodLabels, v)
	case "status":
		n, err := strconv.Atoi(v)
		return err == nil && n >= 100 && n <= 599
	case "region":
		_, before := g.cfg.Region(v)
		_, now := g.srv.Config().Region(v)
		return v == "" || before || now
	case "classification":
		return v == "" || g.hasClass(v)
	case "home":
		return v == "true" || v == "false"
	case "reason":
		return slices.Contains(reasonLabels, v)
	case "header":
		return v == "X-Forwarded-For" || slices.Contains(g.cfg.Location.Headers, v) || slices.Contains(g.srv.Config().Location.Headers, v)
	case "version":
		return v == g.cfg.Version() || v == g.srv.Config().Version()
	case "drill":
		list, _ := g.srv.drills.store.List(context.Background())
		return slices.ContainsFunc(list, func(d Drill) bool { return d.ID == v })
	case "action":
		return strings.HasPrefix(v, "config.") || strings.HasPrefix(v, "region.") || strings.HasPrefix(v, "drill.") ||
			strings.HasPrefix(v, "codec.") || v == "admin.refused"
	case "source":
		return true // the config source's name: one per gateway
	case "otel_scope_name", "otel_scope_version", "otel_scope_schema_url",
		"service_name", "telemetry_sdk_language", "telemetry_sdk_name", "telemetry_sdk_version":
		return true // the meter's and the process's: one set per gateway
	}
	return false
}

func (g *fuzzGateway) hasClass(name string) bool {
	for _, c := range g.cfg.Classifications {
		if c.Name == name {
			return true
		}
	}
	for _, c := range g.srv.Config().Classifications {
		if c.Name == name {
			return true
		}
	}
	return false
}

// soak is one gateway per test process that every input of a fuzz target
// also goes to: what it keeps must stay bounded over many requests. A
// failure here may take the inputs before it; its message says how many.
type soak struct {
	g          *fuzzGateway
	n          int
	heap       uint64 // HeapAlloc after the first soakCheckEvery inputs
	goroutines int
}

const soakCheckEvery = 1024

// step checks the soak gateway after one more input, as RunAudit would
// flush its refused calls every so often.
func (s *soak) step(t *testing.T) {
	t.Helper()
	s.n++
	what := fmt.Sprintf("long-lived gateway after %d inputs", s.n)
	checkBounded(t, s.g, what)
	if s.n%64 == 0 {
		s.g.srv.flushRefusals(context.Background(), time.Now())
	}
	s.g.srv.refused.mu.Lock()
	queued, windows := len(s.g.srv.refused.queue), len(s.g.srv.refused.windows)
	s.g.srv.refused.mu.Unlock()
	if queued > 3*(refusedPerMinute+1) || windows > 3 {
		t.Fatalf("%s: %d refused-call entries queued in %d windows", what, queued, windows)
	}
	if s.n%soakCheckEvery != 0 {
		return
	}
	checkMetricLabels(t, s.g, what)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if s.heap == 0 {
		s.heap, s.goroutines = ms.HeapAlloc, runtime.NumGoroutine()
		return
	}
	// The audit log and the drill store grow by one entry per change an
	// operator or compliance token made: by design, and small.
	entries, _ := s.g.audit.List(context.Background())
	drills, _ := s.g.srv.drills.store.List(context.Background())
	allowed := s.heap + 64<<20 + uint64(len(entries)+len(drills))*2<<10
	if ms.HeapAlloc > allowed {
		t.Fatalf("%s: heap %d MiB, from %d MiB after %d inputs (%d audit entries, %d drills)",
			what, ms.HeapAlloc>>20, s.heap>>20, soakCheckEvery, len(entries), len(drills))
	}
	if g := runtime.NumGoroutine(); g > s.goroutines+100 {
		t.Fatalf("%s: %d goroutines, from %d", what, g, s.goroutines)
	}
}
