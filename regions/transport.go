package regions

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/filewatch"
	"github.com/regiongate/regiongate/internal/base/tlsfiles"
)

// Transport secures one region's connection as its config says
// (configs.Connection: TLS files and an API key). The gateway's regional
// clients and the region's workers both dial through one, so the config
// means the same to both. Its files are re-read when they change (Watch)
// without a new connection: the CA bundle and the client certificate at
// the next handshake, the API key at the next call.
type Transport struct {
	tls    *tls.Config // nil: plain text
	cert   *tlsfiles.Value[*tls.Certificate]
	apiKey func() string
	files  *tlsfiles.Set
	poll   time.Duration
}

// TransportOptions customise NewTransport; zero values take the defaults.
type TransportOptions struct {
	// Logger hears reloads of the files; nil discards.
	Logger *slog.Logger
	// Getenv reads an API key's variable; nil means os.Getenv.
	Getenv func(string) string
	// Poll is how often files are re-read in case a change event was lost;
	// zero means every 2s.
	Poll time.Duration
}

// NewTransport reads the connection's files (and the API key's variable)
// once; a missing or unreadable one is an error naming it, so a config
// that cannot be dialled is refused before it replaces a working one.
func NewTransport(region string, conn configs.Connection, o TransportOptions) (*Transport, error) {
	t := &Transport{files: &tlsfiles.Set{Name: "region " + region, Logger: o.Logger}, poll: o.Poll}
	if !conn.UseTLS {
		return t, nil
	}
	var ca *tlsfiles.Value[*x509.CertPool]
	var err error
	if f := conn.TLS.CAFile; f != "" {
		if ca, err = t.files.CertPool("CA bundle (tls.caFile)", f); err != nil {
			return nil, fmt.Errorf("region %s: %w", region, err)
		}
	}
	if conn.TLS.CertFile != "" {
		if t.cert, err = t.files.KeyPair("client certificate (tls.certFile, tls.keyFile)", conn.TLS.CertFile, conn.TLS.KeyFile); err != nil {
			return nil, fmt.Errorf("region %s: %w", region, err)
		}
	}
	t.tls = tlsfiles.ClientConfig(serverName(conn), ca, t.cert)
	if t.apiKey, err = t.readAPIKey(conn.APIKey, o.Getenv); err != nil {
		return nil, fmt.Errorf("region %s: %w", region, err)
	}
	return t, nil
}

// serverName is the name the server's certificate must carry: the
// configured one, else the endpoint's host, as gRPC would use.
func serverName(conn configs.Connection) string {
	host, _, err := net.SplitHostPort(conn.Endpoint)
	if err != nil {
		host = conn.Endpoint
	}
	return cmp.Or(conn.TLS.ServerName, host)
}

func (t *Transport) readAPIKey(k configs.APIKey, getenv func(string) string) (func() string, error) {
	switch {
	case k.File != "":
		v, err := t.files.Secret("API key (apiKey.file)", k.File)
		if err != nil {
			return nil, err
		}
		return v.Get, nil
	case k.Env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		// A process's environment does not change: read once.
		key := strings.TrimSpace(getenv(k.Env))
		if key == "" {
			return nil, fmt.Errorf("API key: $%s is empty or not set", k.Env)
		}
		return func() string { return key }, nil
	}
	return nil, nil
}

// Apply sets opts' TLS config and API key; a plain-text region leaves
// them alone.
func (t *Transport) Apply(opts *client.Options) {
	if t.tls == nil {
		return
	}
	opts.ConnectionOptions.TLS = t.tls
	if t.apiKey != nil {
		key := t.apiKey
		opts.Credentials = client.NewAPIKeyDynamicCredentials(func(context.Context) (string, error) { return key(), nil })
	}
}

// Watch re-reads the files when they change until ctx ends; a transport
// without files returns at once.
func (t *Transport) Watch(ctx context.Context) {
	if paths := t.files.Paths(); len(paths) > 0 {
		filewatch.Watch(ctx, paths, t.poll, t.files.Refresh)
	}
}

// Explain adds to a failed call's error what is wrong with our own
// credentials, when something is: a client certificate that has expired
// or is not valid yet. The region says so too, but after a TLS 1.3
// handshake its refusal comes as an alert that a write racing it can turn
// into a bare "broken pipe"; the certificate in hand is never ambiguous.
// nil stays nil.
func (t *Transport) Explain(err error) error {
	if err == nil || t == nil || t.cert == nil {
		return err
	}
	leaf, now := t.cert.Get().Leaf, time.Now()
	switch {
	case leaf == nil:
		return err
	case now.After(leaf.NotAfter):
		return &credentialError{fmt.Sprintf("TLS: our client certificate has expired (tls.certFile, valid until %s)", leaf.NotAfter.UTC().Format(time.RFC3339)), err}
	case now.Before(leaf.NotBefore):
		return &credentialError{fmt.Sprintf("TLS: our client certificate is not valid yet (tls.certFile, valid from %s)", leaf.NotBefore.UTC().Format(time.RFC3339)), err}
	}
	return err
}

// credentialError is a failed call whose cause is in our own credentials,
// found by looking at them (Transport.Explain).
type credentialError struct {
	reason string
	err    error
}

func (e *credentialError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }
