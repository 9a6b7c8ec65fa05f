package regions

import (
	"crypto/x509"
	"errors"
	"strings"

	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
)

// Reason says in a few words why a call to a region failed, naming the
// TLS or credential problem when there is one: what an operator needs to
// read in the log line that marks the region unhealthy. gRPC reports a
// failed handshake as text inside an Unavailable status, so the text is
// read when the error's type is gone.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	var ours *credentialError
	if errors.As(err, &ours) {
		return ours.reason
	}
	msg := err.Error()
	var unknownCA x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknownCA) || strings.Contains(msg, "certificate signed by unknown authority"):
		return "TLS: the region's certificate is not signed by a CA we trust (tls.caFile)"
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired,
		strings.Contains(msg, "certificate has expired or is not yet valid"):
		return "TLS: the region's certificate has expired or is not yet valid"
	case errors.As(err, &hostname) || strings.Contains(msg, "x509: certificate is valid for") ||
		strings.Contains(msg, "certificate is not valid for any names"):
		return "TLS: the region's certificate does not carry the server name we dial (tls.serverName)"
	case strings.Contains(msg, "remote error: tls: expired certificate"):
		return "TLS: our client certificate has expired: the region refused it (tls.certFile)"
	case strings.Contains(msg, "remote error: tls: unknown certificate authority"):
		return "TLS: the region refused our client certificate: not signed by a CA it trusts (tls.certFile)"
	case strings.Contains(msg, "remote error: tls: certificate required"):
		return "TLS: the region requires a client certificate and we sent none (tls.certFile)"
	case strings.Contains(msg, "remote error: tls: bad certificate"):
		return "TLS: the region refused our client certificate (tls.certFile)"
	case strings.Contains(msg, "missing selected ALPN property"):
		return "TLS: the region's TLS endpoint does not offer HTTP/2 (ALPN h2), which gRPC needs: a proxy in front of it?"
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") || strings.Contains(msg, "authentication handshake failed"):
		return "TLS handshake failed"
	}
	switch serviceerror.ToStatus(err).Code() {
	case codes.Unauthenticated:
		return "the region refused our credentials: Unauthenticated (apiKey)"
	case codes.PermissionDenied:
		return "the region refused our credentials: PermissionDenied (apiKey, or the namespace's permissions)"
	case codes.Unavailable:
		return "unreachable"
	case codes.DeadlineExceeded:
		return "no answer in time"
	}
	return "health check failed"
}
