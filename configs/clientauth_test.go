package configs_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
)

const oidcYAML = `clientAuth:
  mode: required
  oidc:
    issuer: https://idp.example/
    audiences: [regiongate]
    jwksURL: https://idp.example/.well-known/jwks.json
    algorithms: [RS256, ES256]
    tenantClaim: ext.tenant
    roleClaim: roles
    leeway: 30s
`

func TestClientAuthDefaults(t *testing.T) {
	t.Run("absent means required, without OIDC", func(t *testing.T) {
		c, err := configs.Parse([]byte(minimalYAML))
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientAuth.Mode != configs.ClientAuthRequired || c.ClientAuth.OIDC != nil {
			t.Fatalf("got %+v", c.ClientAuth)
		}
	})
	t.Run("the dev config serves anonymous callers", func(t *testing.T) {
		if m := configs.Default().ClientAuth.Mode; m != configs.ClientAuthOptional {
			t.Fatalf("dev mode %q", m)
		}
	})
	t.Run("oidc claims and algorithms default", func(t *testing.T) {
		c, err := configs.Parse([]byte(minimalYAML + "clientAuth:\n  oidc: {issuer: https://idp.example/, audiences: [rg]}\n"))
		if err != nil {
			t.Fatal(err)
		}
		o := c.ClientAuth.OIDC
		if c.ClientAuth.Mode != configs.ClientAuthRequired || o.TenantClaim != "tenant" || o.RoleClaim != "roles" ||
			!slices.Equal(o.Algorithms, []string{"RS256"}) || o.Leeway != 0 {
			t.Fatalf("got %+v %+v", c.ClientAuth, *o)
		}
	})
	t.Run("every field as written", func(t *testing.T) {
		c, err := configs.Parse([]byte(minimalYAML + oidcYAML))
		if err != nil {
			t.Fatal(err)
		}
		want := configs.OIDC{Issuer: "https://idp.example/", Audiences: []string{"regiongate"},
			JWKSURL: "https://idp.example/.well-known/jwks.json", Algorithms: []string{"RS256", "ES256"},
			TenantClaim: "ext.tenant", RoleClaim: "roles", Leeway: configs.Duration(30 * time.Second)}
		got := *c.ClientAuth.OIDC
		if got.Issuer != want.Issuer || got.JWKSURL != want.JWKSURL || !slices.Equal(got.Audiences, want.Audiences) ||
			!slices.Equal(got.Algorithms, want.Algorithms) || got.TenantClaim != want.TenantClaim ||
			got.RoleClaim != want.RoleClaim || got.Leeway != want.Leeway {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

func TestClientAuthProblemsHaveTheirPathAndLine(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(oidcYAML, old) {
			t.Fatalf("oidcYAML lacks %q", old)
		}
		return minimalYAML + strings.Replace(oidcYAML, old, new, 1)
	}
	base := strings.Count(minimalYAML, "\n")
	tests := []struct {
		name, text, path, msg string
		line                  int // within oidcYAML, 1-based
	}{
		{"unknown mode", edit("mode: required", "mode: sometimes"), "clientAuth.mode", `"sometimes"`, 2},
		{"alg none", edit("[RS256, ES256]", "[RS256, none]"), "clientAuth.oidc.algorithms[1]", "unsigned", 7},
		{"HMAC", edit("[RS256, ES256]", "[HS256]"), "clientAuth.oidc.algorithms[0]", "HMAC", 7},
		{"unknown algorithm", edit("[RS256, ES256]", "[RS257]"), "clientAuth.oidc.algorithms[0]", "unknown", 7},
		{"algorithm twice", edit("[RS256, ES256]", "[ES256, ES256]"), "clientAuth.oidc.algorithms[1]", "twice", 7},
		{"http issuer", edit("issuer: https://idp.example/", "issuer: http://idp.example/"), "clientAuth.oidc.issuer", "https", 4},
		{"issuer with a query", edit("issuer: https://idp.example/", "issuer: https://idp.example/?x=1"), "clientAuth.oidc.issuer", "query", 4},
		{"relative jwksURL", edit("jwksURL: https://idp.example/.well-known/jwks.json", "jwksURL: /jwks.json"), "clientAuth.oidc.jwksURL", "host", 6},
		{"no audience", edit("audiences: [regiongate]", "audiences: []"), "clientAuth.oidc.audiences", "at least one", 5},
		{"blank audience", edit("audiences: [regiongate]", `audiences: [regiongate, " "]`), "clientAuth.oidc.audiences[1]", "non-empty", 5},
		{"bad tenant claim", edit("tenantClaim: ext.tenant", "tenantClaim: ext..tenant"), "clientAuth.oidc.tenantClaim", "dotted path", 8},
		{"bad role claim", edit("roleClaim: roles", "roleClaim: roles."), "clientAuth.oidc.roleClaim", "dotted path", 9},
		{"leeway too long", edit("leeway: 30s", "leeway: 1h"), "clientAuth.oidc.leeway", "at most", 10},
		{"negative leeway", edit("leeway: 30s", "leeway: -1s"), "clientAuth.oidc.leeway", "negative", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse([]byte(tt.text))
			var ve *configs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a validation error, got %v", err)
			}
			for _, p := range ve.Problems {
				if p.Path == tt.path && strings.Contains(p.Message, tt.msg) {
					if p.Line != base+tt.line {
						t.Errorf("line %d, want %d", p.Line, base+tt.line)
					}
					return
				}
			}
			t.Fatalf("no problem at %s mentioning %q in %v", tt.path, tt.msg, ve.Problems)
		})
	}
	t.Run("unknown field", func(t *testing.T) {
		if _, err := configs.Parse([]byte(edit("leeway: 30s", "leeway: 30s\n    clientSecret: x"))); err == nil || !strings.Contains(err.Error(), "clientSecret") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestValidTenant(t *testing.T) {
	for _, name := range []string{"acme", "globex", "northwind", "a", "3m", "acme-eu", strings.Repeat("a", 63)} {
		if !configs.ValidTenant(name) {
			t.Errorf("%q refused", name)
		}
	}
	for _, name := range []string{"", "Northwind", "northwind ", " acme", "north\u200dwind", "acme_eu", "acme.eu",
		"-acme", strings.Repeat("a", 64), "ａcme", "acme\n", "acme/eu"} {
		if configs.ValidTenant(name) {
			t.Errorf("%q accepted", name)
		}
	}
	t.Run("tenants in the config follow it", func(t *testing.T) {
		if _, err := configs.Parse([]byte(minimalYAML + "tenants: [{name: 3m}]\n")); err != nil {
			t.Errorf("3m refused: %v", err)
		}
		if _, err := configs.Parse([]byte(minimalYAML + "tenants: [{name: \"north\u200dwind\"}]\n")); err == nil {
			t.Error("a zero-width joiner accepted")
		}
	})
}

var tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// FuzzValidTenant keeps ValidTenant and the schema's tenant pattern equal.
func FuzzValidTenant(f *testing.F) {
	for _, s := range []string{"acme", "-a", "Acme", "a\u200d", strings.Repeat("b", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if configs.ValidTenant(s) != tenantRE.MatchString(s) {
			t.Fatalf("ValidTenant(%q) = %v, the pattern says %v", s, configs.ValidTenant(s), !configs.ValidTenant(s))
		}
	})
}
