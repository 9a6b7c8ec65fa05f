package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// tokenScan is the scan as it was before the byte scanner: encoding/json's
// own tokenizer, each object's keys compared one by one with
// strings.EqualFold. Slow and plainly right, it is the oracle.
func tokenScan(data []byte, maxDepth int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value func(depth int) error
	value = func(depth int) error {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		if depth >= maxDepth {
			return fmt.Errorf("%w: more than %d levels", ErrTooDeep, maxDepth)
		}
		var keys []string
		for dec.More() {
			if d == '{' {
				tok, err := dec.Token()
				if err != nil {
					return fmt.Errorf("%w: %w", ErrMalformed, err)
				}
				key, _ := tok.(string)
				for _, k := range keys {
					if strings.EqualFold(k, key) {
						return fmt.Errorf("%w: duplicate key %q", ErrMalformed, key)
					}
				}
				keys = append(keys, key)
			}
			if err := value(depth + 1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	if err := value(0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the value", ErrMalformed)
	}
	return nil
}

// verdict is what the oracle and the scanner must agree on for valid JSON.
func verdict(err error) string {
	switch {
	case err == nil:
		return "fine"
	case errors.Is(err, ErrTooDeep):
		return "too deep"
	case strings.Contains(err.Error(), "duplicate key"):
		return "duplicate key"
	}
	return "other: " + err.Error()
}

// keys17 is an object's worth of keys past linearKeys, all distinct.
var keys17 = func() string {
	var b strings.Builder
	for i := range linearKeys + 1 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	return b.String()
}()

func TestScanFindsDuplicatesAsEqualFoldDoes(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"distinct keys", `{"a":1,"b":2}`, "fine"},
		{"same key", `{"a":1,"a":2}`, "duplicate key"},
		{"case", `{"Ab":1,"aB":2}`, "duplicate key"},
		{"Kelvin sign and k", "{\"kelvin\":1,\"\u212aelvin\":2}", "duplicate key"},
		{"Kelvin sign and K", "{\"\u212a\":1,\"K\":2}", "duplicate key"},
		{"long s and S", "{\"\u017f\":1,\"S\":2}", "duplicate key"},
		{"Greek sigmas", "{\"\u03c3\":1,\"\u03c2\":2,\"\u03a3\":3}", "duplicate key"},
		{"sharp s is not ss", `{"ß":1,"ss":2}`, "fine"},
		{"sharp s and capital sharp s", "{\"\u00df\":1,\"\u1e9e\":2}", "duplicate key"},
		{"escaped and plain", `{"\u0061":1,"A":2}`, "duplicate key"},
		{"escaped Kelvin sign", `{"\u212a":1,"k":2}`, "duplicate key"},
		{"escaped quote and tab", `{"\"\t":1,"\u0022\u0009":2}`, "duplicate key"},
		{"escaped accents", `{"\u00e9":1,"É":2}`, "duplicate key"},
		{"escaped NUL", `{"\u0000":1,"\u0000 ":2}`, "fine"},
		{"escaped slash", `{"a/b":1,"a\/b":2}`, "duplicate key"},
		{"surrogate pair", "{\"\\ud83d\\ude00\":1,\"\U0001f600\":2}", "duplicate key"},
		{"lone surrogate and U+FFFD", "{\"\\ud800\":1,\"\ufffd\":2}", "duplicate key"},
		{"two invalid bytes read as U+FFFD", "{\"\xff\":1,\"\xfe\":2}", "duplicate key"},
		{"invalid byte and U+FFFD escaped", "{\"\xff\":1,\"\\ufffd\":2}", "duplicate key"},
		{"one invalid byte and two", "{\"\xff\":1,\"\xff\xff\":2}", "fine"},
		{"keys in sibling objects", `[{"a":1},{"a":1}]`, "fine"},
		{"key of an outer object inside", `{"a":{"a":{"a":1}},"b":2}`, "fine"},
		{"duplicate after a nested object", `{"a":{"b":1,"c":2},"b":3,"A":4}`, "duplicate key"},
		{"strings in arrays are no keys", `{"a":["a","a"],"b":"a"}`, "fine"},
		{"escaped quote in a key", `{"a\"b":1,"A\"B":2}`, "duplicate key"},
		{"empty keys", `{"":1,"":2}`, "duplicate key"},
	}
	for _, tt := range tests {
		for _, big := range []bool{false, true} {
			body := tt.body
			if big { // the same keys after linearKeys others
				body = strings.Replace(body, "{", "{"+keys17, 1)
			}
			t.Run(fmt.Sprintf("%s/big=%v", tt.name, big), func(t *testing.T) {
				if !json.Valid([]byte(body)) {
					t.Fatalf("invalid test body %q", body)
				}
				if got := verdict(tokenScan([]byte(body), DefaultMaxDepth)); got != tt.want {
					t.Fatalf("the oracle says %s; the test wants %s", got, tt.want)
				}
				for _, linear := range []int{linearKeys, 0} {
					if got := verdict(scanWith([]byte(body), DefaultMaxDepth, linear)); got != tt.want {
						t.Errorf("%q with linear %d: %s; want %s", body, linear, got, tt.want)
					}
				}
			})
		}
	}
}

func TestScanManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100_000 {
		fmt.Fprintf(&b, `"k%d":0,`, i)
	}
	distinct := b.String() + `"K":0}`
	if err := scan([]byte(distinct), DefaultMaxDepth); err != nil {
		t.Fatalf("100,000 distinct keys: %v", err)
	}
	for _, dup := range []string{`"K0"`, `"k99999"`, `"K5\u0030"`, "\"\u212a77\""} {
		body := b.String() + dup + ":0}"
		if err := scan([]byte(body), DefaultMaxDepth); verdict(err) != "duplicate key" {
			t.Errorf("100,000 keys then %s: %v", dup, err)
		}
	}
}

