package regions

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/pki"
	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// handshakeServer accepts TLS connections with cfg, writes "ok" on each
// that completes its handshake and records the client's certificate.
type handshakeServer struct {
	addr    string
	mu      sync.Mutex
	clients []*x509.Certificate
}

func startHandshakeServer(t *testing.T, cfg *tls.Config) *handshakeServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &handshakeServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				if peers := tc.ConnectionState().PeerCertificates; len(peers) > 0 {
					s.mu.Lock()
					s.clients = append(s.clients, peers[0])
					s.mu.Unlock()
				}
				_, _ = c.Write([]byte("ok"))
			})
		}
	})
	return s
}

func (s *handshakeServer) lastClient() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.clients) == 0 {
		return nil
	}
	return s.clients[len(s.clients)-1]
}

// dial shakes hands with the transport's config and reads the server's
// "ok": with TLS 1.3 a refused client certificate shows only on that read.
func dial(tr *Transport, addr string) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tr.tls)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(c)
	return err
}

type testPKI struct {
	ca, other                 *pki.CA
	caFile, otherCAFile       string
	certFile, keyFile         string // a client certificate from ca
	expiredCert, expiredKey   string
	strangerCert, strangerKey string // a client certificate from other
	dir                       string
}

func newTestPKI(t *testing.T) testPKI {
	dir := t.TempDir()
	p := testPKI{ca: pki.NewCA(t, "region CA"), other: pki.NewCA(t, "someone else's CA"), dir: dir}
	p.caFile, p.otherCAFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "other-ca.pem")
	pki.WriteFile(t, p.caFile, p.ca.PEM)
	pki.WriteFile(t, p.otherCAFile, p.other.PEM)
	p.certFile, p.keyFile = p.ca.Issue(t, false, "gateway").Write(t, dir, "client")
	p.expiredCert, p.expiredKey = p.ca.Issue(t, true, "gateway").Write(t, dir, "expired")
	p.strangerCert, p.strangerKey = p.other.Issue(t, false, "gateway").Write(t, dir, "stranger")
	return p
}

// serverConfig serves a certificate from ca for names, requiring a client
// certificate from ca.
func (p testPKI) serverConfig(t *testing.T, expired bool, names ...string) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.ca.Issue(t, expired, names...).TLS(t)},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: p.ca.Pool(), MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"}, // gRPC insists on ALPN h2
	}
}

func newTestTransport(t *testing.T, conn configs.Connection) *Transport {
	t.Helper()
	tr, err := NewTransport("eu-west", conn, TransportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Each way a handshake goes wrong ends in its own reason, from the errors
// crypto/tls really returns, on either side of the handshake.
func TestHandshakeFailuresHaveTheirReason(t *testing.T) {
	p := newTestPKI(t)
	good := startHandshakeServer(t, p.serverConfig(t, false, "127.0.0.1", "temporal.internal"))
	expired := startHandshakeServer(t, p.serverConfig(t, true, "127.0.0.1"))
	mtls := configs.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile}
	with := func(f func(*configs.TLS)) configs.TLS { c := mtls; f(&c); return c }
	tests := []struct {
		name   string
		server *handshakeServer
		tls    configs.TLS
		want   string // in Reason; "" means the handshake succeeds
	}{
		{"mutual TLS", good, mtls, ""},
		{"server name given", good, with(func(c *configs.TLS) { c.ServerName = "temporal.internal" }), ""},
		{"unknown CA", good, with(func(c *configs.TLS) { c.CAFile = p.otherCAFile }), "not signed by a CA we trust"},
		{"wrong server name", good, with(func(c *configs.TLS) { c.ServerName = "elsewhere.internal" }), "does not carry the server name"},
		{"expired server certificate", expired, mtls, "region's certificate has expired"},
		{"expired client certificate", good, with(func(c *configs.TLS) { c.CertFile, c.KeyFile = p.expiredCert, p.expiredKey }), "our client certificate has expired: the region refused it"},
		{"client certificate from another CA", good, with(func(c *configs.TLS) { c.CertFile, c.KeyFile = p.strangerCert, p.strangerKey }), "not signed by a CA it trusts"},
		{"no client certificate", good, with(func(c *configs.TLS) { c.CertFile, c.KeyFile = "", "" }), "we sent none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTestTransport(t, configs.Connection{Endpoint: tt.server.addr, UseTLS: true, TLS: tt.tls})
			err := dial(tr, tt.server.addr)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("handshake failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("handshake succeeded")
			}
			if got := Reason(err); !strings.Contains(got, tt.want) {
				t.Fatalf("Reason(%v) = %q, want it to say %q", err, got, tt.want)
			}
		})
	}
}

