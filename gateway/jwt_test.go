package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/testkit/idp"
)

// oidcServer is a gateway whose client API requires a credential and takes
// the test IdP's access tokens (tenant in "tenant", roles in "roles").
func oidcServer(t *testing.T, i *idp.IdP) (clientURL string, srv interface {
	CodecAuthorize(*http.Request) (string, bool)
}) {
	t.Helper()
	text := strings.Replace(string(configs.DefaultYAML()), "clientAuth:\n  mode: optional", `clientAuth:
  mode: required
  oidc:
    issuer: `+i.Issuer+`
    jwksURL: `+i.Issuer+`/jwks
    audiences: [regiongate]
    algorithms: [RS256, ES256]
    codecRole: codec`, 1)
	s := offlineServer(t, closedRegions(t, text))
	ts := httptest.NewServer(s.ClientHandler())
	t.Cleanup(ts.Close)
	return ts.URL, s
}

// TestAccessTokensThroughTheGateway: a valid access token names its tenant;
// one that is expired, for another audience, signed by a key the issuer
// does not publish, or unsigned is 401 with the RFC 6750 challenge.
func TestAccessTokensThroughTheGateway(t *testing.T) {
	i := idp.New(t)
	url, _ := oidcServer(t, i)
	now := time.Now()
	i.AddKey("rogue", idp.RSAKey2())
	unsigned := idp.SignWith(t, jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, i.Claims(now, nil))
	for _, tt := range []struct {
		name   string
		token  string
		tenant string
		status int
	}{
		{"valid, its own tenant", i.Sign(t, "rsa-1", i.Claims(now, nil)), "acme", 422},
		{"valid, another tenant in the body", i.Sign(t, "rsa-1", i.Claims(now, nil)), "globex", 403},
		{"expired", i.Sign(t, "rsa-1", i.Claims(now, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })), "", 401},
		{"for another audience", i.Sign(t, "rsa-1", i.Claims(now, func(c jwt.MapClaims) { c["aud"] = "someone-else" })), "", 401},
		{"signed by an unknown key", i.Sign(t, "rogue", i.Claims(now, nil)), "", 401},
		{"alg none", unsigned, "", 401},
		{"no credential", "", "", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"workflowType": "DataProcessing", "userLocation": "JP", "dataClassification": "pii"}
			if tt.tenant != "" {
				body["tenant"] = tt.tenant
			}
			auth := ""
			if tt.token != "" {
				auth = "Bearer " + tt.token
			}
			r := do(t, "POST", url+"/v1/workflows", body, "Authorization", auth)
			checkProblem(t, r, tt.status)
			if tt.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="regiongate"`) {
				t.Fatalf("401 without the Bearer challenge: %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// TestCodecTakesAccessTokensWithTheCodecRole: the Temporal UI may pass the
// user's access token to the codec endpoint; only one holding the codec
// role (or an operator's admin token) may decode.
func TestCodecTakesAccessTokensWithTheCodecRole(t *testing.T) {
	i := idp.New(t)
	_, srv := oidcServer(t, i)
	now := time.Now()
	for _, tt := range []struct {
		name, auth, who string
		ok              bool
	}{
		{"token with the codec role", "Bearer " + i.Sign(t, "ec-1", i.Claims(now, nil)), "oidc:user-1", true},
		{"token without it", "Bearer " + i.Sign(t, "ec-1", i.Claims(now, func(c jwt.MapClaims) { c["roles"] = []string{"viewer"} })), "", false},
		{"operator token", "Bearer dev-operator", "dev.operator", true},
		{"viewer token", "Bearer dev-viewer", "dev.viewer", false},
		{"client API key", "Bearer dev-client-acme", "", false},
	} {
		r := httptest.NewRequest("POST", "/codec/decode", nil)
		r.Header.Set("Authorization", tt.auth)
		who, ok := srv.CodecAuthorize(r)
		if ok != tt.ok || (ok && who != tt.who) {
			t.Errorf("%s: %q, %v; want %q, %v", tt.name, who, ok, tt.who, tt.ok)
		}
	}
}
