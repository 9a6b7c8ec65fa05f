// Package tlsfiles keeps certificates, CA bundles and secrets read from files current: re-read when they change, the last good value kept while a new one does not load.
package tlsfiles

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// Set is a group of file-backed values watched together. The zero value
// is ready to use.
type Set struct {
	// Name says whose files these are in logs ("region eu-west").
	Name string
	// Logger hears every reload and every failed one; nil discards.
	Logger *slog.Logger
	values []interface{ refresh() }
	paths  []string
}

// Value is a value parsed from files, replaced whole when they change.
type Value[T any] struct {
	set   *Set
	what  string
	paths []string
	parse func([][]byte) (T, error)
	cur   atomic.Pointer[T]

	mu     sync.Mutex // serialises refreshes
	sum    [sha256.Size]byte
	failed string // the last failure logged, so a lasting one is logged once
}

// Get returns the current value.
func (v *Value[T]) Get() T { return *v.cur.Load() }

func add[T any](s *Set, what string, parse func([][]byte) (T, error), paths ...string) (*Value[T], error) {
	v := &Value[T]{set: s, what: what, paths: paths, parse: parse}
	data, sum, err := readAll(paths)
	if err == nil {
		var val T
		if val, err = parse(data); err == nil {
			v.cur.Store(&val)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	v.sum = sum
	s.values = append(s.values, v)
	s.paths = append(s.paths, paths...)
	return v, nil
}

func readAll(paths []string) ([][]byte, [sha256.Size]byte, error) {
	data := make([][]byte, len(paths))
	var err error
	for i, p := range paths {
		if data[i], err = os.ReadFile(p); err != nil {
			return nil, [sha256.Size]byte{}, err
		}
	}
	return data, sha256.Sum256(bytes.Join(data, []byte{0})), nil
}

// refresh re-reads the files; unchanged contents cost one read. A value
// that does not load is logged once and the previous one stays: a
// rotation that writes the certificate and then its key passes through a
// moment when the two do not match.
func (v *Value[T]) refresh() {
	v.mu.Lock()
	defer v.mu.Unlock()
	data, sum, err := readAll(v.paths)
	if err == nil && sum == v.sum {
		return
	}
	var val T
	if err == nil {
		val, err = v.parse(data)
	}
	log := v.set.logger().With("files", v.paths)
	if err != nil {
		if err.Error() != v.failed {
			v.failed = err.Error()
			log.Warn("could not reload "+v.what+"; the previous one stays in use", "error", err)
		}
		return
	}
	v.cur.Store(&val)
	v.sum, v.failed = sum, ""
	log.Info("reloaded " + v.what)
}

func (s *Set) logger() *slog.Logger {
	l := s.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	if s.Name != "" {
		l = l.With("for", s.Name)
	}
	return l
}

// Refresh re-reads every file of the set now: call it when one may have
// changed (filewatch.Watch says when).
func (s *Set) Refresh() {
	for _, v := range s.values {
		v.refresh()
	}
}

// Paths are the files of every value in the set; none for a nil set.
func (s *Set) Paths() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.paths)
}

// KeyPair adds a certificate and its private key (PEM files).
func (s *Set) KeyPair(what, certFile, keyFile string) (*Value[*tls.Certificate], error) {
	return add(s, what, func(d [][]byte) (*tls.Certificate, error) {
		pair, err := tls.X509KeyPair(d[0], d[1])
		return &pair, err
	}, certFile, keyFile)
}

// CertPool adds a bundle of CA certificates (PEM).
func (s *Set) CertPool(what, file string) (*Value[*x509.CertPool], error) {
	return add(s, what, func(d [][]byte) (*x509.CertPool, error) {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(d[0]) {
			return nil, errors.New("holds no PEM certificate")
		}
		return pool, nil
	}, file)
}

// Secret adds a secret held in a file, without surrounding white space.
func (s *Set) Secret(what, file string) (*Value[string], error) {
	return add(s, what, func(d [][]byte) (string, error) {
		v := string(bytes.TrimSpace(d[0]))
		if v == "" {
			return "", errors.New("is empty")
		}
		return v, nil
	}, file)
}
