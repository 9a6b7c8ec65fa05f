package gateway

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// maxIDLen bounds a workflow id (and a query or signal name) in bytes:
// Temporal's own limit is far larger, but an id travels in paths, logs,
// routing records and every region's history.
const maxIDLen = 255

// checkName applies the rules every workflow id, query name and signal
// name must meet, whether it came in a body or a path: at most maxIDLen
// bytes of valid UTF-8 with no control characters.
func checkName(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s must not be empty", what)
	case len(s) > maxIDLen:
		return fmt.Errorf("%s must be at most %d bytes (UTF-8), got %d", what, maxIDLen, len(s))
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s must be valid UTF-8 with no control characters", what)
	}
	return nil
}

// pathNames checks the workflow id (and the query, signal or update name,
// when the route has one) of a request before anything is looked up or
// sent anywhere; on a bad one it answers 400 and returns false.
func pathNames(c *gin.Context) bool {
	for _, p := range []struct{ param, what string }{{"id", "workflowId"}, {"query", "query name"}, {"signal", "signal name"}, {"update", "update name"}} {
		v, ok := c.Params.Get(p.param)
		if !ok {
			continue
		}
		if err := checkName(p.what, v); err != nil {
			fail(c, kindBadRequest, err.Error())
			return false
		}
	}
	return true
}
