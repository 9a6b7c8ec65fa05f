package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
)

const validStart = `{"workflowType":"PropertyBooking","workflowId":"wf-1","tenant":"acme",` +
	`"userLocation":"DE","dataClassification":"pii","priority":"high","input":{"nights":2}}`

func TestDecodeStart(t *testing.T) {
	long := strings.Repeat("a", maxIDLen)
	tests := []struct {
		name    string
		body    string
		want    *StartBody // nil: an error is expected
		errFrag string     // fragment of the error, when one is expected
	}{
		{"valid body", validStart, &StartBody{
			WorkflowType: "PropertyBooking", WorkflowID: "wf-1", Tenant: "acme", UserLocation: "DE",
			DataClassification: "pii", Priority: "high", Input: json.RawMessage(`{"nights":2}`),
		}, ""},
		{"optional fields omitted", `{"workflowType":"T","userLocation":"US","dataClassification":"public"}`,
			&StartBody{WorkflowType: "T", UserLocation: "US", DataClassification: "public"}, ""},
		{"surrounding whitespace", " \n\t" + `{"workflowType":"T", "input" :  {"a":[1]} }` + "\n ",
			&StartBody{WorkflowType: "T", Input: json.RawMessage(`{"a":[1]}`)}, ""},
		{"null input becomes nil", `{"workflowType":"T","input":null}`, &StartBody{WorkflowType: "T"}, ""},
		{"workflowId at the length limit", `{"workflowId":"` + long + `"}`, &StartBody{WorkflowID: long}, ""},
		{"unicode workflowId", `{"workflowId":"Buchung-\u00fcber-M\u00fcnchen"}`, &StartBody{WorkflowID: "Buchung-über-München"}, ""},
		{"unknown field", `{"workflowType":"T","colour":"blue"}`, nil, "colour"},
		{"trailing object", validStart + ` {"workflowType":"T"}`, nil, "after the object"},
		{"trailing garbage", validStart + ` x`, nil, "after the object"},
		{"truncated", `{"workflowType":"T",`, nil, "malformed"},
		{"empty body", ``, nil, "malformed"},
		{"array body", `[]`, nil, "malformed"},
		{"string body", `"hello"`, nil, "malformed"},
		{"wrong field type", `{"workflowType":5}`, nil, "malformed"},
		{"input is an array", `{"input":[1,2]}`, nil, "input must be a JSON object"},
		{"input is a string", `{"input":"x"}`, nil, "input must be a JSON object"},
		{"input is a number", `{"input":5}`, nil, "input must be a JSON object"},
		{"input is a boolean", `{"input":true}`, nil, "input must be a JSON object"},
		{"workflowId over the length limit", `{"workflowId":"` + long + `a"}`, nil, "workflowId"},
		{"workflowId with a control character", `{"workflowId":"wf\u0001x"}`, nil, "workflowId"},
		{"workflowId with a newline", `{"workflowId":"wf\nx"}`, nil, "workflowId"},
		{"workflowId with DEL", `{"workflowId":"wf\u007fx"}`, nil, "workflowId"},
		{"tenant at the length limit", `{"tenant":"` + strings.Repeat("t", 63) + `"}`, &StartBody{Tenant: strings.Repeat("t", 63)}, ""},
		{"tenant over the length limit", `{"tenant":"` + strings.Repeat("t", 64) + `"}`, nil, "tenant"},
		{"tenant with a control character", `{"tenant":"a\u0000b"}`, nil, "tenant"},
		{"tenant in upper case", `{"tenant":"Northwind"}`, nil, "tenant"},
		{"tenant with a trailing space", `{"tenant":"northwind "}`, nil, "tenant"},
		{"tenant with a zero-width joiner", `{"tenant":"north\u200dwind"}`, nil, "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeStart(strings.NewReader(tt.body), 1<<20)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				if !strings.Contains(err.Error(), tt.errFrag) {
					t.Fatalf("error %q does not mention %q", err, tt.errFrag)
				}
				if errors.Is(err, jsonbody.ErrTooLarge) {
					t.Fatalf("a small body was reported too large: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !reflect.DeepEqual(got, *tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, *tt.want)
			}
		})
	}
}

