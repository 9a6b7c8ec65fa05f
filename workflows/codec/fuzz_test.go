package codec

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// FuzzDecode: a payload as a region's history holds it (any metadata, any
// bytes; a cluster is not trusted with plaintext, nor to keep payloads
// intact) decodes or fails with one of the codec's errors, never panics;
// a payload this codec did not encrypt passes through unchanged; what it
// encrypts decodes back to the same payload, and any change to the sealed
// bytes is refused.
func FuzzDecode(f *testing.F) {
	c, err := New([]Key{{ID: "a", Secret: secretA}, {ID: "b", Secret: secretB}})
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"cardToken":"tok_visa"}`)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(EncodingEncrypted), []byte("a"), []byte(cipherName), sealed[0].Data, uint16(0))
	f.Add([]byte(EncodingEncrypted), []byte("b"), []byte(cipherName), sealed[0].Data, uint16(3))
	f.Add([]byte(EncodingEncrypted), []byte("a"), []byte(cipherName), sealed[0].Data[:12], uint16(0))
	f.Add([]byte(EncodingEncrypted), []byte("zz"), []byte("AES-256-GCM/v0"), []byte{}, uint16(1))
	f.Add([]byte("json/plain"), []byte(""), []byte(""), []byte(`"hello"`), uint16(7))
	f.Fuzz(func(t *testing.T, encoding, keyID, cipher, data []byte, flip uint16) {
		p := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: encoding, MetadataKeyID: keyID, MetadataCipher: cipher}, Data: data}
		out, err := c.Decode([]*commonpb.Payload{p})
		switch {
		case err != nil:
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrTampered) {
				t.Fatalf("decode error outside the codec's: %v", err)
			}
		case string(encoding) != EncodingEncrypted && out[0] != p:
			t.Fatal("a payload the codec did not encrypt was changed")
		}

		// Round trip: data as a plain payload, sealed and opened again.
		plain := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: cipher}, Data: data}
		enc, err := c.Encode([]*commonpb.Payload{plain})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := c.Decode(enc)
		if err != nil || !proto.Equal(dec[0], plain) {
			t.Fatalf("round trip: %v, %v", dec, err)
		}
		// One bit of the sealed bytes changed: refused, never opened.
		bad := bytes.Clone(enc[0].Data)
		bad[int(flip)%len(bad)] ^= 1 << (flip % 8)
		enc[0].Data = bad
		if _, err := c.Decode(enc); !errors.Is(err, ErrTampered) {
			t.Fatalf("a sealed payload with bit %d flipped: %v", flip, err)
		}
	})
}

// FuzzHTTPHandler: the codec endpoint answers any body and path (the
// Temporal UI's, or anyone's with a token) without a panic or a 500; a
// decode it serves returns as many payloads as it was sent, never cached;
// nothing is served before the use is heard (the audit hook).
func FuzzHTTPHandler(f *testing.F) {
	c, err := New([]Key{{ID: "a", Secret: secretA}})
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := c.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"n":1}`)}})
	if err != nil {
		f.Fatal(err)
	}
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("/codec/decode", "dev-eu-west", body)
	f.Add("/codec/encode", "dev-eu-west", []byte(`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}`))
	f.Add("/codec/decode", "", []byte(`{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA=="},"data":"AAAA"}]}`))
	f.Add("/codec/decode", "dev-us-east", []byte(`{"payloads":null}`))
	f.Add("/codec/x/decode", "dev-eu-west", []byte(`[]`))
	f.Fuzz(func(t *testing.T, path, namespace string, body []byte) {
		var heard int
		h := NewHTTPHandler(HTTPOptions{
			Codecs:    map[string]converter.PayloadCodec{"dev-eu-west": c},
			Authorize: func(*http.Request) (string, bool) { return "fuzz", true },
			OnUse:     func(*http.Request, string, string, string, int) error { heard++; return nil },
		})
		req, err := http.NewRequest(http.MethodPost, "http://gateway.test/", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Path = path
		req.Header.Set("X-Namespace", namespace)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		if heard != 1 || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("served with %d uses heard, Cache-Control %q", heard, rec.Header().Get("Cache-Control"))
		}
		var in, out commonpb.Payloads
		if err := protojson.Unmarshal(body, &in); err != nil {
			t.Fatalf("served a body protojson refuses: %v", err)
		}
		if err := protojson.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Payloads) != len(in.Payloads) {
			t.Fatalf("answered %d payloads for %d (%v)", len(out.Payloads), len(in.Payloads), err)
		}
	})
}
