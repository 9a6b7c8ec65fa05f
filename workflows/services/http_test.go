package services

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is one request as the fake service got it.
type seen struct {
	method, path, query, key, auth string
	body                           map[string]any
}

// fakeService is a real HTTP server that records requests and answers
// each with the status and body the test chose.
type fakeService struct {
	*httptest.Server
	mu     sync.Mutex
	got    []seen
	status int
	answer string
	delay  time.Duration
}

func newFake(t *testing.T, status int, answer string) *fakeService {
	t.Helper()
	f := &fakeService{status: status, answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery,
			key: r.Header.Get(IdempotencyKeyHeader), auth: r.Header.Get("Authorization")}
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			if err := json.Unmarshal(b, &s.body); err != nil {
				t.Errorf("request body is not JSON: %s", b)
			}
		}
		f.mu.Lock()
		f.got = append(f.got, s)
		status, answer, delay := f.status, f.answer, f.delay
		f.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeService) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) == 0 {
		t.Fatal("no request reached the service")
	}
	return f.got[len(f.got)-1]
}

func TestHTTPAdaptersSendWhatTheAPISays(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		answer string
		call   func(url string) (string, error)
		want   seen
		result string
	}{
		{name: "charge", answer: `{"chargeId":"ch_1"}`,
			call: func(u string) (string, error) {
				return must(NewHTTPPayments(Endpoint{URL: u})).Charge(ctx, "wf/run/charge", "tok_visa", 2500)
			},
			want: seen{method: "POST", path: "/charges", key: "wf/run/charge", body: map[string]any{"cardToken": "tok_visa", "amountCents": 2500.0}}, result: "ch_1"},
		{name: "refund", answer: `{"chargeId":"ch_1"}`,
			call: func(u string) (string, error) {
				return must(NewHTTPPayments(Endpoint{URL: u})).Refund(ctx, "wf/run/charge")
			},
			want: seen{method: "POST", path: "/refunds", key: "wf/run/charge:refund", body: map[string]any{"chargeKey": "wf/run/charge"}}, result: "ch_1"},
		{name: "risk", answer: `{"score":12}`,
			call: func(u string) (string, error) {
				score, err := must(NewHTTPPayments(Endpoint{URL: u})).AssessRisk(ctx, "tok_visa", 100)
				return strconv.Itoa(score), err
			},
			want: seen{method: "POST", path: "/risk-assessments", body: map[string]any{"cardToken": "tok_visa", "amountCents": 100.0}}, result: "12"},
		{name: "reserve", answer: `{"reservationId":"rs_1"}`,
			call: func(u string) (string, error) {
				return must(NewHTTPProperties(Endpoint{URL: u + "/v1/"})).Reserve(ctx, "wf/run/reserve", "p-1", 2)
			},
			want: seen{method: "POST", path: "/v1/reservations", key: "wf/run/reserve", body: map[string]any{"propertyId": "p-1", "nights": 2.0}}, result: "rs_1"},
		{name: "release", answer: `{"reservationId":""}`,
			call: func(u string) (string, error) {
				return must(NewHTTPProperties(Endpoint{URL: u})).Release(ctx, "wf/run/reserve")
			},
			want: seen{method: "POST", path: "/releases", key: "wf/run/reserve:release", body: map[string]any{"reservationKey": "wf/run/reserve"}}},
		{name: "page, the id escaped", answer: `{}`,
			call: func(u string) (string, error) {
				return "", must(NewHTTPProperties(Endpoint{URL: u})).FetchPage(ctx, "../a b", 3)
			},
			want: seen{method: "GET", path: "/properties/%2E%2E%2Fa%20b/pages/3"}},
		{name: "fields", answer: ``,
			call: func(u string) (string, error) {
				return "", must(NewHTTPProperties(Endpoint{URL: u})).FetchFields(ctx, "p-1", []string{"price", "title"})
			},
			want: seen{method: "GET", path: "/properties/p-1/fields", query: "name=price&name=title"}},
		{name: "send", answer: ``,
			call: func(u string) (string, error) {
				return "", must(NewHTTPNotifier(Endpoint{URL: u})).Send(ctx, "wf/run/confirm", "hello")
			},
			want: seen{method: "POST", path: "/messages", key: "wf/run/confirm", body: map[string]any{"message": "hello"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, http.StatusOK, tt.answer)
			got, err := tt.call(f.URL)
			if err != nil || got != tt.result {
				t.Fatalf("got %q, %v; want %q", got, err, tt.result)
			}
			s := f.last(t)
			if s.method != tt.want.method || s.path != tt.want.path || s.query != tt.want.query || s.key != tt.want.key || s.auth != "" {
				t.Fatalf("request %+v, want %+v", s, tt.want)
			}
			if w, _ := json.Marshal(tt.want.body); string(w) != mustJSON(s.body) {
				t.Fatalf("body %s, want %s", mustJSON(s.body), w)
			}
		})
	}
}

