package clientauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/regiongate/regiongate/configs"
)

// maxIdPResponse bounds a discovery document or JWKS: real ones are a few
// KiB, and a misconfigured URL must not fill the gateway's memory.
const maxIdPResponse = 1 << 20

// keySet is the issuer's JWKS, fetched and cached by jwkset: refreshed
// every JWKSRefresh in the background, and on a token naming an unknown
// key id at most once per JWKSMinRefresh, without making anyone wait: a
// token naming an unknown kid when no refresh is allowed fails at once.
// Its generation changes whenever a fetch brings different keys, which
// invalidates every cached verification: a key the IdP withdrew stops
// passing at once.
type keySet struct {
	cfg     configs.OIDC
	opts    Options
	client  *http.Client
	ctx     context.Context // ends the background refresh
	cancel  context.CancelFunc
	timeout time.Duration // of one fetch
	gen     atomic.Uint64

	cur       atomic.Pointer[fetched] // nil until the first fetch
	mu        sync.Mutex              // serialises that first fetch
	starts    *rate.Limiter           // how often it may be tried again
	refreshes *rate.Limiter           // how often an unknown kid may refresh
}

// fetched is the JWKS storage and the key lookup built on it.
type fetched struct {
	store jwkset.Storage // the keys as last fetched
	kf    keyfunc.Keyfunc
}

func newKeySet(cfg configs.OIDC, opts Options) *keySet {
	ctx, cancel := context.WithCancel(context.Background())
	c := *opts.HTTPClient
	c.Transport = limitedTransport{base: c.Transport}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	every := rate.Every(opts.JWKSMinRefresh)
	return &keySet{cfg: cfg, opts: opts, client: &c, ctx: ctx, cancel: cancel, timeout: timeout,
		starts: rate.NewLimiter(every, 1), refreshes: rate.NewLimiter(every, 1)}
}

func (s *keySet) close() { s.cancel() }

func (s *keySet) generation() uint64 { return s.gen.Load() }

// keyfunc returns the key lookup for this token. A kid not in the cached
// JWKS is let through to jwkset, which then refreshes it, only when the
// refresh limiter allows.
func (s *keySet) keyfunc(ctx context.Context, token string) (jwt.Keyfunc, error) {
	f, err := s.started()
	if err != nil {
		return nil, err
	}
	if kid := peekKID(token); kid != "" {
		_, err := f.store.KeyRead(ctx, kid)
		if errors.Is(err, jwkset.ErrKeyNotFound) && !s.refreshes.Allow() {
			return nil, fmt.Errorf("unknown key id (the JWKS is fetched for an unknown kid at most once per %s)", s.opts.JWKSMinRefresh)
		}
	}
	return f.kf.KeyfuncCtx(ctx), nil
}

// peekKID reads the kid of a compact JWS's header without verifying
// anything; "" when there is none.
func peekKID(token string) string {
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		KID any `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	kid, _ := h.KID.(string)
	return kid
}

// started discovers the JWKS URL and fetches the keys the first time.
// Tokens arriving meanwhile wait for it (bounded by the fetch timeouts of
// discovery and the JWKS); a failed start is retried at most once per JWKSMinRefresh, and
// tokens in between fail without waiting.
func (s *keySet) started() (*fetched, error) {
	if f := s.cur.Load(); f != nil {
		return f, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.cur.Load(); f != nil {
		return f, nil
	}
	if !s.starts.Allow() {
		return nil, errors.New("the issuer's keys are not available yet (the last attempt failed)")
	}
	f, err := s.start()
	if err != nil {
		s.opts.OnError(err)
		return nil, err
	}
	s.cur.Store(f)
	return f, nil
}

func (s *keySet) start() (*fetched, error) {
	url := s.cfg.JWKSURL
	if url == "" {
		var err error
		if url, err = s.discover(); err != nil {
			return nil, err
		}
	}
	timeout := s.timeout
	store, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client: s.client, Ctx: s.ctx, HTTPTimeout: timeout,
		RefreshInterval: s.opts.JWKSRefresh, RequireSupportedKeys: false,
		// An IdP down at start is not fatal: unknown-kid refreshes retry.
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler: func(_ context.Context, err error) {
			s.opts.OnError(fmt.Errorf("fetching the JWKS of %s: %w", s.cfg.Issuer, err))
		},
		Storage: &generationStorage{MemoryJWKSet: jwkset.NewMemoryStorage(), gen: &s.gen},
	})
	if err != nil {
		return nil, fmt.Errorf("the JWKS of %s: %w", s.cfg.Issuer, err)
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{url: store},
		// keyfunc lets an unknown kid through only when s.refreshes
		// allows, so jwkset's own limiter never has to make anyone wait.
		RefreshUnknownKID: rate.NewLimiter(rate.Inf, 1),
		RateLimitWaitMax:  timeout, // also bounds that refresh
	})
	if err != nil {
		return nil, err
	}
	kf, err := keyfunc.New(keyfunc.Options{Ctx: s.ctx, Storage: client,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}}) // never an encryption key
	if err != nil {
		return nil, err
	}
	return &fetched{store: store, kf: kf}, nil
}

// discover reads jwks_uri from the issuer's OpenID Connect discovery
// document, which must name the configured issuer exactly.
func (s *keySet) discover() (string, error) {
	where := strings.TrimSuffix(s.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return "", err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovering the issuer's JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovering the issuer's JWKS: %s answered %s", where, resp.Status)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovering the issuer's JWKS: %s: %w", where, err)
	}
	if doc.Issuer != s.cfg.Issuer {
		return "", fmt.Errorf("discovering the issuer's JWKS: %s names issuer %q, not %q", where, doc.Issuer, s.cfg.Issuer)
	}
	if err := configs.CheckOIDCURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovering the issuer's JWKS: jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}

// generationStorage is jwkset's memory storage that also counts changes of
// the key set (a refresh bringing the same keys is no change).
type generationStorage struct {
	*jwkset.MemoryJWKSet
	gen *atomic.Uint64
	mu  sync.Mutex
	sum [32]byte
}

func (g *generationStorage) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	h := sha256.New()
	for _, k := range given {
		b, _ := json.Marshal(k.Marshal()) // public parts: the JWKS has no others
		h.Write(b)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	if sum := [32]byte(h.Sum(nil)); sum != g.sum {
		g.sum = sum
		g.gen.Add(1)
	}
	return nil
}

// limitedTransport refuses a response body past maxIdPResponse.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	if err == nil {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxIdPResponse}
	}
	return resp, err
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("response over %d bytes", maxIdPResponse)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
