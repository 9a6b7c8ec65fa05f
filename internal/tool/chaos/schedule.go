package chaos

import (
	"encoding/json"
	"math/rand/v2"
	"time"
)

// Fault kinds: a process killed with SIGKILL and restarted on its port with
// its state, or a network fault between the gateways and one region.
const (
	KillRegion  = "kill-region"  // a region's Temporal dev server
	KillWorker  = "kill-worker"  // a region's worker
	KillGateway = "kill-gateway" // a gateway replica
	KillConsul  = "kill-consul"  // the Consul server (config, records, drains)
	Latency     = "latency"      // every byte both ways delayed
	Reset       = "reset"        // connections reset as soon as data flows
	Blackhole   = "blackhole"    // data dropped, connections left open
)

// FaultKinds lists every fault kind, in the order reports show them.
var FaultKinds = []string{KillRegion, KillWorker, KillGateway, KillConsul, Latency, Reset, Blackhole}

// Admin actions taken mid-run, as an operator or a compliance reviewer
// would.
const (
	Drain      = "drain"       // drain a region, restore it after For
	Drill      = "drill"       // a drill of For, which restores by itself
	ConfigEdit = "config-edit" // swap two regions' places in the config: preference moves, residency does not
)

// Regions are the dev stack's regions, in up.sh's order.
var Regions = []string{"us-east", "us-west", "eu-west", "eu-central"}

// Replicas are the gateway replicas of the dev stack in Consul mode.
var Replicas = []string{"gateway-1", "gateway-2"}

// Step is one fault or admin action of a plan: wait Gap after the previous
// step of its timeline has ended, then apply it to Target for For.
type Step struct {
	Kind    string        `json:"kind"`
	Target  string        `json:"target"`
	Gap     time.Duration `json:"gap"`
	For     time.Duration `json:"for"`
	Latency time.Duration `json:"latency,omitempty"` // latency faults: the delay each way
}

// MarshalJSON writes the durations as Go durations ("8s").
func (s Step) MarshalJSON() ([]byte, error) {
	type durations struct {
		Kind    string `json:"kind"`
		Target  string `json:"target"`
		Gap     string `json:"gap"`
		For     string `json:"for"`
		Latency string `json:"latency,omitempty"`
	}
	d := durations{Kind: s.Kind, Target: s.Target, Gap: s.Gap.String(), For: s.For.String()}
	if s.Latency > 0 {
		d.Latency = s.Latency.String()
	}
	return json.Marshal(d)
}

// Plan is a run's schedule: two timelines that run side by side, faults
// one after another (so each client error can be laid at one fault's door)
// and admin actions one after another.
type Plan struct {
	Seed   uint64 `json:"seed"`
	Faults []Step `json:"faults"`
	Admin  []Step `json:"admin"`
}

// Warmup is load without faults at the start of a run, so every region
// holds workflows before the first fault.
const Warmup = 15 * time.Second

// NewPlan draws a plan for a run of length d from seed: the same seed and
// length give the same plan. Fault kinds are drawn from a shuffled bag, so
// a short run still sees most kinds and a long one sees them all about
// equally often. Each timeline holds more steps than d can fit: the run
// stops taking new steps when too little time is left.
func NewPlan(seed uint64, d time.Duration) Plan {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := Plan{Seed: seed}
	span := func(lo, hi int) time.Duration { return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Second }
	var bag []string
	for t := Warmup; t < d; {
		if len(bag) == 0 {
			bag = append(bag, FaultKinds...)
			rng.Shuffle(len(bag), func(i, j int) { bag[i], bag[j] = bag[j], bag[i] })
		}
		s := Step{Kind: bag[0], Gap: span(4, 10), For: span(4, 12)}
		bag = bag[1:]
		if s.Kind == Blackhole || s.Kind == Reset || s.Kind == Latency {
			s.For = span(6, 15) // past the gateway's call timeout (5s) now and then
		}
		switch s.Kind {
		case KillGateway:
			s.Target = Replicas[rng.IntN(len(Replicas))]
		case KillConsul:
			s.Target = "consul"
		case KillWorker:
			s.Target = "worker-" + Regions[rng.IntN(len(Regions))]
		default:
			s.Target = Regions[rng.IntN(len(Regions))]
		}
		if s.Kind == Latency {
			s.Latency = time.Duration(200+100*rng.IntN(19)) * time.Millisecond // 0.2s to 2s
		}
		if len(p.Faults) == 0 {
			s.Gap = Warmup
		}
		p.Faults = append(p.Faults, s)
		t += s.Gap + s.For + 15*time.Second // a restart takes about this long here
	}
	kinds := []string{Drain, Drill, ConfigEdit}
	for t := Warmup; t < d; {
		s := Step{Kind: kinds[rng.IntN(len(kinds))], Target: Regions[rng.IntN(len(Regions))], Gap: span(8, 25), For: span(8, 20)}
		if s.Kind == ConfigEdit {
			s.Target, s.For = pairOf(s.Target), 0
		}
		if len(p.Admin) == 0 {
			s.Gap = Warmup + span(0, 10)
		}
		p.Admin = append(p.Admin, s)
		t += s.Gap + s.For
	}
	return p
}

// pairOf names the pair of regions holding the same residency as region
// ("eu-west/eu-central"): a config edit swaps their places in the region
// list, which moves the home region of their countries but keeps every
// region's residency.
func pairOf(region string) string {
	if region == "us-east" || region == "us-west" {
		return "us-east/us-west"
	}
	return "eu-west/eu-central"
}
