package regions

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Reasons for what the handshake tests cannot produce: errors as gRPC
// reports them, wrapped as the SDK and the gateway wrap them.
func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: credentials: cannot check peer: missing selected ALPN property"`), "does not offer HTTP/2"},
		{&unreachableError{region: "r", cause: status.Error(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: certificate required"`)}, "we sent none"},
		{status.Error(codes.DeadlineExceeded, `latest balancer error: connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`), "not signed by a CA we trust"},
		{status.Error(codes.Unauthenticated, "invalid API key"), "Unauthenticated (apiKey)"},
		{status.Error(codes.PermissionDenied, "Request unauthorized"), "PermissionDenied"},
		{connRefused, "unreachable"},
		{context.DeadlineExceeded, "no answer in time"},
		{errors.New("something else"), "health check failed"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); !strings.Contains(got, tt.want) || (tt.want == "") != (got == "") {
			t.Errorf("Reason(%v) = %q, want it to say %q", tt.err, got, tt.want)
		}
	}
}
