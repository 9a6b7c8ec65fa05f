package gateway

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
)

// Whoami is GET /admin/v1/whoami: the token's name and every role it
// holds (admin holds them all; compliance and operator hold viewer), so a
// console offers only what the token may do.
type Whoami struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (s *Server) whoami(c *gin.Context) {
	t := c.MustGet(tokenKey).(Token)
	out := Whoami{Name: t.Name, Roles: []string{}}
	for _, r := range roles {
		if t.Has(r) {
			out.Roles = append(out.Roles, r)
		}
	}
	c.JSON(200, out)
}

// DrainImpact is GET /admin/v1/regions/{name}/drain-impact: who a drain
// of the region would turn away now.
type DrainImpact struct {
	Region string `json:"region"`
	// WouldRefuse lists the jurisdictions (or countries in none) whose
	// resident data has an available lawful region now and would have
	// none with this region drained as well; empty when nobody.
	WouldRefuse []string `json:"wouldRefuse"`
}

func (s *Server) drainImpact(c *gin.Context) {
	name := c.Param("name")
	if _, ok := s.regions.Region(name); !ok {
		fail(c, kindRegionNotFound, fmt.Sprintf("%v %q", regions.ErrUnknownRegion, name))
		return
	}
	c.JSON(200, DrainImpact{Region: name, WouldRefuse: nonNil(s.Policy().WouldRefuse(name, s.snapshot()))})
}

// RouteTable is GET /admin/v1/route/table: the routing matrix of the
// config in force (router.Table), with its version.
type RouteTable struct {
	Version string `json:"version"`
	router.Table
}

func (s *Server) routeTable(c *gin.Context) {
	pol := s.Policy()
	c.JSON(200, RouteTable{Version: pol.Config().Version(), Table: pol.Table()})
}

// WorkflowView is GET /admin/v1/workflows/{id}: where a tenant's
// workflow lives and its status, without its input, result or failure.
type WorkflowView struct {
	WorkflowID string `json:"workflowId"`
	Tenant     string `json:"tenant,omitempty"`
	RunID      string `json:"runId"`
	Region     string `json:"region"`
	Namespace  string `json:"namespace"`
	Status     string `json:"status"`
}

// lookupWorkflow finds a workflow for an operator. The id is the
// tenant's (the query's tenant; none for an anonymous caller's), looked
// up exactly as the client API looks up that tenant's id: another
// tenant's workflow of the same id is not found.
func (s *Server) lookupWorkflow(c *gin.Context) {
	if !pathNames(c) {
		return
	}
	tenant := c.Query("tenant")
	if tenant != "" && !configs.ValidTenant(tenant) {
		fail(c, kindBadRequest, errBadTenant(tenant).Error())
		return
	}
	loc, ok := s.locateAs(c, tenant, c.Param("id"))
	if !ok {
		return
	}
	d, err := loc.Describe(c.Request.Context())
	if err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	c.JSON(200, WorkflowView{WorkflowID: c.Param("id"), Tenant: tenant, RunID: d.RunID,
		Region: d.Region, Namespace: d.Namespace, Status: d.Status})
}
