package devstack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/consul/api"
)

// ConsulBin finds the pinned Consul agent: $REGIONGATE_CONSUL_BIN, else
// bin/consul at the repository root (built by `make tools`).
func ConsulBin() (string, error) { return findBin("REGIONGATE_CONSUL_BIN", "consul") }

// Consul is a real Consul dev agent on free loopback ports.
type Consul struct {
	Addr string // host:port of the HTTP API
	bin  string
	args []string
	proc process
}

// ConsulOptions tune StartConsulWith; the zero value is StartConsul's dev
// agent.
type ConsulOptions struct {
	// DataDir, when set, makes the agent a one-server cluster keeping its
	// Raft log and snapshots there, written with fsync, as production
	// servers do; empty, it is a dev agent holding everything in memory.
	DataDir string
}

// StartConsul starts `consul agent -dev` in dir and waits for a leader. An
// agent that exits while starting (a port taken meanwhile) is retried on
// new ports, up to three times.
func StartConsul(ctx context.Context, dir string) (*Consul, error) {
	return StartConsulWith(ctx, dir, ConsulOptions{})
}

// StartConsulWith is StartConsul with options; the agent logs into dir.
func StartConsulWith(ctx context.Context, dir string, o ConsulOptions) (*Consul, error) {
	bin, err := ConsulBin()
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		c, err := startConsul(ctx, dir, bin, o)
		if err == nil || !errors.Is(err, errExited) || attempt == 3 {
			return c, err
		}
	}
}

func startConsul(ctx context.Context, dir, bin string, o ConsulOptions) (*Consul, error) {
	var err error
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	mode := []string{"-dev"}
	if o.DataDir != "" {
		// raft_multiplier 1 is what Consul recommends for production (its
		// default, 5, is for slow machines); it only shortens the election.
		mode = []string{"-server", "-bootstrap-expect", "1", "-data-dir", o.DataDir, "-hcl", "performance { raft_multiplier = 1 }"}
	}
	c := &Consul{
		Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), bin: bin,
		args: append(append([]string{"agent"}, mode...), "-client", "127.0.0.1", "-bind", "127.0.0.1",
			"-http-port", strconv.Itoa(ports[0]), "-grpc-port", "-1", "-grpc-tls-port", "-1", "-dns-port", "-1",
			"-server-port", strconv.Itoa(ports[1]), "-serf-lan-port", strconv.Itoa(ports[2]),
			"-serf-wan-port", strconv.Itoa(ports[3]), "-log-level", "warn"),
	}
	c.proc = process{name: "consul on " + c.Addr, logFile: filepath.Join(dir, fmt.Sprintf("consul-%d.log", ports[0]))}
	return c, c.Start(ctx)
}

// Start (re)starts the agent on the same ports. A dev agent keeps its data
// in memory, so a restart comes back empty; one with a DataDir does not.
func (c *Consul) Start(ctx context.Context) error {
	cl, err := c.Client()
	if err != nil {
		return err
	}
	return c.proc.start(ctx, c.bin, c.args, func(context.Context) error {
		leader, err := cl.Status().Leader()
		if err == nil && leader == "" {
			err = errors.New("no leader yet")
		}
		if err == nil {
			_, err = cl.KV().Put(&api.KVPair{Key: "testenv/ready", Value: []byte("1")}, nil)
		}
		return err
	})
}

// Client returns a Consul API client for the agent.
func (c *Consul) Client() (*api.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = c.Addr
	return api.NewClient(cfg)
}

// Pid is the agent's process id (its memory is read from /proc).
func (c *Consul) Pid() int { return c.proc.cmd.Process.Pid }

// Stop ends the agent (SIGTERM, then SIGKILL after 10s).
func (c *Consul) Stop() { c.proc.stop() }