func TestHTTPStatusesMapToRefusalsOrRetries(t *testing.T) {
	tests := []struct {
		status    int
		want      error // nil: retryable
		reserving bool  // the call is a reservation instead of a charge
	}{
		{status: 400, want: ErrRejected},
		{status: 422, want: ErrRejected},
		{status: 401, want: ErrUnauthenticated},
		{status: 403, want: ErrUnauthenticated},
		{status: 402, want: ErrDeclined},
		{status: 409, want: ErrUnavailable, reserving: true},
		{status: 409, want: ErrRejected},
		{status: 408}, {status: 429}, {status: 500}, {status: 502}, {status: 503},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFake(t, tt.status, `{"title":"card tok_visa refused"}`)
			var err error
			if tt.reserving {
				_, err = must(NewHTTPProperties(Endpoint{URL: f.URL})).Reserve(context.Background(), "k", "p-1", 1)
			} else {
				_, err = must(NewHTTPPayments(Endpoint{URL: f.URL})).Charge(context.Background(), "k", "tok_visa", 1)
			}
			var httpErr *HTTPError
			if !errors.As(err, &httpErr) || httpErr.Status != tt.status {
				t.Fatalf("want an HTTPError with status %d, got %v", tt.status, err)
			}
			if tt.want == nil && httpErr.Err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "tok_visa") || strings.Contains(err.Error(), "p-1") {
				t.Fatalf("the message holds request values: %v", err)
			}
		})
	}
}

func TestHTTPTimeoutIsRetryable(t *testing.T) {
	f := newFake(t, http.StatusOK, `{"chargeId":"late"}`)
	f.delay = time.Minute
	p := must(NewHTTPPayments(Endpoint{URL: f.URL, Timeout: 50 * time.Millisecond}))

	_, err := p.Charge(context.Background(), "k", "tok_visa", 1)

	var httpErr *HTTPError
	if !errors.As(err, &httpErr) || httpErr.Status != 0 || httpErr.Err != nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("want a retryable timeout, got %v", err)
	}
}

func TestHTTPCanceledCallerGetsItsOwnError(t *testing.T) {
	f := newFake(t, http.StatusOK, `{}`)
	f.delay = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := must(NewHTTPNotifier(Endpoint{URL: f.URL})).Send(ctx, "k", "m")

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the caller's deadline, got %v", err)
	}
}

func TestHTTPBearerTokenFollowsTheFile(t *testing.T) {
	f := newFake(t, http.StatusOK, `{}`)
	path := filepath.Join(t.TempDir(), "token")
	write := func(s string, mod time.Time) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write("first-token\n", time.Unix(1000, 0))
	n := must(NewHTTPNotifier(Endpoint{URL: f.URL, AuthTokenFile: path}))
	if err := n.Send(context.Background(), "k", "m"); err != nil || f.last(t).auth != "Bearer first-token" {
		t.Fatalf("%v, auth %q", err, f.last(t).auth)
	}
	write("second-token", time.Unix(2000, 0))
	if err := n.Send(context.Background(), "k", "m"); err != nil || f.last(t).auth != "Bearer second-token" {
		t.Fatalf("after rotation: %v, auth %q", err, f.last(t).auth)
	}
}

func TestHTTPEndpointRefusedAtConstruction(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, e := range map[string]Endpoint{
		"no url":           {},
		"empty token":      {URL: "http://127.0.0.1:1", AuthTokenFile: empty},
		"missing token":    {URL: "http://127.0.0.1:1", AuthTokenFile: empty + "-missing"},
		"negative timeout": {URL: "http://127.0.0.1:1", Timeout: -time.Second},
	} {
		if _, err := NewHTTPPayments(e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
