package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/router/location"
)

// StartBody is the body of POST /v1/workflows (and of route/explain).
type StartBody struct {
	WorkflowType       string          `json:"workflowType"`
	WorkflowID         string          `json:"workflowId,omitempty"`
	Tenant             string          `json:"tenant,omitempty"`
	UserLocation       string          `json:"userLocation"`
	DataClassification string          `json:"dataClassification"`
	Priority           string          `json:"priority,omitempty"`
	Input              json.RawMessage `json:"input,omitempty"`
}

// DecodeStart reads a start body strictly (jsonbody.Decode: size cap,
// unknown fields, trailing data, duplicate keys, depth), then checks what
// only a start needs: input is an object, the id is bounded, the tenant (if
// any) is a canonical tenant name.
func DecodeStart(r io.Reader, limit int64) (StartBody, error) {
	var b StartBody
	if err := jsonbody.Decode(r, limit, &b); err != nil {
		return StartBody{}, err
	}
	if err := b.check(); err != nil {
		return StartBody{}, err
	}
	return b, nil
}

// check is what a start body needs beyond strict decoding (it clears a
// null input).
func (b *StartBody) check() error {
	if len(b.Input) > 0 && b.Input[0] != '{' && string(b.Input) != "null" {
		return errors.New("input must be a JSON object")
	}
	if string(b.Input) == "null" {
		b.Input = nil
	}
	if b.WorkflowID != "" {
		if err := checkName("workflowId", b.WorkflowID); err != nil {
			return err
		}
	}
	if b.Tenant != "" && !configs.ValidTenant(b.Tenant) {
		return errBadTenant(b.Tenant)
	}
	return nil
}

// routerRequest turns a body into the router's view of it.
func (b StartBody) routerRequest() router.Request {
	return router.Request{
		Location:     b.UserLocation,
		Class:        b.DataClassification,
		Tenant:       b.Tenant,
		WorkflowType: b.WorkflowType,
		Priority:     router.Priority(b.Priority),
	}
}

// workflowID picks the id: the body's, else one derived from the tenant and
// Idempotency-Key (so a retried request maps to the same workflow), else new.
func workflowID(b StartBody, idempotencyKey string) string {
	switch {
	case b.WorkflowID != "":
		return b.WorkflowID
	case idempotencyKey != "":
		return IdempotentWorkflowID(b.Tenant, idempotencyKey)
	}
	return "wf-" + uuid.NewString()
}

// IdempotentWorkflowID is the workflow id of a tenant's start that names
// no workflowId but carries an Idempotency-Key: the same tenant and key
// always give the same id (a client that never saw the answer can still
// name the workflow).
func IdempotentWorkflowID(tenant, idempotencyKey string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + idempotencyKey))
	return "idem-" + hex.EncodeToString(sum[:16])
}

// parseStart decodes and validates a start body and works out the user's
// country; on bad input it writes the problem and returns false.
func (s *Server) parseStart(c *gin.Context, l *live) (StartBody, bool) {
	b, err := DecodeStart(c.Request.Body, l.policy.Config().MaxBodyBytes())
	if err != nil {
		failBody(c, err)
		return b, false
	}
	return b, s.validateStart(c, l, &b)
}

// validateStart checks a decoded start body against the config in force
// and sets its country (from the body, a trusted header or GeoIP); on bad
// input it writes the problem and returns false.
func (s *Server) validateStart(c *gin.Context, l *live, b *StartBody) bool {
	if !s.types[b.WorkflowType] {
		fail(c, kindBadRequest, fmt.Sprintf("unknown workflowType %q", b.WorkflowType))
		return false
	}
	country, source, err := l.resolver.Resolve(location.Input{
		Body: b.UserLocation, Header: c.Request.Header, RemoteAddr: c.Request.RemoteAddr,
	})
	if err != nil {
		fail(c, kindBadRequest, err.Error())
		return false
	}
	b.UserLocation = country
	c.Header("X-Location-Source", source)
	if err := l.policy.Validate(b.routerRequest()); err != nil {
		fail(c, kindBadRequest, err.Error())
		return false
	}
	return true
}

// route decides where a validated start goes and records the decision.
func (s *Server) route(c *gin.Context, pol *router.Policy, req router.Request, snap router.Snapshot) (router.Decision, error) {
	d, err := pol.Decide(req, snap)
	if err != nil {
		// A refusal is worth explaining in full; it is off the hot path.
		d, err = pol.Explain(req, snap)
	}
	s.recordDecision(c, req, d, err)
	return d, err
}

// routingError answers a refused decision; it reports whether the router
// refused it (422 or 503) rather than the request being bad (400).
func (s *Server) routingError(c *gin.Context, d router.Decision, err error) (refused bool) {
	switch {
	case errors.Is(err, router.ErrNoLawfulRegion):
		p := newProblem(kindNoLawfulRegion, err.Error())
		p.Decision = d
		writeProblem(c, p)
	case errors.Is(err, router.ErrNoRegionAvailable):
		p := newProblem(kindNoRegionAvailable, err.Error())
		p.Decision = d
		writeProblem(c, p)
	default:
		fail(c, kindBadRequest, err.Error())
		return false
	}
	return true
}

