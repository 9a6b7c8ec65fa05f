package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

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
// UI's), with payloads in its shorthand: a payload is written as a value,
// not as base64 with its metadata.
var eventJSON = temporalproto.CustomJSONMarshalOptions{
	Metadata: map[string]any{commonpb.EnablePayloadShorthandMetadataKey: true},
}

// renderEvents writes each event as eventJSON with every payload shown as
// the JSON value it holds (showAs). The shorthand itself would read a
// number through float64 (losing digits past 2^53) and write null in a
// form of its own, so each payload goes through it as a placeholder string
// that is then replaced by the payload's JSON, byte for byte.
func renderEvents(ctx context.Context, events []*historypb.HistoryEvent) ([]json.RawMessage, error) {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	r := placeholders{prefix: "regiongate-payload-" + hex.EncodeToString(nonce[:]) + "-"}
	opts := proxy.VisitPayloadsOptions{Visitor: r.visit}
	out := make([]json.RawMessage, 0, len(events))
	for _, e := range events {
		r.values = r.values[:0]
		if err := proxy.VisitPayloads(ctx, e, opts); err != nil {
			return nil, err
		}
		data, err := eventJSON.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", e.GetEventId(), err)
		}
		if data, err = r.expand(data); err != nil {
			return nil, fmt.Errorf("event %d: %w", e.GetEventId(), err)
		}
		out = append(out, data)
	}
	return out, nil
}

// placeholders stands in for the payloads of one event: "<prefix><n>"
// for the n-th, whose JSON is values[n]. The prefix holds a random nonce,
// so no string a workflow wrote can pass for one.
type placeholders struct {
	prefix string
	values [][]byte
}

func (r *placeholders) visit(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		name, _ := json.Marshal(r.prefix + strconv.Itoa(len(r.values)))
		r.values = append(r.values, showAs(p))
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: name}
	}
	return out, nil
}

// expand puts each payload's JSON where its placeholder was written.
func (r *placeholders) expand(data []byte) ([]byte, error) {
	quoted := []byte(`"` + r.prefix)
	var out []byte
	for {
		i := bytes.Index(data, quoted)
		if i < 0 {
			return append(out, data...), nil
		}
		rest := data[i+len(quoted):]
		end := bytes.IndexByte(rest, '"')
		n, err := strconv.Atoi(string(rest[:max(end, 0)]))
		if end < 0 || err != nil || n < 0 || n >= len(r.values) {
			return nil, fmt.Errorf("a payload placeholder the event does not have")
		}
		out = append(append(out, data[:i]...), r.values[n]...)
		data = rest[end+1:]
	}
}

// showAs is the JSON a payload is shown as: JSON as it is (compacted), a
// null payload as null, and anything else (raw bytes, a payload still
// encrypted because its key is not here) as an object saying what it is:
// {"payload": {"encoding", "bytes"}}.
func showAs(p *commonpb.Payload) []byte {
	enc := string(p.GetMetadata()["encoding"])
	var b bytes.Buffer
	switch {
	case enc == "binary/null":
		return []byte("null")
	case (enc == "json/plain" || enc == "json/protobuf") && json.Compact(&b, p.GetData()) == nil:
		return b.Bytes()
	}
	desc, _ := json.Marshal(map[string]any{"payload": map[string]any{"encoding": enc, "bytes": len(p.GetData())}})
	return desc
}
