package gateway

import (
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// requireJSON refuses a request body that is not declared as JSON (415).
// A browser may send a cross-site "simple" POST (form or text/plain) with
// no preflight; it must not reach routing. A request without a body (a
// cancel, a signal without input) needs no type.
func requireJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength == 0 && c.Request.Header.Get("Transfer-Encoding") == "" {
			c.Next()
			return
		}
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || mt != "application/json" {
			fail(c, kindUnsupportedMediaType, "send the body as Content-Type: application/json")
			return
		}
		c.Next()
	}
}

// corsHeaders are the request headers a browser client may send.
const corsHeaders = "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"

// checkOrigin refuses cross-origin browser requests (403) unless their
// origin is allowed, and answers CORS for the allowed ones, preflights
// included. Requests without an Origin header (servers, curl) and
// same-origin requests (the admin console calling its own listener) pass,
// as do those of the routes in ownCORS, which answer CORS themselves for
// origins of their own (the codec endpoint: --codec-cors-origin).
func checkOrigin(allowed []string, ownCORS ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" || sameOrigin(origin, c.Request) || slices.Contains(ownCORS, c.FullPath()) {
			c.Next()
			return
		}
		if !slices.Contains(allowed, origin) {
			fail(c, kindOriginRefused, "cross-origin requests from "+origin+" are not allowed; an operator can allow an origin with --cors-origin")
			return
		}
		h := c.Writer.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "ETag, Retry-After, X-Request-ID, X-Trace-ID, X-Location-Source")
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", corsHeaders)
			h.Set("Access-Control-Max-Age", "600")
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}

// sameOrigin reports whether origin is the listener the request came to.
func sameOrigin(origin string, r *http.Request) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}
