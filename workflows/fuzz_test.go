package workflows

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzInputs: a workflow's input is whatever a client put in a start's
// "input" (the gateway only checks it is a JSON object). Each input type
// decodes it as the SDK does (encoding/json) and validates it without a
// panic; what it accepts is within the workflow's bounds; a refusal names
// no value the client sent (failure messages are stored in plain text);
// and the signals' inputs (note, propertyUpdated) stay bounded in the
// state they are kept in.
func FuzzInputs(f *testing.F) {
	for _, s := range []string{
		`{"propertyId":"p-1","nights":2,"amountCents":1000,"cardToken":"tok_visa"}`,
		`{"propertyId":"p-1","nights":366,"amountCents":-1,"cardToken":""}`,
		`{"items":3,"itemDelayMs":10}`,
		`{"items":-1,"itemDelayMs":60001}`,
		`{"propertyId":"prop-secret-77","pages":10,"pageDelayMs":5}`,
		`{"datasetId":"ds-1","records":100000,"batchSize":100}`,
		`{"batchSize":10,"maxPerRun":100}`,
		`{"batchSize":9223372036854775807,"maxPerRun":9223372036854775807}`,
		`{"batchSize":10,"maxPerRun":100,"processedTotal":9223372036854775800,"run":3}`,
		`{"text":"hello","fields":["price","title"]}`,
		`{"nights":1e3}`, `[]`, `null`, `{"items":"3"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b BookingInput
		if json.Unmarshal(data, &b) == nil {
			checkRefusal(t, b.validate(), b.PropertyID, b.CardToken)
			if b.validate() == nil && (b.PropertyID == "" || b.CardToken == "" || b.Nights < 1 || b.Nights > maxNights || b.AmountCents <= 0) {
				t.Fatalf("accepted %+v", b)
			}
		}
		var p DataProcessingInput
		if json.Unmarshal(data, &p) == nil && p.validate() == nil && (p.Items < 0 || p.Items > maxProcessingItems || p.ItemDelayMs < 0 || p.ItemDelayMs > maxItemDelayMs) {
			t.Fatalf("accepted %+v", p)
		}
		var s PropertyDataSyncInput
		if json.Unmarshal(data, &s) == nil {
			checkRefusal(t, s.validate(), s.PropertyID)
			if s.validate() == nil && (s.PropertyID == "" || s.Pages < 0 || s.Pages > maxSyncPages || s.PageDelayMs < 0 || s.PageDelayMs > maxPageDelayMs) {
				t.Fatalf("accepted %+v", s)
			}
		}
		var d DataSyncInput
		if json.Unmarshal(data, &d) == nil {
			checkRefusal(t, d.validate(), d.DatasetID)
			if d.validate() == nil && (d.DatasetID == "" || len(d.DatasetID) > maxDatasetIDBytes || d.batches() > maxDataSyncBatches) {
				t.Fatalf("accepted %+v", d)
			}
		}
		var l LongRunningInput
		if json.Unmarshal(data, &l) == nil && l.validate() == nil {
			// A run ends after maxPerRun items and the next starts with the
			// totals: they must not overflow, and must validate again
			// until they reach their bound (which runs never do).
			if l.ProcessedTotal > math.MaxInt-l.MaxPerRun || l.Run == math.MaxInt {
				t.Fatalf("accepted %+v, whose next run's totals overflow", l)
			}
			next := LongRunningInput{BatchSize: l.BatchSize, MaxPerRun: l.MaxPerRun, ProcessedTotal: l.ProcessedTotal + l.MaxPerRun, Run: max(l.Run, 1) + 1}
			if err := next.validate(); err != nil && next.ProcessedTotal <= maxLongRunningTotal && next.Run <= maxLongRunningTotal {
				t.Fatalf("accepted %+v, but its next run %+v is refused: %v", l, next, err)
			}
		}
		checkSignals(t, data)
	})
}

// checkRefusal: a validation error quotes none of the client's strings.
func checkRefusal(t *testing.T, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, v := range values {
		if len(v) >= 4 && strings.Contains(err.Error(), v) {
			t.Fatalf("refusal %q names the input value %q", err, v)
		}
	}
}

// checkSignals: a note is kept cut to maxNoteBytes at a rune boundary,
// at most maxNotes of them; a propertyUpdated signal adds at most
// maxPendingFields fields, each bounded.
func checkSignals(t *testing.T, data []byte) {
	var n Note
	if json.Unmarshal(data, &n) == nil {
		p := &processing{}
		for range maxNotes + 1 {
			p.addNote(n.Text)
		}
		for _, kept := range p.notes {
			if len(kept) > maxNoteBytes || !strings.HasPrefix(n.Text, kept) || utf8.ValidString(n.Text) && !utf8.ValidString(kept) {
				t.Fatalf("note %q kept as %q", n.Text, kept)
			}
		}
		if len(p.notes) > maxNotes {
			t.Fatalf("%d notes kept", len(p.notes))
		}
	}
	var u PropertyUpdate
	if json.Unmarshal(data, &u) == nil {
		s := newPropertySync()
		for range maxPendingFields + 1 {
			s.accept(u, u.PropertyID)
		}
		if len(s.updates.Pending) > maxPendingFields {
			t.Fatalf("%d fields pending", len(s.updates.Pending))
		}
		for _, f := range s.updates.Pending {
			if f == "" || len(f) > maxFieldNameBytes {
				t.Fatalf("pending field %q", f)
			}
		}
	}
}
