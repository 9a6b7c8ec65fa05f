package workerd

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/configs"
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

func TestConnectionOptions(t *testing.T) {
	cdc, err := codec.New([]codec.Key{{ID: "k", Secret: make([]byte, codec.KeySize)}})
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	tests := []struct {
		name      string
		o         Options
		codec     *codec.Codec
		wantTLS   bool
		wantCreds bool
		wantCodec bool
	}{
		{name: "plain"},
		{name: "tls", o: Options{TLS: tlsConfig}, wantTLS: true},
		{name: "api key", o: Options{APIKey: "secret"}, wantCreds: true},
		{name: "api key and tls", o: Options{APIKey: "secret", TLS: tlsConfig}, wantTLS: true, wantCreds: true},
		{name: "codec", codec: cdc, wantCodec: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := connectionOptions(tt.o, Plan{Address: "h:1"}, tt.codec)
			if (opts.ConnectionOptions.TLS != nil) != tt.wantTLS || (opts.Credentials != nil) != tt.wantCreds ||
				(opts.DataConverter != nil) != tt.wantCodec || opts.HostPort != "h:1" {
				t.Fatalf("TLS %v, credentials %v, codec %v, host %s", opts.ConnectionOptions.TLS != nil,
					opts.Credentials != nil, opts.DataConverter != nil, opts.HostPort)
			}
		})
	}
}