func TestDecodeStartBodyLimit(t *testing.T) {
	base := `{"workflowType":"T"}`
	const limit = 64
	atLimit := base + strings.Repeat(" ", limit-len(base))
	tests := []struct {
		name     string
		body     string
		tooLarge bool
	}{
		{"under the limit", base, false},
		{"exactly at the limit", atLimit, false},
		{"one byte over", atLimit + " ", true},
		{"far over", `{"input":{"pad":"` + strings.Repeat("x", 10*limit) + `"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeStart(strings.NewReader(tt.body), limit)
			if tt.tooLarge {
				if !errors.Is(err, jsonbody.ErrTooLarge) {
					t.Fatalf("want errTooLarge, got %v", err)
				}
				return
			}
			if err != nil || b.WorkflowType != "T" {
				t.Fatalf("got %+v, %v", b, err)
			}
		})
	}
}

func TestWorkflowIDChoice(t *testing.T) {
	acme := StartBody{Tenant: "acme"}
	globex := StartBody{Tenant: "globex"}
	tests := []struct {
		name      string
		a, b      string
		wantEqual bool
	}{
		{"same tenant and key give the same id", workflowID(acme, "key-1"), workflowID(acme, "key-1"), true},
		{"other tenant, same key, gives another id", workflowID(acme, "key-1"), workflowID(globex, "key-1"), false},
		{"same tenant, other key, gives another id", workflowID(acme, "key-1"), workflowID(acme, "key-2"), false},
		{"no tenant still derives from the key", workflowID(StartBody{}, "key-1"), workflowID(StartBody{}, "key-1"), true},
		{"tenant and key are not simply concatenated", workflowID(StartBody{Tenant: "ab"}, "c"), workflowID(StartBody{Tenant: "a"}, "bc"), false},
		{"no key gives a fresh id each time", workflowID(acme, ""), workflowID(acme, ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.a == tt.b) != tt.wantEqual {
				t.Fatalf("%q vs %q: equal=%v, want %v", tt.a, tt.b, tt.a == tt.b, tt.wantEqual)
			}
		})
	}

	if got := workflowID(StartBody{WorkflowID: "mine", Tenant: "acme"}, "key-1"); got != "mine" {
		t.Errorf("explicit id: got %q, want mine", got)
	}
	if got := workflowID(acme, "key-1"); !strings.HasPrefix(got, "idem-") || len(got) > maxIDLen {
		t.Errorf("derived id %q: want an idem- prefix within %d bytes", got, maxIDLen)
	}
	seen := map[string]bool{}
	for range 100 {
		id := workflowID(StartBody{}, "")
		if !strings.HasPrefix(id, "wf-") || seen[id] {
			t.Fatalf("fresh id %q: want a wf- prefix and no repeats", id)
		}
		seen[id] = true
	}
}

func FuzzDecodeStart(f *testing.F) {
	f.Add([]byte(validStart))
	f.Add([]byte(`{"input":null}`))
	f.Add([]byte(`{"input":  {"a":"<&>\u2028"}, "tenant":"t"}`))
	f.Add([]byte(`{"workflowId":"\u00ff\ud800"}`))
	f.Add([]byte(`{"workflowType":"T"}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeStart(bytes.NewReader(data), 4096)
		if err != nil {
			return
		}
		if len(b.WorkflowID) > maxIDLen || strings.ContainsFunc(b.WorkflowID, unicode.IsControl) {
			t.Fatalf("accepted workflowId %q", b.WorkflowID)
		}
		if b.Input != nil && b.Input[0] != '{' {
			t.Fatalf("accepted non-object input %q", b.Input)
		}
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("re-marshalling %+v: %v", b, err)
		}
		b2, err := DecodeStart(bytes.NewReader(again), 1<<20)
		if err != nil {
			t.Fatalf("decoding re-marshalled %s: %v", again, err)
		}
		if !equalInput(t, b.Input, b2.Input) {
			t.Fatalf("input changed: %s -> %s", b.Input, b2.Input)
		}
		b.Input, b2.Input = nil, nil
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("fields changed:\n%+v\n%+v", b, b2)
		}
	})
}

// equalInput compares two inputs as JSON values; re-marshalling may compact
// and escape them.
func equalInput(t *testing.T, a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var va, vb any
	for _, p := range []struct {
		raw json.RawMessage
		v   *any
	}{{a, &va}, {b, &vb}} {
		dec := json.NewDecoder(bytes.NewReader(p.raw))
		dec.UseNumber()
		if err := dec.Decode(p.v); err != nil {
			t.Fatalf("input %s does not decode: %v", p.raw, err)
		}
	}
	return reflect.DeepEqual(va, vb)
}
