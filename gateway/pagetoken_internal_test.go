package gateway

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/regions"
)

func knownRegion(name string) bool {
	return name == "us-east" || name == "us-west" || name == "eu-west" || name == "eu-central"
}

var sampleCursors = map[string]regions.Cursor{
	"us-east":    {Token: []byte(`{"CloseTime":"9999-12-31T23:59:59Z","RunID":"r1"}`), Skip: 3},
	"us-west":    {Done: true},
	"eu-west":    {Token: []byte{0, 1, 2, 255}},
	"eu-central": {},
}

func TestPageTokenRoundTrip(t *testing.T) {
	scope := listScope("acme", "WorkflowId STARTS_WITH 'acme:'")
	tok := encodePageToken(scope, sampleCursors)
	if strings.ContainsAny(tok, "+/=") {
		t.Fatalf("token %q is not unpadded base64url", tok)
	}
	got, err := decodePageToken(tok, scope, knownRegion, maxPageSize+1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleCursors) {
		t.Fatalf("round trip: got %#v, want %#v", got, sampleCursors)
	}
}

// TestForgedPageTokensAreRefused: only the exact bytes the gateway gives
// out for this listing are read back; everything else is errBadPageToken
// (a 400), never a cursor.
func TestForgedPageTokensAreRefused(t *testing.T) {
	scope := listScope("acme", "q")
	raw := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	valid := encodePageToken(scope, sampleCursors)
	tests := map[string]string{
		"empty":                  "",
		"not base64url":          "***",
		"padded":                 valid + "==",
		"standard alphabet":      valid[:10] + "+" + valid[11:],
		"not JSON":               raw("hello"),
		"unknown field":          raw(`{"v":1,"s":"` + scope + `","r":{"us-east":{}},"x":1}`),
		"duplicate key":          raw(`{"v":1,"v":1,"s":"` + scope + `","r":{"us-east":{}}}`),
		"other version":          raw(`{"v":2,"s":"` + scope + `","r":{"us-east":{}}}`),
		"other listing":          encodePageToken(listScope("globex", "q"), sampleCursors),
		"other filters":          encodePageToken(listScope("acme", "q AND WorkflowType = 'X'"), sampleCursors),
		"no regions":             raw(`{"v":1,"s":"` + scope + `","r":{}}`),
		"unknown region":         encodePageToken(scope, map[string]regions.Cursor{"ap-south": {}}),
		"negative skip":          encodePageToken(scope, map[string]regions.Cursor{"us-east": {Skip: -1}}),
		"skip past a page":       encodePageToken(scope, map[string]regions.Cursor{"us-east": {Skip: maxPageSize + 2}}),
		"done with a token":      encodePageToken(scope, map[string]regions.Cursor{"us-east": {Done: true, Token: []byte("x")}}),
		"region token too long":  encodePageToken(scope, map[string]regions.Cursor{"us-east": {Token: make([]byte, maxRegionTokenLen+1)}}),
		"whole token too long":   strings.Repeat("A", maxPageTokenLen+1),
		"keys in another order":  raw(`{"r":{"us-east":{}},"s":"` + scope + `","v":1}`),
		"zero skip spelt out":    raw(`{"v":1,"s":"` + scope + `","r":{"us-east":{"k":0}}}`),
		"key in another case":    raw(`{"v":1,"s":"` + scope + `","R":{"us-east":{}}}`),
		"trailing data":          raw(`{"v":1,"s":"` + scope + `","r":{"us-east":{}}} {}`),
		"a valid token, cut off": valid[:len(valid)-3],
	}
	if raw(`{"v":1,"s":"`+scope+`","r":{"us-east":{}}}`) != encodePageToken(scope, map[string]regions.Cursor{"us-east": {}}) {
		t.Fatal("the forgeries must differ from the tokens given out only where the test says")
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decodePageToken(tok, scope, knownRegion, maxPageSize+1); !errors.Is(err, errBadPageToken) {
				t.Fatalf("decodePageToken(%q) = %v, want errBadPageToken", tok, err)
			}
		})
	}
}

// FuzzDecodePageToken: whatever comes back as a pageToken, decoding never
// panics, and a token it accepts is exactly the one encoding its cursors.
func FuzzDecodePageToken(f *testing.F) {
	scope := listScope("acme", "q")
	f.Add(encodePageToken(scope, sampleCursors))
	f.Add(encodePageToken(scope, map[string]regions.Cursor{"us-east": {Done: true}}))
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, tok string) {
		cursors, err := decodePageToken(tok, scope, knownRegion, maxPageSize+1)
		if err != nil {
			if !errors.Is(err, errBadPageToken) {
				t.Fatalf("error %v is not errBadPageToken", err)
			}
			return
		}
		if again := encodePageToken(scope, cursors); again != tok {
			t.Fatalf("accepted %q, which encodes as %q", tok, again)
		}
	})
}
