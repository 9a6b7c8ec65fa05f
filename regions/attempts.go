package regions

import (
	"context"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// attempts records, for one logical call, what its gRPC attempts did. The
// SDK retries inside a call, so the final error alone cannot tell whether
// anything reached the region: an early attempt may have been sent before
// the region died and later attempts refused.
type attempts struct {
	tried   atomic.Int32
	sent    atomic.Bool // an attempt got onto a connection: it may have reached the region
	refusal atomic.Pointer[error]
	// stop, when set, ends the call at the first refused attempt instead of
	// letting the SDK retry until the timeout.
	stop context.CancelFunc
}

// refused returns the last attempt error that proves the attempt never got
// onto a connection, or nil.
func (a *attempts) refused() error {
	if p := a.refusal.Load(); p != nil {
		return *p
	}
	return nil
}

func (a *attempts) record(err error, onConnection bool) {
	a.tried.Add(1)
	switch {
	case err == nil || onConnection:
		a.sent.Store(true)
	case status.Code(err) == codes.Unavailable:
		// No connection to pick (refused, in reconnect backoff): gRPC fails
		// a non-WaitForReady call at once with Unavailable.
		refusal := err // only this branch pays for the heap copy
		a.refusal.Store(&refusal)
		if a.stop != nil {
			a.stop()
		}
	}
}

type attemptsKey struct{}

// callCtx is a call's context with its attempts, in one allocation.
type callCtx struct {
	context.Context
	att attempts
}

func (c *callCtx) Value(key any) any {
	if key == (attemptsKey{}) {
		return &c.att
	}
	return c.Context.Value(key)
}

// attemptInterceptor is chained through the client's dial options, which
// gRPC places after the SDK's own interceptors, its retry interceptor
// among them: so it sees every attempt of a call, not just the last.
func attemptInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	a, ok := ctx.Value(attemptsKey{}).(*attempts)
	if !ok {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// gRPC fills in the peer only when the attempt got a stream on a
	// connection, that is when its request may have been written.
	var p peer.Peer
	err := invoker(ctx, method, req, reply, cc, append(opts[:len(opts):len(opts)], grpc.Peer(&p))...)
	a.record(err, p.Addr != nil)
	return err
}
