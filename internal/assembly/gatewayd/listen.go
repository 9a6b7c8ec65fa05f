package gatewayd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Limits of the gateway's HTTP servers.
const (
	// ReadHeaderTimeout bounds how long a client may take to send its
	// request headers (slowloris).
	ReadHeaderTimeout = 10 * time.Second
	// ShutdownTimeout is how long a stopping gateway gives the requests in
	// flight before it closes their connections.
	ShutdownTimeout = 10 * time.Second
)

// Listeners are a gateway's two listeners: the client API's and the admin
// API's.
type Listeners struct{ Client, Admin net.Listener }

// Listen opens the client and admin listeners. An address with port 0
// gets a free port: ClientURL and AdminURL say which.
func Listen(clientAddr, adminAddr string) (Listeners, error) {
	c, err := net.Listen("tcp", clientAddr)
	if err != nil {
		return Listeners{}, fmt.Errorf("listening on %s: %w", clientAddr, err)
	}
	a, err := net.Listen("tcp", adminAddr)
	if err != nil {
		c.Close()
		return Listeners{}, fmt.Errorf("listening on %s: %w", adminAddr, err)
	}
	return Listeners{Client: c, Admin: a}, nil
}

// ClientURL is the client API's base URL, http://host:port.
func (l Listeners) ClientURL() string { return "http://" + l.Client.Addr().String() }

// AdminURL is the admin API's base URL, http://host:port.
func (l Listeners) AdminURL() string { return "http://" + l.Admin.Addr().String() }

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
	return serve(ctx, map[net.Listener]http.Handler{ls.Client: client, ls.Admin: g.Server.AdminHandler()})
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
// serve, the bench and the tests run with the same limits.
func serve(ctx context.Context, handlers map[net.Listener]http.Handler) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(handlers))
	var servers []*http.Server
	for ln, h := range handlers {
		s := &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout}
		servers = append(servers, s)
		go func() {
			if err := s.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("serving %s: %w", ln.Addr(), err)
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
