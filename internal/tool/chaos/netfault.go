package chaos

import (
	"context"
	"fmt"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// proxies are in-process toxiproxies, one per region, on free loopback
// ports: the gateways dial a region through its proxy (up.sh's
// DEV_GATEWAY_REGION_PORTS), the workers dial the region directly. This
// is why the chaos tool is a program of its own: the regiongate binary
// links no toxiproxy (internal/archtest).
type proxies struct {
	srv *toxiproxy.ApiServer
	by  map[string]*toxiproxy.Proxy // by region
}

// startProxies listens for each region on a free loopback port and
// forwards to its Temporal frontend, upstream[region].
func startProxies(upstream map[string]string) (*proxies, error) {
	ps := &proxies{srv: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()), by: map[string]*toxiproxy.Proxy{}}
	for _, r := range Regions {
		p := toxiproxy.NewProxy(ps.srv, r, "127.0.0.1:0", upstream[r])
		if err := p.Start(); err != nil {
			ps.Close()
			return nil, fmt.Errorf("starting toxiproxy for %s (%s): %w", r, upstream[r], err)
		}
		ps.by[r] = p
	}
	return ps, nil
}

// Port is the port the gateways dial for region.
func (ps *proxies) Port(region string) string {
	l := ps.by[region].Listen
	return l[strings.LastIndexByte(l, ':')+1:]
}

// apply puts a network fault between the gateways and s.Target.
func (ps *proxies) apply(s Step) error {
	p, ok := ps.by[s.Target]
	if !ok {
		return fmt.Errorf("no proxy for region %q", s.Target)
	}
	var toxics []string
	switch s.Kind {
	case Latency:
		// Both ways, so a request and its answer are each late.
		ms, jitter := s.Latency.Milliseconds(), s.Latency.Milliseconds()/4
		for _, dir := range []string{"upstream", "downstream"} {
			toxics = append(toxics, fmt.Sprintf(`{"name":"latency-%s","type":"latency","stream":%q,"attributes":{"latency":%d,"jitter":%d}}`, dir, dir, ms, jitter))
		}
	case Reset:
		// A connection is reset (RST) as soon as the gateway sends on it,
		// and so is every new one, until healed.
		toxics = append(toxics, `{"name":"reset","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`)
	case Blackhole:
		// Nothing gets through either way and connections stay open: calls
		// hang until their timeout. Healing closes them.
		for _, dir := range []string{"upstream", "downstream"} {
			toxics = append(toxics, fmt.Sprintf(`{"name":"blackhole-%s","type":"timeout","stream":%q,"attributes":{"timeout":0}}`, dir, dir))
		}
	default:
		return fmt.Errorf("%s is not a network fault", s.Kind)
	}
	for _, t := range toxics {
		if _, err := p.Toxics.AddToxicJson(strings.NewReader(t)); err != nil {
			ps.heal(s.Target)
			return fmt.Errorf("adding a %s toxic to %s: %w", s.Kind, s.Target, err)
		}
	}
	return nil
}

// heal removes every fault between the gateways and region.
func (ps *proxies) heal(region string) {
	if p, ok := ps.by[region]; ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.Toxics.ResetToxics(ctx)
	}
}

// healAll removes every fault.
func (ps *proxies) healAll() {
	for r := range ps.by {
		ps.heal(r)
	}
}

// Close stops every proxy and closes its connections.
func (ps *proxies) Close() {
	for _, p := range ps.by {
		p.Stop()
	}
}
