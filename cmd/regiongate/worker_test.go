package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/workflows/codec"
)

// The flags reach the worker assembly's options; what they leave out is
// planned there (internal/assembly/workerd's tests).
func TestWorkerOptions(t *testing.T) {
	cfg := configs.Default()
	f := workerFlags{region: "eu-west", address: "t:7233", namespaces: []string{"a"}, taskQueues: []string{"q"},
		maxActivities: 3, maxWorkflowTasks: 4, stopTimeout: time.Second, apiKey: "secret", tls: true,
		codecKeysFile: "keys", requireEncryption: true, metricsAddr: "m:1"}
	o, err := workerOptions(cfg, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Config != cfg || o.Region != "eu-west" || o.Address != "t:7233" || !slices.Equal(o.Namespaces, []string{"a"}) ||
		!slices.Equal(o.TaskQueues, []string{"q"}) || o.APIKey != "secret" || o.TLS == nil || o.MetricsAddr != "m:1" {
		t.Fatalf("options %+v", o)
	}
	if w := o.Worker; w.MaxConcurrentActivityExecutionSize != 3 || w.MaxConcurrentWorkflowTaskExecutionSize != 4 || w.WorkerStopTimeout != time.Second {
		t.Fatalf("worker options %+v", w)
	}
	if o.CodecKeys.File != "keys" || !o.CodecKeys.Require {
		t.Fatalf("codec keys %+v", o.CodecKeys)
	}
	if _, err := workerOptions(cfg, workerFlags{}, nil); err == nil || !strings.Contains(err.Error(), "--region is required") {
		t.Fatalf("no region: %v", err)
	}
}

func TestWorkerFlagsFallBackToEnvironment(t *testing.T) {
	env := map[string]string{
		"REGIONGATE_REGION": "us-east", "TEMPORAL_NAMESPACE": "a,b", "TEMPORAL_ADDRESS": "env:1",
		"REGIONGATE_MAX_CONCURRENT_ACTIVITIES": "7", "REGIONGATE_STOP_TIMEOUT": "3s", "TEMPORAL_TLS": "true",
	}
	c := workerCmd()
	if err := c.ParseFlags([]string{"--address", "flag:1"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(c, workerEnv, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	fl := c.Flags()
	for name, want := range map[string]string{
		"region": "us-east", "namespace": "[a,b]", "address": "flag:1",
		"max-concurrent-activities": "7", "stop-timeout": "3s", "tls": "true",
	} {
		if got := fl.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}

	bad := workerCmd()
	err := applyEnv(bad, workerEnv, func(k string) string {
		return map[string]string{"REGIONGATE_MAX_CONCURRENT_ACTIVITIES": "lots"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "REGIONGATE_MAX_CONCURRENT_ACTIVITIES") {
		t.Fatalf("a bad variable must be an error naming it: %v", err)
	}
}

// writePKI writes a self-signed certificate and its key, which serves as
// client certificate and CA alike.
func writePKI(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "worker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	mustWrite(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	mustWrite(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBuildTLS(t *testing.T) {
	cert, key := writePKI(t)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	mustWrite(t, notPEM, []byte("not a certificate"))
	tests := []struct {
		name      string
		f         workerFlags
		wantTLS   bool
		wantCerts int
		wantCA    bool
		wantSNI   string
		wantErr   string
	}{
		{name: "plain"},
		{name: "tls with system roots", f: workerFlags{tls: true}, wantTLS: true},
		{name: "mtls", f: workerFlags{tlsCert: cert, tlsKey: key, tlsCA: cert, tlsServerName: "temporal.internal"},
			wantTLS: true, wantCerts: 1, wantCA: true, wantSNI: "temporal.internal"},
		{name: "server name alone turns tls on", f: workerFlags{tlsServerName: "x"}, wantTLS: true, wantSNI: "x"},
		{name: "api key alone leaves tls to the SDK", f: workerFlags{apiKey: "secret"}},
		{name: "api key and a private CA", f: workerFlags{apiKey: "secret", tlsCA: cert}, wantTLS: true, wantCA: true},
		{name: "cert without key", f: workerFlags{tlsCert: cert}, wantErr: "go together"},
		{name: "missing cert file", f: workerFlags{tlsCert: "/nope", tlsKey: key}, wantErr: "client certificate"},
		{name: "CA without PEM", f: workerFlags{tlsCA: notPEM}, wantErr: "holds no PEM"},
		{name: "missing CA", f: workerFlags{tlsCA: "/nope"}, wantErr: "--tls-ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tlsCfg, err := buildTLS(tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tlsCfg != nil) != tt.wantTLS {
				t.Fatalf("TLS %v, want %v", tlsCfg != nil, tt.wantTLS)
			}
			if tlsCfg != nil && (len(tlsCfg.Certificates) != tt.wantCerts || (tlsCfg.RootCAs != nil) != tt.wantCA || tlsCfg.ServerName != tt.wantSNI) {
				t.Fatalf("TLS config: %d certs, CA %v, server name %q", len(tlsCfg.Certificates), tlsCfg.RootCAs != nil, tlsCfg.ServerName)
			}
		})
	}
}

func TestWorkerRequiresKeysWhenAsked(t *testing.T) {
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvName("eu-west"), "")
	t.Setenv("REGIONGATE_CODEC_KEYFILE", "")
	cmd := workerCmd()
	cmd.SetArgs([]string{"--region", "eu-west", "--address", "127.0.0.1:1", "--require-encryption"})
	cmd.SetOut(io.Discard)
	err := cmd.ExecuteContext(t.Context())
	if !errors.Is(err, codec.ErrNoKeys) {
		t.Fatalf("got %v, want %v before anything is dialled", err, codec.ErrNoKeys)
	}
}

// serve and the admin commands read the environment the way the worker
// does: REGIONGATE_REQUIRE_ENCRYPTION=1 turns encryption on for every
// binary alike, and a flag beats its variable.
func TestServeAndAdminFlagsFallBackToEnvironment(t *testing.T) {
	env := map[string]string{
		"REGIONGATE_REQUIRE_ENCRYPTION": "1", "REGIONGATE_LOG_FORMAT": "text", "REGIONGATE_CONSUL": "127.0.0.1:8500",
		"REGIONGATE_ADMIN_URL": "http://gw:8081", "REGIONGATE_TOKEN": "from-env",
	}
	getenv := func(k string) string { return env[k] }
	serve := serveCmd()
	if err := serve.ParseFlags([]string{"--consul", "flag:8500"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(serve, serveEnv, getenv); err != nil {
		t.Fatal(err)
	}
	regions := regionsCmd()
	if err := applyEnv(regions, adminEnv, getenv); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cmd        *cobra.Command
		name, want string
	}{
		{serve, "require-encryption", "true"}, {serve, "log-format", "text"}, {serve, "consul", "flag:8500"},
		{regions, "admin-url", "http://gw:8081"}, {regions, "token", "from-env"},
	} {
		if got := tt.cmd.Flags().Lookup(tt.name).Value.String(); got != tt.want {
			t.Errorf("%s --%s = %q, want %q", tt.cmd.Name(), tt.name, got, tt.want)
		}
	}
	err := applyEnv(serveCmd(), serveEnv, func(k string) string {
		return map[string]string{"REGIONGATE_REQUIRE_ENCRYPTION": "yes"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "REGIONGATE_REQUIRE_ENCRYPTION") {
		t.Fatalf("a bad variable must be an error naming it: %v", err)
	}
}

// TestWorkerServicesAndSlotTuning: the services file reaches the worker
// assembly, and resource-based slots exclude fixed limits.
func TestWorkerServicesAndSlotTuning(t *testing.T) {
	cfg := configs.Default()
	o, err := workerOptions(cfg, workerFlags{region: "eu-west", servicesFile: "svc.yaml", slotTuning: "resource", targetCPU: 0.5, targetMem: 0.7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.ServicesFile != "svc.yaml" || o.ResourceTuning == nil || o.ResourceTuning.TargetCPU != 0.5 || o.ResourceTuning.TargetMemory != 0.7 {
		t.Fatalf("options %+v, tuning %+v", o, o.ResourceTuning)
	}
	if o, err := workerOptions(cfg, workerFlags{region: "eu-west", slotTuning: "fixed"}, nil); err != nil || o.ResourceTuning != nil {
		t.Fatalf("fixed: %+v, %v", o.ResourceTuning, err)
	}
	for _, f := range []workerFlags{
		{region: "eu-west", slotTuning: "resource", maxActivities: 4},
		{region: "eu-west", slotTuning: "adaptive"},
	} {
		if _, err := workerOptions(cfg, f, nil); err == nil || !strings.Contains(err.Error(), "--slot-tuning") {
			t.Errorf("%+v: %v", f, err)
		}
	}
}
