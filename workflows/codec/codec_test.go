package codec

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

func testKey(t testing.TB, id string) Key {
	t.Helper()
	k, err := GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCodec(t testing.TB, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonPayload(t testing.TB, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const secretCard = "tok_visa_SECRET123"

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, testKey(t, "k1"))
	in := []*commonpb.Payload{jsonPayload(t, map[string]string{"cardToken": secretCard}), jsonPayload(t, 42), jsonPayload(t, nil)}

	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range enc {
		if bytes.Contains(p.Data, []byte(secretCard)) || bytes.Contains(p.Data, []byte("json/plain")) {
			t.Fatalf("payload %d leaks its plaintext or encoding", i)
		}
		if got := string(p.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
			t.Fatalf("payload %d encoding %q", i, got)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Fatalf("payload %d key id %q", i, got)
		}
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if in[i].String() != dec[i].String() {
			t.Fatalf("payload %d: got %v, want %v", i, dec[i], in[i])
		}
	}
}

func TestSamePlaintextEncryptsDifferently(t *testing.T) {
	c := newCodec(t, testKey(t, "k1"))
	p := jsonPayload(t, "same")
	a, _ := c.Encode([]*commonpb.Payload{p})
	b, _ := c.Encode([]*commonpb.Payload{p})
	if bytes.Equal(a[0].Data, b[0].Data) {
		t.Fatal("two encryptions of one payload must differ (fresh nonce)")
	}
}

func TestDecodeRefuses(t *testing.T) {
	k1, k2 := testKey(t, "k1"), testKey(t, "k2")
	enc, err := newCodec(t, k1).Encode([]*commonpb.Payload{jsonPayload(t, secretCard)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		codec  *Codec
		mutate func(p *commonpb.Payload)
		want   error
	}{
		{name: "flipped ciphertext bit", codec: newCodec(t, k1), mutate: func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 1 }, want: ErrTampered},
		{name: "flipped nonce bit", codec: newCodec(t, k1), mutate: func(p *commonpb.Payload) { p.Data[0] ^= 1 }, want: ErrTampered},
		{name: "truncated", codec: newCodec(t, k1), mutate: func(p *commonpb.Payload) { p.Data = p.Data[:10] }, want: ErrMalformed},
		{name: "unknown key id", codec: newCodec(t, k2), want: ErrUnknownKey},
		{name: "wrong key under the same id", codec: newCodec(t, Key{ID: "k1", Secret: k2.Secret}), want: ErrTampered},
		{name: "relabelled to another known key", codec: newCodec(t, k1, Key{ID: "k2", Secret: k1.Secret}),
			mutate: func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k2") }, want: ErrTampered},
		{name: "unknown cipher", codec: newCodec(t, k1), mutate: func(p *commonpb.Payload) { p.Metadata[MetadataCipher] = []byte("ROT13") }, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := clonePayload(enc[0])
			if tt.mutate != nil {
				tt.mutate(p)
			}
			_, err := tt.codec.Decode([]*commonpb.Payload{p})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func clonePayload(p *commonpb.Payload) *commonpb.Payload {
	md := map[string][]byte{}
	for k, v := range p.Metadata {
		md[k] = bytes.Clone(v)
	}
	return &commonpb.Payload{Metadata: md, Data: bytes.Clone(p.Data)}
}

func TestRotation(t *testing.T) {
	old, next := testKey(t, "2025-01"), testKey(t, "2026-01")
	written, _ := newCodec(t, old).Encode([]*commonpb.Payload{jsonPayload(t, "before")})

	rotated := newCodec(t, next, old)
	if rotated.ActiveKeyID() != "2026-01" {
		t.Fatalf("active key %q", rotated.ActiveKeyID())
	}
	if _, err := rotated.Decode(written); err != nil {
		t.Fatalf("a payload under the old key must stay readable: %v", err)
	}
	fresh, _ := rotated.Encode([]*commonpb.Payload{jsonPayload(t, "after")})
	if got := string(fresh[0].Metadata[MetadataKeyID]); got != "2026-01" {
		t.Fatalf("new payloads must use the new key, got %q", got)
	}
}

func TestPlainPayloadsPassThrough(t *testing.T) {
	p := jsonPayload(t, "written before encryption was turned on")
	out, err := newCodec(t, testKey(t, "k")).Decode([]*commonpb.Payload{p})
	if err != nil || out[0] != p {
		t.Fatalf("got %v, %v", out, err)
	}
}

func TestNewRefusesBadKeys(t *testing.T) {
	k := testKey(t, "k")
	tests := []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"short key", []Key{{ID: "k", Secret: make([]byte, 16)}}},
		{"bad id", []Key{{ID: "a b", Secret: k.Secret}}},
		{"duplicate id", []Key{k, k}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.keys); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestKeysNeverPrint(t *testing.T) {
	k := Key{ID: "k1", Secret: []byte(strings.Repeat("S", KeySize))}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x", k, k, k, k, k, k), logged.String()} {
		if strings.Contains(s, "SSSS") || strings.Contains(s, "5353") || !strings.Contains(s, "k1") {
			t.Fatalf("key printed as %q", s)
		}
	}
}

func TestConvertersEncryptValuesAndFailures(t *testing.T) {
	c := newCodec(t, testKey(t, "k"))
	dc := DataConverter(c)
	p, err := dc.ToPayload(map[string]string{"cardToken": secretCard})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte(secretCard)) {
		t.Fatal("data converter left the plaintext")
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["cardToken"] != secretCard {
		t.Fatalf("round trip: %v %v", back, err)
	}

	fc := FailureConverter(c)
	f := fc.ErrorToFailure(temporal.NewApplicationError("card "+secretCard+" refused", "X"))
	if strings.Contains(f.String(), secretCard) {
		t.Fatal("failure message left in plain text")
	}
	var appErr *temporal.ApplicationError
	if err := fc.FailureToError(f); !errors.As(err, &appErr) || !strings.Contains(appErr.Message(), secretCard) {
		t.Fatalf("failure does not decode back: %v", err)
	}
}
