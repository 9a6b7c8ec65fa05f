package regions

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"
)

// A placement is what a routing record holds: the region, followed by
// "@namespace" when the workflow lives in a namespace other than the
// region's own (an isolated tenant's). Lookups by id carry no tenant, so
// the record must say which namespace to ask.
func placement(region, namespace, regionNamespace string) string {
	if namespace == "" || namespace == regionNamespace {
		return region
	}
	return region + "@" + namespace
}

// splitPlacement returns the region and the namespace ("" for the
// region's own).
func splitPlacement(p string) (region, namespace string) {
	region, namespace, _ = strings.Cut(p, "@")
	return region, namespace
}

// placementFor is where a tenant's workflow goes in a region.
func (m *Manager) placementFor(region, tenant string) string {
	m.mu.RLock()
	cfg := m.cfg
	m.mu.RUnlock()
	if cfg == nil {
		return region
	}
	rc, ok := cfg.Region(region)
	if !ok {
		return region
	}
	return placement(region, cfg.Namespace(rc, tenant), rc.Namespace)
}

// clientFor returns the region's client for a namespace: the region's own
// long-lived client, or one sharing its connection for an isolated
// tenant's namespace, made on first use and kept.
func (r *Region) clientFor(ctx context.Context, namespace string) (client.Client, string, error) {
	if namespace == "" || namespace == r.namespace {
		return r.client, r.namespace, nil
	}
	r.nsMu.Lock()
	defer r.nsMu.Unlock()
	if c, ok := r.nsClients[namespace]; ok {
		return c, namespace, nil
	}
	opts := r.opts
	opts.Namespace = namespace
	ctx, cancel := context.WithTimeout(ctx, r.settings.Load().timeout)
	defer cancel()
	// It shares the region client's connection; making it asks the server
	// once, so a region that is down fails here, before anything is sent.
	c, err := client.NewClientFromExistingWithContext(ctx, r.client, opts)
	if err != nil {
		return nil, namespace, &unreachableError{region: r.name, cause: fmt.Errorf("client for namespace %s: %w", namespace, err)}
	}
	if r.nsClients == nil {
		r.nsClients = map[string]client.Client{}
	}
	r.nsClients[namespace] = c
	return c, namespace, nil
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
}
