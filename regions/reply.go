package regions

import (
	"context"
	"sync"

	"google.golang.org/grpc"
)

// The SDK turns some replies into values that drop what the gateway must
// answer: whether a signal-with-start started the workflow (Started), and
// how far an update got before the reply (its stage and outcome). The
// reply interceptor keeps the raw reply of a named gRPC method for the
// call whose context asks for it, so the SDK still does everything else
// (payload encoding with the region's codec, headers, retries).

// replyKeeper receives the replies of one call's gRPC attempts.
type replyKeeper interface {
	keep(method string, reply any)
}

type keepersKey struct{}

// kept holds the last successful reply of one method, of type T.
type kept[T any] struct {
	method string
	mu     sync.Mutex
	v      T
	ok     bool
}

func (k *kept[T]) keep(method string, reply any) {
	if method != k.method {
		return
	}
	if v, ok := reply.(T); ok {
		k.mu.Lock()
		k.v, k.ok = v, true
		k.mu.Unlock()
	}
}

// get returns the reply kept, and whether there is one.
func (k *kept[T]) get() (T, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.v, k.ok
}

// keepReply returns ctx asking for the replies of method (a full gRPC
// method name) made with it, and where they will be.
func keepReply[T any](ctx context.Context, method string) (context.Context, *kept[T]) {
	k := &kept[T]{method: method}
	prev, _ := ctx.Value(keepersKey{}).([]replyKeeper)
	return context.WithValue(ctx, keepersKey{}, append(prev[:len(prev):len(prev)], k)), k
}

// replyInterceptor is chained after attemptInterceptor in every region
// client's dial options; a call without keepers costs one context lookup.
func replyInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err != nil {
		return err
	}
	keepers, _ := ctx.Value(keepersKey{}).([]replyKeeper)
	for _, k := range keepers {
		k.keep(method, reply)
	}
	return nil
}
