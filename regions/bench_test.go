package regions

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	"github.com/regiongate/regiongate/configs"
)

// BenchmarkBreakerCall is what every Temporal call pays for the breaker,
// the per-call timeout and the attempt bookkeeping, around a no-op.
func BenchmarkBreakerCall(b *testing.B) {
	r, err := newRegion(configs.Region{Name: "r", Endpoint: "127.0.0.1:1", Namespace: "ns"}, clientOptionsForBench(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.client.Close()
	ctx := context.Background()
	noop := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := r.call(ctx, false, noop); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBreakerCallParallel is the same with every core calling one
// region: the breaker's mutex is shared.
func BenchmarkBreakerCallParallel(b *testing.B) {
	r, err := newRegion(configs.Region{Name: "r", Endpoint: "127.0.0.1:1", Namespace: "ns"}, clientOptionsForBench(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.client.Close()
	noop := func(context.Context) error { return nil }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := r.call(ctx, false, noop); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBreakerExecute is the breaker's share of BenchmarkBreakerCall.
func BenchmarkBreakerExecute(b *testing.B) {
	cb := newBreaker(configs.Region{Name: "r"}, func(StateChange) {})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cb.Execute(func() (any, error) { return nil, nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallContext is the per-call timeout's share: the standard
// library's context.WithTimeout and its cancel, plus our callCtx.
func BenchmarkCallContext(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tctx, cancel := context.WithTimeout(ctx, DefaultCallTimeout)
		c := &callCtx{Context: tctx}
		if c.Value(attemptsKey{}) == nil {
			b.Fatal("no attempts")
		}
		cancel()
	}
}

// BenchmarkAttemptInterceptor is what attemptInterceptor adds to each gRPC
// attempt, around an invoker that does nothing.
func BenchmarkAttemptInterceptor(b *testing.B) {
	ctx := &callCtx{Context: context.Background()}
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := attemptInterceptor(ctx, "/m", nil, nil, nil, invoker); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecordHealth(b *testing.B) {
	r, err := newRegion(configs.Region{Name: "r", Endpoint: "127.0.0.1:1", Namespace: "ns"}, clientOptionsForBench(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer r.client.Close()
	opts := HealthOptions{}.withDefaults()
	b.ReportAllocs()
	for b.Loop() {
		r.recordHealth(nil, opts)
	}
}

// BenchmarkSnapshot is the router's view of all four dev regions, taken
// once per request.
func BenchmarkSnapshot(b *testing.B) {
	m, err := NewManager(configs.Default(), Options{ClientOptions: clientOptionsForBench()})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ReportAllocs()
	for b.Loop() {
		if len(m.Snapshot()) != 4 {
			b.Fatal("want 4 regions")
		}
	}
}

// BenchmarkRecordKey is what every start and read pays to turn a workflow
// id into its record's key.
func BenchmarkRecordKey(b *testing.B) {
	k := RandomRecordKeys()
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Key("acme:booking-123")
	}
}