func (s *Server) start(c *gin.Context) {
	began := time.Now()
	defer func() { s.lat.record(began, time.Since(began)) }()
	l := s.live.Load()
	if b, ok := s.parseStart(c, l); ok {
		s.place(c, l, b, nil)
	}
}

// place starts the workflow of a validated start body where the policy and
// the routing records say (regions.Start), or, with a signal, signals it
// there, starting it if needed: the tenant's quota, the decision and the
// drills' accounts are the same for both.
func (s *Server) place(c *gin.Context, l *live, b StartBody, signal *regions.Signal) {
	var ok bool
	if b.Tenant, ok = requestTenant(c, b.Tenant); !ok {
		return
	}
	// Before any routing work: a limited tenant costs as little as possible.
	release, over := s.limits.acquire(b.Tenant)
	if over != "" {
		s.limited(c, b.Tenant, over)
		return
	}
	defer release()
	id := workflowID(b, c.GetHeader("Idempotency-Key"))
	tid, ok := temporalID(c, b.Tenant, id)
	if !ok {
		return
	}
	req := b.routerRequest()
	snap, undrilled, drills := s.routingState()
	var outcome startOutcome
	if len(drills) > 0 {
		// Where it would have gone without the drills, for their reports.
		if home, err := l.policy.Decide(req, undrilled); err == nil {
			defer func() {
				outcome.status = c.Writer.Status()
				s.countForDrills(home.Region, drills, outcome)
			}()
		}
	}
	d, routeErr := s.route(c, l.policy, req, snap)
	// With no region available the id may still have one recorded (a
	// drained region holds it, say): regions.Start finds it, or answers
	// ErrNoCandidates and the refusal stands.
	if routeErr != nil && !errors.Is(routeErr, router.ErrNoRegionAvailable) {
		outcome.refused = s.routingError(c, d, routeErr)
		return
	}
	s.enterRegion(c, d.Region)
	st, err := s.regions.Start(c.Request.Context(), d, regions.StartRequest{
		WorkflowID:   tid,
		WorkflowType: b.WorkflowType,
		Input:        b.Input,
		Signal:       signal,
	})
	switch {
	case errors.Is(err, regions.ErrNoCandidates):
		outcome.refused = s.routingError(c, d, routeErr)
		return
	case err != nil:
		s.regionError(c, id, err)
		return
	}
	outcome.landed = st.Region
	st.WorkflowID = id          // the caller's id, not the Temporal one
	c.Set(ctxRegion, st.Region) // where it went, for the request metrics
	status := http.StatusCreated
	if st.Existing {
		status = http.StatusOK
	}
	c.JSON(status, st)
}

// limited answers a start over its caller's quota: 429 with Retry-After.
func (s *Server) limited(c *gin.Context, tenant string, over limitReason) {
	who := fmt.Sprintf("tenant %q", tenant)
	if tenant == "" {
		who = "anonymous callers"
	}
	if over == overInFlight {
		fail(c, kindRateLimited, who+" already have their limit of starts in progress; retry when one is done")
		return
	}
	fail(c, kindRateLimited, who+" are over their rate limit")
}

// regionError maps a regions error to a problem. Details of the failure
// (addresses, gRPC messages) go to the log with the request id, not to
// the client.
func (s *Server) regionError(c *gin.Context, id string, err error) {
	writeProblem(c, s.regionProblem(c, id, err))
}

