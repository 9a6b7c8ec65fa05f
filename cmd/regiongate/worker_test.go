package main

import (
	"errors"
	"io"
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

// The --tls* flags override the region config's tls block; the worker
// assembly reads the files (internal/assembly/workerd, regions.Transport).
func TestTLSFlags(t *testing.T) {
	tests := []struct {
		name    string
		f       workerFlags
		want    *configs.TLS
		wantErr string
	}{
		{name: "none: the config decides"},
		{name: "tls alone", f: workerFlags{tls: true}, want: &configs.TLS{}},
		{name: "mtls", f: workerFlags{tlsCert: "c.pem", tlsKey: "k.pem", tlsCA: "ca.pem", tlsServerName: "temporal.internal"},
			want: &configs.TLS{CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem", ServerName: "temporal.internal"}},
		{name: "server name alone", f: workerFlags{tlsServerName: "x"}, want: &configs.TLS{ServerName: "x"}},
		{name: "api key alone leaves the tls block to the config", f: workerFlags{apiKey: "secret"}},
		{name: "cert without key", f: workerFlags{tlsCert: "c.pem"}, wantErr: "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tlsFlags(tt.f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
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
