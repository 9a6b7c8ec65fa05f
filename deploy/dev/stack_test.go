package dev

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// stack is one up.sh in CONSUL=1 mode, as make dev CONSUL=1 runs it, but on
// free ports with a state dir of its own, so it never meets a running dev
// stack.
type stack struct {
	t      *testing.T
	root   string
	state  string
	env    []string
	ports  map[string][]int // by the DEV_*_PORTS variable up.sh reads
	up     *exec.Cmd
	out    syncBuffer
	exited chan struct{}
}

// portCounts is how many ports each of up.sh's DEV_*_PORTS variables takes.
var portCounts = map[string]int{
	"DEV_TEMPORAL_PORTS": 4, "DEV_WORKER_METRICS_PORTS": 4,
	"DEV_GATEWAY_PORTS": 2, "DEV_GATEWAY2_PORTS": 2, "DEV_CONSUL_PORTS": 4,
}

func startStack(t *testing.T) *stack {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for bin, how := range map[string]string{"regiongate": "make build", "temporal": "make tools", "consul": "make tools"} {
		if _, err := os.Stat(filepath.Join(root, "bin", bin)); err != nil {
			t.Fatalf("bin/%s is missing: run %s (make test does both)", bin, how)
		}
	}
	s := &stack{t: t, root: root, state: t.TempDir(), ports: map[string][]int{}, exited: make(chan struct{})}
	s.env = append(os.Environ(), "CONSUL=1", "BIN="+filepath.Join(root, "bin"), "STATE="+s.state)
	free := freePorts(t, 16)
	for name, n := range portCounts {
		s.ports[name], free = free[:n], free[n:]
		s.env = append(s.env, name+"="+strings.Trim(fmt.Sprint(s.ports[name]), "[]"))
	}

	s.up = exec.Command("bash", filepath.Join(root, "deploy/dev/up.sh"))
	s.up.Env = s.env
	s.up.Stdout, s.up.Stderr = &s.out, &s.out
	// A process group of its own, as a terminal gives make dev, so the
	// stop below can signal it as Ctrl-C would.
	s.up.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.up.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.up.Wait(); close(s.exited) }()
	t.Cleanup(s.cleanup)
	s.waitOutput(3*time.Minute, "Press Ctrl-C to stop everything")
	return s
}

// cleanup stops what a failed test left running, and shows why it failed.
func (s *stack) cleanup() {
	if s.t.Failed() {
		s.t.Logf("up.sh said:\n%s", s.out.String())
	}
	select {
	case <-s.exited:
	default:
		_ = syscall.Kill(-s.up.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(time.Minute):
			s.t.Errorf("up.sh did not stop within a minute of SIGTERM")
		}
	}
	for _, pid := range s.stackPids() {
		s.t.Errorf("still running after the stack stopped, killing it: %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// waitOutput waits until up.sh has printed want.
func (s *stack) waitOutput(within time.Duration, want string) {
	s.t.Helper()
	poll.Until(s.t, within, "up.sh to print "+strconv.Quote(want), func() bool {
		select {
		case <-s.exited:
			s.t.Fatalf("up.sh exited (%v) before printing %q", s.up.ProcessState, want)
		default:
		}
		return strings.Contains(s.out.String(), want)
	})
}

// kill9 kills NAME's process, found in the process table.
func (s *stack) kill9(name string) {
	s.t.Helper()
	table, err := os.ReadFile(filepath.Join(s.state, "run", name))
	if err != nil {
		s.t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^pid=(\d+)$`).FindSubmatch(table)
	if m == nil {
		s.t.Fatalf("no pid in the process table's %s:\n%s", name, table)
	}
	pid, _ := strconv.Atoi(string(m[1]))
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		s.t.Fatalf("kill -9 %s (%d): %v", name, pid, err)
	}
	s.waitOutput(30*time.Second, name+" died (exit 137: SIGKILL); the rest keeps running")
}

// restart runs make dev-restart NAME=name as a user would.
func (s *stack) restart(name string) (string, error) {
	cmd := exec.Command("make", "-s", "-C", s.root, "dev-restart", "NAME="+name)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRestart brings name back and waits until up.sh has seen it.
func (s *stack) mustRestart(name string) {
	s.t.Helper()
	out, err := s.restart(name)
	if err != nil || !strings.Contains(out, name+" is back and ready") {
		s.t.Fatalf("make dev-restart NAME=%s: %v\n%s", name, err, out)
	}
	s.waitOutput(30*time.Second, name+" is back (pid ")
}

// stop signals up.sh's process group as Ctrl-C in its terminal would, and
// waits until it has exited.
func (s *stack) stop() {
	s.t.Helper()
	sig := syscall.SIGINT
	if signal.Ignored(syscall.SIGINT) {
		// Inherited by up.sh, where bash cannot trap it: a terminal's
		// Ctrl-C could not reach it either. SIGTERM takes the same path.
		s.t.Log("SIGINT is ignored in this process (and so in up.sh): stopping with SIGTERM")
		sig = syscall.SIGTERM
	}
	if err := syscall.Kill(-s.up.Process.Pid, sig); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		s.t.Fatalf("up.sh still running a minute after %v", sig)
	}
}

// stackPids are the processes whose command line names the stack's state
// dir: every server, worker and gateway, and the small bash around each.
func (s *stack) stackPids() []int {
	out, _ := exec.Command("pgrep", "-f", s.state).Output()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// allPorts are every port the stack was given.
func (s *stack) allPorts() []int {
	var all []int
	for _, p := range s.ports {
		all = append(all, p...)
	}
	return all
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are picked, so none repeats
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// syncBuffer is up.sh's output, written by exec's copier and read by the
// test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
