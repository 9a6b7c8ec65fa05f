package codec

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ErrNoKeys means no keys are configured where keys were required.
var ErrNoKeys = errors.New("no payload encryption keys configured")

// Environment variables keys are read from.
const (
	// EnvKeys holds the keys of every region without its own variable.
	EnvKeys = "REGIONGATE_CODEC_KEYS"
	// envRegionPrefix + the region's name in upper case, dashes as
	// underscores, holds one region's keys (see EnvName).
	envRegionPrefix = EnvKeys + "_"
)

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// EnvName is the variable that holds region's own keys:
// REGIONGATE_CODEC_KEYS_EU_WEST for eu-west.
func EnvName(region string) string {
	return envRegionPrefix + strings.ToUpper(strings.ReplaceAll(region, "-", "_"))
}

// ParseKeys reads keys written "id:base64key", separated by commas or line
// breaks; blank lines and lines starting with # are ignored. The first key
// is the active one. Key ids are 1 to 64 of A-Z a-z 0-9 . _ -; a key is 32
// bytes in standard base64, padded or not. Errors name the entry and the id,
// never the key.
func ParseKeys(text string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			k, err := parseKey(entry)
			if err != nil {
				return nil, fmt.Errorf("line %d, key %d: %w", n+1, len(keys)+1, err)
			}
			if seen[k.ID] {
				return nil, fmt.Errorf("line %d: duplicate key id %q", n+1, k.ID)
			}
			seen[k.ID] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func parseKey(entry string) (Key, error) {
	id, encoded, ok := strings.Cut(entry, ":")
	if !ok {
		return Key{}, errors.New(`want "id:base64key"`)
	}
	id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
	if !keyIDRE.MatchString(id) {
		return Key{}, fmt.Errorf("key id %q: want 1 to 64 of A-Z a-z 0-9 . _ -", id)
	}
	secret, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(encoded, "="))
	if err != nil {
		return Key{}, fmt.Errorf("key %q is not standard base64", id)
	}
	k := Key{ID: id, Secret: secret}
	return k, checkKey(k)
}

func checkKey(k Key) error {
	if !keyIDRE.MatchString(k.ID) {
		return fmt.Errorf("key id %q: want 1 to 64 of A-Z a-z 0-9 . _ -", k.ID)
	}
	if len(k.Secret) != KeySize {
		return fmt.Errorf("key %q is %d bytes, want %d (AES-256)", k.ID, len(k.Secret), KeySize)
	}
	return nil
}

// GenerateKey returns a fresh random key named id. Print one for a keys
// file or variable with Encode.
func GenerateKey(id string) (Key, error) {
	k := Key{ID: id, Secret: make([]byte, KeySize)}
	if _, err := rand.Read(k.Secret); err != nil {
		return Key{}, err
	}
	return k, checkKey(k)
}

// Encode writes k as ParseKeys reads it: "id:base64key". The result holds
// the secret: it belongs in a keys file or variable, never in a log.
func (k Key) Encode() string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
}

// LoadKeysFile reads keys from a file in ParseKeys' format.
func LoadKeysFile(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading codec keys: %w", err)
	}
	keys, err := ParseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// Source says where a process finds each region's keys. The first of these
// that is set wins: the region's own variable (EnvName), File, EnvKeys.
type Source struct {
	// File holds keys for every region without its own variable; "" means
	// no file.
	File string
	// Require makes a region without keys an error (ErrNoKeys) instead of
	// turning encryption off for it.
	Require bool
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Keys returns region's keys and where they came from, or no keys and ""
// when none are configured.
func (s Source) Keys(region string) ([]Key, string, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var keys []Key
	var from string
	var err error
	switch {
	case getenv(EnvName(region)) != "":
		from = EnvName(region)
		keys, err = ParseKeys(getenv(from))
	case s.File != "":
		from = s.File
		keys, err = LoadKeysFile(s.File)
	case getenv(EnvKeys) != "":
		from = EnvKeys
		keys, err = ParseKeys(getenv(from))
	}
	if err != nil {
		return nil, from, fmt.Errorf("codec keys of region %s from %s: %w", region, from, err)
	}
	if len(keys) == 0 && from != "" {
		return nil, from, fmt.Errorf("codec keys of region %s: %s holds no keys", region, from)
	}
	return keys, from, nil
}

// Codec returns region's codec and where its keys came from; nil and ""
// when no keys are configured and s.Require is false.
func (s Source) Codec(region string) (*Codec, string, error) {
	keys, from, err := s.Keys(region)
	if err != nil {
		return nil, from, err
	}
	if len(keys) == 0 {
		if s.Require {
			return nil, "", fmt.Errorf("region %s: %w (set %s or %s, or pass a keys file)", region, ErrNoKeys, EnvName(region), EnvKeys)
		}
		return nil, "", nil
	}
	c, err := New(keys)
	if err != nil {
		return nil, from, fmt.Errorf("codec keys of region %s from %s: %w", region, from, err)
	}
	return c, from, nil
}
