package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func TestParseTokens(t *testing.T) {
	alice, bob := hashHex("alice-secret"), hashHex("bob-secret")
	tests := []struct {
		name    string
		text    string
		want    []Token // when no error is expected
		errLine string  // "line N" the error must name; empty for success
		errFrag string
	}{
		{"two good lines", "alice viewer,operator " + alice + "\nbob admin " + bob + "\n", []Token{
			{Name: "alice", Hash: sha256.Sum256([]byte("alice-secret")), Roles: []string{RoleViewer, RoleOperator}},
			{Name: "bob", Hash: sha256.Sum256([]byte("bob-secret")), Roles: []string{RoleAdmin}},
		}, "", ""},
		{"comments, blank lines, CRLF and indentation", "# tokens\n\n   \n\t# indented comment\r\n  alice compliance " + alice + "  \r\n", []Token{
			{Name: "alice", Hash: sha256.Sum256([]byte("alice-secret")), Roles: []string{RoleCompliance}},
		}, "", ""},
		{"upper-case hex", "alice viewer " + strings.ToUpper(alice), []Token{
			{Name: "alice", Hash: sha256.Sum256([]byte("alice-secret")), Roles: []string{RoleViewer}},
		}, "", ""},
		{"empty text", "", nil, "", ""},
		{"only comments", "# nothing\n#\n", nil, "", ""},
		{"too few fields", "# header\nalice " + alice + "\n", nil, "line 2", "fields"},
		{"too many fields", "alice viewer " + alice + "\n\n\nbob viewer " + bob + " extra\n", nil, "line 4", "4 fields"},
		{"bad hex", "alice viewer " + strings.Repeat("zz", 32), nil, "line 1", "64 hex digits"},
		{"short hash", "\nalice viewer " + alice[:62], nil, "line 2", "64 hex digits"},
		{"long hash", "alice viewer " + alice + "00", nil, "line 1", "64 hex digits"},
		{"odd-length hash", "alice viewer " + alice[:63], nil, "line 1", "64 hex digits"},
		{"unknown role", "alice viewer " + alice + "\nbob viewer,root " + bob, nil, "line 2", `"root"`},
		{"empty role", "alice viewer, " + alice, nil, "line 1", `""`},
		{"roles are case-sensitive", "alice Admin " + alice, nil, "line 1", `"Admin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokens(tt.text)
			if tt.errLine != "" {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				if !strings.Contains(err.Error(), tt.errLine+":") || !strings.Contains(err.Error(), tt.errFrag) {
					t.Fatalf("error %q should name %s and mention %s", err, tt.errLine, tt.errFrag)
				}
				if got != nil {
					t.Errorf("tokens returned with an error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	tokens := DevTokens()
	tests := []struct {
		name     string
		tokens   []Token
		header   string
		wantOK   bool
		wantName string
	}{
		{"admin secret", tokens, "Bearer dev-admin", true, "dev.admin"},
		{"viewer secret", tokens, "Bearer dev-viewer", true, "dev.viewer"},
		{"wrong secret", tokens, "Bearer dev-root", false, ""},
		{"secret of another case", tokens, "Bearer DEV-ADMIN", false, ""},
		{"secret with a trailing space", tokens, "Bearer dev-admin ", false, ""},
		{"two spaces after Bearer", tokens, "Bearer  dev-admin", false, ""},
		{"no Bearer prefix", tokens, "dev-admin", false, ""},
		{"another scheme", tokens, "Basic dev-admin", false, ""},
		{"empty header", tokens, "", false, ""},
		{"Bearer with no secret", tokens, "Bearer ", false, ""},
		{"no tokens configured", nil, "Bearer dev-admin", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := authenticate(tt.tokens, tt.header)
			if ok != tt.wantOK || got.Name != tt.wantName {
				t.Fatalf("got %q, %v; want %q, %v", got.Name, ok, tt.wantName, tt.wantOK)
			}
		})
	}
}

func TestAuthenticateWithParsedTokens(t *testing.T) {
	tokens, err := ParseTokens("ops operator " + hashHex("s3cret-ops") + "\naudit compliance,viewer " + hashHex("s3cret-audit"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := authenticate(tokens, "Bearer s3cret-audit")
	if !ok || got.Name != "audit" || !got.Has(RoleViewer) || got.Has(RoleOperator) {
		t.Fatalf("got %+v, %v", got, ok)
	}
	if _, ok := authenticate(tokens, "Bearer audit"); ok {
		t.Fatal("a token's name authenticated as its secret")
	}
}

func TestTokenHas(t *testing.T) {
	tests := []struct {
		name  string
		roles []string
		role  string
		want  bool
	}{
		{"held role", []string{RoleViewer}, RoleViewer, true},
		{"one of several", []string{RoleViewer, RoleOperator}, RoleOperator, true},
		{"role not held", []string{RoleViewer}, RoleOperator, false},
		{"viewer is not compliance", []string{RoleViewer}, RoleCompliance, false},
		{"operator does not imply admin", []string{RoleOperator}, RoleAdmin, false},
		{"no roles", nil, RoleViewer, false},
		{"admin implies viewer", []string{RoleAdmin}, RoleViewer, true},
		{"admin implies compliance", []string{RoleAdmin}, RoleCompliance, true},
		{"admin implies operator", []string{RoleAdmin}, RoleOperator, true},
		{"admin holds admin", []string{RoleAdmin}, RoleAdmin, true},
		{"compliance implies viewer", []string{RoleCompliance}, RoleViewer, true},
		{"operator implies viewer", []string{RoleOperator}, RoleViewer, true},
		{"compliance is not operator", []string{RoleCompliance}, RoleOperator, false},
		{"operator is not compliance", []string{RoleOperator}, RoleCompliance, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Token{Name: "t", Roles: tt.roles}).Has(tt.role); got != tt.want {
				t.Fatalf("Has(%s) with %v = %v, want %v", tt.role, tt.roles, got, tt.want)
			}
		})
	}
}

func TestDevTokensEachHoldTheirRole(t *testing.T) {
	// The contract's dev secrets and the role each holds.
	for _, secret := range []string{"dev-viewer", "dev-compliance", "dev-operator", "dev-admin"} {
		role := strings.TrimPrefix(secret, "dev-")
		got, ok := authenticate(DevTokens(), "Bearer "+secret)
		if !ok {
			t.Errorf("secret %s does not authenticate", secret)
			continue
		}
		if !got.Has(role) {
			t.Errorf("%s (token %s) lacks %s", secret, got.Name, role)
		}
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("alice viewer,operator " + hashHex("a") + "\n# c\n\nbob admin " + hashHex("b"))
	f.Add("x y z")
	f.Add("alice viewer, " + hashHex("a"))
	f.Add("\r\n\t#\n")
	f.Fuzz(func(t *testing.T, text string) {
		tokens, err := ParseTokens(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tokens line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		// What was accepted writes back out and parses to the same tokens.
		var out strings.Builder
		for _, tok := range tokens {
			for _, r := range tok.Roles {
				if r != RoleViewer && r != RoleCompliance && r != RoleOperator && r != RoleAdmin {
					t.Fatalf("accepted role %q", r)
				}
			}
			out.WriteString(tok.Name + " " + strings.Join(tok.Roles, ",") + " " + hex.EncodeToString(tok.Hash[:]) + "\n")
		}
		again, err := ParseTokens(out.String())
		if err != nil {
			t.Fatalf("re-parsing %q: %v", out.String(), err)
		}
		if len(again) != len(tokens) || (len(tokens) > 0 && !reflect.DeepEqual(again, tokens)) {
			t.Fatalf("round trip changed tokens:\n%+v\n%+v", tokens, again)
		}
	})
}

// TestDevTokenNamesAreNotTheirSecrets: a token's name is shown to every
// viewer (audit entries, drill reports); it must not let a viewer act as
// an operator.
func TestDevTokenNamesAreNotTheirSecrets(t *testing.T) {
	for _, tok := range DevTokens() {
		if sum := sha256.Sum256([]byte(tok.Name)); sum == tok.Hash {
			t.Errorf("dev token %q is named by its own secret", tok.Name)
		}
		if _, ok := authenticate(DevTokens(), "Bearer "+tok.Name); ok {
			t.Errorf("the name %q authenticates", tok.Name)
		}
	}
}
