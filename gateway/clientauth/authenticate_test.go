package clientauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/testkit/idp"
)

func TestAuthenticateHeaders(t *testing.T) {
	i := idp.New(t)
	token := i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
	withOIDC := oidcConfig(i)
	tests := []struct {
		name   string
		mode   string
		oidc   bool
		header string
		want   error  // nil: authenticated as tenant
		tenant string // "" with want nil: anonymous
		method clientauth.Method
	}{
		{"required, no header", configs.ClientAuthRequired, false, "", clientauth.ErrNoCredential, "", ""},
		{"required, blank header", configs.ClientAuthRequired, false, "   ", clientauth.ErrNoCredential, "", ""},
		{"absent mode is required", "", false, "", clientauth.ErrNoCredential, "", ""},
		{"optional, no header", configs.ClientAuthOptional, false, "", nil, "", clientauth.MethodAnonymous},
		{"optional, a bad key is still refused", configs.ClientAuthOptional, false, "Bearer nope", clientauth.ErrBadCredential, "", ""},
		{"dev key", configs.ClientAuthRequired, false, "Bearer dev-client-northwind", nil, "northwind", clientauth.MethodAPIKey},
		{"scheme in any case, spaces after it", configs.ClientAuthRequired, false, "bEARER   dev-client-acme", nil, "acme", clientauth.MethodAPIKey},
		{"a key's name is not its secret", configs.ClientAuthRequired, false, "Bearer dev.acme", clientauth.ErrBadCredential, "", ""},
		{"Basic", configs.ClientAuthOptional, false, "Basic ZGV2OmRldg==", clientauth.ErrBadCredential, "", ""},
		{"Bearer alone", configs.ClientAuthOptional, false, "Bearer", clientauth.ErrBadCredential, "", ""},
		{"Bearer and spaces", configs.ClientAuthOptional, false, "Bearer    ", clientauth.ErrBadCredential, "", ""},
		{"the secret without a scheme", configs.ClientAuthOptional, false, "dev-client-acme", clientauth.ErrBadCredential, "", ""},
		{"two credentials", configs.ClientAuthRequired, false, "Bearer dev-client-acme dev-client-globex", clientauth.ErrBadCredential, "", ""},
		{"a key with a trailing tab", configs.ClientAuthRequired, false, "Bearer dev-client-acme\t", nil, "acme", clientauth.MethodAPIKey},
		{"non-ASCII in the credential", configs.ClientAuthRequired, false, "Bearer dev-client-acmé", clientauth.ErrBadCredential, "", ""},
		{"a huge credential", configs.ClientAuthRequired, false, "Bearer " + strings.Repeat("a", 9000), clientauth.ErrBadCredential, "", ""},
		{"a JWT with OIDC on", configs.ClientAuthRequired, true, "Bearer " + token, nil, "acme", clientauth.MethodJWT},
		{"a JWT with OIDC off is looked up as a key", configs.ClientAuthRequired, false, "Bearer " + token, clientauth.ErrBadCredential, "", ""},
		{"keys still work with OIDC on", configs.ClientAuthRequired, true, "Bearer dev-client-globex", nil, "globex", clientauth.MethodAPIKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := configs.ClientAuth{Mode: tt.mode}
			if tt.oidc {
				cfg.OIDC = withOIDC.OIDC
			}
			a := newJWTAuth(t, i, cfg, nil)
			p, err := a.Authenticate(context.Background(), tt.header)
			if tt.want != nil {
				if !errors.Is(err, tt.want) || p.Tenant != "" || p.Method != "" {
					t.Fatalf("got %+v, %v; want %v", p, err, tt.want)
				}
				return
			}
			if err != nil || p.Tenant != tt.tenant || p.Method != tt.method {
				t.Fatalf("got %+v, %v; want tenant %q by %s", p, err, tt.tenant, tt.method)
			}
		})
	}
}

func TestApplyKeepsTheJWKSWhenOIDCIsUnchanged(t *testing.T) {
	i := idp.New(t)
	cfg := oidcConfig(i)
	a := newJWTAuth(t, i, cfg, nil)
	tok := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
	if _, err := a.Authenticate(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	same := *cfg.OIDC // an equal copy, as a reload of the same config gives
	a.Apply(configs.ClientAuth{Mode: configs.ClientAuthOptional, OIDC: &same})
	if _, err := a.Authenticate(context.Background(), tok); err != nil || i.JWKSHits.Load() != 1 {
		t.Fatalf("after an unchanged Apply: %v, %d JWKS fetches", err, i.JWKSHits.Load())
	}
	if p, err := a.Authenticate(context.Background(), ""); err != nil || p.Method != clientauth.MethodAnonymous {
		t.Fatalf("the new mode is not in force: %+v %v", p, err)
	}
	other := same
	other.Audiences = []string{"someone-else"}
	a.Apply(configs.ClientAuth{OIDC: &other})
	if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, clientauth.ErrBadCredential) {
		t.Fatalf("a changed audience still accepts the old token: %v", err)
	}
	a.Apply(configs.ClientAuth{})
	if p, err := a.Authenticate(context.Background(), tok); !errors.Is(err, clientauth.ErrBadCredential) {
		t.Fatalf("OIDC off still accepts tokens: %+v %v", p, err)
	}
}

