package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/openapi"
	"github.com/regiongate/regiongate/internal/base/audit"
)

// admin calls the admin API of s in process, checks the answer against
// the admin document, and returns its status and JSON body.
func admin(t *testing.T, h http.Handler, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == "POST" && !strings.HasSuffix(path, "/preview") {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if err := checker(t, openapi.Admin()).Check(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec.Code, m
}

func strs(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestWhoamiListsEveryRoleTheTokenHolds(t *testing.T) {
	h := testServer(t).AdminHandler()
	for token, want := range map[string][]string{
		"dev-viewer":     {"viewer"},
		"dev-compliance": {"viewer", "compliance"},
		"dev-operator":   {"viewer", "operator"},
		"dev-admin":      {"viewer", "compliance", "operator", "admin"},
	} {
		code, body := admin(t, h, "GET", "/admin/v1/whoami", token, nil)
		if code != 200 || !slices.Equal(strs(body["roles"]), want) || body["name"] != strings.Replace(token, "-", ".", 1) {
			t.Errorf("%s: %d %v", token, code, body)
		}
	}
	if code, _ := admin(t, h, "GET", "/admin/v1/whoami", "nope", nil); code != 401 {
		t.Errorf("a bad token: %d", code)
	}
}

// With eu-central drained, a drain of eu-west would leave the EU's, GB's
// and CH's resident data with no region; a drain of us-east refuses nobody.
func TestDrainImpactNamesWhoWouldBeRefused(t *testing.T) {
	h := testServer(t).AdminHandler()
	if code, body := admin(t, h, "GET", "/admin/v1/regions/eu-west/drain-impact", "dev-viewer", nil); code != 200 || len(strs(body["wouldRefuse"])) != 0 {
		t.Fatalf("nothing drained: %d %v", code, body)
	}
	if code, _ := admin(t, h, "POST", "/admin/v1/regions/eu-central/drain", "dev-operator", nil); code != 200 {
		t.Fatalf("drain: %d", code)
	}
	code, body := admin(t, h, "GET", "/admin/v1/regions/eu-west/drain-impact", "dev-viewer", nil)
	if got := strs(body["wouldRefuse"]); code != 200 || !slices.Contains(got, "EU") || !slices.Contains(got, "GB") || !slices.Contains(got, "CH") {
		t.Fatalf("eu-central drained: %d %v", code, body)
	}
	if _, body := admin(t, h, "GET", "/admin/v1/regions/us-east/drain-impact", "dev-viewer", nil); len(strs(body["wouldRefuse"])) != 0 {
		t.Fatalf("us-east: %v", body)
	}
	if code, _ := admin(t, h, "GET", "/admin/v1/regions/mars/drain-impact", "dev-viewer", nil); code != 404 {
		t.Fatalf("unknown region: %d", code)
	}
}

func TestRouteTableIsTheMatrixInForce(t *testing.T) {
	h := testServer(t).AdminHandler()
	code, body := admin(t, h, "GET", "/admin/v1/route/table", "dev-viewer", nil)
	if code != 200 || body["version"] != configs.Default().Version() {
		t.Fatalf("%d %v", code, body["version"])
	}
	classes := body["classes"].([]any)
	pii := slices.IndexFunc(classes, func(c any) bool { return c.(map[string]any)["name"] == "pii" })
	rows := body["rows"].([]any)
	cell := func(country string) []string {
		i := slices.IndexFunc(rows, func(r any) bool { return r.(map[string]any)["country"] == country })
		return strs(rows[i].(map[string]any)["routes"].([]any)[pii])
	}
	if len(rows) != 249 || !slices.Equal(cell("DE"), []string{"eu-west", "eu-central"}) || len(cell("JP")) != 0 {
		t.Fatalf("%d rows, DE %v, JP %v", len(rows), cell("DE"), cell("JP"))
	}
}

// A preview checks a config as PUT would and diffs it, and changes
// nothing: the version in force and the audit log stay as they were.
func TestConfigPreviewChangesNothing(t *testing.T) {
	s := testServer(t)
	h := s.AdminHandler()
	before := s.Config().Version()
	dev := string(configs.DefaultYAML())
	noCH := strings.ReplaceAll(dev, "residency: [EU, GB, CH]", "residency: [EU, GB]")
	code, body := admin(t, h, "POST", "/admin/v1/config/preview", "dev-compliance", []byte(noCH))
	if code != 200 || body["valid"] != true || body["base"] != before || !strings.Contains(body["summary"].(string), "newly refused") {
		t.Fatalf("valid edit: %d %v", code, body)
	}
	refused := body["newlyRefused"].([]any)
	if len(refused) == 0 || refused[0].(map[string]any)["country"] != "CH" {
		t.Fatalf("newly refused: %v", refused)
	}
	bad := strings.Replace(dev, "failover: [us-west]", "failover: [nowhere]", 1) + "bogus: 1\n"
	code, body = admin(t, h, "POST", "/admin/v1/config/preview", "dev-compliance", []byte(bad))
	problems := body["problems"].([]any)
	if code != 200 || body["valid"] != false || len(problems) == 0 || problems[0].(map[string]any)["line"] == nil {
		t.Fatalf("invalid edit: %d %v", code, body)
	}
	if code, _ := admin(t, h, "POST", "/admin/v1/config/preview", "dev-viewer", []byte(noCH)); code != 403 {
		t.Fatalf("a viewer: %d", code)
	}
	entries, _ := s.auditLog.List(t.Context())
	if s.Config().Version() != before || slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.Action != "admin.refused" }) {
		t.Fatalf("the preview changed something: version %s, audit %v", s.Config().Version(), entries)
	}
}

func TestAuditFilters(t *testing.T) {
	h := testServer(t).AdminHandler()
	admin(t, h, "POST", "/admin/v1/regions/eu-west/drain", "dev-operator", nil)
	admin(t, h, "POST", "/admin/v1/regions/eu-west/restore", "dev-admin", nil)
	count := func(query string) int {
		t.Helper()
		code, body := admin(t, h, "GET", "/admin/v1/audit"+query, "dev-viewer", nil)
		if code != 200 {
			t.Fatalf("%s: %d %v", query, code, body)
		}
		return len(body["entries"].([]any))
	}
	since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	for query, want := range map[string]int{
		"":                               2,
		"?actor=dev.operator":            1,
		"?action=region":                 2,
		"?action=region.restore":         1,
		"?action=regio":                  0,
		"?since=" + since:                2,
		"?until=" + since:                0,
		"?actor=dev.admin&action=region": 1,
	} {
		if got := count(query); got != want {
			t.Errorf("%q: %d entries, want %d", query, got, want)
		}
	}
	if code, _ := admin(t, h, "GET", "/admin/v1/audit?since=yesterday", "dev-viewer", nil); code != 400 {
		t.Errorf("a bad time: %d", code)
	}
}
