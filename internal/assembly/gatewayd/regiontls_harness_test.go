package gatewayd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/assembly/workerd"
	"github.com/regiongate/regiongate/internal/testkit/pki"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/testkit/tlsproxy"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows/codec"
)

// secured is one Temporal dev server behind two fronts, as production
// puts Temporal behind TLS: a TLS-terminating proxy that requires a client
// certificate (mTLS), and an API-key-checking gRPC front (as Temporal
// Cloud's API-key endpoints); with the certificates and key files a
// region config names.
type secured struct {
	dir        string
	ca, other  *pki.CA
	mtls       *tlsproxy.Terminator
	keyed      *tlsproxy.KeyFront
	client     *pki.Leaf // the gateway's and the workers' client certificate, at client.crt/key
	caFile     string    // the fronts' CA
	otherCA    string    // a CA that signed none of them
	expired    [2]string // an expired client certificate and its key, from ca
	apiKeyFile string    // holds "key-1", the key the front admits
	wrongKey   string    // holds a key the front refuses
}

func startSecured(t *testing.T) *secured {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: needs a real Temporal dev server (skipped under -short)")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	temporal, err := devstack.StartTemporal(ctx, dir, "dev-mtls", "dev-keyed")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(temporal.Stop)
	s := &secured{dir: dir, ca: pki.NewCA(t, "regions' CA"), other: pki.NewCA(t, "someone else's CA")}
	serverCert := s.ca.Issue(t, false, "127.0.0.1", "temporal.internal").TLS(t)
	s.mtls = tlsproxy.StartTerminator(t, temporal.Addr, serverCert, s.ca.Pool())
	s.keyed = tlsproxy.StartKeyFront(t, temporal.Addr, serverCert, "key-1")
	s.client = s.ca.Issue(t, false, "regiongate")
	s.client.Write(t, dir, "client")
	s.expired[0], s.expired[1] = s.ca.Issue(t, true, "regiongate").Write(t, dir, "expired")
	s.caFile, s.otherCA = s.file(t, "ca.pem", s.ca.PEM), s.file(t, "other-ca.pem", s.other.PEM)
	s.apiKeyFile, s.wrongKey = s.file(t, "api-key", []byte("key-1\n")), s.file(t, "wrong-key", []byte("key-0\n"))
	return s
}

func (s *secured) file(t *testing.T, name string, data []byte) string {
	p := filepath.Join(s.dir, name)
	pki.WriteFile(t, p, data)
	return p
}

// region is a config entry for a region behind one of the fronts; extra
// is YAML flow-mapping text ("tls: {...}, apiKey: {...}").
func region(name, endpoint, namespace, residency, extra string) string {
	return fmt.Sprintf("  - {name: %s, endpoint: %q, namespace: %s, residency: [%s], %s}\n", name, endpoint, namespace, residency, extra)
}

func (s *secured) mtlsTLS() string {
	return fmt.Sprintf("tls: {caFile: %s, certFile: %s, keyFile: %s}", s.caFile, filepath.Join(s.dir, "client.crt"), filepath.Join(s.dir, "client.key"))
}

func (s *secured) keyedTLS(keyFile string) string {
	return fmt.Sprintf("tls: {caFile: %s}, apiKey: {file: %s}", s.caFile, keyFile)
}

// config is a config of regions where only pii exists: it never leaves a
// region's residency, so a failed start cannot hide behind a failover.
func config(t *testing.T, regionLines ...string) *configs.Config {
	t.Helper()
	cfg, err := configs.Parse([]byte("environment: dev\nclientAuth: {mode: optional}\nclassifications: [{name: pii, resident: true}]\nregions:\n" + strings.Join(regionLines, "")))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// logBuffer is a log the test reads while the gateway writes it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged JSON records whose msg starts with prefix.
func (l *logBuffer) lines(prefix string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.b.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(fmt.Sprint(rec["msg"]), prefix) {
			out = append(out, rec)
		}
	}
	return out
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

// noKeys turns payload encryption off: these tests are about the transport.
var noKeys = codec.Source{Getenv: func(string) string { return "" }}

// startGateway assembles a gateway as `regiongate serve` does, on free
// loopback ports; health checks every interval.
func startGateway(t *testing.T, cfg *configs.Config, log *logBuffer, interval time.Duration) (*gatewayd.Gateway, string) {
	t.Helper()
	gw, err := gatewayd.Start(t.Context(), gatewayd.Options{
		Config: cfg, Tokens: gateway.DevTokens(), CodecKeys: noKeys, Logger: log.logger(),
		Health: regions.HealthOptions{Interval: interval, Timeout: 3 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	ls, err := gatewayd.Listen("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)
	return gw, ls.ClientURL()
}

// startWorker starts a region's worker as `regiongate worker` does, dialling
// the region as its config says.
func startWorker(t *testing.T, cfg *configs.Config, region string, log *logBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	w, err := workerd.Start(ctx, workerOptions(cfg, region, log))
	if err != nil {
		t.Fatalf("worker of %s: %v", region, err)
	}
	t.Cleanup(w.Stop)
}

// startWorkerErr is the error a region's worker fails to start with, or
// nil (the worker stopped again).
func startWorkerErr(ctx context.Context, cfg *configs.Config, region string) error {
	w, err := workerd.Start(ctx, workerOptions(cfg, region, &logBuffer{}))
	if err == nil {
		w.Stop()
	}
	return err
}

func workerOptions(cfg *configs.Config, region string, log *logBuffer) workerd.Options {
	return workerd.Options{
		Config: cfg, Region: region, CodecKeys: noKeys, Logger: log.logger(),
		Worker: worker.Options{WorkerStopTimeout: time.Second},
	}
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// inputs are the workflows these tests start: a booking (a saga of three
// activities) and the lightest workflow there is (one workflow task), for
// loops that a loaded machine must still get through.
var inputs = map[string]any{
	"PropertyBooking": map[string]any{"propertyId": "p-1", "nights": 1, "amountCents": 100, "cardToken": "tok_visa"},
	"DataProcessing":  map[string]any{"items": 1, "itemDelayMs": 0},
}

// start starts a workflow of type typ for a user in country and returns
// the status and the answer.
func start(t *testing.T, base, typ, id, country string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"workflowType": typ, "workflowId": id, "userLocation": country, "dataClassification": "pii", "input": inputs[typ],
	})
	resp, err := httpClient.Post(base+"/v1/workflows", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitCompleted waits until the gateway reports the workflow COMPLETED:
// the region's worker ran it.
func waitCompleted(t *testing.T, base, id string) {
	t.Helper()
	poll.Until(t, time.Minute, id+" completed", func() bool {
		resp, err := httpClient.Get(base + "/v1/workflows/" + id)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out["status"] == "COMPLETED"
	})
}
