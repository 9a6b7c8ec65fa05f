package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/regiongate/regiongate/internal/tool/bench"
)

// stack is one deploy/dev/up.sh in Consul mode (make dev CONSUL=1) on free
// ports with a state dir of its own, so it never meets a running dev stack
// and its faults are real: processes killed with SIGKILL and brought back
// by deploy/dev/restart.sh (make dev-restart), with their state.
type stack struct {
	root, state string
	env         []string
	ports       map[string][]int // by up.sh's DEV_*_PORTS variable
	up          *exec.Cmd
	out         syncBuffer
	exited      chan struct{}
}

// portCounts is how many ports each of up.sh's DEV_*_PORTS variables takes
// (DEV_GATEWAY_REGION_PORTS is given separately: the proxies').
var portCounts = map[string]int{
	"DEV_TEMPORAL_PORTS": 4, "DEV_WORKER_METRICS_PORTS": 4,
	"DEV_GATEWAY_PORTS": 2, "DEV_GATEWAY2_PORTS": 2, "DEV_CONSUL_PORTS": 4,
}

// StartupTimeout bounds up.sh's start: four Temporal servers, Consul, four
// workers and two gateways on a busy 2-core machine.
const StartupTimeout = 6 * time.Minute

// allocatePorts picks the stack's ports: loopback ports free a moment ago.
func allocatePorts() (map[string][]int, error) {
	n := 0
	for _, c := range portCounts {
		n += c
	}
	var free []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are picked, so none repeats
		free = append(free, l.Addr().(*net.TCPAddr).Port)
	}
	ports := map[string][]int{}
	for name, c := range portCounts {
		ports[name], free = free[:c], free[c:]
	}
	return ports, nil
}

// startStack runs up.sh from the repository at root with state in state,
// the gateways dialling the regions at gatewayRegionPorts, and returns once
// it says the stack is up. log gets up.sh's output as it comes.
func startStack(ctx context.Context, root, state string, ports map[string][]int, gatewayRegionPorts []string, log io.Writer) (*stack, error) {
	s := &stack{root: root, state: state, ports: ports, exited: make(chan struct{})}
	s.out.also = log
	s.env = append(os.Environ(), "CONSUL=1", "BIN="+filepath.Join(root, "bin"), "STATE="+state,
		"DEV_GATEWAY_REGION_PORTS="+strings.Join(gatewayRegionPorts, " "))
	for name, p := range ports {
		s.env = append(s.env, name+"="+strings.Trim(fmt.Sprint(p), "[]"))
	}
	s.up = exec.Command("bash", filepath.Join(root, "deploy/dev/up.sh"))
	s.up.Dir, s.up.Env = root, s.env
	s.up.Stdout, s.up.Stderr = &s.out, &s.out
	// A process group of its own, so a Ctrl-C meant for this program does
	// not reach it: stop sends it SIGTERM, and up.sh stops the stack.
	s.up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.up.Start(); err != nil {
		return nil, fmt.Errorf("starting up.sh: %w", err)
	}
	go func() { _ = s.up.Wait(); close(s.exited) }()
	if err := s.waitOutput(ctx, StartupTimeout, "Press Ctrl-C to stop everything"); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitOutput waits until up.sh has printed want.
func (s *stack) waitOutput(ctx context.Context, within time.Duration, want string) error {
	deadline := time.Now().Add(within)
	for !strings.Contains(s.out.String(), want) {
		select {
		case <-s.exited:
			return fmt.Errorf("up.sh exited (%v) before printing %q; it said:\n%s", s.up.ProcessState, want, tail(s.out.String(), 2000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("up.sh did not print %q within %s; it said:\n%s", want, within, tail(s.out.String(), 2000))
		}
		if err := bench.Sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// Gateways are the two replicas' client and admin URLs.
func (s *stack) Gateways() []Gateway {
	url := func(p int) string { return fmt.Sprintf("http://127.0.0.1:%d", p) }
	g1, g2 := s.ports["DEV_GATEWAY_PORTS"], s.ports["DEV_GATEWAY2_PORTS"]
	return []Gateway{{"gateway-1", url(g1[0]), url(g1[1])}, {"gateway-2", url(g2[0]), url(g2[1])}}
}

// ConfigPath is the stack's config as the workers read it: every region
// at its Temporal frontend.
func (s *stack) ConfigPath() string { return filepath.Join(s.state, "stack.yaml") }

var pidLine = regexp.MustCompile(`(?m)^pid=(\d+)$`)

// pid is name's process as the process table records it.
func (s *stack) pid(name string) (int, error) {
	table, err := os.ReadFile(filepath.Join(s.state, "run", name))
	if err != nil {
		return 0, err
	}
	m := pidLine.FindSubmatch(table)
	if m == nil {
		return 0, fmt.Errorf("no pid in the process table's %s", name)
	}
	return strconv.Atoi(string(m[1]))
}

// kill9 kills name's process with SIGKILL and waits until it is gone.
func (s *stack) kill9(ctx context.Context, name string) error {
	pid, err := s.pid(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill -9 %s (pid %d): %w", name, pid, err)
	}
	for syscall.Kill(pid, 0) == nil {
		if err := bench.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// alive reports whether name's process runs, as up.sh and restart.sh
// decide it (lib.sh's alive).
func (s *stack) alive(name string) bool {
	cmd := exec.Command("bash", "-c", `. deploy/dev/lib.sh && alive "$1"`, "alive", name)
	cmd.Dir, cmd.Env = s.root, s.env
	return cmd.Run() == nil
}

// restart brings name back as make dev-restart does (restart.sh: same
// command line, port, state and log) and returns once it is ready.
func (s *stack) restart(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(s.root, "deploy/dev/restart.sh"), name)
	cmd.Dir, cmd.Env = s.root, s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("restarting %s: %w: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// names are the stack's processes, in up.sh's start order.
func (s *stack) names() []string {
	var out []string
	out = append(out, Regions...)
	for _, r := range Regions {
		out = append(out, "worker-"+r)
	}
	return append(out, "consul", "gateway-1", "gateway-2")
}

// stop sends up.sh SIGTERM, which stops every process of the stack, and
// waits for it; a process still running after that (it should not happen)
// is killed by its recorded pid.
func (s *stack) stop() error {
	select {
	case <-s.exited:
	default:
		_ = syscall.Kill(-s.up.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(2 * time.Minute):
			return errors.New("up.sh did not stop within 2 minutes of SIGTERM")
		}
	}
	var left []string
	for _, n := range s.names() {
		if s.alive(n) {
			if pid, err := s.pid(n); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				left = append(left, fmt.Sprintf("%s (pid %d)", n, pid))
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("still running after up.sh stopped, killed: %s", strings.Join(left, ", "))
	}
	return nil
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// syncBuffer keeps up.sh's output for waitOutput and copies it to also.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	also io.Writer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.also != nil {
		_, _ = b.also.Write(p)
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
