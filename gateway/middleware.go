package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

const requestIDHeader = "X-Request-ID"

// requestID echoes a sane X-Request-ID or makes one.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if id == "" || len(id) > 128 {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDHeader, id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// accessLog logs one line per request: never bodies or user identifiers.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.Info("request",
			"request_id", c.GetString(requestIDHeader),
			"trace_id", c.Writer.Header().Get("X-Trace-ID"), // set by observe
			"method", c.Request.Method,
			"route", c.FullPath(),
			"status", c.Writer.Status(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}
}

// recovery turns a panic into a 500 problem instead of a dropped connection.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				log.Error("panic serving request", "request_id", c.GetString(requestIDHeader), "panic", fmt.Sprint(v))
				fail(c, kindInternal, "internal error; request id "+c.GetString(requestIDHeader))
			}
		}()
		c.Next()
	}
}

func traceID(c *gin.Context) string {
	sc := trace.SpanContextFromContext(c.Request.Context())
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}
