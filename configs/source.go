package configs

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
)

//go:embed dev.yaml
var devYAML []byte

// Default returns the embedded dev config.
func Default() *Config {
	c, err := Parse(devYAML)
	if err != nil {
		panic("embedded dev.yaml is invalid: " + err.Error())
	}
	return c
}

// DefaultYAML returns the embedded dev config's text.
func DefaultYAML() []byte { return append([]byte(nil), devYAML...) }

// LoadFile reads and validates a config file.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Revision is one stored version of the config text. Index identifies it
// within a source (Consul's ModifyIndex, a hash of a file's content, a
// memory source's write count) and is what a conditional write compares
// against.
type Revision struct {
	Data  []byte
	Index uint64
}

// ErrStale is returned by Source.Write when the stored config changed since
// the revision the writer read.
var ErrStale = errors.New("config changed since it was read")

// Source is where the config text lives: a file, or a Consul KV key. A
// source only produces and stores text; the Watcher decides what to apply.
type Source interface {
	// Read returns the current revision, or ErrNotFound.
	Read(ctx context.Context) (Revision, error)
	// Watch calls fn with every new revision until ctx ends. It keeps
	// trying (with capped backoff) while the store is unreachable.
	Watch(ctx context.Context, fn func(Revision))
	// Write stores data if the stored revision is still expected.Index;
	// otherwise it returns ErrStale and stores nothing.
	Write(ctx context.Context, data []byte, expected uint64) (Revision, error)
	// String names the source for logs ("file /etc/regiongate.yaml").
	String() string
}
