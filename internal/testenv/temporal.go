// Package testenv starts the real servers tests run against: Temporal dev
// servers (and, for the Consul path, a Consul agent), on free loopback ports.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
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
	bin        string
	port       int
	dbFile     string
	logFile    string
	cmd        *exec.Cmd
	exited     chan struct{}
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
	for attempt := 1; ; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		t := &Temporal{
			Addr: "127.0.0.1:" + strconv.Itoa(port), Namespaces: namespaces, bin: bin, port: port,
			dbFile:  filepath.Join(dir, fmt.Sprintf("temporal-%d.db", port)),
			logFile: filepath.Join(dir, fmt.Sprintf("temporal-%d.log", port)),
		}
		err = t.Start(ctx)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return t, err
		}
	}
}

// errExited marks a server that exited while starting.
var errExited = errors.New("exited while starting")

// Start (re)starts the process on the same port and state file.
func (t *Temporal) Start(ctx context.Context) error {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(t.port),
		"--headless", "--db-filename", t.dbFile, "--log-level", "error"}
	for _, ns := range t.Namespaces {
		args = append(args, "--namespace", ns)
	}
	logf, err := os.OpenFile(t.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(t.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a kill reaches nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting temporal dev server: %w", err)
	}
	t.cmd, t.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(t.exited) }()
	return t.waitReady(ctx)
}

func (t *Temporal) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		if last = t.ping(ctx); last == nil {
			return nil
		}
		select {
		case <-t.exited:
			out, _ := os.ReadFile(t.logFile)
			return fmt.Errorf("temporal dev server on %s %w: %s", t.Addr, errExited, tail(out, 2000))
		case <-ctx.Done():
			return fmt.Errorf("temporal dev server on %s not ready: %w", t.Addr, errors.Join(ctx.Err(), last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ping succeeds once every namespace can be described.
func (t *Temporal) ping(ctx context.Context) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: t.Addr, Logger: log.NewStructuredLogger(nopLogger())})
	if err != nil {
		return err
	}
	defer nc.Close()
	for _, ns := range t.Namespaces {
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
func (t *Temporal) Kill() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
	<-t.exited
}

// Stop ends the server gracefully (SIGTERM), killing it after 10s.
func (t *Temporal) Stop() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		t.Kill()
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
