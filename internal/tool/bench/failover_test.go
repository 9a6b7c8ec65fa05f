package bench

import (
	"testing"
	"time"
)

func TestAnalyzeFailover(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	m := marks{kill: at(1000), dead: at(1100), restart: at(5000), ready: at(6000)}
	ok := func(sent, done int, region string) attempt {
		return attempt{sent: at(sent), done: at(done), status: 201, region: region}
	}
	failed := func(sent, done int, err string) attempt {
		return attempt{sent: at(sent), done: at(done), status: 503, err: err}
	}
	atts := []attempt{
		ok(0, 20, "eu-west"),
		failed(100, 200, "before the kill"), // answered before the kill: not counted
		failed(990, 1300, "unknown"),        // in flight at the kill
		failed(1050, 1300, "unknown"),       // sent to the dying process
		ok(1120, 1250, "eu-central"),        // the first failover
		failed(1200, 1210, "refused"),       // after it: an outage error
		ok(1300, 1320, "eu-central"),
		ok(2000, 2010, "us-east"), // a residency breach
		failed(6100, 6200, "not ready"),
		ok(6500, 6600, "eu-west"), // recovered
		ok(7000, 7010, "eu-west"),
	}
	got := analyze(atts, m, "eu-west", "eu-central")
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("requests", got.Requests, len(atts))
	check("failover seconds", *got.FailoverSeconds, 0.25)
	check("recovery seconds", *got.RecoverySeconds, 0.6)
	check("kill seconds", got.KillSeconds, 0.1)
	check("restart seconds", got.RestartSeconds, 1.0)
	check("client errors", got.ClientErrors, 4)
	check("in-flight errors", got.InFlightErrors, 2)
	check("outage errors", got.OutageErrors, 1)
	check("recovery errors", got.RecoveryErrors, 1)
	check("elsewhere", got.Elsewhere, 1)
	check("distinct error samples", len(got.Errors), 3)
}

func TestAnalyzeWithoutFailoverOrRecovery(t *testing.T) {
	t0 := time.Now()
	m := marks{kill: t0, dead: t0}
	got := analyze([]attempt{{sent: t0.Add(time.Millisecond), done: t0.Add(2 * time.Millisecond), status: 0, err: "refused"}}, m, "a", "b")
	if got.FailoverSeconds != nil || got.RecoverySeconds != nil || got.OutageErrors != 1 || got.RestartSeconds != 0 {
		t.Fatalf("%+v", got)
	}
}
