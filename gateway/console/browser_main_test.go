package console_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/testkit/apicheck"
	"github.com/regiongate/regiongate/internal/tool/devstack"
)

// The browser tests drive Debian's Chromium (chromedp) against the whole
// product on free ports (devstack): one stack and one browser for the
// package, a new tab (so a new sessionStorage, a new sign-in) per test.
// The browser reaches the admin listener through a reverse proxy that
// checks every answer it gets against the admin OpenAPI document.

var screenshots = flag.Bool("screenshots", false, "write the screenshots into docs/console/ (default: a temporary directory)")

var (
	stack     *devstack.Stack
	browser   context.Context // the browser; each test opens a tab in it
	consoleAt string          // the console's URL, through the checking proxy
	shotsDir  string
	answers   = &answerLog{}
	documents *apicheck.Gateway
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	chromium, err := findChromium()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "regiongate-console-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	shotsDir = filepath.Join(dir, "screenshots")
	if *screenshots {
		shotsDir = filepath.Join("..", "..", "docs", "console")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	stack, err = devstack.StartStack(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the dev stack for the browser tests:", err)
		return 1
	}
	defer stack.Close()
	proxy, err := checkingProxy(stack.AdminURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer proxy.Close()
	consoleAt = proxy.URL + "/console"

	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 860),
		// Nothing but loopback is reachable: keep Chromium from trying.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
	)...)
	defer stopAlloc()
	var stopBrowser context.CancelFunc
	browser, stopBrowser = chromedp.NewContext(alloc)
	defer stopBrowser()
	if err := chromedp.Do(browser); err != nil {
		fmt.Fprintln(os.Stderr, "starting Chromium:", err)
		return 1
	}
	return m.Run()
}

// findChromium finds Debian's chromium ($REGIONGATE_CHROMIUM overrides).
func findChromium() (string, error) {
	if p := os.Getenv("REGIONGATE_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("the console's browser tests need Chromium: run make tools (as root it installs Debian's chromium), " +
		"or set REGIONGATE_CHROMIUM; go test -short skips them")
}

// checkingProxy serves the admin listener at another address, checking
// every answer against the admin document. The Host header is kept, so
// the gateway sees the browser's requests as same-origin, as they are.
func checkingProxy(admin string) (*httptest.Server, error) {
	target, err := url.Parse(admin)
	if err != nil {
		return nil, err
	}
	docs, err := apicheck.NewGateway(openapi.Client(), openapi.Admin())
	if err != nil {
		return nil, err
	}
	documents = docs
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			answers.add(docs.Check(resp.Request, resp.StatusCode, resp.Header, body))
			return nil
		},
	}
	return httptest.NewServer(rp), nil
}

// answerLog collects what the proxy found wrong; each test fails on what
// was found while it ran.
type answerLog struct {
	mu     sync.Mutex
	checks int
	errs   []error
}

func (a *answerLog) add(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.checks++
	if err != nil {
		a.errs = append(a.errs, err)
	}
}

func (a *answerLog) take() (checks int, errs []error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	checks, errs = a.checks, a.errs
	a.checks, a.errs = 0, nil
	return checks, errs
}
