package gateway

import (
	"encoding/json"
	"io"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
)

// SignalWithStartBody is the body of POST /v1/workflows/signal-with-start:
// a start body, and the signal to deliver.
type SignalWithStartBody struct {
	StartBody
	SignalName  string          `json:"signalName"`
	SignalInput json.RawMessage `json:"signalInput,omitempty"`
}

// DecodeSignalWithStart reads a signal-with-start body as strictly as a
// start body (DecodeStart), with a signal name that follows the rules of
// every name (and is not Temporal's own, which the caller checks).
func DecodeSignalWithStart(r io.Reader, limit int64) (SignalWithStartBody, error) {
	var b SignalWithStartBody
	if err := jsonbody.Decode(r, limit, &b); err != nil {
		return SignalWithStartBody{}, err
	}
	if err := b.check(); err != nil {
		return SignalWithStartBody{}, err
	}
	if err := checkName("signalName", b.SignalName); err != nil {
		return SignalWithStartBody{}, err
	}
	if string(b.SignalInput) == "null" {
		b.SignalInput = nil
	}
	return b, nil
}

// signalWithStart signals the workflow, starting it first if it is not
// running: placed exactly as a start (residency, preference, routing
// records), 201 when it started the workflow, 200 when the run was there.
func (s *Server) signalWithStart(c *gin.Context) {
	began := time.Now()
	defer func() { s.lat.record(began, time.Since(began)) }()
	l := s.live.Load()
	b, err := DecodeSignalWithStart(c.Request.Body, l.policy.Config().MaxBodyBytes())
	if err != nil {
		failBody(c, err)
		return
	}
	if builtinName(c, "signal", b.SignalName) || !s.validateStart(c, l, &b.StartBody) {
		return
	}
	s.place(c, l, b.StartBody, &regions.Signal{Name: b.SignalName, Input: b.SignalInput})
}
