package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/regiongate/regiongate/internal/base/audit"
)

// Roles an admin token may hold. Admin holds them all.
const (
	RoleViewer     = "viewer"
	RoleCompliance = "compliance"
	RoleOperator   = "operator"
	RoleAdmin      = "admin"
)

// roles is every role, in the order whoami lists them.
var roles = []string{RoleViewer, RoleCompliance, RoleOperator, RoleAdmin}

// Token is an admin token as stored: only the SHA-256 of the secret.
type Token struct {
	Name  string
	Hash  [32]byte
	Roles []string
}

// Has reports whether the token holds role.
// Admin holds every role; compliance and operator also hold viewer, since
// editing the config or draining a region starts with reading them.
func (t Token) Has(role string) bool {
	if slices.Contains(t.Roles, role) || slices.Contains(t.Roles, RoleAdmin) {
		return true
	}
	return role == RoleViewer && (slices.Contains(t.Roles, RoleCompliance) || slices.Contains(t.Roles, RoleOperator))
}

// DevTokens are the contract's dev-only tokens. Never use them in
// production. Their names, which audit entries and drill reports show to
// every viewer, differ from their secrets.
func DevTokens() []Token {
	mk := func(name, secret string, roles ...string) Token {
		return Token{Name: name, Hash: sha256.Sum256([]byte(secret)), Roles: roles}
	}
	return []Token{
		mk("dev.viewer", "dev-viewer", RoleViewer),
		mk("dev.compliance", "dev-compliance", RoleCompliance),
		mk("dev.operator", "dev-operator", RoleOperator),
		mk("dev.admin", "dev-admin", RoleAdmin),
	}
}

// ParseTokens reads tokens, one per line: "name roles sha256hex", roles
// comma-separated. Blank lines and lines starting with # are ignored.
func ParseTokens(text string) ([]Token, error) {
	var out []Token
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("tokens line %d: want \"name roles sha256hex\", got %d fields", i+1, len(f))
		}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("tokens line %d: the hash must be 64 hex digits of SHA-256", i+1)
		}
		t := Token{Name: f[0], Roles: strings.Split(f[1], ",")}
		copy(t.Hash[:], raw)
		for _, r := range t.Roles {
			if !slices.Contains(roles, r) {
				return nil, fmt.Errorf("tokens line %d: unknown role %q", i+1, r)
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// LoadTokensFile reads a tokens file (see ParseTokens).
func LoadTokensFile(path string) ([]Token, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokens: %w", err)
	}
	return ParseTokens(string(data))
}

// authenticate finds the token whose hash matches the bearer secret. Every
// stored hash is compared, in constant time, so timing reveals nothing.
func authenticate(tokens []Token, header string) (Token, bool) {
	// The scheme name is case-insensitive (RFC 9110 section 11.1).
	scheme, secret, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Token{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	var found Token
	match := 0
	for _, t := range tokens {
		if subtle.ConstantTimeCompare(sum[:], t.Hash[:]) == 1 {
			found, match = t, 1
		}
	}
	return found, match == 1
}

const tokenKey = "regiongate.token"

// requireRole is middleware: 401 without a valid token, 403 without role;
// both are counted and audited (refuse).
func (s *Server) requireRole(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		t, ok := authenticate(s.tokens, header)
		if !ok {
			if header == "" {
				s.refuse(c, refusedMissingToken, "", "no token")
			} else {
				s.refuse(c, refusedInvalidToken, "", "not a valid token")
			}
			c.Header("WWW-Authenticate", `Bearer realm="regiongate-admin"`)
			fail(c, kindUnauthorized, "send Authorization: Bearer <token>")
			return
		}
		if !t.Has(role) {
			msg := fmt.Sprintf("token %q lacks the %s role", t.Name, role)
			s.refuse(c, refusedLacksRole, t.Name, msg)
			fail(c, kindForbidden, msg)
			return
		}
		c.Set(tokenKey, t)
		c.Next()
	}
}

// CodecAuthorize says who may use the codec endpoint: an admin token
// holding the operator role, or an OIDC access token whose roles include
// the config's clientAuth.oidc.codecRole (the Temporal UI's "pass access
// token"). who names the caller for the audit trail.
func (s *Server) CodecAuthorize(r *http.Request) (who string, ok bool) {
	if t, ok := authenticate(s.tokens, r.Header.Get("Authorization")); ok {
		return t.Name, t.Has(RoleOperator)
	}
	oidc := s.Config().ClientAuth.OIDC
	if oidc == nil {
		return "", false
	}
	p, ok := s.clientAuth.TokenHolding(r, oidc.CodecRole)
	if !ok {
		return "", false
	}
	return "oidc:" + p.Subject, true
}

// AuditCodecUse records one use of the codec endpoint: who decoded (or
// encoded) how many payloads of which namespace. Decoding shows the data
// the encryption protects, so a use that cannot be recorded is refused.
func (s *Server) AuditCodecUse(r *http.Request, who, namespace, op string, payloads int) error {
	e := audit.Entry{Actor: who, Action: "codec." + op, Target: namespace, Detail: fmt.Sprintf("%d payloads", payloads)}
	_, _, err := s.record(r.Context(), e, audit.Always)
	return err
}
