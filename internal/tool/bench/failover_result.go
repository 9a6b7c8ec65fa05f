package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"time"
)

// FailoverResult is what the failover experiment measured.
type FailoverResult struct {
	Home     string  `json:"home"`
	Fallback string  `json:"fallback"`
	Rate     float64 `json:"rate"` // paced starts per second
	Requests int     `json:"requests"`
	Skipped  int     `json:"skipped"` // not sent: too many in flight
	// FailoverSeconds: from the kill until the first start sent after it
	// succeeded in the fallback region; nil if none did.
	FailoverSeconds *float64 `json:"failover_seconds"`
	// ClientErrors are the non-2xx answers (or no answer) to starts that
	// finished after the kill, until the end of the experiment; the three
	// counts below split them by when the start was sent.
	ClientErrors int `json:"client_errors"`
	// InFlightErrors: sent before the killed process was gone, so they
	// may have reached it; the gateway must answer 503, outcome unknown.
	InFlightErrors int `json:"in_flight_errors"`
	// OutageErrors: sent after the process was gone (its connections
	// refused) and before the restarted server answered: the failover's
	// client-visible errors.
	OutageErrors int `json:"outage_errors"`
	// RecoveryErrors: sent after the restarted server answered.
	RecoveryErrors int `json:"recovery_errors"`
	// KillSeconds: from SIGKILL until the process was gone (the OS's
	// time: a dying process's sockets still accept).
	KillSeconds float64 `json:"kill_seconds"`
	// RestartSeconds: how long the region's server took to answer again
	// after its restart began (the cluster's time, not the gateway's).
	RestartSeconds float64 `json:"restart_seconds"`
	// RecoverySeconds: from the restarted server answering until the first
	// start sent after that succeeded there again; nil if none did.
	RecoverySeconds *float64 `json:"recovery_seconds"`
	// Elsewhere counts starts that succeeded in neither region: for
	// resident data, a residency breach. It must be 0.
	Elsewhere int      `json:"elsewhere"`
	Errors    []string `json:"error_samples,omitempty"`
}

// analyze works out the result from every attempt and the moments of the
// experiment.
func analyze(atts []attempt, m marks, home, fallback string) FailoverResult {
	atts = slices.Clone(atts)
	slices.SortFunc(atts, func(a, b attempt) int { return a.sent.Compare(b.sent) })
	r := FailoverResult{Home: home, Fallback: fallback, Requests: len(atts)}
	for _, a := range atts {
		switch {
		case a.ok() && a.region != home && a.region != fallback:
			r.Elsewhere++
		case a.ok():
		case a.done.Before(m.kill):
			// an error before the kill says nothing about failover
		default:
			r.countError(a, m)
		}
		if r.FailoverSeconds == nil && a.ok() && a.region == fallback && !a.sent.Before(m.kill) {
			r.FailoverSeconds = seconds(a.done.Sub(m.kill))
		}
		if r.RecoverySeconds == nil && a.ok() && a.region == home && !m.ready.IsZero() && !a.sent.Before(m.ready) {
			r.RecoverySeconds = seconds(a.done.Sub(m.ready))
		}
	}
	if !m.dead.IsZero() {
		r.KillSeconds = *seconds(m.dead.Sub(m.kill))
	}
	if !m.ready.IsZero() {
		r.RestartSeconds = *seconds(m.ready.Sub(m.restart))
	}
	return r
}

func (r *FailoverResult) countError(a attempt, m marks) {
	r.ClientErrors++
	switch {
	case a.sent.Before(m.dead):
		r.InFlightErrors++
	case m.ready.IsZero() || a.sent.Before(m.ready):
		r.OutageErrors++
	default:
		r.RecoveryErrors++
	}
	if len(r.Errors) < 5 && !slices.Contains(r.Errors, a.err) {
		r.Errors = append(r.Errors, a.err)
	}
}

func seconds(d time.Duration) *float64 {
	s := round3(d.Seconds())
	return &s
}

// writeTrace writes one CSV line per attempt: when it was sent and
// answered (seconds from the kill), its status, region and error.
func writeTrace(w io.Writer, atts []attempt, m marks) {
	atts = slices.Clone(atts)
	slices.SortFunc(atts, func(a, b attempt) int { return a.sent.Compare(b.sent) })
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"sent_s", "done_s", "status", "region", "error"})
	_ = cw.Write([]string{fmt.Sprintf("# dead_s %.3f", m.dead.Sub(m.kill).Seconds()),
		fmt.Sprintf("restart_s %.3f", m.restart.Sub(m.kill).Seconds()), fmt.Sprintf("ready_s %.3f", m.ready.Sub(m.kill).Seconds())})
	for _, a := range atts {
		_ = cw.Write([]string{fmt.Sprintf("%.3f", a.sent.Sub(m.kill).Seconds()), fmt.Sprintf("%.3f", a.done.Sub(m.kill).Seconds()),
			fmt.Sprint(a.status), a.region, a.err})
	}
	cw.Flush()
}
