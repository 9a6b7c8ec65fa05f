package clientauth_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/testkit/idp"
	"github.com/regiongate/regiongate/internal/testkit/poll"
)

// newJWTAuth is an authenticator for the IdP: an unknown kid refreshes
// the JWKS once, then not for an hour; no periodic refresh during a test.
func newJWTAuth(t testing.TB, i *idp.IdP, cfg configs.ClientAuth, edit func(*clientauth.Options)) *clientauth.Authenticator {
	t.Helper()
	opts := clientauth.Options{HTTPClient: i.Srv.Client(), JWKSMinRefresh: time.Hour, JWKSRefresh: time.Hour}
	if edit != nil {
		edit(&opts)
	}
	a := clientauth.New(cfg, clientauth.NewKeys(clientauth.DevKeys()...), opts)
	t.Cleanup(a.Close)
	return a
}

func TestAccessTokens(t *testing.T) {
	i := idp.New(t)
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims { return i.Claims(now, edit) }
	pubDER := must(x509.MarshalPKIXPublicKey(idp.RSAKey().Public()))
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	i.AddKey("rogue", idp.RSAKey2())

	tests := []struct {
		name   string
		token  func() string
		tenant string // "" means ErrBadCredential
	}{
		{"valid RS256", func() string { return i.Sign(t, "rsa-1", claims(nil)) }, "acme"},
		{"valid ES256", func() string { return i.Sign(t, "ec-1", claims(nil)) }, "acme"},
		{"audience list naming ours", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["aud"] = []string{"other", "regiongate"} }))
		}, "acme"},
		{"expired within the leeway", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Second).Unix() }))
		}, "acme"},
		{"no kid: every published key is tried", func() string { return idp.SignWith(t, jwt.SigningMethodES256, "", idp.ECKey(), claims(nil)) }, "acme"},
		{"expired", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }))
		}, ""},
		{"no exp", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { delete(c, "exp") })) }, ""},
		{"not yet valid", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }))
		}, ""},
		{"wrong issuer", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))
		}, ""},
		{"issuer differing by a slash", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["iss"] = i.Issuer + "/" }))
		}, ""},
		{"wrong audience", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["aud"] = "another-service" }))
		}, ""},
		{"no audience", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { delete(c, "aud") })) }, ""},
		{"signed by a key not in the JWKS", func() string { return i.Sign(t, "rogue", claims(nil)) }, ""},
		{"signed by another key under a published kid", func() string {
			return idp.SignWith(t, jwt.SigningMethodRS256, "rsa-1", idp.RSAKey2(), claims(nil))
		}, ""},
		{"alg none", func() string {
			return idp.SignWith(t, jwt.SigningMethodNone, "rsa-1", jwt.UnsafeAllowNoneSignatureType, claims(nil))
		}, ""},
		{"HS256 keyed with the RSA public key", func() string { return idp.SignWith(t, jwt.SigningMethodHS256, "rsa-1", pubPEM, claims(nil)) }, ""},
		{"HS256 keyed with the RSA public key DER", func() string { return idp.SignWith(t, jwt.SigningMethodHS256, "rsa-1", pubDER, claims(nil)) }, ""},
		{"RS384: a good signature, an algorithm not pinned", func() string {
			return idp.SignWith(t, jwt.SigningMethodRS384, "rsa-1", idp.RSAKey(), claims(nil))
		}, ""},
		{"ES256 header on the RSA key", func() string { return idp.SignWith(t, jwt.SigningMethodES256, "rsa-1", idp.ECKey(), claims(nil)) }, ""},
		{"no tenant claim", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { delete(c, "tenant") })) }, ""},
		{"tenant Northwind", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = "Northwind" })) }, ""},
		{"tenant with a trailing space", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = "northwind " }))
		}, ""},
		{"tenant with a zero-width joiner", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = "north\u200dwind" }))
		}, ""},
		{"tenant not a string", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = 42 })) }, ""},
		{"tenant a list", func() string {
			return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = []string{"acme"} }))
		}, ""},
		{"roles not strings", func() string { return i.Sign(t, "rsa-1", claims(func(c jwt.MapClaims) { c["roles"] = []int{1} })) }, ""},
		{"signature cut off", func() string { s := i.Sign(t, "rsa-1", claims(nil)); return s[:len(s)-4] }, ""},
		{"garbage shaped like a JWT", func() string { return "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newJWTAuth(t, i, oidcConfig(i), nil)
			p, err := a.Authenticate(context.Background(), "Bearer "+tt.token())
			if tt.tenant == "" {
				if !errors.Is(err, clientauth.ErrBadCredential) || p.Tenant != "" {
					t.Fatalf("want ErrBadCredential, got %+v, %v", p, err)
				}
				t.Logf("refused: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := clientauth.Principal{Tenant: tt.tenant, Subject: "user-1", Method: clientauth.MethodJWT, Roles: []string{"codec"}}
			if p.Tenant != want.Tenant || p.Subject != want.Subject || p.Method != want.Method || !slices.Equal(p.Roles, want.Roles) {
				t.Fatalf("got %+v, want %+v", p, want)
			}
		})
	}
}

