package workerd

import (
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

func TestNewPlan(t *testing.T) {
	cfg := configs.Default()
	tests := []struct {
		name      string
		o         Options
		wantAddr  string
		wantNS    []string
		wantQueue []string // nil means the 12 routed queues
		wantErr   string
	}{
		{name: "defaults from the config", o: Options{Region: "eu-west"},
			wantAddr: "127.0.0.1:7235", wantNS: []string{"dev-eu-west", "dev-eu-west-northwind"}},
		{name: "overrides, trimmed and deduplicated", o: Options{Region: "eu-west", Address: "t:7233",
			Namespaces: []string{"a", " b", "a", ""}, TaskQueues: []string{"q1", "q1", "q2"}},
			wantAddr: "t:7233", wantNS: []string{"a", "b"}, wantQueue: []string{"q1", "q2"}},
		{name: "no region", o: Options{}, wantErr: "needs a config and a region"},
		{name: "unknown region", o: Options{Region: "mars"}, wantErr: `"mars" is not in the config`},
		{name: "negative limit", o: Options{Region: "eu-west", Worker: worker.Options{MaxConcurrentActivityExecutionSize: -1}},
			wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Config = cfg
			p, err := NewPlan(tt.o)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Address != tt.wantAddr || !slices.Equal(p.Namespaces, tt.wantNS) {
				t.Fatalf("got %s %v", p.Address, p.Namespaces)
			}
			if tt.wantQueue == nil {
				// Each type's normal, -priority and -batch queue.
				if len(p.TaskQueues) != 3*len(workflows.Names) || !slices.Contains(p.TaskQueues, "eu-west-PropertyBooking-priority") {
					t.Fatalf("routed queues: %v", p.TaskQueues)
				}
			} else if !slices.Equal(p.TaskQueues, tt.wantQueue) {
				t.Fatalf("queues %v", p.TaskQueues)
			}
		})
	}
}

// The worker reads its region's connection from the config, as the
// gateway does; its flags override it field by field.
func TestConnection(t *testing.T) {
	t.Setenv("RG_WORKER_TEST_KEY", "from-config")
	cfg, err := configs.Parse([]byte(strings.Replace(string(configs.DefaultYAML()), "    endpoint: 127.0.0.1:7235\n",
		"    endpoint: 127.0.0.1:7235\n    tls: {caFile: /config/ca.pem, certFile: /config/c.pem, keyFile: /config/k.pem}\n    apiKey: {env: RG_WORKER_TEST_KEY}\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	fromConfig := configs.TLS{CAFile: "/config/ca.pem", CertFile: "/config/c.pem", KeyFile: "/config/k.pem"}
	tests := []struct {
		name string
		o    Options
		want configs.Connection
	}{
		{name: "plain region", o: Options{Config: configs.Default(), Region: "us-east"},
			want: configs.Connection{Endpoint: "127.0.0.1:7233", Namespace: "dev-us-east"}},
		{name: "tls flag on a plain region", o: Options{Config: configs.Default(), Region: "us-east", TLS: &configs.TLS{}},
			want: configs.Connection{Endpoint: "127.0.0.1:7233", Namespace: "dev-us-east", UseTLS: true}},
		{name: "the config's TLS and API key, at the worker's address", o: Options{Config: cfg, Region: "eu-west", Address: "t:7233"},
			want: configs.Connection{Endpoint: "t:7233", Namespace: "dev-eu-west", UseTLS: true, TLS: fromConfig, APIKey: configs.APIKey{Env: "RG_WORKER_TEST_KEY"}}},
		{name: "flags override field by field", o: Options{Config: cfg, Region: "eu-west", TLS: &configs.TLS{CertFile: "/flag/c.pem", KeyFile: "/flag/k.pem", ServerName: "t.internal"}},
			want: configs.Connection{Endpoint: "127.0.0.1:7235", Namespace: "dev-eu-west", UseTLS: true,
				TLS: configs.TLS{CAFile: "/config/ca.pem", CertFile: "/flag/c.pem", KeyFile: "/flag/k.pem", ServerName: "t.internal"}, APIKey: configs.APIKey{Env: "RG_WORKER_TEST_KEY"}}},
		{name: "a static key replaces the config's", o: Options{Config: cfg, Region: "eu-west", APIKey: "secret"},
			want: configs.Connection{Endpoint: "127.0.0.1:7235", Namespace: "dev-eu-west", UseTLS: true, TLS: fromConfig}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPlan(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := connection(tt.o, p); got != tt.want {
				t.Fatalf("connection\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConnectionOptions(t *testing.T) {
	cdc, err := codec.New([]codec.Key{{ID: "k", Secret: make([]byte, codec.KeySize)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		conn      configs.Connection
		o         Options
		codec     *codec.Codec
		wantTLS   bool
		wantCreds bool
		wantCodec bool
	}{
		{name: "plain"},
		{name: "tls", conn: configs.Connection{UseTLS: true}, wantTLS: true},
		{name: "static api key", conn: configs.Connection{UseTLS: true}, o: Options{APIKey: "secret"}, wantTLS: true, wantCreds: true},
		{name: "codec", codec: cdc, wantCodec: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.conn.Endpoint = "h:1"
			tr, err := regions.NewTransport("r", tt.conn, regions.TransportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			opts := connectionOptions(tt.o, Plan{Address: "h:1"}, tr, tt.codec)
			if (opts.ConnectionOptions.TLS != nil) != tt.wantTLS || (opts.Credentials != nil) != tt.wantCreds ||
				(opts.DataConverter != nil) != tt.wantCodec || opts.HostPort != "h:1" {
				t.Fatalf("TLS %v, credentials %v, codec %v, host %s", opts.ConnectionOptions.TLS != nil,
					opts.Credentials != nil, opts.DataConverter != nil, opts.HostPort)
			}
		})
	}
}
