package clientauth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/testkit/idp"
)

// FuzzAccessToken: any credential, most shaped like an access token of a
// real IdP (a test one on a listener): a refusal is ErrBadCredential, an
// accepted token names a canonical tenant and was signed with a pinned
// algorithm, and no stream of tokens (forged key ids included) makes the
// gateway fetch the IdP's keys more than once past the first fetch while
// JWKSMinRefresh (an hour here) has not passed.
func FuzzAccessToken(f *testing.F) {
	i := idp.New(f)
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims { return i.Claims(now, edit) }
	pub := must(x509.MarshalPKIXPublicKey(idp.RSAKey().Public()))
	for _, tok := range []string{
		i.Sign(f, "rsa-1", claims(nil)),
		i.Sign(f, "ec-1", claims(func(c jwt.MapClaims) { c["ext"] = map[string]any{"tenant": "globex"} })),
		i.Sign(f, "rsa-1", claims(func(c jwt.MapClaims) { c["tenant"] = "Acme" })),
		i.Sign(f, "rsa-1", claims(func(c jwt.MapClaims) { c["roles"] = "codec viewer" })),
		idp.SignWith(f, jwt.SigningMethodHS256, "rsa-1", pub, claims(nil)),
		idp.SignWith(f, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, claims(nil)),
		idp.SignWith(f, jwt.SigningMethodRS256, "forged-kid", idp.RSAKey2(), claims(nil)),
		"eyJhbGciOiJSUzI1NiIsImtpZCI6eyJhIjoxfX0.e30.c2ln",
		"dev-client-acme", "", "eyJ..",
	} {
		f.Add(tok)
	}
	a := clientauth.New(oidcConfig(i), clientauth.NewKeys(clientauth.DevKeys()...), clientauth.Options{
		HTTPClient: i.Srv.Client(), JWKSMinRefresh: time.Hour, JWKSRefresh: time.Hour})
	f.Cleanup(a.Close)
	f.Fuzz(func(t *testing.T, token string) {
		p, err := a.Authenticate(context.Background(), "Bearer "+token)
		switch {
		case err != nil && !errors.Is(err, clientauth.ErrBadCredential):
			t.Fatalf("%q: %v", token, err)
		case err != nil:
		case !configs.ValidTenant(p.Tenant):
			t.Fatalf("%q accepted for tenant %q", token, p.Tenant)
		case p.Method == clientauth.MethodJWT && !pinnedAlg(token):
			t.Fatalf("%q accepted, but not signed with RS256 or ES256", token)
		}
		if hits := i.JWKSHits.Load(); hits > 2 {
			t.Fatalf("the JWKS was fetched %d times within JWKSMinRefresh", hits)
		}
	})
}

// pinnedAlg reports whether a compact JWS names RS256 or ES256.
func pinnedAlg(token string) bool {
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var h map[string]any
	return err == nil && json.Unmarshal(raw, &h) == nil && (h["alg"] == "RS256" || h["alg"] == "ES256")
}
