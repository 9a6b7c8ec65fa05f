// Package tlsproxy puts TLS fronts before a plain-text Temporal dev server
// in tests, as a load balancer, a mesh sidecar or Temporal Cloud would: a
// TLS-terminating proxy that requires a client certificate, and an
// API-key-checking gRPC front. Test-only; never linked into a binary.
package tlsproxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Terminator ends TLS, requiring a client certificate its CA pool
// verifies, and copies the decrypted bytes to a backend: the gRPC inside
// (HTTP/2) passes through untouched.
type Terminator struct {
	Addr string // host:port to dial

	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	clients []*x509.Certificate // each accepted handshake's client certificate, in order
	revoked map[string]bool     // serial numbers refused from now on
	wg      sync.WaitGroup
}

// Revoke refuses the certificate from the next handshake on, as a
// revocation list would once a rotation is done.
func (p *Terminator) Revoke(cert *x509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[cert.SerialNumber.String()] = true
}

func (p *Terminator) notRevoked(cs tls.ConnectionState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(cs.PeerCertificates) > 0 && p.revoked[cs.PeerCertificates[0].SerialNumber.String()] {
		return errors.New("client certificate revoked")
	}
	return nil
}

// StartTerminator listens on a free loopback port, presenting cert; Close
// runs when the test ends.
func StartTerminator(t testing.TB, backend string, cert tls.Certificate, clientCAs *x509.CertPool) *Terminator {
	t.Helper()
	p := &Terminator{backend: backend, conns: map[net.Conn]struct{}{}, revoked: map[string]bool{}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: clientCAs,
		VerifyConnection: p.notRevoked,
		NextProtos:       []string{"h2"}, // gRPC insists on ALPN h2
		MinVersion:       tls.VersionTLS12,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Addr, p.ln = ln.Addr().String(), ln
	p.wg.Go(p.accept)
	t.Cleanup(p.Close)
	return p
}

func (p *Terminator) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(c.(*tls.Conn)) })
	}
}

func (p *Terminator) serve(c *tls.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The handshake is what this proxy is for: a refused one closes the
	// connection, and the client reads the alert that says why.
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return
	}
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, b, c.ConnectionState().PeerCertificates[0]) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) { _, _ = io.Copy(dst, src); done <- struct{}{} }
	go pipe(b, c)
	go pipe(c, b)
	<-done // either side ended: end both
	p.untrack(c, b)
	<-done
}

func (p *Terminator) track(c, b net.Conn, client *x509.Certificate) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil { // closed
		c.Close()
		b.Close()
		return false
	}
	p.conns[c], p.conns[b] = struct{}{}, struct{}{}
	p.clients = append(p.clients, client)
	return true
}

func (p *Terminator) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

// ClientCertificates returns the client certificate of every connection
// accepted so far, in order.
func (p *Terminator) ClientCertificates() []*x509.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*x509.Certificate(nil), p.clients...)
}

// DropConnections cuts every open connection, as a restarted load
// balancer would: clients must dial, and shake hands, again.
func (p *Terminator) DropConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops listening, cuts every connection and waits for them.
func (p *Terminator) Close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
