package regions

import "context"

// DescribeAttempts runs one DescribeWorkflow through r's call path and
// reports what attemptInterceptor saw of it: how many gRPC attempts, and
// whether any got onto a connection.
func DescribeAttempts(ctx context.Context, r *Region, id string, failFast bool) (tried int, sent bool, err error) {
	err = r.call(ctx, failFast, func(ctx context.Context) error {
		_, err := r.client.DescribeWorkflow(ctx, id, "")
		a := ctx.Value(attemptsKey{}).(*attempts)
		tried, sent = int(a.tried.Load()), a.sent.Load()
		return err
	})
	return tried, sent, err
}
