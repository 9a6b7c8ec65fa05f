package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hashicorp/consul/api"
)

// ConsulBin finds the pinned Consul agent: $REGIONGATE_CONSUL_BIN, else
// bin/consul at the repository root (built by `make tools`).
func ConsulBin() (string, error) { return findBin("REGIONGATE_CONSUL_BIN", "consul") }

// Consul is a real Consul dev agent on free loopback ports.
type Consul struct {
	Addr    string // host:port of the HTTP API
	bin     string
	args    []string
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// StartConsul starts `consul agent -dev` in dir and waits for a leader. An
// agent that exits while starting (a port taken meanwhile) is retried on
// new ports, up to three times.
func StartConsul(ctx context.Context, dir string) (*Consul, error) {
	bin, err := ConsulBin()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		c, err := startConsul(ctx, dir, bin)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return c, err
		}
	}
}

func startConsul(ctx context.Context, dir, bin string) (*Consul, error) {
	var err error
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	c := &Consul{
		Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), bin: bin,
		logFile: filepath.Join(dir, fmt.Sprintf("consul-%d.log", ports[0])),
		args: []string{"agent", "-dev", "-client", "127.0.0.1", "-bind", "127.0.0.1",
			"-http-port", strconv.Itoa(ports[0]), "-grpc-port", "-1", "-grpc-tls-port", "-1", "-dns-port", "-1",
			"-server-port", strconv.Itoa(ports[1]), "-serf-lan-port", strconv.Itoa(ports[2]),
			"-serf-wan-port", strconv.Itoa(ports[3]), "-log-level", "warn"},
	}
	return c, c.Start(ctx)
}

// Start (re)starts the agent on the same ports. A dev agent keeps its data
// in memory, so a restart comes back empty.
func (c *Consul) Start(ctx context.Context) error {
	logf, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.bin, c.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting consul: %w", err)
	}
	c.cmd, c.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(c.exited) }()
	return c.waitReady(ctx)
}

// Client returns a Consul API client for the agent.
func (c *Consul) Client() (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = c.Addr
	return api.NewClient(cfg)
}

func (c *Consul) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cl, err := c.Client()
	if err != nil {
		return err
	}
	var last error
	for {
		leader, err := cl.Status().Leader()
		if err == nil && leader != "" {
			if _, err = cl.KV().Put(&api.KVPair{Key: "testenv/ready", Value: []byte("1")}, nil); err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-c.exited:
			out, _ := os.ReadFile(c.logFile)
			return fmt.Errorf("consul on %s %w: %s", c.Addr, errExited, tail(out, 2000))
		case <-ctx.Done():
			return fmt.Errorf("consul on %s not ready: %w", c.Addr, errors.Join(ctx.Err(), last))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends the agent (SIGTERM, then SIGKILL after 10s).
func (c *Consul) Stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
}
