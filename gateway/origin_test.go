package gateway

import (
	"net/http"
	"net/http/httptest"
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
