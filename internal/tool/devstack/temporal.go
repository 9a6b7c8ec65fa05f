// Package devstack starts the real servers the dev stack, the bench and the
// tests run: Temporal dev servers and Consul agents on free loopback ports,
// and the whole product in-process.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// TemporalBin finds the pinned Temporal CLI: $REGIONGATE_TEMPORAL_BIN, else
// bin/temporal at the repository root (built by `make tools`).
func TemporalBin() (string, error) {
	return findBin("REGIONGATE_TEMPORAL_BIN", "temporal")
}

func findBin(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "bin", name)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found at %s: run `make tools` (or set %s)", name, p, env)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found: run `make tools` (or set %s)", name, env)
		}
		dir = parent
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Temporal is one real Temporal dev server process with its own state file,
// so it can be killed and restarted with its workflows intact.
type Temporal struct {
	Addr       string
	Namespaces []string
	// Cluster is the cluster name of a server that takes part in
	// replication (StartCluster); "" for a plain dev server.
	Cluster string
	bin     string
	port    int
	dbFile  string
	proc    process
	// httpPort and failoverVersion are a replicated cluster's.
	httpPort, failoverVersion int
}

// StartTemporal starts a dev server on a free port in dir, registering the
// namespaces, and waits until they answer.
//
// A free port can be taken by another process between the probe and the
// server's bind (tests start many servers at once), so a server that exits
// during start-up is retried on new ports, up to three times.
func StartTemporal(ctx context.Context, dir string, namespaces ...string) (*Temporal, error) {
	bin, err := TemporalBin()
	if err != nil {
		return nil, err
	}
	return startOnFreePorts(ctx, func() (*Temporal, error) {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		t := &Temporal{
			Addr: "127.0.0.1:" + strconv.Itoa(port), Namespaces: namespaces, bin: bin, port: port,
			dbFile: filepath.Join(dir, fmt.Sprintf("temporal-%d.db", port)),
		}
		t.proc = process{name: "temporal dev server on " + t.Addr, logFile: filepath.Join(dir, fmt.Sprintf("temporal-%d.log", port))}
		return t, nil
	})
}

// startOnFreePorts starts the server newServer sets up on free ports,
// setting up and starting another on new ports if it exits during
// start-up, up to three times in all.
func startOnFreePorts(ctx context.Context, newServer func() (*Temporal, error)) (*Temporal, error) {
	for attempt := 1; ; attempt++ {
		t, err := newServer()
		if err != nil {
			return nil, err
		}
		err = t.Start(ctx)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return t, err
		}
	}
}

// Start (re)starts the process on the same port and state file.
func (t *Temporal) Start(ctx context.Context) error {
	if t.Cluster != "" {
		return t.proc.start(ctx, t.bin, t.replicaArgs(), t.ping)
	}
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(t.port),
		"--headless", "--db-filename", t.dbFile, "--log-level", "error"}
	for _, ns := range t.Namespaces {
		args = append(args, "--namespace", ns)
	}
	return t.proc.start(ctx, t.bin, args, t.ping)
}

// ping succeeds once every namespace can be described.
func (t *Temporal) ping(ctx context.Context) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: t.Addr, Logger: log.NewStructuredLogger(nopLogger())})
	if err != nil {
		return err
	}
	defer nc.Close()
	for _, ns := range append([]string{"default"}, t.Namespaces...) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := nc.Describe(cctx, ns)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (t *Temporal) Kill() { t.proc.kill() }

// Stop ends the server gracefully (SIGTERM), killing it after 10s.
func (t *Temporal) Stop() { t.proc.stop() }
