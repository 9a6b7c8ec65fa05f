package console_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/gateway/console"
)

func TestServeSetsTheSecurityHeaders(t *testing.T) {
	for name, ctype := range map[string]string{"": "text/html", "app.js": "text/javascript", "console.css": "text/css"} {
		rec := httptest.NewRecorder()
		if !console.Serve(rec, httptest.NewRequest("GET", "/console/"+name, nil), name) {
			t.Fatalf("%q not served", name)
		}
		h := rec.Header()
		for header, want := range map[string]string{
			"Content-Security-Policy": console.Policy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := h.Get(header); got != want {
				t.Errorf("%q: %s is %q, want %q", name, header, got, want)
			}
		}
		if rec.Code != 200 || !strings.HasPrefix(h.Get("Content-Type"), ctype) || h.Get("Set-Cookie") != "" {
			t.Errorf("%q: %d %s cookie %q", name, rec.Code, h.Get("Content-Type"), h.Get("Set-Cookie"))
		}
		again := httptest.NewRequest("GET", "/console/"+name, nil)
		again.Header.Set("If-None-Match", h.Get("ETag"))
		rec = httptest.NewRecorder()
		console.Serve(rec, again, name)
		if rec.Code != 304 {
			t.Errorf("%q: a revalidation got %d", name, rec.Code)
		}
	}
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(console.Policy, directive) {
			t.Errorf("the policy lacks %s", directive)
		}
	}
	if console.Serve(httptest.NewRecorder(), httptest.NewRequest("GET", "/console/nope.js", nil), "nope.js") {
		t.Error("an unknown file was served")
	}
}

// The console's own files keep to the policy and never parse what the API
// sends as HTML: no inline script, style or event handler in the page, no
// innerHTML and the like in the scripts.
func TestAssetsNeedNoInlineCodeAndWriteNoHTML(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("assets", "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("assets: %v %v", files, err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		switch filepath.Ext(f) {
		case ".html":
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(text, -1) {
				if !strings.Contains(tag, "src=") {
					t.Errorf("%s: %s is an inline script", f, tag)
				}
			}
			for _, bad := range []*regexp.Regexp{regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`<style`)} {
				if loc := bad.FindStringIndex(text); loc != nil {
					t.Errorf("%s: %q needs an inline exception to the policy", f, text[loc[0]:loc[1]])
				}
			}
		case ".js":
			for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "document.cookie"} {
				if strings.Contains(text, bad) {
					t.Errorf("%s uses %s", f, bad)
				}
			}
		}
	}
	got := console.Names()
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("embedded %v, on disk %v", got, names)
	}
}
