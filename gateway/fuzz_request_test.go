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

// raw is the request as a client writes it. The harness frames the body
// (Content-Length, or one chunk when the input names a Transfer-Encoding)
// and closes the connection after the answer; blank lines, which would
// end the headers early, are dropped.
func (in httpInput) raw() []byte {
	var b bytes.Buffer
	b.WriteString(in.method + " " + in.target + " HTTP/1.1\r\n")
	host, chunked := false, false
	for line := range strings.SplitSeq(in.header, "\n") {
		line = strings.TrimSuffix(line, "\r")
		name, _, _ := strings.Cut(line, ":")
		switch name = strings.TrimSpace(name); {
		case strings.TrimSpace(line) == "", strings.EqualFold(name, "Content-Length"), strings.EqualFold(name, "Connection"):
			continue
		case strings.EqualFold(name, "Host"):
			host = true
		case strings.EqualFold(name, "Transfer-Encoding"):
			chunked = true
		}
		b.WriteString(line + "\r\n")
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
