package gateway

import (
	"testing"
	"time"
)

// A region's traffic: in flight until the request ends, its outcome
// counted against the region it ended in, forgotten after the window.
func TestTrafficCountsInFlightAndRecentErrors(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	tr := newTraffic()
	tr.now = func() time.Time { return now }
	enter := tr.enter
	enter("eu-west")
	enter("eu-west")
	if v := tr.view("eu-west"); v.InFlight != 2 || v.Requests != 0 {
		t.Fatalf("two in flight: %+v", v)
	}
	tr.leave("eu-west", "eu-west", false)
	tr.leave("eu-west", "eu-central", true) // failed over, then failed there
	now = now.Add(30 * time.Second)
	if v := tr.view("eu-west"); v.InFlight != 0 || v.Requests != 1 || v.Errors != 0 || v.ErrorRate != 0 {
		t.Fatalf("eu-west: %+v", v)
	}
	if v := tr.view("eu-central"); v.Requests != 1 || v.Errors != 1 || v.ErrorRate != 1 {
		t.Fatalf("eu-central: %+v", v)
	}
	now = now.Add(31 * time.Second)
	if v := tr.view("eu-central"); v.Requests != 0 || v.Errors != 0 || v.WindowSeconds != 60 {
		t.Fatalf("after the window: %+v", v)
	}
	// A bucket reused a minute later starts from zero.
	enter("eu-west")
	tr.leave("eu-west", "eu-west", true)
	if v := tr.view("eu-west"); v.Requests != 1 || v.Errors != 1 || v.InFlight != 0 {
		t.Fatalf("reused bucket: %+v", v)
	}
	if v := tr.view("nowhere"); v.InFlight != 0 || v.Requests != 0 {
		t.Fatalf("unknown region: %+v", v)
	}
}
