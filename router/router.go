// Package router decides, without I/O, which region may and should hold a request's data.
package router

import (
	"errors"
	"fmt"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/iso3166"
)

// Refusal kinds. Callers test them with errors.Is.
var (
	// ErrBadLocation: the location is not an ISO 3166-1 alpha-2 country code.
	ErrBadLocation = errors.New("bad country code")
	// ErrUnknownClass: the classification is not in the config.
	ErrUnknownClass = errors.New("unknown data classification")
	// ErrBadPriority: the priority is not high, normal or low.
	ErrBadPriority = errors.New("unknown priority")
	// ErrNoLawfulRegion: no configured region may hold this data (HTTP 422).
	ErrNoLawfulRegion = errors.New("no configured region may lawfully hold this data")
	// ErrNoRegionAvailable: lawful regions exist but none is available now (HTTP 503).
	ErrNoRegionAvailable = errors.New("no lawful region is available now")
)

// Priority selects the task queue flavour.
type Priority string

// The priorities a request may carry; empty means normal.
const (
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// ParsePriority accepts "", "high", "normal" and "low".
func ParsePriority(s string) (Priority, error) {
	switch Priority(s) {
	case "", PriorityNormal:
		return PriorityNormal, nil
	case PriorityHigh, PriorityLow:
		return Priority(s), nil
	}
	return "", fmt.Errorf("%w %q: want high, normal or low", ErrBadPriority, s)
}

// Request holds the attributes of a request that routing depends on.
type Request struct {
	Location     string // ISO 3166-1 alpha-2, upper case
	Class        string
	WorkflowType string
	Priority     Priority
}

// RegionState is what the router needs to know of a region right now.
type RegionState struct {
	Drained   bool
	Unhealthy bool
	Breaker   string // "closed", "open" or "half-open"
}

// Available reports whether new work may be sent to the region.
func (s RegionState) Available() bool {
	return !s.Drained && !s.Unhealthy && s.Breaker != "open"
}

// Snapshot is an immutable view of every region's state; a region missing
// from it counts as available.
type Snapshot map[string]RegionState

// Reason says why a region was kept or skipped.
type Reason struct {
	Region string `json:"region"`
	Kept   bool   `json:"kept"`
	Why    string `json:"why"`
}

// Decision is the outcome of Decide.
type Decision struct {
	Region    string `json:"region,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	TaskQueue string `json:"taskQueue,omitempty"`
	// Lawful lists every region that may hold the data, in preference order.
	Lawful []string `json:"lawful"`
	// Candidates are the lawful regions available now, in preference order;
	// Region is the first.
	Candidates []string `json:"candidates"`
	// Reasons has one entry per configured region.
	Reasons []Reason `json:"reasons"`
	// Jurisdictions the user's country belongs to.
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Resident      bool     `json:"resident"`
}

// Policy is a config compiled for fast decisions. It is immutable.
type Policy struct {
	cfg      *configs.Config
	groupsOf map[string][]string // country -> jurisdictions holding it
	accepts  []map[string]bool   // per region: countries and groups in its residency
	index    map[string]int      // region name -> position in cfg.Regions
}

// New compiles a validated config.
func New(cfg *configs.Config) *Policy {
	p := &Policy{cfg: cfg, groupsOf: map[string][]string{}, index: map[string]int{}}
	for _, g := range sortedKeys(cfg.Jurisdictions) {
		for _, c := range cfg.Jurisdictions[g] {
			p.groupsOf[c] = append(p.groupsOf[c], g)
		}
	}
	for i, r := range cfg.Regions {
		set := map[string]bool{}
		for _, e := range r.Residency {
			set[e] = true
		}
		p.accepts = append(p.accepts, set)
		p.index[r.Name] = i
	}
	return p
}

// Config returns the config the policy was compiled from.
func (p *Policy) Config() *configs.Config { return p.cfg }

// acceptsCountry reports whether region i's residency list holds the country or
// one of its jurisdictions.
func (p *Policy) acceptsCountry(i int, country string) bool {
	if p.accepts[i][country] {
		return true
	}
	for _, g := range p.groupsOf[country] {
		if p.accepts[i][g] {
			return true
		}
	}
	return false
}

// Validate checks the request's attributes against the policy.
func (p *Policy) Validate(req Request) error {
	if !iso3166.Valid(req.Location) {
		return fmt.Errorf("%w %q: want an ISO 3166-1 alpha-2 code such as DE", ErrBadLocation, req.Location)
	}
	if _, ok := p.cfg.Classification(req.Class); !ok {
		return fmt.Errorf("%w %q", ErrUnknownClass, req.Class)
	}
	if _, err := ParsePriority(string(req.Priority)); err != nil {
		return err
	}
	return nil
}
