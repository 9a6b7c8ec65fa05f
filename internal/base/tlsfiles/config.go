package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// ClientConfig is a TLS client config for serverName whose roots (ca; nil
// means the system's) and client certificate (cert; nil means none) are
// read at every handshake, so the next connection uses a rotated file
// without anything being rebuilt.
func ClientConfig(serverName string, ca *Value[*x509.CertPool], cert *Value[*tls.Certificate]) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert.Get(), nil }
	}
	if ca != nil {
		// crypto/tls takes RootCAs once per config, and gRPC keeps its copy
		// of the config for the connection's life. To use the current pool
		// at each handshake, verification happens here instead, exactly as
		// crypto/tls does it: same chain, same name check, same error.
		c.InsecureSkipVerify = true
		c.VerifyConnection = func(cs tls.ConnectionState) error { return verify(cs, serverName, ca.Get()) }
	}
	return c
}

func verify(cs tls.ConnectionState, serverName string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	opts := x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return nil
}

// ServerConfig is a TLS server config that presents cert, read at every
// handshake, and offers HTTP/2 and HTTP/1.1. With clientCA it requires a
// client certificate that chains to the current pool.
func ServerConfig(cert *Value[*tls.Certificate], clientCA *Value[*x509.CertPool]) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cert.Get(), nil
		},
	}
	if clientCA == nil {
		return c
	}
	perHandshake := c.Clone()
	perHandshake.ClientAuth = tls.RequireAndVerifyClientCert
	c.ClientAuth = tls.RequireAndVerifyClientCert // what the config says, for whoever reads it
	// ClientCAs, too, is taken once per config: a config per handshake
	// carries the current pool.
	c.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		hc := perHandshake.Clone()
		hc.ClientCAs = clientCA.Get()
		return hc, nil
	}
	return c
}
