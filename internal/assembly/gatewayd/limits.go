package gatewayd

import (
	"net/http"
	"time"
)

// Defaults for zero values in Limits.
const (
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request headers (slowloris), and the TLS handshake.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included: a
	// 1 MiB body (the default limit) needs 35 KB/s.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its answer: the body, the handler and the write. It is
	// above the longest handler: a start waits at most its regions'
	// callTimeouts (5s each by default, one region after another only when
	// nothing was sent to the one before) after a body that may take
	// DefaultReadTimeout to arrive.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultMaxHeaderBytes caps a request's headers: room for a large
	// bearer token, not for a megabyte of cookies.
	DefaultMaxHeaderBytes = 64 << 10
)

// Limits bound what one connection may hold of a listener, so slow or
// idle clients cannot pile up (issue 15). Zero values take the Default*
// constants.
type Limits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// server is an http.Server for h with these limits.
func (l Limits) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
