package regions

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// MinRecordKeySize is the shortest records key accepted: HMAC-SHA256's
// block of security, 32 bytes.
const MinRecordKeySize = 32

// RecordKey is one secret routing-record keys are made with.
type RecordKey struct {
	ID     string // names it in logs; never the secret
	Secret []byte
}

// RecordKeys turns the Temporal workflow id of a tenant's workflow
// (router.TenantWorkflowID: "tenant:id") into the key of its routing
// record: HMAC-SHA256 under the current records key, in hex. The stores
// see only that, so they hold no workflow id, tenant name or anything
// else a caller chose: without the key, a record cannot be tied to a
// workflow, and a lookup needs only the hash.
//
// Rotation: records are written under the current key; lookups, and the
// claim of a start, also try every previous key (and, with
// AcceptPlaintext, the id itself, as stores written before keys were
// hashed hold it). A start that finds its record under an older key moves
// it to the current one.
type RecordKeys struct {
	current  RecordKey
	previous []RecordKey
	// plaintext: lookups fall back to the id itself.
	plaintext bool
	// macs are HMACs under the current key, reset after use: Key runs on
	// every start and read, and a fresh HMAC costs some 600 bytes.
	macs sync.Pool
}

// NewRecordKeys takes the current key first, then the previous ones.
// acceptPlaintext makes lookups also try the plain id (an upgrade from a
// store written before records were keyed by hash).
func NewRecordKeys(keys []RecordKey, acceptPlaintext bool) (*RecordKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("no records key: routing records are keyed by HMAC under a secret key")
	}
	for _, k := range keys {
		if len(k.Secret) < MinRecordKeySize {
			return nil, fmt.Errorf("records key %q is %d bytes, want at least %d", k.ID, len(k.Secret), MinRecordKeySize)
		}
	}
	return &RecordKeys{current: keys[0], previous: keys[1:], plaintext: acceptPlaintext}, nil
}

// RandomRecordKeys is a fresh random key, for stores that do not outlive
// the process (memory) and tests.
func RandomRecordKeys() *RecordKeys {
	k := RecordKey{ID: "random", Secret: make([]byte, MinRecordKeySize)}
	_, _ = rand.Read(k.Secret) // never fails (crypto/rand)
	return &RecordKeys{current: k}
}

// CurrentID names the key records are written under.
func (k *RecordKeys) CurrentID() string { return k.current.ID }

// Key is the record key of the Temporal workflow id under the current
// records key.
func (k *RecordKeys) Key(id string) string {
	h, _ := k.macs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, k.current.Secret)
	}
	key := sumHex(h, id)
	h.Reset()
	k.macs.Put(h)
	return key
}

// older are id's record keys under the previous keys (and the id itself
// when plaintext records are accepted), newest first.
func (k *RecordKeys) older(id string) []string {
	var out []string
	for _, p := range k.previous {
		out = append(out, hmacHex(p.Secret, id))
	}
	if k.plaintext {
		out = append(out, id)
	}
	return out
}

func hmacHex(secret []byte, id string) string {
	return sumHex(hmac.New(sha256.New, secret), id)
}

// sumHex is the hex of h's sum of id; h must be fresh or reset.
func sumHex(h hash.Hash, id string) string {
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], h.Sum(sum[:0]))
	return string(out[:])
}