func TestClaimPaths(t *testing.T) {
	i := idp.New(t)
	cfg := oidcConfig(i)
	tests := []struct {
		tenantClaim, roleClaim string
		edit                   func(jwt.MapClaims)
		tenant                 string
		roles                  []string
	}{
		{"ext.tenant", "realm_access.roles", func(c jwt.MapClaims) {
			c["ext"] = map[string]any{"tenant": "globex"}
			c["realm_access"] = map[string]any{"roles": []string{"codec", "viewer"}}
		}, "globex", []string{"codec", "viewer"}},
		{"https://regiongate.dev/tenant", "scope", func(c jwt.MapClaims) {
			c["https://regiongate.dev/tenant"] = "northwind"
			c["scope"] = "openid codec"
		}, "northwind", []string{"openid", "codec"}},
		{"tenant", "absent", nil, "acme", nil},
	}
	for _, tt := range tests {
		t.Run(tt.tenantClaim, func(t *testing.T) {
			o := *cfg.OIDC
			o.TenantClaim, o.RoleClaim = tt.tenantClaim, tt.roleClaim
			a := newJWTAuth(t, i, configs.ClientAuth{Mode: configs.ClientAuthRequired, OIDC: &o}, nil)
			p, err := a.Authenticate(context.Background(), "Bearer "+i.Sign(t, "rsa-1", i.Claims(time.Now(), tt.edit)))
			if err != nil || p.Tenant != tt.tenant || !slices.Equal(p.Roles, tt.roles) {
				t.Fatalf("got %+v, %v", p, err)
			}
		})
	}
}

func TestCachedTokenNeverOutlivesItsExp(t *testing.T) {
	i := idp.New(t)
	var clock atomic.Pointer[time.Time]
	start := time.Now()
	clock.Store(&start)
	now := func() time.Time { return *clock.Load() }
	a := newJWTAuth(t, i, oidcConfig(i), func(o *clientauth.Options) { o.Now = now })
	tok := "Bearer " + i.Sign(t, "rsa-1", i.Claims(start, func(c jwt.MapClaims) { c["exp"] = start.Add(time.Minute).Unix() }))
	for range 3 {
		if _, err := a.Authenticate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	later := start.Add(time.Minute + 31*time.Second) // past exp and the leeway
	clock.Store(&later)
	if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, clientauth.ErrBadCredential) {
		t.Fatalf("a cached token outlived its exp: %v", err)
	}
}

