package tlsproxy

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// KeyFront admits only gRPC calls that carry one of its API keys
// (`authorization: Bearer KEY`), as Temporal Cloud's API-key endpoints do,
// and forwards them to a plain-text backend; other calls get
// Unauthenticated. It serves TLS, as Cloud does.
//
// It is an HTTP/2 reverse proxy: gRPC is HTTP/2 with trailers, and
// httputil.ReverseProxy carries both (TLS-negotiated h2 in front,
// unencrypted h2 to the backend). That is simpler and sturdier than a
// gRPC-level proxy, which would need a raw codec and hand-forwarded
// streams, and needs nothing beyond the standard library.
type KeyFront struct {
	Addr string // host:port to dial

	keys    atomic.Pointer[[]string]
	srv     *http.Server
	mu      sync.Mutex
	refused int
	wg      sync.WaitGroup
}

// StartKeyFront listens on a free loopback port, presenting cert, and
// admits keys; Close runs when the test ends.
func StartKeyFront(t testing.TB, backend string, cert tls.Certificate, keys ...string) *KeyFront {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: backend}) },
		Transport:     &http.Transport{Protocols: &h2c},
		FlushInterval: -1, // stream every frame at once: gRPC is not a file download
		// Calls cut short (a worker's long poll when it stops) are normal
		// here; the client sees its own error.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	f := &KeyFront{Addr: ln.Addr().String()}
	f.SetKeys(keys...)
	f.srv = &http.Server{
		Handler:   f.admit(proxy),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}
	f.wg.Go(func() {
		if err := f.srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("key front: %v", err)
		}
	})
	t.Cleanup(f.Close)
	return f
}

func (f *KeyFront) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !slices.Contains(*f.keys.Load(), key) {
			f.mu.Lock()
			f.refused++
			f.mu.Unlock()
			// A trailers-only gRPC answer: the status in the headers.
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "16") // Unauthenticated
			w.Header().Set("Grpc-Message", "invalid API key")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SetKeys replaces the keys it admits.
func (f *KeyFront) SetKeys(keys ...string) { f.keys.Store(&keys) }

// Refused is how many calls it has refused.
func (f *KeyFront) Refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

// Close stops it, cutting calls in flight (workers' long polls).
func (f *KeyFront) Close() {
	_ = f.srv.Close()
	f.wg.Wait()
}
