// Package idp is a test OpenID provider on a real listener: a discovery
// document and a JWKS whose keys a test publishes and withdraws, and the
// tokens it signs. Test-only; never linked into a binary.
package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Keys are generated once per test binary: RSA generation is slow. The
// IdP publishes RSAKey as "rsa-1" and ECKey as "ec-1"; RSAKey2 is for a
// test to add or to forge with.
var (
	RSAKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	RSAKey2 = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	ECKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// IdP is a test OpenID provider on a real listener, counting JWKS hits.
type IdP struct {
	Srv       *httptest.Server
	Issuer    string
	JWKSHits  atomic.Int64
	Down      atomic.Bool // answer 503
	mu        sync.Mutex
	keys      map[string]crypto.Signer // kid -> private key, published or not
	published []string
}

// New starts an IdP publishing "rsa-1" and "ec-1"; it stops with the test.
func New(t testing.TB) *IdP {
	t.Helper()
	i := &IdP{keys: map[string]crypto.Signer{"rsa-1": RSAKey(), "ec-1": ECKey()}, published: []string{"rsa-1", "ec-1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": i.Issuer, "jwks_uri": i.Srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		i.JWKSHits.Add(1)
		if i.Down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(i.jwks(t))
	})
	i.Srv = httptest.NewServer(mux)
	t.Cleanup(i.Srv.Close)
	i.Issuer = i.Srv.URL
	return i
}

// Publish makes the JWKS hold exactly these keys.
func (i *IdP) Publish(kids ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = kids
}

// AddKey knows key as kid (published only by Publish).
func (i *IdP) AddKey(kid string, key crypto.Signer) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid] = key
}

func (i *IdP) jwks(t testing.TB) []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	var set jwkset.JWKSMarshal
	for _, kid := range i.published {
		alg := jwkset.AlgRS256
		if _, ec := i.keys[kid].(*ecdsa.PrivateKey); ec {
			alg = jwkset.AlgES256
		}
		k, err := jwkset.NewJWKFromKey(i.keys[kid].Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: kid, ALG: alg, USE: jwkset.UseSig}})
		if err != nil {
			t.Error(err)
		}
		set.Keys = append(set.Keys, k.Marshal())
	}
	return must(json.Marshal(set))
}

// Claims are valid claims for tenant acme (audience "regiongate", role
// "codec"), changed by edit.
func (i *IdP) Claims(now time.Time, edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": i.Issuer, "aud": "regiongate", "sub": "user-1", "tenant": "acme",
		"roles": []string{"codec"}, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

// Sign signs claims with the key kid names (RS256 or ES256) and puts kid
// in the header.
func (i *IdP) Sign(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	key := i.keys[kid]
	i.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if _, ec := key.(*ecdsa.PrivateKey); ec {
		method = jwt.SigningMethodES256
	}
	return SignWith(t, method, kid, key, claims)
}

// SignWith signs claims with any method and key, kid in the header when
// set: for forged tokens.
func SignWith(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
