package clientauth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/gateway/clientauth"
)

func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func TestParseKeys(t *testing.T) {
	good := "# name tenant sha256\n\n  acme-prod acme " + hashHex("s3cret-acme") + "  \nglobex-ci globex " + strings.ToUpper(hashHex("s3cret-globex")) + "\n"
	keys, err := clientauth.ParseKeys(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Name != "acme-prod" || keys[0].Tenant != "acme" || keys[0].Hash != sha256.Sum256([]byte("s3cret-acme")) ||
		keys[1].Tenant != "globex" || keys[1].Hash != sha256.Sum256([]byte("s3cret-globex")) {
		t.Fatalf("got %+v", keys)
	}

	h1, h2 := hashHex("one"), hashHex("two")
	bad := []struct{ name, text, want string }{
		{"two fields", "k1 acme\n", "line 1: want \"name tenant sha256hex\", got 2 fields"},
		{"the secret instead of its hash", "\nk1 acme s3cret\n", "line 2: the hash must be 64 hex digits"},
		{"short hash", "k1 acme " + h1[:62] + "\n", "line 1: the hash must be"},
		{"upper-case tenant", "# c\nk1 Acme " + h1, "line 2: tenant \"Acme\""},
		{"tenant with a zero-width joiner", "k1 north\u200dwind " + h1, "line 1: tenant"},
		{"tenant too long", "k1 " + strings.Repeat("a", 64) + " " + h1, "line 1: tenant"},
		{"name twice", "k1 acme " + h1 + "\nk1 globex " + h2, "line 2: name \"k1\" already used on line 1"},
		{"secret twice", "k1 acme " + h1 + "\nk2 globex " + h1, "line 2: same secret as line 1"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := clientauth.ParseKeys(b.text)
			if err == nil || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("got %v, want %q", err, b.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestParseEnvKeys(t *testing.T) {
	keys, err := clientauth.ParseEnvKeys("acme-prod acme " + hashHex("a") + "; ;globex-ci globex " + hashHex("g"))
	if err != nil || len(keys) != 2 || keys[1].Tenant != "globex" {
		t.Fatalf("got %+v, %v", keys, err)
	}
	if _, err := clientauth.ParseEnvKeys("k1 acme " + hashHex("a") + ";k2 Globex " + hashHex("g")); err == nil || !strings.Contains(err.Error(), "entry 2") {
		t.Fatalf("got %v", err)
	}
}

func TestDevKeys(t *testing.T) {
	keys := clientauth.NewKeys(clientauth.DevKeys()...)
	for secret, tenant := range map[string]string{"dev-client-acme": "acme", "dev-client-globex": "globex", "dev-client-northwind": "northwind"} {
		k, ok := keys.Lookup(secret)
		if !ok || k.Tenant != tenant || !configs.ValidTenant(k.Tenant) {
			t.Errorf("%s: got %+v %v", secret, k, ok)
		}
		if k.Name == secret {
			t.Errorf("key %q is named by its secret, which logs would show", k.Name)
		}
	}
	if _, ok := keys.Lookup("dev.acme"); ok {
		t.Error("a key's name works as its secret")
	}
}

func TestKeyLayers(t *testing.T) {
	keys := clientauth.NewKeys(clientauth.DevKeys()...)
	mk := func(name, tenant, secret string) clientauth.Key {
		return clientauth.Key{Name: name, Tenant: tenant, Hash: sha256.Sum256([]byte(secret))}
	}
	if err := keys.Replace("file", []clientauth.Key{mk("f1", "acme", "file-1")}); err != nil {
		t.Fatal(err)
	}
	if err := keys.Replace("consul", []clientauth.Key{mk("c1", "globex", "consul-1")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"dev-client-acme", "file-1", "consul-1"} {
		if _, ok := keys.Lookup(s); !ok {
			t.Errorf("%s missing", s)
		}
	}
	// Rotating the file's layer leaves the others.
	if err := keys.Replace("file", []clientauth.Key{mk("f2", "acme", "file-2")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.Lookup("file-1"); ok {
		t.Error("a rotated-out key still works")
	}
	if _, ok := keys.Lookup("consul-1"); !ok {
		t.Error("rotating the file dropped Consul's keys")
	}
	// One secret for two tenants is refused; the layer stays as it was.
	if err := keys.Replace("consul", []clientauth.Key{mk("c2", "northwind", "file-2")}); err == nil {
		t.Fatal("a secret naming two tenants was accepted")
	}
	if k, ok := keys.Lookup("file-2"); !ok || k.Tenant != "acme" {
		t.Fatalf("got %+v %v", k, ok)
	}
	if _, ok := keys.Lookup("consul-1"); !ok || keys.Len() != 5 {
		t.Fatalf("the refused layer changed something: %d keys", keys.Len())
	}
}

// FuzzParseKeys: whatever a key file holds, the parser returns keys that
// are all canonical and distinct, or an error naming a line; never a panic.
// The same lines in REGIONGATE_CLIENT_KEYS, separated by ';', read the same.
func FuzzParseKeys(f *testing.F) {
	f.Add("k1 acme " + hashHex("a") + "\n# c\n\nk2 globex " + hashHex("b"))
	f.Add("k1 Acme " + hashHex("a"))
	f.Add("k1 acme zz\n")
	f.Add(" \t\r\n#\n")
	f.Fuzz(func(t *testing.T, text string) {
		keys, err := clientauth.ParseKeys(text)
		if !strings.Contains(text, ";") {
			env, envErr := clientauth.ParseEnvKeys(strings.ReplaceAll(text, "\n", ";"))
			if (envErr == nil) != (err == nil) || !slices.Equal(env, keys) {
				t.Fatalf("as a variable: %v, %v; as a file: %v, %v", env, envErr, keys, err)
			}
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "client keys line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		seen := map[[32]byte]bool{}
		for _, k := range keys {
			if !configs.ValidTenant(k.Tenant) || k.Name == "" || seen[k.Hash] {
				t.Fatalf("bad key %+v from %q", k, text)
			}
			seen[k.Hash] = true
		}
		if err := clientauth.NewKeys().Replace("fuzz", keys); err != nil {
			t.Fatal(err)
		}
	})
}