// FuzzScan: the scanner never panics, and for valid JSON it says what the
// tokenizer-based oracle says, with its hashed path taken past 16 keys
// and for every object alike. Mutation seldom keeps JSON valid, so each
// input is also read as a recipe for a valid document (validFrom).
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":{"b":[1,{"c":2}]}}`, `{"a":1,"A":2}`, "{\"k\":1,\"\u212a\":2}",
		`{"\u0061":1,"a":2}`, `[[[[1]]]]`, `{"a":{"a":{"a":{}}}}`, "{" + keys17 + `"k3":0}`,
		`1 2`, `{"a":1}}`, `"\"`, `[1.e5]`, `{"a" "b"}`, `{,"a":1,"a":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := validFrom(data)
		if !json.Valid(doc) {
			t.Fatalf("validFrom made invalid JSON: %q", doc)
		}
		checkScan(t, data, json.Valid(data))
		checkScan(t, doc, true)
	})
}

func checkScan(t *testing.T, data []byte, valid bool) {
	t.Helper()
	for _, depth := range []int{3, DefaultMaxDepth} {
		for _, linear := range []int{linearKeys, 0} {
			got := scanWith(data, depth, linear)
			if got != nil && !errors.Is(got, ErrMalformed) && !errors.Is(got, ErrTooDeep) {
				t.Fatalf("refusal without a sentinel: %v", got)
			}
			if !valid {
				continue
			}
			if want := tokenScan(data, depth); verdict(got) != verdict(want) {
				t.Fatalf("%q at depth %d, linear %d: %v; the oracle says %v", data, depth, linear, got, want)
			}
		}
	}
}

// fuzzKeys are keys that fold together in every way the scanner must see:
// case, the Kelvin sign, the long s, escapes, invalid UTF-8 against U+FFFD.
var fuzzKeys = []string{`a`, `A`, `ab`, `aB`, `k`, `K`, "\u212a", `\u004b`, `\u212A`, `s`, "\u017f", `S`,
	"\xff", "\xfe", "\ufffd", `\ufffd`, `a/b`, `A\/B`, `\ud800`, ``}

// validFrom reads data as a recipe for a valid JSON object: each byte
// opens an object or an array, closes one, or adds a number, under a key
// from fuzzKeys when in an object.
func validFrom(data []byte) []byte {
	type container struct {
		object  bool
		members int
	}
	closer := func(c container) byte {
		if c.object {
			return '}'
		}
		return ']'
	}
	out := []byte{'{'}
	open := []container{{object: true}}
	for _, b := range data {
		op, arg := b%5, int(b/5)
		if op == 2 {
			if len(open) > 1 {
				out = append(out, closer(open[len(open)-1]))
				open = open[:len(open)-1]
			}
			continue
		}
		top := &open[len(open)-1]
		if top.members++; top.members > 1 {
			out = append(out, ',')
		}
		if top.object {
			out = append(append(append(out, '"'), fuzzKeys[arg%len(fuzzKeys)]...), `":`...)
		}
		switch op {
		case 0:
			out = append(out, '{')
			open = append(open, container{object: true})
		case 1:
			out = append(out, '[')
			open = append(open, container{})
		default:
			out = append(out, '0')
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		out = append(out, closer(open[i]))
	}
	return out
}
