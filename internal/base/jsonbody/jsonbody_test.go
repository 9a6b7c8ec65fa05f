package jsonbody_test

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
)

// start is shaped like the gateway's start body.
type start struct {
	WorkflowType       string          `json:"workflowType"`
	WorkflowID         string          `json:"workflowId,omitempty"`
	UserLocation       string          `json:"userLocation"`
	DataClassification string          `json:"dataClassification"`
	Input              json.RawMessage `json:"input,omitempty"`
}

const typical = `{"workflowType":"DataProcessing","workflowId":"bench-20261125-gateway-r1-12345",` +
	`"userLocation":"DE","dataClassification":"pii","input":{"items":0,"itemDelayMs":0}}`

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error  // the sentinel
		frag string // a fragment of the message
	}{
		{"empty body", ``, jsonbody.ErrMalformed, "empty body"},
		{"white space only", " \r\n\t", jsonbody.ErrMalformed, "empty body"},
		{"truncated object", `{"workflowType":"T",`, jsonbody.ErrMalformed, "unexpected EOF"},
		{"truncated after a key", `{"workflowType"`, jsonbody.ErrMalformed, "unexpected EOF"},
		{"unknown field", `{"workflowType":"T","colour":"blue"}`, jsonbody.ErrMalformed, `unknown field "colour"`},
		{"wrong type", `{"workflowType":5}`, jsonbody.ErrMalformed, "cannot unmarshal number"},
		{"array for an object", `[]`, jsonbody.ErrMalformed, "cannot unmarshal array"},
		{"second object", typical + ` {"workflowType":"T"}`, jsonbody.ErrMalformed, "data after the object"},
		{"stray closing brace", `{"workflowType":"T"}}`, jsonbody.ErrMalformed, "data after the object"},
		{"stray closing bracket", `{"workflowType":"T"}]`, jsonbody.ErrMalformed, "data after the object"},
		{"trailing garbage", typical + ` x`, jsonbody.ErrMalformed, "data after the object"},
		{"number then a letter", `1x`, jsonbody.ErrMalformed, "data after the value"},
		{"literal then a letter", `truex`, jsonbody.ErrMalformed, "data after the value"},
		{"leading zero at the top", `01`, jsonbody.ErrMalformed, "data after the value"},
		{"string then more", `"a""b"`, jsonbody.ErrMalformed, "data after the value"},
		{"unterminated string", `{"workflowType":"T}`, jsonbody.ErrMalformed, "unexpected EOF"},
		{"trailing comma", `{"workflowType":"T",}`, jsonbody.ErrMalformed, "looking for beginning of object key"},
		{"missing comma", `{"workflowType":"T" "userLocation":"DE"}`, jsonbody.ErrMalformed, "after object key:value pair"},
		{"duplicate key", `{"workflowType":"A","workflowType":"B"}`, jsonbody.ErrMalformed, `duplicate key "workflowType"`},
		{"keys differing in case", `{"dataClassification":"pii","DataClassification":"public"}`, jsonbody.ErrMalformed, `duplicate key "DataClassification"`},
		{"key spelt with an escape", `{"workflowType":"A","workflow\u0054ype":"B"}`, jsonbody.ErrMalformed, "duplicate key"},
		{"Kelvin sign folds to k", "{\"input\":{\"kelvin\":1,\"\u212aelvin\":2}}", jsonbody.ErrMalformed, "duplicate key"},
		{"long s folds to s", "{\"input\":{\"class\":1,\"cla\u017fs\":2}}", jsonbody.ErrMalformed, "duplicate key"},
		{"duplicate inside input", `{"input":{"a":1,"b":2,"a":3}}`, jsonbody.ErrMalformed, `duplicate key "a"`},
		{"duplicate deep in an array", `{"input":{"rows":[{"x":1},{"x":1,"X":2}]}}`, jsonbody.ErrMalformed, `duplicate key "X"`},
		{"duplicate past eight keys", `{"input":{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"K2":1}}`, jsonbody.ErrMalformed, `duplicate key "K2"`},
		{"duplicate among the first eight, found late", `{"input":{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k1":1}}`, jsonbody.ErrMalformed, `duplicate key "k1"`},
		{"arrays too deep", `{"input":{"a":` + nested("[", "]", 31) + `}}`, jsonbody.ErrTooDeep, "more than 32 levels"},
		{"objects too deep", strings.Repeat(`{"a":`, 33) + "1" + strings.Repeat("}", 33), jsonbody.ErrTooDeep, "more than 32 levels"},
		{"deep and truncated", strings.Repeat("[", 10000), jsonbody.ErrTooDeep, "more than 32 levels"},
		{"leading zero", `{"input":{"n":01}}`, jsonbody.ErrMalformed, "after object key:value pair"},
		{"bare decimal point", `{"input":{"n":.5}}`, jsonbody.ErrMalformed, "looking for beginning of value"},
		{"plus sign", `{"input":{"n":+1}}`, jsonbody.ErrMalformed, "looking for beginning of value"},
		{"dangling exponent", `{"input":{"n":1e}}`, jsonbody.ErrMalformed, "in exponent of numeric literal"},
		{"NaN", `{"input":{"n":NaN}}`, jsonbody.ErrMalformed, "looking for beginning of value"},
		{"bad literal", `{"input":{"ok":tru}}`, jsonbody.ErrMalformed, "in literal true"},
		{"bad escape", `{"workflowType":"\x"}`, jsonbody.ErrMalformed, "in string escape code"},
		{"raw control character", "{\"workflowType\":\"a\x01b\"}", jsonbody.ErrMalformed, "in string literal"},
		{"single quotes", `{'workflowType':'T'}`, jsonbody.ErrMalformed, "invalid character '\\''"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got start
			err := jsonbody.Decode(strings.NewReader(tt.body), 1<<20, &got)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (decoded %+v); want %v", err, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.frag) {
				t.Fatalf("error %q does not say %q", err, tt.frag)
			}
			if errors.Is(err, jsonbody.ErrTooLarge) {
				t.Fatalf("a small body was reported too large: %v", err)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want start
	}{
		{"typical start", typical, start{WorkflowType: "DataProcessing", WorkflowID: "bench-20261125-gateway-r1-12345",
			UserLocation: "DE", DataClassification: "pii", Input: json.RawMessage(`{"items":0,"itemDelayMs":0}`)}},
		{"surrounding white space", "\r\n\t " + `{"workflowType":"T"}` + " \n", start{WorkflowType: "T"}},
		{"a field named in another case", `{"WORKFLOWTYPE":"T"}`, start{WorkflowType: "T"}},
		{"same key in sibling objects", `{"input":{"a":{"x":1},"b":{"x":2}}}`, start{Input: json.RawMessage(`{"a":{"x":1},"b":{"x":2}}`)}},
		{"same key at two depths", `{"input":{"input":{"input":1}}}`, start{Input: json.RawMessage(`{"input":{"input":1}}`)}},
		{"same key in array elements", `{"input":{"rows":[{"x":1},{"x":2}]}}`, start{Input: json.RawMessage(`{"rows":[{"x":1},{"x":2}]}`)}},
		{"keys differing beyond case", `{"input":{"ab":1,"aB_":2,"ß":3,"ss":4}}`, start{Input: json.RawMessage(`{"ab":1,"aB_":2,"ß":3,"ss":4}`)}},
		{"many keys", `{"input":{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1}}`,
			start{Input: json.RawMessage(`{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1}`)}},
		{"exactly 32 levels", `{"input":{"a":` + nested("[", "]", 30) + `}}`, start{Input: json.RawMessage(`{"a":` + nested("[", "]", 30) + `}`)}},
		{"a number too big for float64 in raw input", `{"input":{"n":1e400}}`, start{Input: json.RawMessage(`{"n":1e400}`)}},
		{"invalid UTF-8, as encoding/json takes it", "{\"workflowType\":\"a\xffb\"}", start{WorkflowType: "a\ufffdb"}},
		{"null", `null`, start{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got start
			if err := jsonbody.Decode(strings.NewReader(tt.body), 1<<20, &got); err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestDecodeLimit sweeps the body size across the limit: at the limit is
// fine, one byte over is ErrTooLarge whatever the content.
func TestDecodeLimit(t *testing.T) {
	const limit = 64
	value := `{"workflowType":"T"}`
	for size := limit - 2; size <= limit+2; size++ {
		body := value + strings.Repeat(" ", size-len(value))
		var got start
		err := jsonbody.Decode(strings.NewReader(body), limit, &got)
		if over := size > limit; over != errors.Is(err, jsonbody.ErrTooLarge) || !over && (err != nil || got.WorkflowType != "T") {
			t.Errorf("%d bytes with a limit of %d: %+v, %v", size, limit, got, err)
		}
	}
}

// TestReadLimitedReadsNoMoreThanItMust: an endless body costs limit+1 bytes.
func TestReadLimitedReadsNoMoreThanItMust(t *testing.T) {
	endless := &countingReader{}
	if _, err := jsonbody.ReadLimited(endless, 100); !errors.Is(err, jsonbody.ErrTooLarge) {
		t.Fatalf("endless body: %v", err)
	}
	if endless.n > 101 {
		t.Fatalf("read %d bytes of an endless body with a limit of 100", endless.n)
	}
	if _, err := jsonbody.ReadLimited(iotest.ErrReader(io.ErrClosedPipe), 100); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("failing reader: %v", err)
	}
	if data, err := jsonbody.ReadLimited(strings.NewReader("abc"), 0); err != nil || string(data) != "abc" {
		t.Fatalf("zero limit (the default): %q, %v", data, err)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

func TestOptions(t *testing.T) {
	type signal struct {
		Input json.RawMessage `json:"input"`
	}
	t.Run("empty body allowed leaves dst as it is", func(t *testing.T) {
		for _, body := range []string{"", " \n"} {
			got := signal{Input: json.RawMessage(`1`)}
			if err := (jsonbody.Options{AllowEmpty: true}).Decode(strings.NewReader(body), &got); err != nil || string(got.Input) != "1" {
				t.Fatalf("body %q: %s, %v", body, got.Input, err)
			}
		}
	})
	t.Run("empty allowed is still strict about the rest", func(t *testing.T) {
		var got signal
		err := (jsonbody.Options{AllowEmpty: true}).Decode(strings.NewReader(`{"input":1,"input":2}`), &got)
		if !errors.Is(err, jsonbody.ErrMalformed) {
			t.Fatalf("duplicate with AllowEmpty: %v", err)
		}
	})
	t.Run("own depth cap", func(t *testing.T) {
		var got any
		o := jsonbody.Options{MaxDepth: 2}
		if err := o.Decode(strings.NewReader(`{"a":[1]}`), &got); err != nil {
			t.Fatalf("two levels with a cap of 2: %v", err)
		}
		if err := o.Decode(strings.NewReader(`{"a":[[1]]}`), &got); !errors.Is(err, jsonbody.ErrTooDeep) {
			t.Fatalf("three levels with a cap of 2: %v", err)
		}
	})
	t.Run("own limit", func(t *testing.T) {
		var got any
		if err := (jsonbody.Options{Limit: 3}).Decode(strings.NewReader(`"abc"`), &got); !errors.Is(err, jsonbody.ErrTooLarge) {
			t.Fatalf("5 bytes with a limit of 3: %v", err)
		}
	})
}
