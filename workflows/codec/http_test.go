package codec

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

const goodToken = "s3cret"

func codecServer(t *testing.T, opts HTTPOptions) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/codec/", NewHTTPHandler(opts))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// remote is the codec as the Temporal CLI and SDKs call it over HTTP.
func remote(srv *httptest.Server, namespace, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: srv.URL + "/codec",
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", namespace)
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		},
	})
}

func TestHTTPHandlerServesEachNamespaceWithItsKeys(t *testing.T) {
	eu, us := newCodec(t, testKey(t, "eu")), newCodec(t, testKey(t, "us"))
	srv := codecServer(t, HTTPOptions{
		Codecs:    map[string]converter.PayloadCodec{"dev-eu-west": eu, "dev-us-east": us},
		Authorize: BearerAuthorizer("ui", func(s string) bool { return s == goodToken }),
	})
	plain := []*commonpb.Payload{jsonPayload(t, map[string]string{"cardToken": secretCard})}
	stored, err := eu.Encode(plain)
	if err != nil {
		t.Fatal(err)
	}

	got, err := remote(srv, "dev-eu-west", goodToken).Decode(stored)
	if err != nil || got[0].String() != plain[0].String() {
		t.Fatalf("decode through the endpoint: %v %v", got, err)
	}
	enc, err := remote(srv, "dev-eu-west", goodToken).Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := eu.Decode(enc); err != nil || back[0].String() != plain[0].String() {
		t.Fatalf("encode through the endpoint: %v %v", back, err)
	}
	if _, err := remote(srv, "dev-us-east", goodToken).Decode(stored); err == nil {
		t.Fatal("another region's keys must not decode eu-west's payloads")
	}
	for _, token := range []string{"", "wrong"} {
		if _, err := remote(srv, "dev-eu-west", token).Decode(stored); err == nil {
			t.Fatalf("token %q decoded", token)
		}
	}
}

func TestHTTPHandlerRefusals(t *testing.T) {
	one := map[string]converter.PayloadCodec{"ns": newCodec(t, testKey(t, "k"))}
	two := map[string]converter.PayloadCodec{"a": newCodec(t, testKey(t, "a")), "b": newCodec(t, testKey(t, "b"))}
	allow := BearerAuthorizer("ui", func(s string) bool { return s == goodToken })
	lookup := func(ns string) (converter.PayloadCodec, bool) { return two["a"], ns == "c" }
	body := `{"payloads":[]}`
	tests := []struct {
		name       string
		opts       HTTPOptions
		method     string
		path       string
		headers    map[string]string
		body       string
		wantStatus int
		wantHeader map[string]string
	}{
		{name: "no token", opts: HTTPOptions{Codecs: one, Authorize: allow}, method: "POST", path: "/codec/decode",
			wantStatus: 401, wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="regiongate-codec"`}},
		{name: "no authorizer refuses all", opts: HTTPOptions{Codecs: one}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken}, wantStatus: 401},
		{name: "single codec needs no namespace", opts: HTTPOptions{Codecs: one, Authorize: allow}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken}, body: body, wantStatus: 200,
			wantHeader: map[string]string{"Cache-Control": "no-store"}},
		{name: "several codecs need a namespace", opts: HTTPOptions{Codecs: two, Authorize: allow}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken}, body: body, wantStatus: 400},
		{name: "unknown namespace", opts: HTTPOptions{Codecs: two, Authorize: allow}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken, "X-Namespace": "c"}, body: body, wantStatus: 404},
		{name: "namespace found by lookup", opts: HTTPOptions{Codecs: two, Authorize: allow, Lookup: lookup}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken, "X-Namespace": "c"}, body: body, wantStatus: 200},
		{name: "namespace unknown to lookup", opts: HTTPOptions{Codecs: two, Authorize: allow, Lookup: lookup}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken, "X-Namespace": "d"}, body: body, wantStatus: 404},
		{name: "GET", opts: HTTPOptions{Codecs: one, Authorize: allow}, method: "GET", path: "/codec/decode",
			wantStatus: 405, wantHeader: map[string]string{"Allow": "POST, OPTIONS"}},
		{name: "other path", opts: HTTPOptions{Codecs: one, Authorize: allow}, method: "POST", path: "/codec/other",
			headers: map[string]string{"Authorization": "Bearer " + goodToken}, wantStatus: 404},
		{name: "body over the limit", opts: HTTPOptions{Codecs: one, Authorize: allow, MaxBodyBytes: 8}, method: "POST", path: "/codec/decode",
			headers: map[string]string{"Authorization": "Bearer " + goodToken}, body: body, wantStatus: 413},
		{name: "preflight from the UI needs no token", opts: HTTPOptions{Codecs: one, Authorize: allow, AllowOrigins: []string{"http://ui:8233"}},
			method: "OPTIONS", path: "/codec/decode", headers: map[string]string{"Origin": "http://ui:8233"}, wantStatus: 204,
			wantHeader: map[string]string{"Access-Control-Allow-Origin": "http://ui:8233", "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Namespace"}},
		{name: "other origins are refused", opts: HTTPOptions{Codecs: one, Authorize: allow, AllowOrigins: []string{"http://ui:8233"}},
			method: "POST", path: "/codec/decode", headers: map[string]string{"Origin": "http://evil", "Authorization": "Bearer " + goodToken},
			body: body, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := codecServer(t, tt.opts)
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got bytes.Buffer
			_, _ = got.ReadFrom(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, got.String())
			}
			for k, v := range tt.wantHeader {
				if resp.Header.Get(k) != v {
					t.Errorf("%s: %q, want %q", k, resp.Header.Get(k), v)
				}
			}
		})
	}
}

// TestHTTPHandlerReportsEveryUse: each authorized decode or encode is
// reported with who, the namespace and how many payloads, before it is
// served; a refused request is not.
func TestHTTPHandlerReportsEveryUse(t *testing.T) {
	eu := newCodec(t, testKey(t, "eu"))
	type use struct {
		who, ns, op string
		n           int
	}
	var uses []use
	srv := codecServer(t, HTTPOptions{
		Codecs:    map[string]converter.PayloadCodec{"dev-eu-west": eu},
		Authorize: BearerAuthorizer("ui", func(s string) bool { return s == goodToken }),
		OnUse: func(_ *http.Request, who, ns, op string, n int) error {
			uses = append(uses, use{who, ns, op, n})
			if ns == "dev-eu-west" && op == "encode" && n == 3 {
				return errors.New("audit store down")
			}
			return nil
		},
	})
	plain := []*commonpb.Payload{jsonPayload(t, "a"), jsonPayload(t, "b")}
	stored, err := eu.Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote(srv, "dev-eu-west", goodToken).Decode(stored); err != nil {
		t.Fatal(err)
	}
	if _, err := remote(srv, "dev-eu-west", goodToken).Encode(plain[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := remote(srv, "dev-eu-west", "wrong").Decode(stored); err == nil {
		t.Fatal("a wrong token decoded")
	}
	if _, err := remote(srv, "dev-eu-west", goodToken).Encode(append(plain, plain[0])); err == nil {
		t.Fatal("a use that could not be recorded was served")
	}
	want := []use{{"ui", "dev-eu-west", "decode", 2}, {"ui", "dev-eu-west", "encode", 1}, {"ui", "dev-eu-west", "encode", 3}}
	if !slices.Equal(uses, want) {
		t.Fatalf("uses %+v, want %+v", uses, want)
	}
}
