package configs_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// minimalYAML is a small valid config; tests edit it to probe one rule.
const minimalYAML = `environment: prod
jurisdictions:
  EU: [FR, DE]
classifications:
  - {name: public, resident: false}
regions:
  - name: eu
    endpoint: eu.example:7233
    residency: [EU]
`

// devEdited returns the dev config with old replaced by new, failing the
// test if old is not there (so a changed dev.yaml cannot make an edit a
// silent no-op).
func devEdited(t *testing.T, old, new string) []byte {
	t.Helper()
	dev := string(configs.DefaultYAML())
	if !strings.Contains(dev, old) {
		t.Fatalf("dev.yaml does not contain %q", old)
	}
	return []byte(strings.Replace(dev, old, new, 1))
}

// problemsOf returns the problems of a *configs.ValidationError, failing
// the test for any other outcome.
func problemsOf(t *testing.T, err error) []configs.Problem {
	t.Helper()
	var ve *configs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *configs.ValidationError, got %T: %v", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatal("ValidationError with no problems")
	}
	return ve.Problems
}

func findProblem(ps []configs.Problem, path, msg string) bool {
	for _, p := range ps {
		if p.Path == path && strings.Contains(p.Message, msg) {
			return true
		}
	}
	return false
}

func TestDefaultParsesTheEmbeddedDevConfig(t *testing.T) {
	c := configs.Default()
	if c.Environment != "dev" || c.DefaultRegion != "us-east" {
		t.Fatalf("environment %q defaultRegion %q", c.Environment, c.DefaultRegion)
	}
	wantNS := map[string]string{
		"us-east": "dev-us-east", "us-west": "dev-us-west",
		"eu-west": "dev-eu-west", "eu-central": "dev-eu-central",
	}
	if len(c.Regions) != len(wantNS) {
		t.Fatalf("got %d regions, want %d", len(c.Regions), len(wantNS))
	}
	for name, ns := range wantNS {
		r, ok := c.Region(name)
		if !ok || r.Namespace != ns {
			t.Errorf("region %s: found=%v namespace %q, want %q", name, ok, r.Namespace, ns)
		}
	}
	if got := len(c.Jurisdictions["EU"]); got != 27 {
		t.Errorf("EU has %d members, want 27", got)
	}
	if cl, ok := c.Classification("pii"); !ok || !cl.Resident {
		t.Errorf("pii: found=%v resident=%v, want a resident class", ok, cl.Resident)
	}
	if !bytes.Equal(c.Raw(), configs.DefaultYAML()) {
		t.Error("Default().Raw() differs from DefaultYAML()")
	}
}

func TestParseRejectsUnknownFieldsNamingThem(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		field string
	}{
		{"top level", append(configs.DefaultYAML(), "colour: blue\n"...), "colour"},
		{"inside a region", devEdited(t, "  - name: us-east\n", "  - name: us-east\n    colour: blue\n"), "colour"},
		{"inside a classification", devEdited(t, "{name: pii, resident: true}", "{name: pii, resident: true, secret: yes}"), "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse(tt.data)
			if err == nil {
				t.Fatal("Parse accepted an unknown field")
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error does not name %q: %v", tt.field, err)
			}
		})
	}
}

