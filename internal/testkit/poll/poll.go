// Package poll waits, in tests, for a condition that another goroutine or
// process makes true (a server that became ready, a replica that saw a
// change): it checks the condition itself, never a fixed sleep.
package poll

import (
	"testing"
	"time"
)

// Interval is how often Until checks.
const Interval = 10 * time.Millisecond

// Until checks cond every Interval until it holds, and fails t once within
// has passed without it holding.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(Interval) // polling interval, not synchronisation
	}
}
