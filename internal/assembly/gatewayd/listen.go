package gatewayd

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/regiongate/regiongate/internal/base/filewatch"
	"github.com/regiongate/regiongate/internal/base/tlsfiles"
	"github.com/regiongate/regiongate/regions"
)

// ShutdownTimeout is how long a stopping gateway gives the requests in
// flight before it closes their connections.
const ShutdownTimeout = 10 * time.Second

// ListenOptions say where the gateway's two listeners are and how they
// serve. Zero values take the defaults: plain text, loopback only, the
// Default* limits.
type ListenOptions struct {
	ClientAddr, AdminAddr string
	// CertFile and KeyFile, when set, serve both listeners over TLS (with
	// HTTP/2); the files are re-read when they change, and the next
	// handshake presents the new certificate.
	CertFile, KeyFile string
	// AdminClientCAFile, when set, makes the admin listener require a
	// client certificate that chains to these CAs (PEM; re-read when it
	// changes). It needs CertFile.
	AdminClientCAFile string
	// InsecureListen allows plain text on an address that is not
	// loopback, for when TLS ends in front of the gateway (a load balancer,
	// a mesh). Without it such an address is refused.
	InsecureListen bool
	// Limits bound what one connection may hold (timeouts, header size).
	Limits Limits
	// Logger hears certificate reloads; nil discards.
	Logger *slog.Logger
}

// ErrPlainTextListen is returned by ListenWith for a non-loopback address
// without TLS or InsecureListen.
var ErrPlainTextListen = errors.New("refusing plain text on an address that is not loopback")

// Listeners are a gateway's two listeners, the client API's and the admin
// API's, with how to serve them.
type Listeners struct {
	Client, Admin net.Listener

	clientTLS, adminTLS *tls.Config // nil: plain text
	limits              Limits
	files               *tlsfiles.Set
}

// Listen opens the two listeners in plain text with the default limits;
// both addresses must be loopback. An address with port 0 gets a free
// port: ClientURL and AdminURL say which.
func Listen(clientAddr, adminAddr string) (Listeners, error) {
	return ListenWith(ListenOptions{ClientAddr: clientAddr, AdminAddr: adminAddr})
}

// ListenWith opens the two listeners as o says. Certificate files are read
// here, so a missing one stops start-up with an error naming it.
func ListenWith(o ListenOptions) (ls Listeners, err error) {
	ls = Listeners{limits: o.Limits.withDefaults(), files: &tlsfiles.Set{Name: "gateway listeners", Logger: o.Logger}}
	if ls.clientTLS, ls.adminTLS, err = listenerTLS(o, ls.files); err != nil {
		return Listeners{}, err
	}
	if ls.Client, err = listen("client", o.ClientAddr, ls.clientTLS != nil || o.InsecureListen); err != nil {
		return Listeners{}, err
	}
	if ls.Admin, err = listen("admin", o.AdminAddr, ls.adminTLS != nil || o.InsecureListen); err != nil {
		ls.Client.Close()
		return Listeners{}, err
	}
	return ls, nil
}

// listenerTLS loads the certificate (and the admin client CAs) into files
// and returns each listener's TLS config; nil, nil without a certificate.
func listenerTLS(o ListenOptions, files *tlsfiles.Set) (client, admin *tls.Config, err error) {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, nil, errors.New("a listener certificate needs its key, and a key its certificate")
	}
	if o.CertFile == "" {
		if o.AdminClientCAFile != "" {
			return nil, nil, errors.New("client certificates on the admin listener need TLS: give the listeners a certificate and key")
		}
		return nil, nil, nil
	}
	cert, err := files.KeyPair("listener certificate", o.CertFile, o.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	var clientCAs *tlsfiles.Value[*x509.CertPool]
	if o.AdminClientCAFile != "" {
		if clientCAs, err = files.CertPool("admin client CA bundle", o.AdminClientCAFile); err != nil {
			return nil, nil, err
		}
	}
	return tlsfiles.ServerConfig(cert, nil), tlsfiles.ServerConfig(cert, clientCAs), nil
}

