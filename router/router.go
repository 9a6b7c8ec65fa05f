// Package router decides, without I/O, which region may and should hold a request's data.
package router

import (
	"errors"
	"fmt"

	"github.com/regiongate/regiongate/internal/base/iso3166"
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
	Tenant       string // optional; isolated tenants get their own namespace
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

// Decision is the outcome of Decide. Its slices may be shared with the
// Policy: read them, never modify them.
type Decision struct {
	// Region, Namespace and TaskQueue are the first candidate's
	// destination (Destination(0)), for people and logs.
	Region    string `json:"region,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	TaskQueue string `json:"taskQueue,omitempty"`
	// Lawful lists every region that may hold the data, in preference order.
	Lawful []string `json:"lawful"`
	// Candidates are the lawful regions available now, in preference order;
	// Region is the first. Destination(k) is where a start goes in
	// Candidates[k].
	Candidates []string `json:"candidates"`
	// Destinations are the candidates' destinations; only Explain fills it.
	Destinations []Destination `json:"destinations,omitempty"`
	// Reasons has one entry per configured region; only Explain fills it.
	Reasons []Reason `json:"reasons,omitempty"`
	// Jurisdictions the user's country belongs to.
	Jurisdictions []string `json:"jurisdictions"`
	Resident      bool     `json:"resident"`

	// What Destination needs: the compiled policy, the region indexes of
	// Lawful and Candidates, and the request's tenant slot, type and
	// priority. Nil policy: the request was refused before routing.
	policy     *Policy
	route      *route // the compiled lawful regions of this country and class
	candidates []int
	sel        selector
	country    int16  // iso3166 index: the same in every policy
	class      uint16 // index into policy.classes
}

// Validate checks the request's attributes against the policy.
func (p *Policy) Validate(req Request) error {
	_, _, _, err := p.parse(req)
	return err
}

// parse resolves the request's country, class and priority.
func (p *Policy) parse(req Request) (country, class int, pr Priority, err error) {
	country = iso3166.Index(req.Location)
	if country < 0 {
		return 0, 0, "", fmt.Errorf("%w %q: want an ISO 3166-1 alpha-2 code such as DE", ErrBadLocation, req.Location)
	}
	class = -1
	for i := range p.classes {
		if p.classes[i].Name == req.Class {
			class = i
			break
		}
	}
	if class < 0 {
		return 0, 0, "", fmt.Errorf("%w %q", ErrUnknownClass, req.Class)
	}
	pr, err = ParsePriority(string(req.Priority))
	return country, class, pr, err
}
