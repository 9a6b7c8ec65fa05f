package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/base/jsonbody"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// WorkflowID is set when the problem concerns a known workflow id, so a
	// client can retry with it (e.g. after an unknown-outcome 503).
	WorkflowID string `json:"workflowId,omitempty"`
	// Decision explains a routing refusal (422, 503).
	Decision any `json:"decision,omitempty"`
	// Problems lists every problem of a refused config, with its place.
	Problems []configs.Problem `json:"problems,omitempty"`
	// WouldRefuse lists jurisdictions a drill would leave with no
	// available lawful region.
	WouldRefuse []string `json:"wouldRefuse,omitempty"`
	// UpdateID names the update a problem is about: sending the update
	// again with it as Idempotency-Key reaches the same update.
	UpdateID string `json:"updateId,omitempty"`
	// MissingRegions are the regions a listing could not ask.
	MissingRegions []string `json:"missingRegions,omitempty"`
}

// problemKind is why a request failed. Each kind has its own type URI
// and title, so causes that share a status stay apart for clients: a 503
// after an unknown outcome must be retried with the same id, one from
// /readyz means "send traffic elsewhere". docs/api.md lists them all.
// It is a struct, not a number, so that fail(c, 503, ...) does not compile.
type problemKind struct {
	slug   string // the type URI after problemTypeBase
	title  string // stable; the detail says what happened
	status int
}

// problemKinds is every kind in declaration order, for the tests.
var problemKinds []problemKind

func newKind(slug, title string, status int) problemKind {
	k := problemKind{slug: slug, title: title, status: status}
	problemKinds = append(problemKinds, k)
	return k
}

var (
	kindBadRequest           = newKind("bad-request", "Bad request", http.StatusBadRequest)
	kindConfigInvalid        = newKind("config-invalid", "Config refused", http.StatusBadRequest)
	kindUnauthorized         = newKind("unauthorized", "Missing or invalid token", http.StatusUnauthorized)
	kindForbidden            = newKind("forbidden", "Token lacks the role", http.StatusForbidden)
	kindClientUnauthorized   = newKind("client-unauthorized", "Missing or invalid client credential", http.StatusUnauthorized)
	kindTenantMismatch       = newKind("tenant-mismatch", "Not the credential's tenant", http.StatusForbidden)
	kindOriginRefused        = newKind("origin-refused", "Cross-origin request refused", http.StatusForbidden)
	kindWorkflowNotFound     = newKind("workflow-not-found", "No region holds this workflow", http.StatusNotFound)
	kindRegionNotFound       = newKind("region-not-found", "No such region", http.StatusNotFound)
	kindDrillNotFound        = newKind("drill-not-found", "No such drill", http.StatusNotFound)
	kindNoSuchEndpoint       = newKind("no-such-endpoint", "No such endpoint", http.StatusNotFound)
	kindMethodNotAllowed     = newKind("method-not-allowed", "Method not allowed", http.StatusMethodNotAllowed)
	kindWorkflowIDConflict   = newKind("workflow-id-conflict", "Workflow id held by another region", http.StatusConflict)
	kindWorkflowClosed       = newKind("workflow-closed", "Workflow already closed", http.StatusConflict)
	kindDrillConflict        = newKind("drill-conflict", "Region already has an active drill", http.StatusConflict)
	kindDrillWouldRefuse     = newKind("drill-would-refuse", "Drill would leave resident data without a region", http.StatusConflict)
	kindPreconditionFailed   = newKind("precondition-failed", "Config changed since it was read", http.StatusPreconditionFailed)
	kindBodyTooLarge         = newKind("body-too-large", "Request body too large", http.StatusRequestEntityTooLarge)
	kindUnsupportedMediaType = newKind("unsupported-media-type", "Body must be JSON", http.StatusUnsupportedMediaType)
	kindNoLawfulRegion       = newKind("no-lawful-region", "No region may lawfully hold this data", http.StatusUnprocessableEntity)
	kindUpdateRejected       = newKind("update-rejected", "The workflow rejected the update", http.StatusUnprocessableEntity)
	kindUpdateFailed         = newKind("update-failed", "The update failed", http.StatusUnprocessableEntity)
	kindPreconditionRequired = newKind("precondition-required", "If-Match required", http.StatusPreconditionRequired)
	kindRateLimited          = newKind("rate-limited", "Tenant rate limit exceeded", http.StatusTooManyRequests)
	kindInternal             = newKind("internal", "Internal error", http.StatusInternalServerError)
	kindDrainNotStored       = newKind("drain-not-stored", "Drain state not stored", http.StatusInternalServerError)
	kindConfigNotApplied     = newKind("config-not-applied", "Config stored but not applied", http.StatusInternalServerError)
	kindUpstreamError        = newKind("upstream-error", "Regional cluster error", http.StatusBadGateway)
	kindStoreError           = newKind("store-error", "Shared store unavailable", http.StatusBadGateway)
	kindUpdateTimeout        = newKind("update-timeout", "Update outcome not known in time", http.StatusGatewayTimeout)
	kindNoRegionAvailable    = newKind("no-region-available", "No lawful region is available now", http.StatusServiceUnavailable)
	kindRegionUnreachable    = newKind("region-unreachable", "The workflow's region cannot be reached now", http.StatusServiceUnavailable)
	kindUnknownOutcome       = newKind("unknown-outcome", "Start outcome unknown", http.StatusServiceUnavailable)
	kindRecordsUnavailable   = newKind("records-unavailable", "Routing records unavailable", http.StatusServiceUnavailable)
	kindNotReady             = newKind("not-ready", "Not ready", http.StatusServiceUnavailable)
	kindAuditUnavailable     = newKind("audit-unavailable", "Audit log unavailable", http.StatusServiceUnavailable)
)

// problemTypeBase prefixes every problem type URI.
const problemTypeBase = "https://regiongate.dev/problems/"

func newProblem(k problemKind, detail string) Problem {
	return Problem{Type: problemTypeBase + k.slug, Title: k.title, Status: k.status, Detail: detail}
}

// maxDetailBytes bounds a problem's detail. A detail may quote what the
// client sent (a path, an origin, a workflow type), and a quote of a 1 MiB
// body made a 6 MiB answer (JSON escapes "<" as six bytes); the fields a
// problem carries beside it (problems, decision) are not cut.
const maxDetailBytes = 1024

// writeProblem sends p as application/problem+json and stops the chain.
func writeProblem(c *gin.Context, p Problem) {
	if p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	p.Detail = clip(p.Detail, maxDetailBytes)
	body, _ := json.Marshal(p)
	c.Data(p.Status, "application/problem+json", body)
	c.Abort()
}

func fail(c *gin.Context, k problemKind, detail string) {
	writeProblem(c, newProblem(k, detail))
}

// clip cuts s to at most n bytes, at a rune boundary, marking the cut.
func clip(s string, n int) string {
	const mark = " [cut]"
	if len(s) <= n {
		return s
	}
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// failBody answers a body that could not be read (jsonbody's errors): 413
// when it is over the limit, else 400.
func failBody(c *gin.Context, err error) {
	if errors.Is(err, jsonbody.ErrTooLarge) {
		fail(c, kindBodyTooLarge, err.Error())
		return
	}
	fail(c, kindBadRequest, err.Error())
}

// retryAfterSeconds is what 503 and 429 ask clients to wait: about one
// breaker probe or health interval.
const retryAfterSeconds = 2
