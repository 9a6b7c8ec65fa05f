package workflows_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

func randomCodec(t *testing.T, id string) *codec.Codec {
	t.Helper()
	k, err := codec.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New([]codec.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawHistory is every event of the run as stored, serialized, read by a
// client without the codec.
func rawHistory(t *testing.T, raw client.Client, id string) []byte {
	t.Helper()
	var out bytes.Buffer
	iter := raw.GetWorkflowHistory(ctxFor(t, 10*time.Second), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	if out.Len() == 0 {
		t.Fatal("empty history")
	}
	return out.Bytes()
}

func TestPIIBookingHistoryHoldsNoPlaintext(t *testing.T) {
	key := randomCodec(t, "test-1")
	worker := dial(t, codec.ClientOptions(client.Options{}, key))
	gateway := dial(t, codec.ClientOptions(client.Options{}, key))
	raw := dial(t, client.Options{})
	queue := taskQueue(t)
	startPool(t, worker, queue, workflows.NewActivities())
	ctx := ctxFor(t, time.Minute)

	tests := []struct {
		name, property, card string
		secrets              []string
		wantFailure          string // "" means it completes
	}{
		{name: "confirmed", property: "p-PLAINTEXT-XYZ", card: "tok_visa_SECRET123",
			secrets: []string{"p-PLAINTEXT-XYZ", "tok_visa_SECRET123", "PLAINTEXT", "SECRET123"}},
		{name: "refunded", property: "p-unavailable", card: "tok_visa_SECRET456",
			secrets: []string{"tok_visa_SECRET456", "SECRET456", "was refunded"}, wantFailure: "was refunded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := queue + "-" + tt.name
			// As the gateway sends it: the client's JSON, untouched.
			input := json.RawMessage(`{"propertyId":"` + tt.property + `","nights":2,"amountCents":25000,"cardToken":"` + tt.card + `"}`)
			run, err := gateway.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, "PropertyBooking", input)
			if err != nil {
				t.Fatal(err)
			}
			var result json.RawMessage
			err = run.Get(ctx, &result)
			checkOutcome(t, result, err, tt.wantFailure)

			history := rawHistory(t, raw, id)
			for _, s := range tt.secrets {
				if bytes.Contains(history, []byte(s)) {
					t.Errorf("the stored history holds %q in plain text", s)
				}
			}
			if !bytes.Contains(history, []byte(codec.EncodingEncrypted)) {
				t.Error("no encrypted payload in the history")
			}
			var status string
			if v, err := gateway.QueryWorkflow(ctx, id, "", workflows.QueryStatus); err != nil || v.Get(&status) != nil {
				t.Fatalf("query through the codec: %v", err)
			}
		})
	}
}

func checkOutcome(t *testing.T, result json.RawMessage, err error, wantFailure string) {
	t.Helper()
	if wantFailure == "" {
		var res workflows.BookingResult
		if err != nil || json.Unmarshal(result, &res) != nil || res.Status != "confirmed" || res.ChargeID == "" {
			t.Fatalf("result %s, error %v", result, err)
		}
		return
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !strings.Contains(appErr.Message(), wantFailure) {
		t.Fatalf("want a failure saying %q through the codec, got %v", wantFailure, err)
	}
}

func TestReadingWithoutTheKeyFails(t *testing.T) {
	key := randomCodec(t, "right")
	worker := dial(t, codec.ClientOptions(client.Options{}, key))
	queue := taskQueue(t)
	startPool(t, worker, queue, workflows.NewActivities())
	ctx := ctxFor(t, time.Minute)
	run, err := worker.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "PropertyBooking",
		workflows.BookingInput{PropertyID: "p-1", Nights: 1, AmountCents: 100, CardToken: "tok_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]client.Options{
		"no codec":              {},
		"wrong key":             codec.ClientOptions(client.Options{}, randomCodec(t, "wrong")),
		"same id, other secret": codec.ClientOptions(client.Options{}, randomCodec(t, "right")),
	} {
		t.Run(name, func(t *testing.T) {
			var res workflows.BookingResult
			err := dial(t, opts).GetWorkflow(ctx, queue, "").Get(ctx, &res)
			if err == nil {
				t.Fatalf("read the result without the key: %+v", res)
			}
		})
	}
}
