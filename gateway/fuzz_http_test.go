package gateway

import (
	"strings"
	"sync"
	"testing"
)

// FuzzClientAPI sends arbitrary requests (method, target, headers, body,
// and a setup byte choosing the config, the peer, drains, drills and CORS
// origins; see fuzz_harness_test.go) through a real HTTP server to the
// client API's gin handlers, and checks every answer (fuzz_checks_test.go):
// no 500, every error a problem with type, title, status and detail, a
// bounded answer, no presented credential in the logs or the answer, no
// metric label from an unbounded set, nothing left held (limiter slots,
// routing records); and, on one long-lived gateway that every input also
// reaches, that limiter buckets, refused-call queues, metric series,
// goroutines and the heap stay bounded.
func FuzzClientAPI(f *testing.F) {
	for _, in := range clientSeeds() {
		f.Add(in.setup, in.method, in.target, in.header, in.body)
	}
	fuzzHTTP(f, false)
}

// FuzzAdminAPI is FuzzClientAPI for the admin API and the codec endpoint,
// and also checks that every change an admin call made (a drain, a
// restore, a drill, a config) and every codec use has its audit entry, and
// that every call refused for its token is noted for the audit log.
func FuzzAdminAPI(f *testing.F) {
	for _, in := range adminSeeds(f) {
		f.Add(in.setup, in.method, in.target, in.header, in.body)
	}
	fuzzHTTP(f, true)
}

func fuzzHTTP(f *testing.F, admin bool) {
	var (
		once sync.Once
		long *soak
	)
	f.Fuzz(func(t *testing.T, setup uint8, method, target, header string, body []byte) {
		in := httpInput{setup: setup, method: method, target: target, header: header, body: body}
		g := newFuzzGateway(t, setup, admin, false)
		defer g.close()
		before := g.state(t)
		if a, ran := send(t, g, in); ran {
			t.Logf("%s %.80q (setup %#x) -> %d %.200s", method, target, setup, a.status, a.body)
			checkAnswer(t, g, in, a)
			checkSecrets(t, g, in, a)
			checkAudited(t, g, in, a, before)
			checkBounded(t, g, "after the request")
			checkMetricLabels(t, g, "after the request")
		}
		once.Do(func() { long = &soak{g: newFuzzGateway(t, setupLoopback, admin, true)} })
		if a, ran := send(t, long.g, in); ran {
			checkAnswer(t, long.g, in, a)
		}
		long.step(t)
	})
}

const jsonType = "Content-Type: application/json\n"

// start is a start body: type, country and class, then any other fields.
func start(typ, country, class string, more ...string) []byte {
	b := `{"workflowType":"` + typ + `","userLocation":"` + country + `","dataClassification":"` + class + `"`
	for _, m := range more {
		b += "," + m
	}
	return []byte(b + "}")
}

const booking = `"input":{"propertyId":"p-1","nights":2,"amountCents":1000,"cardToken":"tok_visa"}`

// clientSeeds are valid requests of every client route, in each setup
// that changes their answer; testdata/fuzz/FuzzClientAPI adds the odd ones.
func clientSeeds() []httpInput {
	acme, globex, northwind := "Authorization: Bearer dev-client-acme\n", "Authorization: Bearer dev-client-globex\n", "Authorization: Bearer dev-client-northwind\n"
	return []httpInput{
		{0, "POST", "/v1/workflows", jsonType + acme + "Idempotency-Key: order-1", start("PropertyBooking", "DE", "pii", `"priority":"high"`, booking)},
		{0, "POST", "/v1/workflows", jsonType, start("DataProcessing", "US", "public", `"workflowId":"wf-anon-1"`, `"input":{"items":3,"itemDelayMs":10}`)},
		{0, "POST", "/v1/workflows", jsonType + acme, start("PropertyBooking", "DE", "pii", `"tenant":"globex"`, booking)},
		{0, "POST", "/v1/workflows", jsonType + acme, start("PropertyBooking", "JP", "pii", booking)},
		{1 | setupLoopback, "POST", "/v1/workflows", jsonType + globex + "CF-IPCountry: DE\nX-Forwarded-For: 198.51.100.7", start("PropertyBooking", "US", "pii", booking)},
		{1, "POST", "/v1/workflows", jsonType + "CF-IPCountry: DE", start("PropertyBooking", "US", "pii", booking)},
		{2, "POST", "/v1/workflows", jsonType + northwind, start("DataProcessing", "FR", "financial", `"tenant":"northwind"`, `"priority":"low"`)},
		{3, "POST", "/v1/workflows", jsonType + "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIn0.eyJ0ZW5hbnQiOiJhY21lIn0.c2ln", start("DataProcessing", "US", "public")},
		{setupDrained | setupDrill, "POST", "/v1/workflows", jsonType + acme, start("PropertyBooking", "US", "pii", booking)},
		{setupDrill, "POST", "/v1/workflows", jsonType + acme, start("PropertyBooking", "GB", "financial", booking)},
		{0, "GET", "/v1/workflows/booking-123", acme, nil},
		{0, "GET", "/v1/workflows/booking-123/queries/getStatus?userLocation=DE&dataClassification=pii", acme, nil},
		{0, "POST", "/v1/workflows/booking-123/signals/note", jsonType + acme, []byte(`{"input":{"text":"hello"},"userLocation":"DE","dataClassification":"pii"}`)},
		{0, "POST", "/v1/workflows/booking-123/signals/note", acme, nil},
		{0, "POST", "/v1/workflows/booking-123/cancel", acme, nil},
		{0, "GET", "/v1/workflows/a%2Fb%3Ac/queries/__stack_trace", "", nil},
		{setupOrigins, "OPTIONS", "/v1/workflows", "Origin: https://app.example\nAccess-Control-Request-Method: POST", nil},
		{setupOrigins, "POST", "/v1/workflows", jsonType + "Origin: https://evil.example", start("DataProcessing", "US", "public")},
		{0, "GET", "/healthz", "", nil},
		{0, "GET", "/readyz", "", nil},
		{0, "GET", "/metrics", "", nil},
	}
}

