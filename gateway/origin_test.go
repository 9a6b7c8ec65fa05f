package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestAllowedOriginGetsCORS: an allowed origin's preflight is answered and
// its requests carry the CORS headers; another origin's are refused.
func TestAllowedOriginGetsCORS(t *testing.T) {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(checkOrigin([]string{"https://app.example"}))
	e.POST("/v1/workflows", func(c *gin.Context) { c.Status(201) })
	srv := httptest.NewServer(e)
	defer srv.Close()
	send := func(method, origin string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/v1/workflows", nil)
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	pre := send(http.MethodOptions, "https://app.example")
	if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		pre.Header.Get("Access-Control-Allow-Headers") != corsHeaders {
		t.Fatalf("preflight: %d %v", pre.StatusCode, pre.Header)
	}
	if r := send(http.MethodPost, "https://app.example"); r.StatusCode != 201 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("allowed post: %d %v", r.StatusCode, r.Header)
	}
	if r := send(http.MethodPost, "https://other.example"); r.StatusCode != 403 || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", r.StatusCode, r.Header)
	}
}

// TestCodecEndpointAnswersItsOwnCORS: the codec endpoint allows the
// Temporal UI's origins (--codec-cors-origin) itself; the admin API's
// origin check (--cors-origin) must not refuse them before it can. Found
// by FuzzAdminAPI's seeds: every browser call to the codec endpoint was a
// 403.
func TestCodecEndpointAnswersItsOwnCORS(t *testing.T) {
	g := newFuzzGateway(t, setupOrigins, true, false) // the codec allows https://ui.example, the admin API https://app.example
	defer g.close()
	send := func(method, origin string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/codec/decode", strings.NewReader(string(fuzzPayloads(t, true))))
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		g.handler.ServeHTTP(rec, req)
		return rec
	}
	pre := send(http.MethodOptions, "https://ui.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,x-namespace")
	if pre.Code != 204 || pre.Header().Get("Access-Control-Allow-Origin") != "https://ui.example" ||
		!strings.Contains(pre.Header().Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight from the UI: %d %v", pre.Code, pre.Header())
	}
	r := send(http.MethodPost, "https://ui.example", "Authorization", "Bearer dev-operator", "X-Namespace", "dev-eu-west", "Content-Type", "application/json")
	if r.Code != 200 || r.Header().Get("Access-Control-Allow-Origin") != "https://ui.example" {
		t.Fatalf("decode from the UI: %d %v %s", r.Code, r.Header(), r.Body)
	}
	// The admin API's origin is not the codec endpoint's.
	if r := send(http.MethodPost, "https://app.example", "Authorization", "Bearer dev-operator", "X-Namespace", "dev-eu-west"); r.Code != 403 {
		t.Fatalf("decode from an origin the codec endpoint does not allow: %d", r.Code)
	}
}
