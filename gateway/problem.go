package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

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
}

// problemTypes gives every status we send a stable type URI and title.
var problemTypes = map[int][2]string{
	http.StatusBadRequest:            {"bad-request", "Bad request"},
	http.StatusUnauthorized:          {"unauthorized", "Missing or invalid token"},
	http.StatusForbidden:             {"forbidden", "Token lacks the role"},
	http.StatusNotFound:              {"not-found", "Not found"},
	http.StatusMethodNotAllowed:      {"method-not-allowed", "Method not allowed"},
	http.StatusConflict:              {"conflict", "Conflict"},
	http.StatusPreconditionFailed:    {"precondition-failed", "Precondition failed"},
	http.StatusRequestEntityTooLarge: {"body-too-large", "Request body too large"},
	http.StatusUnsupportedMediaType:  {"unsupported-media-type", "Unsupported media type"},
	http.StatusUnprocessableEntity:   {"no-lawful-region", "No region may lawfully hold this data"},
	428:                              {"precondition-required", "Precondition required"},
	http.StatusTooManyRequests:       {"rate-limited", "Tenant rate limit exceeded"},
	http.StatusInternalServerError:   {"internal", "Internal error"},
	http.StatusBadGateway:            {"upstream-error", "Regional cluster error"},
	http.StatusServiceUnavailable:    {"unavailable", "No lawful region is available now"},
}

// problemTypeBase prefixes every problem type URI.
const problemTypeBase = "https://regiongate.dev/problems/"

func newProblem(status int, detail string) Problem {
	t, ok := problemTypes[status]
	if !ok {
		t = [2]string{"error", http.StatusText(status)}
	}
	return Problem{Type: problemTypeBase + t[0], Title: t[1], Status: status, Detail: detail}
}

// writeProblem sends p as application/problem+json and stops the chain.
func writeProblem(c *gin.Context, p Problem) {
	if p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests {
		c.Header("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	body, _ := json.Marshal(p)
	c.Data(p.Status, "application/problem+json", body)
	c.Abort()
}

func fail(c *gin.Context, status int, detail string) {
	writeProblem(c, newProblem(status, detail))
}

// failBody answers a body that could not be read (jsonbody's errors): 413
// when it is over the limit, else 400.
func failBody(c *gin.Context, err error) {
	if errors.Is(err, jsonbody.ErrTooLarge) {
		fail(c, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	fail(c, http.StatusBadRequest, err.Error())
}

// retryAfterSeconds is what 503 and 429 ask clients to wait: about one
// breaker probe or health interval.
const retryAfterSeconds = 2