// A client certificate, a CA bundle or an API key rewritten on disk is
// used by the next handshake or call, by the same Transport.
func TestTransportRereadsItsFiles(t *testing.T) {
	p := newTestPKI(t)
	keyFile := filepath.Join(p.dir, "api-key")
	pki.WriteFile(t, keyFile, []byte("key-1\n"))
	srv := startHandshakeServer(t, p.serverConfig(t, false, "127.0.0.1"))
	tr := newTestTransport(t, configs.Connection{Endpoint: srv.addr, UseTLS: true,
		TLS: configs.TLS{CAFile: p.caFile, CertFile: p.certFile, KeyFile: p.keyFile}, APIKey: configs.APIKey{File: keyFile}})
	go tr.Watch(t.Context())

	if err := dial(tr, srv.addr); err != nil {
		t.Fatal(err)
	}
	first := srv.lastClient()
	next := p.ca.Issue(t, false, "gateway")
	next.Write(t, p.dir, "client")
	poll.Until(t, 10*time.Second, "the rotated client certificate in a handshake", func() bool {
		return dial(tr, srv.addr) == nil && srv.lastClient().SerialNumber.Cmp(first.SerialNumber) != 0
	})
	if got := srv.lastClient().SerialNumber; got.Cmp(next.Cert.SerialNumber) != 0 {
		t.Fatalf("client certificate serial %v, want the new one %v", got, next.Cert.SerialNumber)
	}

	// The region moves to a certificate from another CA: refused until
	// the CA bundle on disk says so, then accepted.
	moved := startHandshakeServer(t, &tls.Config{Certificates: []tls.Certificate{p.other.Issue(t, false, "127.0.0.1").TLS(t)}})
	if err := dial(tr, moved.addr); !strings.Contains(Reason(err), "not signed by a CA we trust") {
		t.Fatalf("before the CA bundle changed: %v", err)
	}
	pki.WriteFile(t, p.caFile, p.other.PEM)
	poll.Until(t, 10*time.Second, "the new CA bundle in a handshake", func() bool { return dial(tr, moved.addr) == nil })

	var opts client.Options
	tr.Apply(&opts)
	apiKey := func() string { return tr.apiKey() }
	if apiKey() != "key-1" || opts.Credentials == nil {
		t.Fatalf("API key %q, credentials %v", apiKey(), opts.Credentials)
	}
	pki.WriteFile(t, keyFile, []byte("key-2"))
	poll.Until(t, 10*time.Second, "the rotated API key", func() bool { return apiKey() == "key-2" })
}