func TestParseReportsBadValuesWithTheirPath(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		path string
		msg  string // a fragment of the problem's message
	}{
		{"bad environment", devEdited(t, "environment: dev", "environment: Dev"), "environment", "lower-case"},
		{"residency not a country or group", devEdited(t, "residency: [US, CA]\n    failover: [us-west]", "residency: [XX]\n    failover: [us-west]"), "regions[0].residency[0]", `"XX"`},
		{"failover to an unknown region", devEdited(t, "failover: [eu-central]", "failover: [ap-south]"), "regions[2].failover[0]", `unknown region "ap-south"`},
		{"failover to itself", devEdited(t, "failover: [eu-central]", "failover: [eu-west]"), "regions[2].failover[0]", "itself"},
		{"duplicate region name", devEdited(t, "name: us-west", "name: us-east"), "regions[1].name", "duplicate region"},
		{"bad region name", devEdited(t, "name: us-west", "name: US_West"), "regions[1].name", "lower-case"},
		{"duplicate classification", devEdited(t, "{name: internal, resident: false}", "{name: public, resident: false}"), "classifications[1].name", "duplicate classification"},
		{"group member not a country", devEdited(t, "ES, SE]", "ES, SE, XX]"), "jurisdictions.EU[27]", `"XX"`},
		{"lower-case country in a group", devEdited(t, "[AT, BE", "[at, BE"), "jurisdictions.EU[0]", `"at"`},
		{"country listed twice in a group", devEdited(t, "[AT, BE, BG", "[AT, BE, BE"), "jurisdictions.EU[2]", "twice"},
		{"group named like a country", devEdited(t, "  EU: [", "  FR: ["), "jurisdictions.FR", "country"},
		{"empty group", devEdited(t, "  EU: [AT,", "  EU: []\n  XEU: [AT,"), "jurisdictions.EU", "at least one"},
		{"negative maxBodyBytes", devEdited(t, "maxBodyBytes: 1048576", "maxBodyBytes: -1"), "limits.maxBodyBytes", "negative"},
		{"negative tenantRatePerSecond", devEdited(t, "tenantRatePerSecond: 100", "tenantRatePerSecond: -0.5"), "limits.tenantRatePerSecond", "negative"},
		{"negative tenantBurst", devEdited(t, "tenantBurst: 200", "tenantBurst: -1"), "limits.tenantBurst", "negative"},
		{"negative callTimeout", devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    callTimeout: -5s\n"), "regions[0].callTimeout", "negative"},
		{"negative breaker openFor", devEdited(t, "    namespace: dev-eu-west\n", "    namespace: dev-eu-west\n    breaker: {openFor: -1s}\n"), "regions[2].breaker.openFor", "negative"},
		{"endpoint without port", devEdited(t, "127.0.0.1:7233", "127.0.0.1"), "regions[0].endpoint", "host:port"},
		{"endpoint with empty port", devEdited(t, "127.0.0.1:7234", `"127.0.0.1:"`), "regions[1].endpoint", "host:port"},
		{"endpoint without host", devEdited(t, "127.0.0.1:7235", ":7235"), "regions[2].endpoint", "host:port"},
		{"endpoint with named port", devEdited(t, "127.0.0.1:7236", "127.0.0.1:grpc"), "regions[3].endpoint", "host:port"},
		{"IPv6 endpoint without brackets", devEdited(t, "127.0.0.1:7236", `"::1:7236"`), "regions[3].endpoint", "host:port"},
		{"endpoint with port 0", devEdited(t, "127.0.0.1:7236", "127.0.0.1:0"), "regions[3].endpoint", "host:port"},
		{"endpoint with port over 65535", devEdited(t, "127.0.0.1:7236", "127.0.0.1:65536"), "regions[3].endpoint", "host:port"},
		{"namespace with a space", devEdited(t, "namespace: dev-us-west", `namespace: "dev us-west"`), "regions[1].namespace", "namespace"},
		{"unknown defaultRegion", devEdited(t, "defaultRegion: us-east", "defaultRegion: mars"), "defaultRegion", `"mars"`},
		{"resident class but no residency anywhere", []byte(strings.Replace(strings.Replace(minimalYAML,
			"    residency: [EU]\n", "", 1),
			"  - {name: public, resident: false}\n", "  - {name: public, resident: false}\n  - {name: pii, resident: true}\n", 1)),
			"classifications[1]", `"pii"`},
		{"class restricted to an unknown region", devEdited(t, "{name: financial, resident: true}", "{name: financial, resident: true, regions: [mars]}"), "classifications[3].regions[0]", `"mars"`},
		{"duplicate tenant", []byte(minimalYAML + "tenants: [{name: acme, isolated: true}, {name: acme}]\n"), "tenants[1].name", "duplicate tenant"},
		{"bad tenant name", []byte(minimalYAML + "tenants: [{name: Acme}]\n"), "tenants[0].name", "lower-case"},
		{"unknown location source", []byte(minimalYAML + "location: {precedence: [request, gps]}\n"), "location.precedence[1]", `"gps"`},
		{"location source twice", []byte(minimalYAML + "location: {precedence: [header, header]}\n"), "location.precedence[1]", "twice"},
		{"bad location header", []byte(minimalYAML + "location: {headers: [\"CF IPCountry\"]}\n"), "location.headers[0]", "header"},
		{"bad trusted proxy", []byte(minimalYAML + "location: {trustedProxies: [10.0.0.0/33]}\n"), "location.trustedProxies[0]", "CIDR"},
		{"trusted proxy for a header the gateway does not read", []byte(minimalYAML + "location: {trustedProxies: [{cidr: 10.0.0.0/8, headers: [X-Real-Country]}]}\n"), "location.trustedProxies[0].headers[0]", "X-Real-Country"},
		{"trusted proxy naming no header", []byte(minimalYAML + "location: {trustedProxies: [{cidr: 10.0.0.0/8, headers: []}]}\n"), "location.trustedProxies[0].headers", "name the headers"},
		{"maxBodyBytes that would overflow", devEdited(t, "maxBodyBytes: 1048576", "maxBodyBytes: 9223372036854775807"), "limits.maxBodyBytes", "at most"},
		{"tenantRatePerSecond not a number", devEdited(t, "tenantRatePerSecond: 100", "tenantRatePerSecond: .nan"), "limits.tenantRatePerSecond", "number"},
		{"infinite tenantRatePerSecond", devEdited(t, "tenantRatePerSecond: 100", "tenantRatePerSecond: .inf"), "limits.tenantRatePerSecond", "at most"},
		{"huge tenantBurst", devEdited(t, "tenantBurst: 200", "tenantBurst: 2000000000"), "limits.tenantBurst", "at most"},
		{"huge callTimeout", devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    callTimeout: 100000h\n"), "regions[0].callTimeout", "at most"},
		{"huge breaker count", devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    breaker: {consecutiveFailures: 4000000000}\n"), "regions[0].breaker.consecutiveFailures", "at most"},
		{"no classifications", []byte(strings.Replace(minimalYAML, "  - {name: public, resident: false}\n", "", 1)), "classifications", "at least one"},
		{"no regions", []byte(minimalYAML[:strings.Index(minimalYAML, "regions:")]), "regions", "at least one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configs.Parse(tt.data)
			if c != nil {
				t.Error("Parse returned a config together with an error")
			}
			ps := problemsOf(t, err)
			if !findProblem(ps, tt.path, tt.msg) {
				t.Fatalf("no problem at %s mentioning %q; got %v", tt.path, tt.msg, ps)
			}
		})
	}
}

func TestParseReportsEveryProblemNotJustTheFirst(t *testing.T) {
	data := devEdited(t, "environment: dev", "environment: DEV")
	data = bytes.Replace(data, []byte("failover: [eu-central]"), []byte("failover: [ap-south]"), 1)
	data = bytes.Replace(data, []byte("tenantBurst: 200"), []byte("tenantBurst: -1"), 1)
	data = bytes.Replace(data, []byte("[AT, BE"), []byte("[at, BE"), 1)
	_, err := configs.Parse(data)
	ps := problemsOf(t, err)
	for _, path := range []string{"environment", "regions[2].failover[0]", "limits.tenantBurst", "jurisdictions.EU[0]"} {
		if !findProblem(ps, path, "") {
			t.Errorf("problem at %s not reported; got %v", path, ps)
		}
	}
	for _, p := range ps {
		if !strings.Contains(err.Error(), p.String()) {
			t.Errorf("Error() leaves out %q", p)
		}
	}
}

func TestProblemsNameTheirLine(t *testing.T) {
	data := devEdited(t, "failover: [eu-central]", "failover: [ap-south]")
	data = bytes.Replace(data, []byte("tenantBurst: 200"), []byte("tenantBurst: -1"), 1)
	lineOf := func(s string) int { return 1 + bytes.Count(data[:bytes.Index(data, []byte(s))], []byte("\n")) }
	_, err := configs.Parse(data)
	want := map[string]int{"regions[2].failover[0]": lineOf("[ap-south]"), "limits.tenantBurst": lineOf("tenantBurst: -1")}
	for _, p := range problemsOf(t, err) {
		if line, ok := want[p.Path]; ok {
			if p.Line != line {
				t.Errorf("%s: line %d, want %d", p.Path, p.Line, line)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("line %d: %s", line, p.Path)) {
				t.Errorf("Error() does not give %s's line: %v", p.Path, err)
			}
			delete(want, p.Path)
		}
	}
	if len(want) > 0 {
		t.Errorf("problems not reported: %v", want)
	}
}

func TestParseRejectsMalformedDocuments(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // fragment of the error
	}{
		{"empty", "", "empty"},
		{"only a comment", "# nothing here\n", "empty"},
		{"two documents", string(configs.DefaultYAML()) + "---\nenvironment: prod\n", "more than one"},
		{"not a mapping", "- a\n- b\n", "decoding"},
		{"syntax error", "environment: [dev\n", "decoding"},
		{"duration that is not one", string(devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    callTimeout: fast\n")), `"fast"`},
		{"duration that is a mapping", string(devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    callTimeout: {s: 5}\n")), "duration"},
		{"negative breaker count", string(devEdited(t, "    namespace: dev-us-east\n", "    namespace: dev-us-east\n    breaker: {consecutiveFailures: -1}\n")), "`-1` into uint32"},
		{"duplicate key", "environment: dev\nenvironment: prod\n", "environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := configs.Parse([]byte(tt.data))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", c)
			}
			if c != nil {
				t.Error("Parse returned a config together with an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestVersionFollowsContent(t *testing.T) {
	a, err := configs.Parse(configs.DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	b, err := configs.Parse(configs.DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.Parse(devEdited(t, "tenantBurst: 200", "tenantBurst: 201"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == "" {
		t.Fatal("empty version")
	}
	if a.Version() != b.Version() {
		t.Errorf("equal input, different versions %s %s", a.Version(), b.Version())
	}
	if a.Version() == c.Version() {
		t.Errorf("different input, same version %s", a.Version())
	}
}

func TestRawRoundTripsAndIsACopy(t *testing.T) {
	in := configs.DefaultYAML()
	c, err := configs.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0] = 'X' // the caller's buffer is not the config's
	raw := c.Raw()
	if !bytes.Equal(raw, configs.DefaultYAML()) {
		t.Fatal("Raw() differs from the parsed text")
	}
	raw[0] = 'Y' // nor is the returned slice
	if !bytes.Equal(c.Raw(), configs.DefaultYAML()) {
		t.Fatal("changing Raw()'s result changed the config")
	}
	again, err := configs.Parse(c.Raw())
	if err != nil {
		t.Fatal(err)
	}
	if again.Version() != c.Version() {
		t.Fatalf("reparsed Raw() has version %s, want %s", again.Version(), c.Version())
	}
}

func TestDefaultsForOmittedFields(t *testing.T) {
	c, err := configs.Parse([]byte(minimalYAML + `  - name: us
    endpoint: us.example:7233
    namespace: custom-ns
    residency: [US]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		what      string
		got, want any
	}{
		{"omitted namespace is <environment>-<name>", c.Regions[0].Namespace, "prod-eu"},
		{"explicit namespace is kept", c.Regions[1].Namespace, "custom-ns"},
		{"omitted defaultRegion is the first region", c.DefaultRegion, "eu"},
		{"omitted maxBodyBytes is 1 MiB", c.MaxBodyBytes(), int64(1 << 20)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.what, tt.got, tt.want)
		}
	}
	if set, err := configs.Parse([]byte(minimalYAML + "limits: {maxBodyBytes: 2048}\n")); err != nil || set.MaxBodyBytes() != 2048 {
		t.Errorf("explicit maxBodyBytes: %v", err)
	}
}

func TestLocationDefaults(t *testing.T) {
	c, err := configs.Parse([]byte(minimalYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Location.Precedence; !slices.Equal(got, []string{"request", "header", "geoip"}) {
		t.Errorf("default location precedence %v", got)
	}
	if len(c.Location.Headers) == 0 || len(c.Location.TrustedProxies) != 0 {
		t.Errorf("default headers %v, trusted proxies %v", c.Location.Headers, c.Location.TrustedProxies)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	missing := filepath.Join(dir, "missing.yaml")
	if err := os.WriteFile(good, configs.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, devEdited(t, "defaultRegion: us-east", "defaultRegion: mars"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := configs.LoadFile(good)
	if err != nil {
		t.Fatalf("loading a good file: %v", err)
	}
	if c.Version() != configs.Default().Version() {
		t.Error("loaded file has a different version from the same text parsed")
	}
	for _, path := range []string{missing, bad} {
		_, err := configs.LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadFile(%s): error %v does not name the path", path, err)
		}
	}
	if _, err := configs.LoadFile(bad); !findProblem(problemsOf(t, err), "defaultRegion", "mars") {
		t.Errorf("bad file: validation problems lost: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(configs.DefaultYAML())
	f.Add([]byte(minimalYAML))
	f.Add([]byte(minimalYAML + "limits: {maxBodyBytes: 2048, tenantBurst: 3}\n"))
	f.Add([]byte(minimalYAML + "---\n"))
	f.Add([]byte("environment: &a dev\ndefaultRegion: *a\n"))
	f.Add([]byte(""))
	f.Add([]byte("regions: [{name: a, endpoint: 'h:1', callTimeout: 1h}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := configs.Parse(data)
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			var ve *configs.ValidationError
			if errors.As(err, &ve) && len(ve.Problems) == 0 {
				t.Fatal("ValidationError with no problems")
			}
			return
		}
		if err := configs.Validate(c); err != nil {
			t.Fatalf("Parse succeeded but Validate fails: %v", err)
		}
		if !bytes.Equal(c.Raw(), data) {
			t.Fatal("Raw() differs from the input")
		}
		again, err := configs.Parse(c.Raw())
		if err != nil {
			t.Fatalf("reparsing Raw(): %v", err)
		}
		if again.Version() != c.Version() {
			t.Fatalf("reparsed version %s, want %s", again.Version(), c.Version())
		}
	})
}

// TestConnectionCoversRegion: every field of Region either shapes the
// connection (and is in Connection, so a change of it gives the region a
// new client) or is listed here as a setting the gateway applies in place.
// A new field fails this test until it is placed on one side.
func TestConnectionCoversRegion(t *testing.T) {
	inPlace := map[string]bool{"Name": true, "Residency": true, "Failover": true, "Replica": true, "Breaker": true, "CallTimeout": true}
	conn := map[string]bool{}
	ct := reflect.TypeFor[configs.Connection]()
	for i := range ct.NumField() {
		conn[ct.Field(i).Name] = true
	}
	rt := reflect.TypeFor[configs.Region]()
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if conn[name] == inPlace[name] {
			t.Errorf("Region.%s must be in exactly one of Connection and the in-place settings", name)
		}
	}
	r := configs.Region{Name: "eu", Endpoint: "a:1", Namespace: "ns"}
	if r.Connection() != (configs.Connection{Endpoint: "a:1", Namespace: "ns"}) {
		t.Errorf("Connection() = %+v", r.Connection())
	}
}

// TestTrustedProxyForms: a plain CIDR is believed for X-Forwarded-For
// only; a mapping names its headers.
func TestTrustedProxyForms(t *testing.T) {
	c, err := configs.Parse([]byte(minimalYAML + "location:\n  trustedProxies:\n    - 10.0.0.0/8\n    - {cidr: 192.0.2.0/24, headers: [CloudFront-Viewer-Country, X-Forwarded-For]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []configs.TrustedProxy{
		{CIDR: "10.0.0.0/8", Headers: []string{"X-Forwarded-For"}},
		{CIDR: "192.0.2.0/24", Headers: []string{"CloudFront-Viewer-Country", "X-Forwarded-For"}},
	}
	if !reflect.DeepEqual(c.Location.TrustedProxies, want) {
		t.Fatalf("trusted proxies %+v, want %+v", c.Location.TrustedProxies, want)
	}
}