// regionProblem is the problem regionError sends, for a handler that adds
// to it.
func (s *Server) regionProblem(c *gin.Context, id string, err error) Problem {
	var p Problem
	var update *regions.UpdateError
	switch {
	case errors.As(err, &update) && update.Rejected:
		p = newProblem(kindUpdateRejected, "the workflow rejected the update, so nothing ran: "+update.Message)
	case errors.As(err, &update):
		p = newProblem(kindUpdateFailed, "the workflow ran the update and it failed: "+update.Message)
	case errors.Is(err, regions.ErrUpdateTimeout):
		p = newProblem(kindUpdateTimeout, "the update had no outcome in time; it may still complete: send it again with the updateId as Idempotency-Key to wait for it (it runs at most once)")
	case errors.Is(err, regions.ErrClosed):
		p = newProblem(kindWorkflowClosed, "workflow "+id+" has closed and its id is not reused: nothing was delivered")
	case errors.Is(err, regions.ErrNotFound):
		p = newProblem(kindWorkflowNotFound, "no region holds workflow "+id)
	case errors.Is(err, regions.ErrConflict):
		p = newProblem(kindWorkflowIDConflict, "workflow id "+id+" already belongs to a region this request may not use")
	case errors.Is(err, regions.ErrUnknownOutcome):
		p = newProblem(kindUnknownOutcome, "the start may or may not have reached its region; retry with the same workflowId")
	case errors.Is(err, regions.ErrRecordsUnavailable):
		p = newProblem(kindRecordsUnavailable, "the routing records store cannot be reached now, so no workflow is started (nothing was sent); retry with the same workflowId")
	case errors.Is(err, regions.ErrUnavailable):
		p = newProblem(kindRegionUnreachable, "the region holding or chosen for this workflow cannot be reached now; retry with the same workflowId")
	case errors.Is(err, regions.ErrNotLawful):
		p = newProblem(kindNoLawfulRegion, "the region config changed while this start was in flight and no region it chose may hold this data now; nothing was sent")
	case regions.IsCallerError(err):
		p = newProblem(kindBadRequest, err.Error())
	default:
		p = newProblem(kindUpstreamError, "the regional cluster returned an unexpected error; request id "+c.GetString(requestIDHeader))
	}
	if p.Status >= 500 || errors.Is(err, regions.ErrConflict) {
		s.log.Warn("regional call failed", "request_id", c.GetString(requestIDHeader), "status", p.Status, "error", err)
	}
	p.WorkflowID = id
	return p
}

func (s *Server) describe(c *gin.Context) {
	loc, ok := s.locate(c)
	if !ok {
		return
	}
	d, err := loc.Describe(c.Request.Context())
	if err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	d.WorkflowID = c.Param("id") // the caller's id, not the Temporal one
	c.JSON(200, d)
}

func (s *Server) query(c *gin.Context) {
	if !pathNames(c) || builtinName(c, "query", c.Param("query")) {
		return
	}
	loc, ok := s.locate(c)
	if !ok || !s.mayHold(c, loc, c.Query("userLocation"), c.Query("dataClassification")) {
		return
	}
	res, err := loc.Query(c.Request.Context(), c.Param("query"))
	if err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	c.JSON(200, gin.H{"result": res})
}

// SignalBody is the body of a signal. UserLocation and DataClassification,
// when given, say what the signal carries: it is refused unless the
// workflow's region may hold that data.
type SignalBody struct {
	Input              json.RawMessage `json:"input,omitempty"`
	UserLocation       string          `json:"userLocation,omitempty"`
	DataClassification string          `json:"dataClassification,omitempty"`
}

// signalBody reads the body of a signal or an update; an empty body is no
// input. On a bad one it answers and returns false.
func (s *Server) signalBody(c *gin.Context) (SignalBody, bool) {
	var b SignalBody
	opts := jsonbody.Options{Limit: s.Policy().Config().MaxBodyBytes(), AllowEmpty: true}
	if err := opts.Decode(c.Request.Body, &b); err != nil {
		failBody(c, err)
		return b, false
	}
	if string(b.Input) == "null" {
		b.Input = nil
	}
	return b, true
}

func (s *Server) signal(c *gin.Context) {
	if !pathNames(c) || builtinName(c, "signal", c.Param("signal")) {
		return
	}
	b, ok := s.signalBody(c)
	if !ok {
		return
	}
	loc, ok := s.locate(c)
	if !ok || !s.mayHold(c, loc, b.UserLocation, b.DataClassification) {
		return
	}
	if err := loc.Signal(c.Request.Context(), c.Param("signal"), b.Input); err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	c.JSON(202, gin.H{"workflowId": c.Param("id"), "signal": c.Param("signal")})
}

func (s *Server) cancel(c *gin.Context) {
	loc, ok := s.locate(c)
	if !ok {
		return
	}
	if err := loc.Cancel(c.Request.Context()); err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	c.JSON(202, gin.H{"workflowId": c.Param("id"), "cancelRequested": true})
}

// mayHold checks data a signal or query carries against the residency of
// the workflow's region: when the request says whose data it is (both
// userLocation and dataClassification), a region that may not hold it is a
// 422 and nothing is sent.
func (s *Server) mayHold(c *gin.Context, loc regions.Location, location, class string) bool {
	if location == "" && class == "" {
		return true
	}
	if location == "" || class == "" {
		fail(c, kindBadRequest, "send userLocation and dataClassification together")
		return false
	}
	pol := s.Policy()
	d, err := pol.Decide(router.Request{Location: location, Class: class}, nil)
	switch {
	case errors.Is(err, router.ErrNoLawfulRegion):
	case err != nil:
		fail(c, kindBadRequest, err.Error())
		return false
	case slices.Contains(d.Lawful, loc.Region.Name()):
		return true
	}
	p := newProblem(kindNoLawfulRegion, fmt.Sprintf("%s data of %s may not be stored in %s, where workflow %s runs; nothing was sent",
		class, location, loc.Region.Name(), c.Param("id")))
	p.Decision = d
	writeProblem(c, p)
	return false
}
