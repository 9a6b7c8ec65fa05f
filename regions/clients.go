package regions

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/client"
)

// clientFor returns the region's client for a namespace ("" is the
// region's own): the region's long-lived client, or one sharing its
// connection for an isolated tenant's namespace, made on first use and
// kept.
func (r *Region) clientFor(ctx context.Context, namespace string) (client.Client, error) {
	if namespace == "" || namespace == r.namespace {
		return r.client, nil
	}
	return r.namespaceClient(ctx, namespace, r)
}

// namespaceClient returns the kept client for a namespace other than the
// region's own, sharing the region's connection (its TLS and credentials)
// with codec's payload and failure converters; made on first use.
func (r *Region) namespaceClient(ctx context.Context, namespace string, codec *Region) (client.Client, error) {
	r.nsMu.Lock()
	defer r.nsMu.Unlock()
	if c, ok := r.nsClients[namespace]; ok {
		return c, nil
	}
	opts := r.opts
	opts.Namespace = namespace
	opts.DataConverter, opts.FailureConverter = codec.opts.DataConverter, codec.opts.FailureConverter
	ctx, cancel := context.WithTimeout(ctx, r.settings.Load().timeout)
	defer cancel()
	// It shares the region client's connection; making it asks the server
	// once, so a region that is down fails here, before anything is sent.
	c, err := client.NewClientFromExistingWithContext(ctx, r.client, opts)
	if err != nil {
		return nil, &unreachableError{region: r.name, cause: fmt.Errorf("client for namespace %s: %w", namespace, err)}
	}
	if r.nsClients == nil {
		r.nsClients = map[string]client.Client{}
	}
	r.nsClients[namespace] = c
	return c, nil
}

// close closes the namespace clients, then the region's own.
func (r *Region) close() {
	r.nsMu.Lock()
	for _, c := range r.nsClients {
		c.Close()
	}
	r.nsClients = nil
	r.nsMu.Unlock()
	r.client.Close()
	r.stopFiles()
}
