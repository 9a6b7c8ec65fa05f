package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/audit"
	"github.com/regiongate/regiongate/internal/base/telemetry"
	"github.com/regiongate/regiongate/regions"
)

// TestRefusedCallsAreCountedAndBoundedInTheAudit: a thousand calls with
// made-up tokens are all counted, but the log gets at most
// refusedPerMinute entries for them, then one entry with the rest; no
// entry holds a presented secret, and a valid token without the role is
// named.
func TestRefusedCallsAreCountedAndBoundedInTheAudit(t *testing.T) {
	mgr, err := regions.NewManager(configs.Default(), regions.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mgr.Close)
	metrics, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	log := &audit.Memory{}
	s, err := New(Options{Regions: mgr, Config: configs.Default(), Tokens: DevTokens(), Audit: log,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Meter: metrics.Meter("test"), Metrics: metrics.Handler})
	if err != nil {
		t.Fatal(err)
	}
	h := s.AdminHandler()
	send := func(method, path, auth string) {
		req := httptest.NewRequest(method, path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	const bad = 1000
	for i := range bad {
		send("POST", "/admin/v1/regions/eu-west/drain", fmt.Sprintf("Bearer guess-%04d", i))
	}
	send("GET", "/admin/v1/config", "")
	send("POST", "/admin/v1/regions/eu-west/drain", "Bearer dev-viewer")

	ctx := context.Background()
	s.flushRefusals(ctx, time.Now())
	s.flushRefusals(ctx, time.Now().Add(61*time.Second))
	entries, _ := log.List(ctx)
	byReason := map[string][]audit.Entry{}
	for _, e := range entries {
		if e.Action != "admin.refused" {
			continue
		}
		if strings.Contains(e.Detail, "guess-") || strings.Contains(e.Detail, "dev-viewer") || strings.Contains(e.Target, "guess-") {
			t.Fatalf("a presented token is in the log: %+v", e)
		}
		reason, _, _ := strings.Cut(e.Detail, ":")
		if e.Actor == actorGateway {
			reason = e.Target
		}
		byReason[reason] = append(byReason[reason], e)
	}
	invalid := byReason[refusedInvalidToken]
	if len(invalid) != refusedPerMinute+1 || !strings.HasPrefix(invalid[refusedPerMinute].Detail, fmt.Sprintf("%d more", bad-refusedPerMinute)) {
		t.Fatalf("%d entries for %d invalid tokens, last: %+v", len(invalid), bad, invalid[len(invalid)-1])
	}
	if invalid[0].Target != "POST /admin/v1/regions/:name/drain" || invalid[0].Actor != actorUnknown {
		t.Fatalf("invalid token entry: %+v", invalid[0])
	}
	if got := byReason[refusedMissingToken]; len(got) != 1 || got[0].Target != "GET /admin/v1/config" {
		t.Fatalf("missing token entries: %+v", got)
	}
	if got := byReason[refusedLacksRole]; len(got) != 1 || got[0].Actor != "dev.viewer" || !strings.Contains(got[0].Detail, "operator role") {
		t.Fatalf("lacks-role entries: %+v", got)
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	want := fmt.Sprintf(` %d`, bad)
	found := false
	for line := range strings.Lines(rec.Body.String()) {
		found = found || (strings.HasPrefix(line, "regiongate_admin_refused_total{") && strings.Contains(line, `reason="invalid_token"`) &&
			strings.Contains(line, `route="/admin/v1/regions/:name/drain"`) && strings.HasSuffix(strings.TrimSpace(line), want))
	}
	if !found {
		t.Fatalf("no regiongate_admin_refused_total of %d invalid tokens in:\n%s", bad, rec.Body)
	}
}

func TestRefusalWindowsArePerReasonAndMinute(t *testing.T) {
	r := newRefusals()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 25 {
		r.note(t0.Add(time.Duration(i)*time.Second), refusedInvalidToken, audit.Entry{Detail: "invalid"})
	}
	r.note(t0, refusedLacksRole, audit.Entry{Detail: "role"})
	if got := r.due(t0.Add(30 * time.Second)); len(got) != refusedPerMinute+1 {
		t.Fatalf("within the minute: %d entries", len(got))
	}
	// The next minute starts afresh, after the count of the last one.
	r.note(t0.Add(90*time.Second), refusedInvalidToken, audit.Entry{Detail: "invalid again"})
	got := r.due(t0.Add(91 * time.Second))
	if len(got) != 2 || !strings.HasPrefix(got[0].Detail, "15 more") || got[1].Detail != "invalid again" {
		t.Fatalf("after the minute: %+v", got)
	}
	if got := r.due(t0.Add(10 * time.Minute)); len(got) != 0 {
		t.Fatalf("nothing left to write: %+v", got)
	}
}
