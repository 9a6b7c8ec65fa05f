package chaos

import (
	"slices"
	"time"
)

// Grace is how long after a fault is healed client errors are still laid
// at its door: a region back on its port is behind its open breaker for
// openFor (10s) and needs two passing health checks (2s apart).
const Grace = 30 * time.Second

// FaultWindow is what clients saw around one fault: from its begin until
// Grace after its end (or the next fault's begin, if sooner).
type FaultWindow struct {
	Kind, Target string
	Begin, End   time.Time // applied; healed (restarted and ready, or toxics removed)
	Requests     int       // client requests answered in the window
	Errors       int       // of which 5xx or unanswered
	Refused      int       // attempts refused by a replica and sent to the other at once (not counted above)
	LastError    time.Time // zero when there was none
	// Problems counts the errors by problem type ("no answer" for none).
	Problems map[string]int
}

// ErrorsFor is how long after the fault began clients still saw errors:
// zero when they saw none.
func (w FaultWindow) ErrorsFor() time.Duration {
	if w.LastError.IsZero() {
		return 0
	}
	return w.LastError.Sub(w.Begin)
}

// KindWindows sums up the windows of one fault kind.
type KindWindows struct {
	Kind              string         `json:"kind"`
	Faults            int            `json:"faults"`
	WithErrors        int            `json:"withErrors"` // faults during which clients saw an error
	Requests          int            `json:"requests"`
	Errors            int            `json:"errors"`
	Refused           int            `json:"refused"`
	Problems          map[string]int `json:"problems,omitempty"` // errors by problem type
	MedianOutage      time.Duration  `json:"medianOutage"`       // begin to healed
	MaxOutage         time.Duration  `json:"maxOutage"`
	MedianErrorsFor   time.Duration  `json:"medianErrorsFor"` // begin to the last error, over faults with errors
	MaxErrorsFor      time.Duration  `json:"maxErrorsFor"`
	MedianErrorsAfter time.Duration  `json:"medianErrorsAfter"` // healed to the last error (0 if none after)
	MaxErrorsAfter    time.Duration  `json:"maxErrorsAfter"`
}

// Windows lays each client error of the ledger at the door of the fault
// in force (or healed less than Grace ago) when its answer came; errors
// outside every window are returned as background.
func Windows(entries []Entry) (ws []FaultWindow, background []Entry) {
	for _, e := range entries {
		if e.Kind != KindFault {
			continue
		}
		switch e.Phase {
		case "begin":
			ws = append(ws, FaultWindow{Kind: e.Action, Target: e.Target, Begin: e.Time})
		case "end":
			if n := len(ws); n > 0 && ws[n-1].End.IsZero() {
				ws[n-1].End = e.Time
			}
		}
	}
	for _, e := range entries {
		if !e.IsRequest() {
			continue
		}
		at := e.Time.Add(time.Duration(e.Ms) * time.Millisecond) // when the client saw the answer
		i := windowAt(ws, at)
		if i >= 0 && e.Refused {
			ws[i].Refused++
			continue
		}
		if i < 0 {
			if e.ServerError() {
				background = append(background, e)
			}
			continue
		}
		ws[i].Requests++
		if e.ServerError() {
			ws[i].Errors++
			if ws[i].Problems == nil {
				ws[i].Problems = map[string]int{}
			}
			ws[i].Problems[problemOrNoAnswer(e)]++
			if at.After(ws[i].LastError) {
				ws[i].LastError = at
			}
		}
	}
	return ws, background
}

// windowAt is the index of the window at t, or -1.
func windowAt(ws []FaultWindow, t time.Time) int {
	for i := len(ws) - 1; i >= 0; i-- {
		if t.Before(ws[i].Begin) {
			continue
		}
		end := ws[i].End
		if end.IsZero() {
			return i // never healed: everything after it
		}
		end = end.Add(Grace)
		if i+1 < len(ws) && ws[i+1].Begin.Before(end) {
			end = ws[i+1].Begin
		}
		if t.Before(end) {
			return i
		}
		return -1
	}
	return -1
}

// ByKind sums the windows up per fault kind, in FaultKinds order.
func ByKind(ws []FaultWindow) []KindWindows {
	var out []KindWindows
	for _, kind := range FaultKinds {
		k := KindWindows{Kind: kind}
		var outage, errsFor, after []time.Duration
		for _, w := range ws {
			if w.Kind != kind {
				continue
			}
			k.Faults++
			k.Requests += w.Requests
			k.Errors += w.Errors
			k.Refused += w.Refused
			for p, n := range w.Problems {
				if k.Problems == nil {
					k.Problems = map[string]int{}
				}
				k.Problems[p] += n
			}
			if !w.End.IsZero() {
				outage = append(outage, w.End.Sub(w.Begin))
			}
			if w.Errors > 0 {
				k.WithErrors++
				errsFor = append(errsFor, w.ErrorsFor())
				if !w.End.IsZero() {
					after = append(after, max(0, w.LastError.Sub(w.End)))
				}
			}
		}
		if k.Faults == 0 {
			continue
		}
		k.MedianOutage, k.MaxOutage = medianMax(outage)
		k.MedianErrorsFor, k.MaxErrorsFor = medianMax(errsFor)
		k.MedianErrorsAfter, k.MaxErrorsAfter = medianMax(after)
		out = append(out, k)
	}
	return out
}

func medianMax(ds []time.Duration) (median, maximum time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	return (s[(n-1)/2] + s[n/2]) / 2, s[n-1]
}
