package router

import (
	"errors"
	"slices"
	"strings"

	"github.com/regiongate/regiongate/configs"
)

// Destination is where a start goes: the region, the namespace there and
// the task queue. The router works it out once per request; nothing below
// it names namespaces or queues again.
type Destination struct {
	Region    string `json:"region"`
	Namespace string `json:"namespace"`
	TaskQueue string `json:"taskQueue"`
}

// TenantNamespace is the one naming rule for an isolated tenant's
// namespace in a region: "<region's namespace>-<tenant>".
func TenantNamespace(regionNamespace, tenant string) string {
	return regionNamespace + "-" + tenant
}

// Namespaces lists every namespace of a region that workers must poll and
// the cluster must have: the region's own, then each isolated tenant's, in
// config order.
func Namespaces(cfg *configs.Config, region configs.Region) []string {
	out := []string{region.Namespace}
	for _, t := range cfg.Tenants {
		if t.Isolated {
			out = append(out, TenantNamespace(region.Namespace, t.Name))
		}
	}
	return out
}

// destinationOf is region i's destination for the decision's tenant,
// workflow type and priority, from the compiled tables: no strings are
// built unless the workflow type was not known when the policy was
// compiled.
func (p *Policy) destinationOf(i int, sel selector) Destination {
	ri := &p.regions[i]
	return Destination{Region: ri.name, Namespace: ri.namespaces[sel.slot], TaskQueue: ri.queue(sel.workflowType, priorities[sel.priority])}
}

// selector is what, besides the region, decides a destination. It is kept
// small: a Decision is returned by value on every request.
type selector struct {
	workflowType string
	slot         int32 // 0: the region's own namespace; else an isolated tenant's
	priority     uint8 // index into priorities
}

// priorities are the priorities by selector index.
var priorities = [...]Priority{PriorityNormal, PriorityHigh, PriorityLow}

func priorityIndex(pr Priority) uint8 {
	switch pr {
	case PriorityHigh:
		return 1
	case PriorityLow:
		return 2
	}
	return 0
}

// Destination returns the destination of the k-th candidate
// (Candidates[k]). It does not allocate for workflow types the policy was
// compiled with.
func (d *Decision) Destination(k int) Destination {
	return d.policy.destinationOf(d.candidates[k], d.sel)
}

// LawfulDestination returns the destination in a lawful region, available
// or not: where a retry of an id recorded there goes.
func (d *Decision) LawfulDestination(region string) (Destination, bool) {
	if d.policy == nil || d.route == nil {
		return Destination{}, false
	}
	for _, i := range d.route.order {
		if d.policy.regions[i].name == region {
			return d.policy.destinationOf(i, d.sel), true
		}
	}
	return Destination{}, false
}

// destinations lists every candidate's destination, in order, for
// Explain. It allocates; the request path uses Destination.
func (d *Decision) destinations() []Destination {
	out := make([]Destination, len(d.candidates))
	for k := range d.candidates {
		out[k] = d.Destination(k)
	}
	return out
}

// TenantWorkflowID is the Temporal workflow id of a tenant's workflow id:
// "<tenant>:<id>". Two tenants may use the same id and get two workflows,
// in shared namespaces too. An anonymous caller's id is the Temporal id
// as it is, so it may not contain ':' (CheckAnonymousID); tenant names
// never do.
func TenantWorkflowID(tenant, id string) string {
	if tenant == "" {
		return id
	}
	return tenant + ":" + id
}

// ErrReservedID: an anonymous caller's workflow id contains ':', which
// would let it name a tenant's workflow.
var ErrReservedID = errors.New("':' in a workflowId is reserved for tenants' ids; authenticate to use your tenant's ids")

// CheckAnonymousID refuses an anonymous caller's id that could collide
// with a tenant's Temporal workflow id.
func CheckAnonymousID(id string) error {
	if strings.Contains(id, ":") {
		return ErrReservedID
	}
	return nil
}

// TenantNamespaceIn is the namespace a tenant's workflows have in a
// region (the region's own for tenants that are not isolated), and false
// for a region not in the policy.
func (p *Policy) TenantNamespaceIn(region, tenant string) (string, bool) {
	for i := range p.regions {
		if p.regions[i].name == region {
			slot := 0
			if tenant != "" {
				slot = p.slots[tenant]
			}
			return p.regions[i].namespaces[slot], true
		}
	}
	return "", false
}

// StillLawful reports whether region may still hold this decision's data
// under cur, the policy in force now: a compliance edit may have narrowed
// residency, or removed the region, since the decision was made. A start
// not yet sent must follow the policy in force when it is sent. A nil cur,
// or the decision's own policy, changes nothing.
func (d *Decision) StillLawful(cur *Policy, region string) bool {
	if cur == nil || cur == d.policy {
		return true
	}
	if d.policy == nil {
		return false
	}
	name := d.policy.classes[d.class].Name
	class := slices.IndexFunc(cur.classes, func(c configs.Classification) bool { return c.Name == name })
	if class < 0 {
		return false
	}
	for _, i := range cur.routes[class][d.country].order {
		if cur.regions[i].name == region {
			return true
		}
	}
	return false
}
