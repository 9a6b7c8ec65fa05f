package clientauth_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
	"github.com/regiongate/regiongate/internal/testkit/idp"
)

// BenchmarkAuthenticateAPIKey: one key among 10,003 (the dev keys and
// 10,000 tenants' keys).
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	keys := clientauth.NewKeys(clientauth.DevKeys()...)
	many := make([]clientauth.Key, 10000)
	for n := range many {
		secret := fmt.Sprintf("tenant-%d-secret", n)
		many[n] = clientauth.Key{Name: fmt.Sprint("k", n), Tenant: fmt.Sprint("t", n), Hash: sha256.Sum256([]byte(secret))}
	}
	if err := keys.Replace("file", many); err != nil {
		b.Fatal(err)
	}
	a := clientauth.New(configs.ClientAuth{Mode: configs.ClientAuthRequired}, keys, clientauth.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, "Bearer dev-client-acme"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateJWTCached: a token seen before (RS256, 2048 bits).
func BenchmarkAuthenticateJWTCached(b *testing.B) {
	i := idp.New(b)
	a := newJWTAuth(b, i, oidcConfig(i), nil)
	header := "Bearer " + i.Sign(b, "rsa-1", i.Claims(time.Now(), nil))
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, header); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(ctx, header); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateJWTUncached: the signature checked every time (a
// cache of one entry and two tokens in turn), for information.
func BenchmarkAuthenticateJWTUncached(b *testing.B) {
	for _, kid := range []string{"rsa-1", "ec-1"} {
		b.Run(kid, func(b *testing.B) {
			i := idp.New(b)
			a := newJWTAuth(b, i, oidcConfig(i), func(o *clientauth.Options) { o.CacheSize = 1 })
			headers := []string{
				"Bearer " + i.Sign(b, kid, i.Claims(time.Now(), nil)),
				"Bearer " + i.Sign(b, kid, i.Claims(time.Now().Add(time.Second), nil)),
			}
			ctx := context.Background()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := a.Authenticate(ctx, headers[n%2]); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}
