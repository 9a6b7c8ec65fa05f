package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// tab opens the console in a new tab (its own sessionStorage) and signs
// in with token ("" stays at the sign-in form). When the test ends it
// fails on any answer the proxy found not as the admin document says, and
// on any script exception or error the page logged (a blocked script, a
// Content-Security-Policy violation), failed requests aside.
func tab(t *testing.T, token string) context.Context {
	t.Helper()
	needBrowser(t)
	answers.take()
	ctx, cancel := chromedp.NewContext(browser)
	ctx, cancelTimeout := context.WithTimeout(ctx, 45*time.Second)
	var mu sync.Mutex
	var logged []string
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				mu.Lock()
				logged = append(logged, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		checks, errs := answers.take()
		for _, err := range errs {
			t.Errorf("OpenAPI: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range logged {
			t.Errorf("the page logged: %s", l)
		}
		t.Logf("%d answers checked against the admin document", checks)
	})
	do(t, ctx, chromedp.Navigate(consoleAt), chromedp.WaitVisible(chromedp.CSS("#signin")))
	if token != "" {
		signIn(t, ctx, token)
	}
	return ctx
}

func needBrowser(t *testing.T) {
	t.Helper()
	if stack == nil {
		t.Skip("browser test: needs Chromium and real Temporal dev servers (skipped under -short)")
	}
}

func signIn(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#signin button")),
		chromedp.WaitVisible(chromedp.CSS("#nav a")))
}

// do runs browser actions, failing the test with the page's state on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		main, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText : ''`))
		t.Fatalf("browser: %v\nthe page shows:\n%s", err, clip(main))
	}
}

// until waits for a JavaScript condition to hold on the page.
func until(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		main, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, clip(main))
	}
}

// text is the text of the first element css selects, read in one step in
// the page once there is one: a node found first and read afterwards may
// have been replaced meanwhile by a re-render.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	type read struct {
		Text string `json:"t"`
	}
	js := fmt.Sprintf(`((e) => e && {t: e.innerText})(document.querySelector(%q))`, css)
	r, err := chromedp.Run(ctx, chromedp.Poll[read](js, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("reading %s: %v", css, err)
	}
	return r.Text
}

func count(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, css)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// typeInto replaces a field's text as typing would (an input event).
func typeInto(t *testing.T, ctx context.Context, css, value string) {
	t.Helper()
	v, _ := json.Marshal(value)
	do(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const el = document.querySelector(%q); el.value = %s; el.dispatchEvent(new Event('input')); })()`, css, v)))
}

// shot saves a screenshot of the viewport as name.png (docs/console/
// with -screenshots).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(shotsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(shotsDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// call is one request from the test itself (not the browser): someone
// else using the API meanwhile.
func call(t *testing.T, method, url, token string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := documents.Check(req, resp.StatusCode, resp.Header, data); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
	return resp, data
}

// putConfig replaces the config in force as another editor would.
func putConfig(t *testing.T, text string) {
	t.Helper()
	resp, _ := call(t, "GET", stack.AdminURL+"/admin/v1/config", "dev-compliance", nil)
	resp, body := call(t, "PUT", stack.AdminURL+"/admin/v1/config", "dev-compliance", []byte(text), "If-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != 200 {
		t.Fatalf("PUT config: %d %s", resp.StatusCode, body)
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return strings.TrimSpace(s)
}
