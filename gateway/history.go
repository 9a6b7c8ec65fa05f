package gateway

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gin-gonic/gin"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/temporalproto"
)

// maxHistoryEvents bounds one history answer; a longer run's answer says
// truncated.
const maxHistoryEvents = 10_000

// HistoryAnswer is the body of GET /v1/workflows/{workflowId}/history.
type HistoryAnswer struct {
	WorkflowID string            `json:"workflowId"`
	RunID      string            `json:"runId"`
	Region     string            `json:"region"`
	Events     []json.RawMessage `json:"events"`
	Truncated  bool              `json:"truncated,omitempty"`
}

// history answers the events of the caller's workflow's latest run, each
// payload decoded by the region's codec and shown as the JSON it holds.
func (s *Server) history(c *gin.Context) {
	loc, ok := s.locate(c)
	if !ok {
		return
	}
	h, err := loc.History(c.Request.Context(), maxHistoryEvents)
	if err != nil {
		s.regionError(c, c.Param("id"), err)
		return
	}
	events, err := renderEvents(c.Request.Context(), h.Events)
	if err != nil {
		s.log.Error("rendering a history", "request_id", c.GetString(requestIDHeader), "error", err)
		fail(c, kindInternal, "internal error; request id "+c.GetString(requestIDHeader))
		return
	}
	c.JSON(200, HistoryAnswer{WorkflowID: c.Param("id"), RunID: h.RunID, Region: loc.Region.Name(), Events: events, Truncated: h.Truncated})
}

// eventJSON is Temporal's own JSON form of an event (the CLI's and the
// UI's), with payloads in its shorthand: a payload is the JSON value it
// holds, not base64.
var eventJSON = temporalproto.CustomJSONMarshalOptions{
	Metadata: map[string]any{commonpb.EnablePayloadShorthandMetadataKey: true},
}

// renderEvents writes each event as eventJSON, after making every payload
// one the shorthand can show (showable).
func renderEvents(ctx context.Context, events []*historypb.HistoryEvent) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(events))
	opts := proxy.VisitPayloadsOptions{Visitor: showable}
	for _, e := range events {
		if err := proxy.VisitPayloads(ctx, e, opts); err != nil {
			return nil, err
		}
		data, err := eventJSON.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", e.GetEventId(), err)
		}
		out = append(out, data)
	}
	return out, nil
}

// showable keeps JSON payloads (their metadata trimmed to the encoding, as
// the shorthand requires) and nulls, and stands in for anything else (raw
// bytes, a payload still encrypted because its key is not here) with a JSON
// object saying what it is: {"payload": {"encoding", "bytes"}}.
func showable(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		enc := string(p.GetMetadata()["encoding"])
		switch {
		case enc == "binary/null":
			out[i] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(enc)}}
		case (enc == "json/plain" || enc == "json/protobuf") && json.Valid(p.GetData()):
			out[i] = jsonPayload(p.GetData())
		default:
			desc, _ := json.Marshal(map[string]any{"payload": map[string]any{"encoding": enc, "bytes": len(p.GetData())}})
			out[i] = jsonPayload(desc)
		}
	}
	return out, nil
}

func jsonPayload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}
}