// TestMiddleware runs a gin server on a real listener: 401s carry the
// RFC 6750 challenge and say nothing of the reason; the principal reaches
// the handler through the request's context.
func TestMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	i := idp.New(t)
	a := newJWTAuth(t, i, oidcConfig(i), nil)
	var logged []error
	r := gin.New()
	r.Use(a.Middleware(func(c *gin.Context, err error) {
		logged = append(logged, err)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"detail": clientauth.PublicDetail(err)})
	}))
	r.GET("/whoami", func(c *gin.Context) {
		p, ok := clientauth.FromContext(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"tenant": p.Tenant, "method": p.Method, "ok": ok})
	})
	r.GET("/codec", func(c *gin.Context) {
		_, allowed := a.TokenHolding(c.Request, "codec")
		c.JSON(http.StatusOK, gin.H{"allowed": allowed})
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	get := func(path string, auth ...string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for _, v := range auth {
			req.Header.Add("Authorization", v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	tests := []struct {
		name      string
		auth      []string
		status    int
		challenge string
	}{
		{"no credential", nil, 401, `Bearer realm="regiongate"`},
		{"unknown key", []string{"Bearer s3cret-guess"}, 401, `Bearer realm="regiongate", error="invalid_token"`},
		{"two headers", []string{"Bearer dev-client-acme", "Bearer dev-client-globex"}, 401, `Bearer realm="regiongate", error="invalid_token"`},
		{"dev key", []string{"Bearer dev-client-acme"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get("/whoami", tt.auth...)
			if resp.StatusCode != tt.status || resp.Header.Get("WWW-Authenticate") != tt.challenge {
				t.Fatalf("got %d %q %v", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
			}
			if tt.status == 200 && (body["tenant"] != "acme" || body["method"] != "api-key" || body["ok"] != true) {
				t.Fatalf("the handler saw %v", body)
			}
			if detail, _ := body["detail"].(string); strings.Contains(detail, "unknown API key") || strings.Contains(detail, "more than one") || strings.Contains(detail, "s3cret") {
				t.Fatalf("the 401 tells the reason: %q", detail)
			}
		})
	}
	if len(logged) != 3 || !strings.Contains(logged[1].Error(), "unknown API key") {
		t.Fatalf("the log did not get the reasons: %v", logged)
	}

	t.Run("codec role from a token only", func(t *testing.T) {
		withRole := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
		withoutRole := "Bearer " + i.Sign(t, "ec-1", i.Claims(time.Now(), func(c jwt.MapClaims) { c["roles"] = "viewer" }))
		for auth, want := range map[string]bool{withRole: true, withoutRole: false, "Bearer dev-client-acme": false} {
			if _, body := get("/codec", auth); body["allowed"] != want {
				t.Errorf("%.20s: allowed %v, want %v", auth, body["allowed"], want)
			}
		}
	})
}

// FuzzParseHeader: any header is anonymous, an error of the two kinds, or
// a principal with a canonical tenant; never a panic.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"", "Bearer dev-client-acme", "bearer  x", "Basic a", "Bearer", "Bearer eyJ.e30.x", "Bearer a\x00b", "Bearer a==", "Bearer =="} {
		f.Add(s)
	}
	a := clientauth.New(configs.ClientAuth{Mode: configs.ClientAuthOptional}, clientauth.NewKeys(clientauth.DevKeys()...), clientauth.Options{})
	f.Fuzz(func(t *testing.T, header string) {
		p, err := a.Authenticate(context.Background(), header)
		switch {
		case err == nil && p.Method == clientauth.MethodAnonymous:
			if strings.TrimSpace(header) != "" || p.Tenant != "" {
				t.Fatalf("%q: anonymous %+v", header, p)
			}
		case err == nil:
			if !configs.ValidTenant(p.Tenant) || p.Method != clientauth.MethodAPIKey {
				t.Fatalf("%q: %+v", header, p)
			}
		case !errors.Is(err, clientauth.ErrBadCredential) && !errors.Is(err, clientauth.ErrNoCredential):
			t.Fatalf("%q: %v", header, err)
		}
	})
}
