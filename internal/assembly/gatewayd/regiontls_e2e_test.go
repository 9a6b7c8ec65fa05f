package gatewayd_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/internal/testkit/pki"
	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/regions"
)

// The gateway and a worker each reach a region over mutual TLS and one
// over an API key, and complete workflows there; a client certificate and
// an API key rotated on disk are picked up while starts flow, with no
// failed start, and without a new connection until one is needed.
func TestRegionsOverTLSAndAPIKeys(t *testing.T) {
	s := startSecured(t)
	cfg := config(t,
		region("mtls", s.mtls.Addr, "dev-mtls", "US", s.mtlsTLS()),
		region("keyed", s.keyed.Addr, "dev-keyed", "DE", s.keyedTLS(s.apiKeyFile)))
	var gwLog, workerLog logBuffer
	startWorker(t, cfg, "mtls", &workerLog)
	startWorker(t, cfg, "keyed", &workerLog)
	_, base := startGateway(t, cfg, &gwLog, 500*time.Millisecond)

	for country, want := range map[string]string{"US": "mtls", "DE": "keyed"} {
		id := "first-" + want
		if code, out := start(t, base, "PropertyBooking", id, country); code != 201 || out["region"] != want {
			t.Fatalf("start for %s: %d %v, want 201 in %s", country, code, out, want)
		}
		waitCompleted(t, base, id)
	}

	t.Run("client certificate rotated under traffic", func(t *testing.T) {
		old := s.client.Cert
		next := s.ca.Issue(t, false, "regiongate")
		reloads := func() int {
			return len(gwLog.lines("reloaded client certificate")) + len(workerLog.lines("reloaded client certificate"))
		}
		const starts = 200
		for i := range starts {
			switch i {
			case starts / 4:
				next.Write(t, s.dir, "client")
			case starts / 2:
				// Both processes hold the new certificate: revoke the old one
				// and cut every connection, as a restarted balancer would.
				// The next handshakes must present the new certificate.
				poll.Until(t, 10*time.Second, "the gateway and the worker reloading the certificate", func() bool { return reloads() >= 2 })
				s.mtls.Revoke(old)
				s.mtls.DropConnections()
			}
			if code, out := start(t, base, "DataProcessing", fmt.Sprintf("rotate-%d", i), "US"); code != 201 {
				t.Fatalf("start %d of %d: %d %v", i+1, starts, code, out)
			}
		}
		waitCompleted(t, base, fmt.Sprintf("rotate-%d", starts-1)) // the worker reconnected with the new one too
		var afterDrop int
		for _, c := range s.mtls.ClientCertificates() {
			if c.SerialNumber.Cmp(next.Cert.SerialNumber) == 0 {
				afterDrop++
			} else if afterDrop > 0 {
				t.Fatalf("a handshake with serial %v after the new certificate was in use", c.SerialNumber)
			}
		}
		if afterDrop < 2 {
			t.Fatalf("%d handshakes with the new certificate, want the gateway's and the worker's", afterDrop)
		}
	})

	t.Run("API key rotated under traffic", func(t *testing.T) {
		s.keyed.SetKeys("key-1", "key-2") // the server takes both during the rotation
		pki.WriteFile(t, s.apiKeyFile, []byte("key-2\n"))
		poll.Until(t, 10*time.Second, "the gateway and the worker reloading the API key", func() bool {
			return len(gwLog.lines("reloaded API key")) > 0 && len(workerLog.lines("reloaded API key")) > 0
		})
		s.keyed.SetKeys("key-2")
		refused := s.keyed.Refused()
		for i := range 50 {
			if code, out := start(t, base, "DataProcessing", fmt.Sprintf("key-%d", i), "DE"); code != 201 {
				t.Fatalf("start %d: %d %v", i+1, code, out)
			}
		}
		waitCompleted(t, base, "key-49")
		if n := s.keyed.Refused() - refused; n > 0 {
			t.Fatalf("the front refused %d calls after the old key was withdrawn", n)
		}
	})
}

// Each way a region's credentials can be wrong ends in its own reason: on
// the gateway, one log line as the region turns unhealthy; on the worker,
// its start-up error. A handshake that fails never reached the region, so
// a start moves on to the next lawful region in the same request.
func TestRegionCredentialFailuresSayWhy(t *testing.T) {
	s := startSecured(t)
	cases := []struct{ region, line, reason string }{
		{"bad-ca", region("bad-ca", s.mtls.Addr, "dev-mtls", "US",
			fmt.Sprintf("tls: {caFile: %s, certFile: %s/client.crt, keyFile: %s/client.key}", s.otherCA, s.dir, s.dir)),
			"not signed by a CA we trust"},
		{"expired", region("expired", s.mtls.Addr, "dev-mtls", "US",
			fmt.Sprintf("tls: {caFile: %s, certFile: %s, keyFile: %s}", s.caFile, s.expired[0], s.expired[1])),
			"our client certificate has expired"},
		{"wrong-name", region("wrong-name", s.mtls.Addr, "dev-mtls", "US",
			fmt.Sprintf("tls: {caFile: %s, certFile: %s/client.crt, keyFile: %s/client.key, serverName: elsewhere.internal}", s.caFile, s.dir, s.dir)),
			"does not carry the server name"},
		{"bad-key", region("bad-key", s.keyed.Addr, "dev-keyed", "US", s.keyedTLS(s.wrongKey)),
			"refused our credentials: Unauthenticated"},
	}
	var lines []string
	for _, c := range cases {
		lines = append(lines, c.line)
	}
	// bad-ca is the home of US users and fails over to good first.
	lines[0] = strings.Replace(lines[0], "residency: [US],", "residency: [US], failover: [good],", 1)
	lines = append(lines, region("good", s.mtls.Addr, "dev-mtls", "US", s.mtlsTLS()))
	cfg := config(t, lines...)

	var log logBuffer
	// Checks once at start (one failure: not unhealthy yet), then only
	// when the test says.
	gw, base := startGateway(t, cfg, &log, time.Hour)
	code, out := start(t, base, "DataProcessing", "moves-on", "US")
	if code != 201 || out["region"] != "good" {
		t.Fatalf("a start whose home region fails the handshake: %d %v, want 201 in good", code, out)
	}
	gw.Manager.CheckHealthOnce(t.Context(), regions.HealthOptions{Timeout: 3 * time.Second})

	for _, c := range cases {
		t.Run(c.region, func(t *testing.T) {
			r, _ := gw.Manager.Region(c.region)
			if r.Healthy() {
				t.Fatal("still healthy after two failed checks")
			}
			var found []string
			for _, rec := range log.lines("region health changed") {
				if rec["region"] == c.region && rec["to"] == "unhealthy" {
					found = append(found, fmt.Sprint(rec["reason"]))
				}
			}
			if len(found) != 1 || !strings.Contains(found[0], c.reason) {
				t.Fatalf("log lines for %s turning unhealthy: %q, want one saying %q", c.region, found, c.reason)
			}
			t.Logf("logged: %s", found[0])

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			if err := startWorkerErr(ctx, cfg, c.region); err == nil || !strings.Contains(regions.Reason(err), c.reason) {
				t.Fatalf("worker of %s: %v (%s), want %q", c.region, err, regions.Reason(err), c.reason)
			}
		})
	}
	if r, _ := gw.Manager.Region("good"); !r.Healthy() {
		t.Fatal("the good region is unhealthy")
	}
}
