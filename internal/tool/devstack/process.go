package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// errExited marks a server that exited while starting.
var errExited = errors.New("exited while starting")

// process is one server process in its own process group, logging to a
// file; Temporal and Consul are both run this way.
type process struct {
	name    string // for errors: "temporal dev server on 127.0.0.1:7233"
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// start runs bin with args and polls ready until it succeeds, the process
// exits (an error wrapping errExited, with the log's tail) or 60s pass.
func (p *process) start(ctx context.Context, bin string, args []string, ready func(context.Context) error) error {
	logf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a kill reaches nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(p.exited) }()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-p.exited:
			out, _ := os.ReadFile(p.logFile)
			return fmt.Errorf("%s %w: %s", p.name, errExited, tail(out, 2000))
		case <-ctx.Done():
			p.kill() // nobody else will: the caller gets only the error
			return fmt.Errorf("%s not ready: %w", p.name, errors.Join(ctx.Err(), last))
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (p *process) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// stop ends it gracefully (SIGTERM), killing it after 10s.
func (p *process) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Process is a child process run as the stack runs its servers: in its
// own process group, its output in a log file. The bench runs the
// processes it measures this way.
type Process struct{ p process }

// StartProcess runs bin with args, output to logFile, and polls ready until
// it succeeds, the process exits (an error with the log's tail) or 60s
// pass. Stop it with Stop.
func StartProcess(ctx context.Context, name, logFile, bin string, args []string, ready func(context.Context) error) (*Process, error) {
	p := &Process{p: process{name: name, logFile: logFile}}
	if err := p.p.start(ctx, bin, args, ready); err != nil {
		return nil, err
	}
	return p, nil
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.p.cmd.Process.Pid }

// Stop ends it gracefully (SIGTERM), killing it after 10s.
func (p *Process) Stop() { p.p.stop() }
