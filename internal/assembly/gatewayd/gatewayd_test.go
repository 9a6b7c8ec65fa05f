package gatewayd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
)

// soloYAML is one region on a loopback port nothing listens on: these
// tests need no Temporal server, only the gateway's own wiring.
const soloYAML = `environment: dev
classifications: [{name: public, resident: false}]
regions: [{name: solo, endpoint: "127.0.0.1:1", namespace: dev-solo, residency: [US]}]
`

var testClient = &http.Client{Timeout: 10 * time.Second}

func get(t *testing.T, url string, header ...string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartNeedsAConfigOrASource(t *testing.T) {
	if _, err := Start(t.Context(), Options{}); err == nil {
		t.Fatal("started without a config")
	}
}

// A gateway given only its config source reads the config from it, serves
// both APIs (the codec endpoint on the admin listener, behind a token),
// passes the client API through WrapClient, and stops serving on Close.
func TestServesTheConfigOfItsSourceUntilClosed(t *testing.T) {
	gw, err := Start(t.Context(), Options{
		ConfigSource: configs.NewMemorySource([]byte(soloYAML)), Tokens: gateway.DevTokens(),
		WrapClient: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Wrapped", "yes")
				h.ServeHTTP(w, r)
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	if got := gw.Server.Config().Regions; len(got) != 1 || got[0].Name != "solo" {
		t.Fatalf("config in force: %+v", got)
	}
	ls, err := Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)

	resp, err := testClient.Get(ls.ClientURL() + "/healthz")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Wrapped") != "yes" {
		t.Fatalf("client /healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := get(t, ls.AdminURL()+"/admin/v1/regions", "Authorization", "Bearer dev-viewer"); code != 200 {
		t.Fatalf("admin regions: %d", code)
	}
	if code := get(t, ls.AdminURL()+"/codec/decode"); code == 404 {
		t.Fatal("no codec endpoint on the admin listener")
	}
	if code := get(t, ls.ClientURL()+"/codec/decode"); code != 404 {
		t.Fatalf("codec endpoint on the client listener: %d", code)
	}

	gw.Close()
	if _, err := testClient.Get(ls.ClientURL() + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
}

// Serve returns nil once its context ends, and a listener that cannot be
// served is its error.
func TestServeStopsWithItsContext(t *testing.T) {
	gw, err := Start(t.Context(), Options{Config: mustParse(t, soloYAML)})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ls, err := Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ctx, ls) }()
	if code := get(t, ls.ClientURL()+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after its context ended: %v", err)
	}

	closed, err := Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Client.Close()
	if err := gw.Serve(t.Context(), closed); err == nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve on a closed listener: %v, want its error", err)
	}
}

func mustParse(t *testing.T, text string) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
