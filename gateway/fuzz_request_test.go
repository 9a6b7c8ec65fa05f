package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// How a fuzzed request reaches a gateway: as raw bytes, through a real
// net/http server, so that what the server refuses by itself (a malformed
// request line or header, headers over the cap) never reaches a handler,
// as in production.

// httpInput is one fuzzed request.
type httpInput struct {
	setup          uint8
	method, target string
	header         string // "Name: value" lines
	body           []byte
}

// raw is the request as a client writes it, made so that most inputs are
// requests Go's server accepts and hands to the gateway (else the fuzzer
// spends its time on net/http's parser, not on the gateway): the method
// keeps its token bytes ("GET" when none is left), the target starts with
// "/" and has spaces and control bytes percent-encoded, header names keep
// their token bytes, values lose their control bytes, a Host keeps the
// bytes of a host. The harness frames the body (Content-Length, or one
// chunk when the input names a Transfer-Encoding) and closes the
// connection after the answer.
func (in httpInput) raw() []byte {
	var b bytes.Buffer
	method := keepBytes(in.method, isTokenByte)
	if method == "" {
		method = "GET"
	}
	target := in.target
	if !strings.HasPrefix(target, "/") && target != "*" {
		target = "/" + target
	}
	b.WriteString(method + " " + escapeControls(target) + " HTTP/1.1\r\n")
	host, chunked := false, false
	for _, h := range headerLines(in.header) {
		switch {
		case strings.EqualFold(h.name, "Content-Length"), strings.EqualFold(h.name, "Connection"):
			continue
		case strings.EqualFold(h.name, "Host"):
			host, h.value = true, keepBytes(h.value, isHostByte)
		case strings.EqualFold(h.name, "Transfer-Encoding"):
			chunked, h.value = true, "chunked"
		}
		b.WriteString(h.name + ": " + h.value + "\r\n")
	}
	if !host {
		b.WriteString("Host: gateway.test\r\n")
	}
	b.WriteString("Connection: close\r\n")
	if !chunked {
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(in.body))
		b.Write(in.body)
		return b.Bytes()
	}
	b.WriteString("\r\n")
	if len(in.body) > 0 {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(in.body), in.body)
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

type headerLine struct{ name, value string }

// headerLines are the input's "Name: value" lines as raw sends them; a
// line whose name keeps no byte is left out.
func headerLines(block string) []headerLine {
	var out []headerLine
	for line := range strings.SplitSeq(block, "\n") {
		name, value, _ := strings.Cut(line, ":")
		h := headerLine{keepBytes(name, isTokenByte), strings.TrimSpace(keepBytes(value, isFieldByte))}
		if h.name != "" {
			out = append(out, h)
		}
	}
	return out
}

// keepBytes is s without the bytes keep refuses (bytes, not runes: a
// header value may hold any byte from 0x80 up).
func keepBytes(s string, keep func(byte) bool) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if keep(s[i]) {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isFieldByte(c byte) bool { return c == '\t' || c >= ' ' && c != 0x7f }

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(".-:[]", c) >= 0
}

// escapeControls percent-encodes the bytes a request line cannot carry.
func escapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// answer is what came back.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// maxAnswerBytes bounds what the harness reads of an answer: more is a
// failure (answers must stay bounded).
const maxAnswerBytes = 1 << 20

// fuzzListener is one real net/http server per test process, set up as
// gatewayd sets up the listeners' header cap; each input swaps in its own
// gateway.
type fuzzListener struct {
	srv     *httptest.Server
	current atomic.Pointer[fuzzGateway]
}

var theFuzzListener = sync.OnceValue(func() *fuzzListener {
	l := &fuzzListener{}
	l.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := l.current.Load()
		g.ran.Store(true)
		path := r.URL.Path
		g.path.Store(&path)
		r.RemoteAddr = g.remote // the peer the input's setup names
		g.handler.ServeHTTP(w, r)
	}))
	l.srv.Config.MaxHeaderBytes = 64 << 10
	l.srv.Config.ReadHeaderTimeout = 10 * time.Second
	l.srv.Config.ErrorLog = nil
	l.srv.Start()
	return l
})

// send writes in to g through the listener and reads the answer; ran is
// false when net/http answered by itself (a malformed request line or
// header, headers over the cap) and no handler saw the request.
func send(tb testing.TB, g *fuzzGateway, in httpInput) (a answer, ran bool) {
	tb.Helper()
	l := theFuzzListener()
	g.ran.Store(false)
	g.path.Store(nil)
	l.current.Store(g)
	conn, err := net.Dial("tcp", l.srv.Listener.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	// No handler may take this long: the regions refuse at once.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	_, _ = conn.Write(in.raw()) // the server may answer and close before reading it all
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: in.method})
	if err != nil {
		if g.ran.Load() {
			tb.Fatalf("%s %q: no answer from the gateway (a panic outside the recovery middleware, or a hang): %v\nlogs:\n%s",
				in.method, in.target, err, g.logs)
		}
		return answer{}, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil && g.ran.Load() {
		tb.Fatalf("%s %q: reading the answer: %v", in.method, in.target, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, g.ran.Load()
}
