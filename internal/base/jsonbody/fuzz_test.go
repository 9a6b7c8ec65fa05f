package jsonbody_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
)

// FuzzDecode: Decode never panics, every refusal is one of the sentinels,
// and whatever it accepts plain encoding/json decodes to the same value,
// into a struct and into an interface alike.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		typical, ``, ` `, `null`, `{}`, `[]`, `"s"`, `1e400`, `{"input":null}`,
		`{"workflowType":"A","workflowType":"B"}`,
		`{"dataClassification":"pii","DataClassification":"public"}`,
		"{\"input\":{\"kelvin\":1,\"\u212aelvin\":2}}",
		`{"input":{"a":[{"x":1},{"X":2}],"b":{"a":1}}}`,
		`{"workflowType":"T"}}`, `{"workflowType":"T"} {}`, `{"a":1,}`,
		`{"workflowId":"\u00ff\ud800","input":{"n":-0.5e-3}}`,
		nested("[", "]", 32), nested("[", "]", 33), strings.Repeat(`{"a":`, 40),
		`1x`, `truex`, `01`, `"a""b"`, `{"workflowType":"T}`,
		"{\"workflowType\":\"a\xffb\"}", `{"input":{"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"K9":1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got start
		err := jsonbody.Decode(bytes.NewReader(data), 4096, &got)
		checkSentinel(t, err)
		if err == nil {
			var want start
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q decoded as %+v; encoding/json says %+v", data, got, want)
			}
		}
		var anyGot any
		err = jsonbody.Decode(bytes.NewReader(data), 4096, &anyGot)
		checkSentinel(t, err)
		if err == nil {
			var anyWant any
			if err := json.Unmarshal(data, &anyWant); err != nil || !reflect.DeepEqual(anyGot, anyWant) {
				t.Fatalf("%q decoded as %#v; encoding/json says %#v, %v", data, anyGot, anyWant, err)
			}
		}
	})
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, jsonbody.ErrMalformed) && !errors.Is(err, jsonbody.ErrTooDeep) && !errors.Is(err, jsonbody.ErrTooLarge) {
		t.Fatalf("refusal without a sentinel: %v", err)
	}
}

// BenchmarkDecode is a typical start body, read and checked.
func BenchmarkDecode(b *testing.B) {
	r := strings.NewReader(typical)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(typical)
		var s start
		if err := jsonbody.Decode(r, 1<<20, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSmallTokens is the costliest body under the default
// limit: a megabyte of one-byte numbers, each a token of its own.
func BenchmarkDecodeSmallTokens(b *testing.B) {
	benchmarkBody(b, `{"input":{"a":[0`+strings.Repeat(",0", (jsonbody.DefaultLimit-20)/2)+`]}}`)
}

// BenchmarkDecodeManyKeys is a megabyte of input in one object of about
// 90,000 distinct keys: duplicate detection must stay linear.
func BenchmarkDecodeManyKeys(b *testing.B) {
	body := []byte(`{"input":{"k0":0`)
	for i := 1; len(body) < jsonbody.DefaultLimit-20; i++ {
		body = strconv.AppendInt(append(body, `,"k`...), int64(i), 10)
		body = append(body, `":0`...)
	}
	benchmarkBody(b, string(append(body, "}}"...)))
}

// BenchmarkDecodeManyObjects is a megabyte of input in small objects: the
// cost per object.
func BenchmarkDecodeManyObjects(b *testing.B) {
	benchmarkBody(b, `{"input":{"a":[{"k":0}`+strings.Repeat(`,{"k":0}`, (jsonbody.DefaultLimit-30)/8)+`]}}`)
}

// BenchmarkDecodeEscapedKeys is a megabyte of small objects whose one key
// is spelt with an escape: the costliest key to compare.
func BenchmarkDecodeEscapedKeys(b *testing.B) {
	benchmarkBody(b, `{"input":{"a":[{"\u0061":0}`+strings.Repeat(`,{"\u0061":0}`, (jsonbody.DefaultLimit-30)/13)+`]}}`)
}

func benchmarkBody(b *testing.B, body string) {
	r := strings.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(body)
		var s start
		if err := jsonbody.Decode(r, jsonbody.DefaultLimit, &s); err != nil {
			b.Fatal(err)
		}
	}
}
