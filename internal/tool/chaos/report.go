package chaos

import (
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Summary is what the ledger says of a run, besides the audit.
type Summary struct {
	// Requests counts answers by request kind and status (0: no answer).
	Requests map[string]map[int]int `json:"requests"`
	// Problems counts the problem types of client answers.
	Problems map[string]int `json:"problems"`
	// Admin counts admin answers by action and status.
	Admin   map[string]map[int]int `json:"admin"`
	Windows []FaultWindow          `json:"windows"`
	ByKind  []KindWindows          `json:"byKind"`
	// Background are client errors outside every fault window, by
	// problem type (or "no answer").
	Background map[string]int `json:"background"`
	Skipped    int64          `json:"skipped"` // mix requests not sent: too many in flight
}

// Summarize counts a ledger's requests, admin actions and error windows.
func Summarize(entries []Entry) Summary {
	s := Summary{Requests: map[string]map[int]int{}, Problems: map[string]int{}, Admin: map[string]map[int]int{}, Background: map[string]int{}}
	count := func(m map[string]map[int]int, k string, status int) {
		if m[k] == nil {
			m[k] = map[int]int{}
		}
		m[k][status]++
	}
	for _, e := range entries {
		switch {
		case e.Refused:
			count(s.Requests, e.Kind, refusedStatus)
		case e.IsRequest() || e.Kind == KindFinalRetry:
			count(s.Requests, e.Kind, e.Status)
			if e.Problem != "" {
				s.Problems[e.Problem]++
			}
		case e.Kind == KindAdmin && e.Refused:
			count(s.Admin, e.Action, refusedStatus)
		case e.Kind == KindAdmin:
			count(s.Admin, e.Action, e.Status)
		}
	}
	var bg []Entry
	s.Windows, bg = Windows(entries)
	s.ByKind = ByKind(s.Windows)
	for _, e := range bg {
		s.Background[problemOrNoAnswer(e)]++
	}
	return s
}

func problemOrNoAnswer(e Entry) string {
	switch {
	case e.Status == 0:
		return "no answer"
	case e.Problem == "":
		return fmt.Sprint(e.Status)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Problem)
}

// refusedStatus counts, among the answers by status, the attempts a
// replica refused (and the client sent to the other at once).
const refusedStatus = -1

// statusText is "200: 90, 201: 812, 503: 33, no answer: 2".
func statusText(m map[int]int) string {
	var parts []string
	for _, st := range slices.Sorted(maps.Keys(m)) {
		name := fmt.Sprint(st)
		switch st {
		case 0:
			name = "no answer"
		case refusedStatus:
			name = "refused, re-sent to the other replica"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, m[st]))
	}
	return strings.Join(parts, ", ")
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func secs(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// Markdown is the run's report: what RELIABILITY.md holds for a long run.
func (r *Result) Markdown() string {
	var b strings.Builder
	verdict := "**passed**: every count is 0"
	if !r.Audit.Passed() {
		verdict = "**FAILED**: see the findings"
	}
	fmt.Fprintf(&b, "### Chaos run, seed %d, %s: %s\n\n", r.Seed, r.Duration, verdict)
	fmt.Fprintf(&b, "- Command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- Began %s; stack start to stop %s. Load average (1, 5, 15 min) %s when the load began, %s after it, on %d cores.\n",
		r.Began.UTC().Format(time.RFC3339), r.Took.Round(time.Second), r.LoadBefore, r.LoadAfter, runtime.NumCPU())
	fmt.Fprintf(&b, "- Load: %.1f requests/s begun (plus retries), over both replicas; %d not sent because %d were in flight.\n\n", r.Rate, r.Skipped, LoadOptions{}.withDefaults().MaxInFlight)

	b.WriteString("#### Faults injected\n\n| fault | count | targets |\n|---|---|---|\n")
	for _, k := range r.ByKind {
		fmt.Fprintf(&b, "| %s | %d | %s |\n", k.Kind, k.Faults, targets(r.Windows, k.Kind))
	}
	b.WriteString("\n#### Admin actions (answers by status)\n\n| action | answers |\n|---|---|\n")
	for _, a := range slices.Sorted(maps.Keys(r.Admin)) {
		fmt.Fprintf(&b, "| %s | %s |\n", a, statusText(r.Admin[a]))
	}
	b.WriteString("\n#### Requests (answers by status)\n\n| request | sent | answers |\n|---|---|---|\n")
	for _, k := range []string{KindStart, KindRetry, KindRepeat, KindSignal, KindCancel, KindDescribe, KindFinalRetry} {
		if m := r.Requests[k]; m != nil {
			fmt.Fprintf(&b, "| %s | %d | %s |\n", k, sum(m), statusText(m))
		}
	}
	fmt.Fprintf(&b, "\nProblem types: %s.\n\n", countsText(r.Problems))
	r.auditTable(&b)
	r.windowsTable(&b)
	return b.String()
}

func (r *Result) auditTable(b *strings.Builder) {
	a := r.Audit
	b.WriteString("#### Auditor\n\n| | workflows |\n|---|---|\n")
	rows := []struct {
		name  string
		value any
	}{
		{"requested (tenant and id)", a.Requested},
		{"acknowledged (2xx with a region)", a.Acked},
		{"only refused (4xx, e.g. 422 for resident data no region may hold)", a.Refused},
		{"found in the regions' namespaces", fmt.Sprintf("%d (%s)", a.Found, countsText(a.FoundIn))},
		{"runs found", a.Runs},
		{"retried after the run (a 5xx or no answer)", a.FinalRetries},
		{"of which answered 503 with their workflowId", a.With503ID},
		{"of which settled in one region", a.ResolvedRegion},
		{"of which settled in none", a.ResolvedNone},
		{"**lost**", a.Lost},
		{"**duplicated**", a.Duplicated},
		{"**misplaced**", a.Misplaced},
		{"**unresolved**", a.Unresolved},
	}
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %v |\n", row.name, row.value)
	}
	if len(a.Findings) > 0 {
		b.WriteString("\nFindings:\n\n")
		for i, f := range a.Findings {
			if i == 50 {
				fmt.Fprintf(b, "- ... and %d more\n", len(a.Findings)-50)
				break
			}
			fmt.Fprintf(b, "- %s: tenant %q id %s: %s\n", f.Check, f.Tenant, f.WorkflowID, f.Detail)
		}
	}
	b.WriteString("\n")
}

func (r *Result) windowsTable(b *strings.Builder) {
	b.WriteString("#### How long clients saw errors, per fault kind\n\n")
	fmt.Fprintf(b, "Errors are answers that are not the client's fault (5xx, or none), laid at the door of the fault in force when they came, or healed less than %s before. Outage: from the fault to its healing (a killed process restarted and ready, toxics removed). Errors for: from the fault to the last such error. Medians and maxima over the faults of that kind.\n\n", Grace)
	b.WriteString("| fault | count | outage median / max | requests | errors | refused, re-sent to the other replica | faults with errors | errors for, median / max | last error after healing, median / max |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, k := range r.ByKind {
		fmt.Fprintf(b, "| %s | %d | %s / %s | %d | %d | %d | %d | %s / %s | %s / %s |\n", k.Kind, k.Faults,
			secs(k.MedianOutage), secs(k.MaxOutage), k.Requests, k.Errors, k.Refused, k.WithErrors,
			secs(k.MedianErrorsFor), secs(k.MaxErrorsFor), secs(k.MedianErrorsAfter), secs(k.MaxErrorsAfter))
	}
	b.WriteString("\nThe errors by answer:\n\n")
	for _, k := range r.ByKind {
		if k.Errors > 0 {
			fmt.Fprintf(b, "- %s: %s\n", k.Kind, countsText(k.Problems))
		}
	}
	n := 0
	for _, c := range r.Background {
		n += c
	}
	fmt.Fprintf(b, "- outside every fault window: %d", n)
	if n > 0 {
		fmt.Fprintf(b, " (%s)", countsText(r.Background))
	}
	b.WriteString("\n")
}

// countsText is "502 upstream-error: 58, no answer: 1", largest first.
func countsText(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// targets lists a kind's targets with counts: "eu-west ×2, us-east".
func targets(ws []FaultWindow, kind string) string {
	n := map[string]int{}
	for _, w := range ws {
		if w.Kind == kind {
			n[w.Target]++
		}
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(n)) {
		if n[t] > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", t, n[t]))
		} else {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, ", ")
}
