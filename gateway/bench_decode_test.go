package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/router/location"
)

// benchStart is a typical start: German pii for a short DataProcessing.
const benchStart = `{"workflowType":"DataProcessing","workflowId":"bench-20261125-gateway-r1-12345",` +
	`"userLocation":"DE","dataClassification":"pii","input":{"items":0,"itemDelayMs":0}}`

var benchTypes = []string{"PropertyBooking", "DataProcessing", "PropertyDataSync", "LongRunningProcessing"}

// BenchmarkDecodeStart is the strict decoding of a start body alone.
func BenchmarkDecodeStart(b *testing.B) {
	r := strings.NewReader(benchStart)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(benchStart)
		if _, err := DecodeStart(r, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartDecodeValidateDecide is what a start costs the gateway
// before it calls a region: strict decoding, the user's country from the
// location sources, validation and the routing decision against a
// snapshot of four healthy regions (as Manager.Snapshot returns one).
func BenchmarkStartDecodeValidateDecide(b *testing.B) {
	l, err := (&Server{workflowTypes: benchTypes, inst: newInstruments(nil)}).compile(configs.Default())
	if err != nil {
		b.Fatal(err)
	}
	snap := router.Snapshot{}
	for _, rc := range l.policy.Config().Regions {
		snap[rc.Name] = router.RegionState{Breaker: "closed"}
	}
	header := http.Header{"Content-Type": {"application/json"}}
	r := strings.NewReader(benchStart)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(benchStart)
		body, err := DecodeStart(r, l.policy.Config().MaxBodyBytes())
		if err != nil {
			b.Fatal(err)
		}
		country, _, err := l.resolver.Resolve(location.Input{Body: body.UserLocation, Header: header, RemoteAddr: "127.0.0.1:50000"})
		if err != nil {
			b.Fatal(err)
		}
		body.UserLocation = country
		req := body.routerRequest()
		if err := l.policy.Validate(req); err != nil {
			b.Fatal(err)
		}
		if d, err := l.policy.Decide(req, snap); err != nil || d.Region != "eu-west" {
			b.Fatalf("decided %q, %v", d.Region, err)
		}
	}
}
