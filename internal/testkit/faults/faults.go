// Package faults puts network faults between the gateway and a region in
// tests: an in-process toxiproxy. Test-only; never linked into a binary.
package faults

import (
	"context"
	"fmt"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Proxy is an in-process toxiproxy on a free loopback port in front of one
// upstream (a region's Temporal frontend), to put network faults between
// the gateway and that region.
type Proxy struct {
	Addr string // where to dial instead of the upstream
	p    *toxiproxy.Proxy
}

// StartProxy listens on a free loopback port and forwards to upstream.
func StartProxy(name, upstream string) (*Proxy, error) {
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, name, "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("starting toxiproxy for %s: %w", upstream, err)
	}
	return &Proxy{Addr: p.Listen, p: p}, nil
}

// HoldResponses delays every byte the upstream sends back by d, on open
// connections too: requests arrive and are acted on, their answers come
// back only after d (or at once on Heal). Nothing is dropped.
func (p *Proxy) HoldResponses(d time.Duration) error {
	_, err := p.p.Toxics.AddToxicJson(strings.NewReader(fmt.Sprintf(
		`{"name":"hold-responses","type":"latency","stream":"downstream","attributes":{"latency":%d}}`, d.Milliseconds())))
	return err
}

// Heal removes every fault; held bytes are delivered.
func (p *Proxy) Heal() { p.p.Toxics.ResetToxics(context.Background()) }

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() { p.p.Stop() }
