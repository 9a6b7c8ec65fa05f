package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

func payload(encoding string, data []byte, more ...string) *commonpb.Payload {
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte(encoding)}, Data: data}
	for i := 0; i+1 < len(more); i += 2 {
		p.Metadata[more[i]] = []byte(more[i+1])
	}
	return p
}

// TestRenderedEventsShowPayloadsAsJSON: every payload is a JSON value in
// the rendered event, whatever it held: JSON as itself, null as null,
// anything else as a description, never base64.
func TestRenderedEventsShowPayloadsAsJSON(t *testing.T) {
	e := &historypb.HistoryEvent{
		EventId:   1,
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{
					payload("json/plain", []byte(`{"items":2}`)),
					payload("json/plain", []byte(`"typed"`), "type", "Keyword"),
					payload("binary/null", nil),
					payload("binary/plain", []byte{1, 2, 3}),
					payload("binary/encrypted", []byte("sealed"), "encryption-key-id", "k1"),
					payload("json/plain", []byte(`{not json`)),
					payload("json/plain", []byte(`{"big":12345678901234567890}`)),
				}},
			},
		},
	}
	out, err := renderEvents(context.Background(), []*historypb.HistoryEvent{e})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		EventID    string `json:"eventId"`
		EventType  string `json:"eventType"`
		Attributes struct {
			Input []json.RawMessage `json:"input"`
		} `json:"workflowExecutionStartedEventAttributes"`
	}
	if err := json.Unmarshal(out[0], &got); err != nil {
		t.Fatalf("%v: %s", err, out[0])
	}
	want := []string{
		`{"items":2}`, `"typed"`, `null`,
		`{"payload":{"bytes":3,"encoding":"binary/plain"}}`,
		`{"payload":{"bytes":6,"encoding":"binary/encrypted"}}`,
		`{"payload":{"bytes":9,"encoding":"json/plain"}}`,
		`{"big":12345678901234567890}`,
	}
	if got.EventID != "1" || got.EventType != "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED" || len(got.Attributes.Input) != len(want) {
		t.Fatalf("rendered %s", out[0])
	}
	for i, w := range want {
		// Compact forms compared: numbers as written, not as float64.
		var a, b bytes.Buffer
		if err := json.Compact(&a, got.Attributes.Input[i]); err != nil {
			t.Fatal(err)
		}
		_ = json.Compact(&b, []byte(w))
		if a.String() != b.String() {
			t.Errorf("payload %d shows as %s, want %s", i, got.Attributes.Input[i], w)
		}
	}
}