func TestJWKSRotation(t *testing.T) {
	t.Run("a new kid refreshes, a withdrawn key stops passing at once", func(t *testing.T) {
		i := idp.New(t)
		i.AddKey("rsa-2", idp.RSAKey2())
		a := newJWTAuth(t, i, oidcConfig(i), nil)
		old := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
		if _, err := a.Authenticate(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		i.Publish("rsa-2", "ec-1")
		if _, err := a.Authenticate(context.Background(), "Bearer "+i.Sign(t, "rsa-2", i.Claims(time.Now(), nil))); err != nil {
			t.Fatalf("the new key: %v", err)
		}
		// The refresh withdrew rsa-1: its token, verified and cached
		// before, must fail now, not at its exp.
		if _, err := a.Authenticate(context.Background(), old); !errors.Is(err, clientauth.ErrBadCredential) {
			t.Fatalf("the withdrawn key's token: %v", err)
		}
		if n := i.JWKSHits.Load(); n != 2 {
			t.Fatalf("%d JWKS fetches, want 2 (the first, one refresh)", n)
		}
	})
	t.Run("the periodic refresh picks up a rotation", func(t *testing.T) {
		i := idp.New(t)
		i.AddKey("rsa-2", idp.RSAKey2())
		a := newJWTAuth(t, i, oidcConfig(i), func(o *clientauth.Options) { o.JWKSRefresh = 50 * time.Millisecond })
		ctx := context.Background()
		old := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
		if _, err := a.Authenticate(ctx, old); err != nil {
			t.Fatal(err)
		}
		// Spend the one unknown-kid refresh, so only the ticker can help.
		a.Authenticate(ctx, "Bearer "+i.Sign(t, "rsa-2", i.Claims(time.Now(), nil)))
		i.Publish("rsa-2")
		fresh := "Bearer " + i.Sign(t, "rsa-2", i.Claims(time.Now(), nil))
		poll.Until(t, 5*time.Second, "the new key to be fetched", func() bool {
			_, err := a.Authenticate(ctx, fresh)
			return err == nil
		})
		if _, err := a.Authenticate(ctx, old); err == nil {
			t.Fatal("the withdrawn key still passes")
		}
	})
	t.Run("an IdP down at start is retried, not hammered", func(t *testing.T) {
		i := idp.New(t)
		i.Down.Store(true)
		const every = 200 * time.Millisecond
		a := newJWTAuth(t, i, oidcConfig(i), func(o *clientauth.Options) { o.JWKSMinRefresh = every })
		tok := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
		start := time.Now()
		for range 200 {
			if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, clientauth.ErrBadCredential) {
				t.Fatalf("no keys, yet: %v", err)
			}
		}
		if n, most := i.JWKSHits.Load(), 2+int64(time.Since(start)/every); n > most {
			t.Fatalf("%d JWKS fetches while down, want at most %d", n, most)
		}
		i.Down.Store(false)
		poll.Until(t, 5*time.Second, "the keys once the IdP is back", func() bool {
			_, err := a.Authenticate(context.Background(), tok)
			return err == nil
		})
	})
	t.Run("an IdP down keeps the keys it served", func(t *testing.T) {
		i := idp.New(t)
		a := newJWTAuth(t, i, oidcConfig(i), func(o *clientauth.Options) { o.JWKSRefresh = 20 * time.Millisecond })
		tok := "Bearer " + i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))
		if _, err := a.Authenticate(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		i.Down.Store(true)
		hits := i.JWKSHits.Load()
		poll.Until(t, 5*time.Second, "failed refreshes", func() bool { return i.JWKSHits.Load() > hits+2 })
		if _, err := a.Authenticate(context.Background(), "Bearer "+i.Sign(t, "ec-1", i.Claims(time.Now(), nil))); err != nil {
			t.Fatalf("keys lost while the IdP is down: %v", err)
		}
	})
}

// TestUnknownKidFloodIsRateLimited: forged kids must not make the gateway
// hammer the IdP, and must not make callers wait.
func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	i := idp.New(t)
	a := newJWTAuth(t, i, oidcConfig(i), nil) // one refresh per hour
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, "Bearer "+i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var passed atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 100 {
				tok := idp.SignWith(t, jwt.SigningMethodRS256, fmt.Sprintf("forged-%d-%d", w, n), idp.RSAKey2(), i.Claims(time.Now(), nil))
				if _, err := a.Authenticate(ctx, "Bearer "+tok); err == nil {
					passed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if passed.Load() != 0 {
		t.Fatalf("%d forged tokens passed", passed.Load())
	}
	if n := i.JWKSHits.Load(); n > 2 {
		t.Fatalf("800 forged kids made %d JWKS fetches; want at most 2 (the first, one refresh)", n)
	}
}

func TestDiscovery(t *testing.T) {
	i := idp.New(t)
	cfg := oidcConfig(i)
	t.Run("jwks_uri from the discovery document", func(t *testing.T) {
		a := newJWTAuth(t, i, cfg, nil)
		if _, err := a.Authenticate(context.Background(), "Bearer "+i.Sign(t, "rsa-1", i.Claims(time.Now(), nil))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a document naming another issuer is refused", func(t *testing.T) {
		o := *cfg.OIDC
		o.Issuer = i.Issuer + "/" // the same document, which names i.Issuer
		var reported atomic.Int64
		a := newJWTAuth(t, i, configs.ClientAuth{OIDC: &o}, func(o *clientauth.Options) { o.OnError = func(error) { reported.Add(1) } })
		tok := i.Sign(t, "rsa-1", i.Claims(time.Now(), func(c jwt.MapClaims) { c["iss"] = o.Issuer }))
		if _, err := a.Authenticate(context.Background(), "Bearer "+tok); !errors.Is(err, clientauth.ErrBadCredential) {
			t.Fatalf("got %v", err)
		}
		if reported.Load() == 0 {
			t.Fatal("the failed discovery was not reported")
		}
	})
}
