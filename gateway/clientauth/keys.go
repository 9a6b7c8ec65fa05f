package clientauth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/regiongate/regiongate/configs"
)

// Key is an API key as stored: its name, its tenant and only the SHA-256
// of its secret.
type Key struct {
	// Name identifies the key in logs and audit; it is not the secret.
	Name   string
	Tenant string
	Hash   [32]byte
}

// DevKeys are the contract's dev-only client keys. Never use them in
// production. As with the dev admin tokens, their names (which logs show)
// differ from their secrets.
func DevKeys() []Key {
	mk := func(name, tenant, secret string) Key {
		return Key{Name: name, Tenant: tenant, Hash: sha256.Sum256([]byte(secret))}
	}
	return []Key{
		mk("dev.acme", "acme", "dev-client-acme"),
		mk("dev.globex", "globex", "dev-client-globex"),
		mk("dev.northwind", "northwind", "dev-client-northwind"),
	}
}

// ParseKeys reads API keys, one per line: "name tenant sha256hex", where
// the hash is of the secret (`printf %s "$SECRET" | sha256sum`). Blank
// lines and lines starting with # are ignored. Names and secrets must be
// unique; tenants must be canonical (configs.ValidTenant).
func ParseKeys(text string) ([]Key, error) { return parseKeys(text, "\n", "line") }

// ParseEnvKeys reads API keys from one environment variable's value:
// entries as ParseKeys lines, separated by ';'.
func ParseEnvKeys(value string) ([]Key, error) { return parseKeys(value, ";", "entry") }

func parseKeys(text, sep, unit string) ([]Key, error) {
	var out []Key
	names := map[string]int{}
	hashes := map[[32]byte]int{}
	for i, line := range strings.Split(text, sep) {
		n := i + 1
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("client keys %s %d: want \"name tenant sha256hex\", got %d fields", unit, n, len(f))
		}
		k := Key{Name: f[0], Tenant: f[1]}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("client keys %s %d: the hash must be 64 hex digits of SHA-256 (never the secret itself)", unit, n)
		}
		copy(k.Hash[:], raw)
		if !configs.ValidTenant(k.Tenant) {
			return nil, fmt.Errorf("client keys %s %d: tenant %q is not lower-case letters, digits and - (at most 63, not starting with -)", unit, n, k.Tenant)
		}
		if prev, dup := names[k.Name]; dup {
			return nil, fmt.Errorf("client keys %s %d: name %q already used on %s %d", unit, n, k.Name, unit, prev)
		}
		if prev, dup := hashes[k.Hash]; dup {
			return nil, fmt.Errorf("client keys %s %d: same secret as %s %d", unit, n, unit, prev)
		}
		names[k.Name], hashes[k.Hash] = n, n
		out = append(out, k)
	}
	return out, nil
}

// Keys is the set of API keys in force, gathered from named layers (the
// dev keys, a file, an environment variable, a Consul key), each replaced
// whole by its source. Lookups read an immutable index through an
// atomic.Pointer, so rotation never blocks a request.
type Keys struct {
	mu     sync.Mutex // serialises Replace
	layers map[string][]Key
	index  atomic.Pointer[map[[32]byte]Key]
}

// NewKeys returns a set with the given layer "static" (may be empty).
func NewKeys(static ...Key) *Keys {
	k := &Keys{layers: map[string][]Key{}}
	k.index.Store(&map[[32]byte]Key{})
	if len(static) > 0 {
		if err := k.Replace("static", static); err != nil {
			panic(err) // a programming error: two static keys share a secret
		}
	}
	return k
}

// Replace puts keys in force as the layer named layer, in place of what it
// held. Keys of one layer with the same secret as a key of another
// layer but a different tenant make the secret ambiguous: Replace refuses
// them and the old layer stays.
func (k *Keys) Replace(layer string, keys []Key) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	next := map[[32]byte]Key{}
	for _, name := range slices.Sorted(maps.Keys(k.layers)) {
		if name == layer {
			continue
		}
		for _, key := range k.layers[name] {
			next[key.Hash] = key
		}
	}
	for _, key := range keys {
		if prev, dup := next[key.Hash]; dup && prev.Tenant != key.Tenant {
			return fmt.Errorf("client key %q of %s has the secret of key %q, for another tenant", key.Name, layer, prev.Name)
		}
		next[key.Hash] = key
	}
	k.layers[layer] = slices.Clone(keys)
	k.index.Store(&next)
	return nil
}

// Len is the number of distinct secrets in force.
func (k *Keys) Len() int { return len(*k.index.Load()) }

// Lookup finds the key whose secret this is.
//
// The index is a map keyed by the secret's SHA-256, not a constant-time
// scan of every hash as the admin tokens' (gateway/auth.go) is; that is as
// safe and stays O(1) with thousands of tenants. Lookup timing can at most
// hint at the stored hashes (Go's map hashes its keys with a per-process
// random seed first), and a caller steers a SHA-256 output no better than
// by brute force. A stored hash is not a secret either: it reveals the key
// only to whoever can invert SHA-256, which is why keys must be long and
// random (docs/tenancy.md).
func (k *Keys) Lookup(secret string) (Key, bool) {
	key, ok := (*k.index.Load())[sha256.Sum256([]byte(secret))]
	return key, ok
}
