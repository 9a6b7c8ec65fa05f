// Command temporal-replica runs a Temporal dev server that can take part in
// multi-cluster replication: it has a cluster name, a failover version and
// global namespaces enabled, which `temporal server start-dev` does not
// offer. The dev stack (make dev REPLICATION=1) and the tests run two of
// them per replicated pair, then connect them with the operator API.
//
// It is the Temporal CLI's own dev server (temporalcli/devserver, the
// pinned CLI v1.5.1, server v1.29.1) with cluster metadata set.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/temporalio/cli/temporalcli/devserver"
)

// defaultDynamicConfig is start-dev's own defaults plus what replication
// needs to be usable in a dev stack.
var defaultDynamicConfig = map[string]any{
	// start-dev's: search attributes visible at once.
	"system.forceSearchAttributesCacheRefreshOnRead": true,
	"frontend.persistenceMaxQPS":                     10000,
	"history.persistenceMaxQPS":                      45000,
	// A remote cluster added with `temporal operator cluster upsert` is
	// only known to the services once they re-read the cluster metadata:
	// every minute by default, so creating a global namespace right after
	// connecting fails with "Invalid cluster name" for up to a minute.
	"system.clusterMetadataRefreshInterval": "1s",
	// A failover reaches the cluster's own services when they re-read the
	// namespace (every 2s by default).
	"system.namespaceCacheRefreshInterval": "500ms",
	// A worker's poll that reached this cluster while the namespace was
	// standby only waits for queries until it expires (a minute by
	// default): after a failover to this cluster, workers would get their
	// first task up to a minute late. Shorter polls bound that wait.
	"matching.longPollExpirationInterval": "5s",
}

type namespaces []string

func (n *namespaces) String() string     { return strings.Join(*n, ",") }
func (n *namespaces) Set(s string) error { *n = append(*n, s); return nil }

type dynamicValues map[string]any

func (d dynamicValues) String() string { return "" }

// Set takes KEY=JSON (a bare word is a string).
func (d dynamicValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want KEY=VALUE")
	}
	// The whole value must be JSON: a decoder would read "500ms" as the
	// number 500 (seconds, to the server) and stop there.
	var val any
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if dec.Decode(&val) != nil || dec.InputOffset() != int64(len(v)) {
		val = v
	}
	if num, ok := val.(json.Number); ok {
		// The server's dynamic config takes int, not int64 or float, for
		// integer settings.
		if i, err := num.Int64(); err == nil {
			val = int(i)
		} else if f, err := num.Float64(); err == nil {
			val = f
		}
	}
	d[k] = val
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "temporal-replica:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("temporal-replica", flag.ContinueOnError)
	ip := fs.String("ip", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 7233, "frontend gRPC port")
	httpPort := fs.Int("http-port", 0, "frontend HTTP port (0: a free one)")
	metricsPort := fs.Int("metrics-port", 0, "Prometheus metrics port (0: none)")
	cluster := fs.String("cluster", "", "this cluster's name (required); it is its own master cluster")
	failoverVersion := fs.Int("failover-version", 0, "initial failover version, distinct per cluster and below the increment of 10 (required)")
	db := fs.String("db-filename", "", "SQLite file holding the cluster's state (empty: in memory)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	var ns namespaces
	fs.Var(&ns, "namespace", "a local namespace to create (repeatable; \"default\" is always created); global namespaces are registered through the API once clusters are connected")
	dyn := dynamicValues{}
	fs.Var(dyn, "dynamic-config-value", "KEY=VALUE dynamic config (repeatable; VALUE is JSON, or a plain string)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *cluster == "":
		return errors.New("--cluster is required")
	case *failoverVersion <= 0 || *failoverVersion >= 10:
		return errors.New("--failover-version must be 1 to 9 (the failover version increment is 10)")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	for k, v := range defaultDynamicConfig {
		if _, set := dyn[k]; !set {
			dyn[k] = v
		}
	}
	opts := devserver.StartOptions{
		FrontendIP:             *ip,
		FrontendPort:           *port,
		FrontendHTTPPort:       *httpPort,
		MetricsPort:            *metricsPort,
		Namespaces:             append([]string{"default"}, ns...),
		ClusterID:              clusterID(*cluster),
		MasterClusterName:      *cluster,
		CurrentClusterName:     *cluster,
		InitialFailoverVersion: *failoverVersion,
		EnableGlobalNamespace:  true,
		DatabaseFile:           *db,
		Logger:                 slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		LogLevel:               level,
		DynamicConfigValues:    dyn,
	}
	if err := devserver.CheckPortFree(opts.FrontendIP, opts.FrontendPort); err != nil {
		return fmt.Errorf("port %d: %w", opts.FrontendPort, err)
	}
	began := time.Now()
	srv, err := devserver.Start(opts)
	if err != nil {
		return fmt.Errorf("starting cluster %s: %w", *cluster, err)
	}
	fmt.Printf("cluster %s (failover version %d) serving on %s:%d, started in %s\n",
		*cluster, *failoverVersion, *ip, *port, time.Since(began).Round(time.Millisecond))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	srv.Stop()
	return nil
}

// clusterID is the same for a cluster name across restarts: the server
// keeps its cluster metadata in the database and a restart must agree.
func clusterID(name string) string {
	sum := sha256.Sum256([]byte("regiongate-cluster:" + name))
	id, _ := uuid.FromBytes(sum[:16])
	return id.String()
}
