package clientauth_test

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

	"github.com/regiongate/regiongate/configs"
)

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	ecKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// idp is a test OpenID provider on a real listener: a discovery document
// and a JWKS whose keys the test publishes and withdraws, counting hits.
type idp struct {
	srv       *httptest.Server
	issuer    string
	mu        sync.Mutex
	keys      map[string]crypto.Signer // kid -> private key, published or not
	published []string
	jwksHits  atomic.Int64
	down      atomic.Bool // answer 503
}

func newIdP(t testing.TB) *idp {
	t.Helper()
	i := &idp{keys: map[string]crypto.Signer{"rsa-1": rsaKey(), "ec-1": ecKey()}, published: []string{"rsa-1", "ec-1"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": i.issuer, "jwks_uri": i.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		i.jwksHits.Add(1)
		if i.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(i.jwks(t))
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.issuer = i.srv.URL
	return i
}

// publish makes the JWKS hold exactly these keys.
func (i *idp) publish(kids ...string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = kids
}

func (i *idp) addKey(kid string, key crypto.Signer) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid] = key
}

func (i *idp) jwks(t testing.TB) []byte {
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

// config is the oidc section for this IdP, audience "regiongate".
func (i *idp) config() configs.ClientAuth {
	return configs.ClientAuth{Mode: configs.ClientAuthRequired, OIDC: &configs.OIDC{
		Issuer: i.issuer, Audiences: []string{"regiongate"}, Algorithms: []string{"RS256", "ES256"},
		TenantClaim: "tenant", RoleClaim: "roles", Leeway: configs.Duration(30 * time.Second)}}
}

// claims are valid claims for tenant acme, changed by edit.
func (i *idp) claims(now time.Time, edit func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"iss": i.issuer, "aud": "regiongate", "sub": "user-1", "tenant": "acme",
		"roles": []string{"codec"}, "iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

// sign signs claims with the key kid names (RS256 or ES256) and puts kid
// in the header.
func (i *idp) sign(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	key := i.keys[kid]
	i.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if _, ec := key.(*ecdsa.PrivateKey); ec {
		method = jwt.SigningMethodES256
	}
	return signWith(t, method, kid, key, claims)
}

func signWith(t testing.TB, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
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