// adminSeeds are valid requests of every admin route and of the codec
// endpoint, a config PUT carrying the ETag of its setup's config.
func adminSeeds(tb testing.TB) []httpInput {
	viewer, operator, compliance := "Authorization: Bearer dev-viewer\n", "Authorization: Bearer dev-operator\n", "Authorization: Bearer dev-compliance\n"
	cfg0, cfg1 := fuzzConfig(tb, 0), fuzzConfig(tb, 1)
	edited := strings.Replace(string(cfg0.Raw()), "tenantBurst: 200", "tenantBurst: 300", 1)
	broken := strings.Replace(string(cfg1.Raw()), "residency: [EU, GB, CH]", "residency: [EU, GB, XX]", 1)
	return []httpInput{
		{0, "GET", "/admin/v1/regions", viewer, nil},
		{0, "POST", "/admin/v1/regions/us-east/drain", operator, nil},
		{setupDrained, "POST", "/admin/v1/regions/us-east/restore", operator, nil},
		{0, "POST", "/admin/v1/regions/mars/drain", operator, nil},
		{0, "POST", "/admin/v1/regions/us-east/drain", viewer, nil},
		{0, "POST", "/admin/v1/regions/us-east/drain", "Authorization: Bearer not-a-secret-7f3a9c1e", nil},
		{1 | setupLoopback, "POST", "/admin/v1/route/explain", jsonType + viewer + "CF-IPCountry: CH", start("PropertyBooking", "US", "pii")},
		{0, "GET", "/admin/v1/config", viewer, nil},
		{0, "PUT", "/admin/v1/config", compliance + `If-Match: "` + cfg0.Version() + `"`, []byte(edited)},
		{1, "PUT", "/admin/v1/config", compliance + `If-Match: W/"` + cfg1.Version() + `"`, []byte(broken)},
		{0, "PUT", "/admin/v1/config", compliance, []byte(edited)},
		{0, "GET", "/admin/v1/audit", viewer, nil},
		{0, "POST", "/admin/v1/drills", jsonType + operator, []byte(`{"region":"us-west","durationSeconds":60}`)},
		{setupDrained, "POST", "/admin/v1/drills", jsonType + operator, []byte(`{"region":"us-west","durationSeconds":60,"force":true}`)},
		{setupDrill, "GET", "/admin/v1/drills", viewer, nil},
		{setupDrill, "GET", "/admin/v1/drills/" + fuzzDrillID, viewer, nil},
		{0, "POST", "/codec/decode", jsonType + operator + "X-Namespace: dev-eu-west", fuzzPayloads(tb, true)},
		{0, "POST", "/codec/encode", jsonType + "Authorization: Bearer dev-admin\nX-Namespace: dev-us-east-northwind", fuzzPayloads(tb, false)},
		{0, "OPTIONS", "/codec/decode", "Origin: https://ui.example\nAccess-Control-Request-Method: POST", nil},
		{3, "POST", "/codec/decode", jsonType + "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln\nX-Namespace: dev-eu-west", fuzzPayloads(tb, true)},
		{0, "GET", "/readyz", "", nil},
	}
}
