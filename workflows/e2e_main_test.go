package workflows_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/workflows"
)

// e2eNamespace is the namespace of this package's real-server tests; each
// test uses its own task queue in it.
const e2eNamespace = "regiongate-workflows-test"

// devServer is one Temporal dev server shared by this package's real-server
// tests, started by the first test that needs it.
var devServer struct {
	once sync.Once
	dir  string
	srv  *devstack.Temporal
	err  error
}

func TestMain(m *testing.M) {
	if addr := os.Getenv(helperWorkerEnv); addr != "" {
		runHelperWorker(addr) // never returns
	}
	flag.Parse()
	code := m.Run()
	if devServer.srv != nil {
		devServer.srv.Stop()
	}
	if devServer.dir != "" {
		os.RemoveAll(devServer.dir)
	}
	os.Exit(code)
}

// needServer returns the shared dev server, skipping under -short.
func needServer(t *testing.T) *devstack.Temporal {
	t.Helper()
	if testing.Short() {
		t.Skip("real-server test: needs a Temporal dev server (skipped under -short)")
	}
	devServer.once.Do(func() {
		devServer.dir, devServer.err = os.MkdirTemp("", "regiongate-workflows-e2e-")
		if devServer.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		devServer.srv, devServer.err = devstack.StartTemporal(ctx, devServer.dir, e2eNamespace)
	})
	if devServer.err != nil {
		t.Fatalf("starting the Temporal dev server: %v", devServer.err)
	}
	return devServer.srv
}

// dial returns a client of the shared dev server, closed with the test.
func dial(t *testing.T, opts client.Options) client.Client {
	t.Helper()
	opts.HostPort, opts.Namespace = needServer(t).Addr, e2eNamespace
	if opts.Logger == nil {
		opts.Logger = log.NewStructuredLogger(quietLogger())
	}
	c, err := client.Dial(opts)
	if err != nil {
		t.Fatalf("dialing the dev server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// taskQueue is a task queue of the test's own.
func taskQueue(t *testing.T) string {
	return "wf-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
}

// startPool runs every workflow and acts on queue until the test ends.
func startPool(t *testing.T, c client.Client, queue string, acts *workflows.Activities) *workflows.Pool {
	t.Helper()
	p, err := workflows.StartPool(c, []string{queue}, acts, worker.Options{WorkerStopTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustf(err error, format string, args ...any) {
	if err != nil {
		fmt.Fprintf(os.Stderr, format+": %v\n", append(args, err)...)
		os.Exit(2)
	}
}