// listen opens addr; in plain text (not secured) only a loopback address,
// checked before anything is bound.
func listen(api, addr string, secured bool) (net.Listener, error) {
	if !secured && !loopback(addr) {
		return nil, fmt.Errorf("the %s API on %s: %w", api, addr, ErrPlainTextListen)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}

// loopback reports whether addr's host is a loopback address or
// "localhost". Any other name counts as reachable from elsewhere: what it
// resolves to can change.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// ClientURL is the client API's base URL, http(s)://host:port.
func (l Listeners) ClientURL() string { return baseURL(l.Client, l.clientTLS) }

// AdminURL is the admin API's base URL, http(s)://host:port.
func (l Listeners) AdminURL() string { return baseURL(l.Admin, l.adminTLS) }

func baseURL(ln net.Listener, tlsConfig *tls.Config) string {
	if tlsConfig != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// Close closes both listeners, for a caller that will not serve them.
func (l Listeners) Close() {
	l.Client.Close()
	l.Admin.Close()
}

// Serve serves the client API on ls.Client and the admin API on ls.Admin
// until ctx ends, then shuts both down, giving requests in flight
// ShutdownTimeout. A listener that fails stops both and is the error.
func (g *Gateway) Serve(ctx context.Context, ls Listeners) error {
	client := g.Server.ClientHandler()
	if g.wrapClient != nil {
		client = g.wrapClient(client)
	}
	g.warnWriteTimeout(ls.limits)
	return ls.serve(ctx, client, g.Server.AdminHandler(), g.log)
}

// ServeInBackground serves ls as Serve does until Close, which waits for
// the shutdown: for the test stack and the bench, which send to the
// gateway from the same process. A listener that fails is logged.
func (g *Gateway) ServeInBackground(ls Listeners) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.Serve(ctx, ls); err != nil {
			g.log.Error("gateway stopped serving", "error", err)
		}
	}()
	g.closers = append(g.closers, func() { stop(); <-done })
}

// serve is the one place a gateway's listeners get their http.Server, so
// serve, the bench and the tests run with the same limits and TLS. The
// certificate files are watched while it serves.
func (ls Listeners) serve(ctx context.Context, client, admin http.Handler, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if paths := ls.files.Paths(); len(paths) > 0 {
		wg.Go(func() { filewatch.Watch(ctx, paths, 0, ls.files.Refresh) })
	}
	errs := make(chan error, 2)
	var servers []*http.Server
	for _, l := range []struct {
		ln  net.Listener
		h   http.Handler
		tls *tls.Config
	}{{ls.Client, client, ls.clientTLS}, {ls.Admin, admin, ls.adminTLS}} {
		s := ls.limits.withDefaults().server(l.h)
		s.TLSConfig = l.tls
		// The server's own complaints (failed handshakes, timeouts cut
		// short) go to the gateway's log, not to stderr.
		s.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
		servers = append(servers, s)
		go func() {
			var err error
			if l.tls != nil {
				err = s.ServeTLS(l.ln, "", "") // the certificate comes from TLSConfig
			} else {
				err = s.Serve(l.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("serving %s: %w", l.ln.Addr(), err)
				cancel()
			}
		}()
	}
	<-ctx.Done()
	shutdownCtx, done := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer done()
	for _, s := range servers {
		if s.Shutdown(shutdownCtx) != nil {
			_ = s.Close() // out of time: requests still in flight are cut
		}
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// warnWriteTimeout logs a region whose slowest answer could outlast the
// write timeout: its response would be cut off.
func (g *Gateway) warnWriteTimeout(l Limits) {
	for _, rc := range g.Server.Config().Regions {
		call := cmp.Or(time.Duration(rc.CallTimeout), regions.DefaultCallTimeout)
		if l.ReadTimeout+call >= l.WriteTimeout {
			g.log.Warn("the write timeout is not above the read timeout plus a region's callTimeout: its slowest answers would be cut off",
				"region", rc.Name, "call_timeout", call, "read_timeout", l.ReadTimeout, "write_timeout", l.WriteTimeout)
		}
	}
}