func TestNewTransport(t *testing.T) {
	p := newTestPKI(t)
	t.Setenv("RG_TEST_KEY", " from-env ")
	tests := []struct {
		name    string
		conn    configs.Connection
		wantTLS bool
		wantKey string
		wantErr string
	}{
		{name: "plain text", conn: configs.Connection{Endpoint: "h:1"}},
		{name: "system roots", conn: configs.Connection{Endpoint: "h:1", UseTLS: true}, wantTLS: true},
		{name: "API key from a variable", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, APIKey: configs.APIKey{Env: "RG_TEST_KEY"}},
			wantTLS: true, wantKey: "from-env"},
		{name: "unset variable", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, APIKey: configs.APIKey{Env: "RG_TEST_UNSET"}},
			wantErr: "region eu-west: API key: $RG_TEST_UNSET is empty or not set"},
		{name: "missing API key file", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, APIKey: configs.APIKey{File: "/nope/key"}},
			wantErr: "API key (apiKey.file): open /nope/key"},
		{name: "missing CA", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, TLS: configs.TLS{CAFile: "/nope/ca.pem"}},
			wantErr: "CA bundle (tls.caFile)"},
		{name: "CA file without a certificate", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, TLS: configs.TLS{CAFile: p.keyFile}},
			wantErr: "holds no PEM certificate"},
		{name: "key of another certificate", conn: configs.Connection{Endpoint: "h:1", UseTLS: true, TLS: configs.TLS{CertFile: p.certFile, KeyFile: p.expiredKey}},
			wantErr: "client certificate (tls.certFile, tls.keyFile): tls: private key does not match public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := NewTransport("eu-west", tt.conn, TransportOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var opts client.Options
			tr.Apply(&opts)
			if (opts.ConnectionOptions.TLS != nil) != tt.wantTLS || (opts.Credentials != nil) != (tt.wantKey != "") {
				t.Fatalf("TLS %v, credentials %v", opts.ConnectionOptions.TLS != nil, opts.Credentials != nil)
			}
			if tt.wantKey != "" && tr.apiKey() != tt.wantKey {
				t.Fatalf("API key %q, want %q", tr.apiKey(), tt.wantKey)
			}
			if tt.wantTLS && opts.ConnectionOptions.TLS.ServerName != "h" {
				t.Fatalf("server name %q, want the endpoint's host", opts.ConnectionOptions.TLS.ServerName)
			}
		})
	}
}

// A call to a region whose handshake fails (either side refusing the
// other's certificate) never reached it: it is ErrUnavailable, so a start
// may go to the next lawful region, and it counts against the breaker.
// (The region's refusal of an expired certificate can arrive as a broken
// pipe: TLS 1.3 refuses after our side of the handshake is done.)
func TestFailedHandshakeIsUnavailable(t *testing.T) {
	p := newTestPKI(t)
	srv := startHandshakeServer(t, p.serverConfig(t, false, "127.0.0.1"))
	for name, tlsCfg := range map[string]configs.TLS{
		"unknown CA":                 {CAFile: p.otherCAFile, CertFile: p.certFile, KeyFile: p.keyFile},
		"expired client certificate": {CAFile: p.caFile, CertFile: p.expiredCert, KeyFile: p.expiredKey},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := configs.Region{Name: "r", Endpoint: srv.addr, Namespace: "ns", CallTimeout: configs.Duration(5 * time.Second), TLS: &tlsCfg}
			tr, err := NewTransport("r", cfg.Connection(), TransportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r, err := newRegion(cfg, client.Options{}, tr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			err = r.call(t.Context(), true, func(ctx context.Context) error {
				_, err := r.client.DescribeWorkflow(ctx, "wf", "")
				return err
			})
			// As the health checks read it: with what our certificate says.
			if reason := Reason(tr.Explain(err)); !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(reason, "TLS: ") {
				t.Fatalf("got %v (%s), want ErrUnavailable with a TLS reason", err, reason)
			}
			if n := r.settings.Load().breaker.Counts().TotalFailures; n != 1 {
				t.Fatalf("breaker failures %d, want 1", n)
			}
		})
	}
}

// Our own expired certificate is named as the cause whatever the failed
// call's error says: a TLS 1.3 refusal can reach us as a broken pipe.
func TestExplainNamesOurExpiredCertificate(t *testing.T) {
	p := newTestPKI(t)
	brokenPipe := errors.New("write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe")
	expired := newTestTransport(t, configs.Connection{Endpoint: "h:1", UseTLS: true, TLS: configs.TLS{CertFile: p.expiredCert, KeyFile: p.expiredKey}})
	if got := Reason(expired.Explain(brokenPipe)); !strings.HasPrefix(got, "TLS: our client certificate has expired (tls.certFile, valid until ") {
		t.Fatalf("reason %q", got)
	}
	if err := expired.Explain(brokenPipe); !errors.Is(err, brokenPipe) {
		t.Fatalf("the call's own error is lost: %v", err)
	}
	valid := newTestTransport(t, configs.Connection{Endpoint: "h:1", UseTLS: true, TLS: configs.TLS{CertFile: p.certFile, KeyFile: p.keyFile}})
	if valid.Explain(brokenPipe) != brokenPipe || expired.Explain(nil) != nil || (*Transport)(nil).Explain(brokenPipe) != brokenPipe {
		t.Fatal("Explain changed an error it has nothing to add to")
	}
}
