package gateway

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
)

// TerminateBody is the body of a terminate; it may be left out.
type TerminateBody struct {
	Reason string `json:"reason,omitempty"`
}

// maxReasonBytes bounds a termination reason: it is kept in the history.
const maxReasonBytes = 1024

func (s *Server) terminate(c *gin.Context) {
	var b TerminateBody
	opts := jsonbody.Options{Limit: s.Policy().Config().MaxBodyBytes(), AllowEmpty: true}
	if err := opts.Decode(c.Request.Body, &b); err != nil {
		failBody(c, err)
		return
	}
	if len(b.Reason) > maxReasonBytes || !utf8.ValidString(b.Reason) {
		fail(c, kindBadRequest, fmt.Sprintf("reason must be valid UTF-8 of at most %d bytes", maxReasonBytes))
		return
	}
	loc, ok := s.locate(c)
	if !ok {
		return
	}
	if err := loc.Terminate(c.Request.Context(), b.Reason); err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	c.JSON(202, gin.H{"workflowId": c.Param("id"), "terminated": true})
}

// update runs an update of the caller's workflow and answers its result.
// The body is a signal's (input, and optionally whose data it carries).
// The update id is the Idempotency-Key, else a new one: sending the same
// update again with it reaches the same update, so a client whose wait
// ran out learns the outcome without running it twice.
func (s *Server) update(c *gin.Context) {
	if !pathNames(c) || builtinName(c, "update", c.Param("update")) {
		return
	}
	updateID := c.GetHeader("Idempotency-Key")
	if updateID == "" {
		updateID = "upd-" + uuid.NewString()
	} else if err := checkName("Idempotency-Key", updateID); err != nil {
		fail(c, kindBadRequest, err.Error())
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
	res, err := loc.Update(c.Request.Context(), regions.UpdateRequest{ID: updateID, Name: c.Param("update"), Input: b.Input})
	if err != nil {
		p := s.regionProblem(c, c.Param("id"), err)
		p.UpdateID = updateID
		writeProblem(c, p)
		return
	}
	if res == nil {
		res = json.RawMessage("null")
	}
	c.JSON(200, gin.H{"result": res, "updateId": updateID})
}
