// Package codec encrypts Temporal payloads with AES-256-GCM under rotatable key ids.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload. The original payload, metadata and all,
// is the plaintext, so not even its encoding is visible.
const (
	// EncodingEncrypted is the "encoding" of a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher and format version.
	MetadataCipher = "encryption-cipher"
	cipherName     = "AES-256-GCM/v1"
)

// Errors from decoding, for errors.Is.
var (
	ErrUnknownKey = errors.New("payload is encrypted with an unknown key id")
	// ErrTampered means authentication failed: the payload was altered, or
	// the key under its id is not the key that encrypted it.
	ErrTampered  = errors.New("payload failed authentication (tampered, or the wrong key under its id)")
	ErrMalformed = errors.New("malformed encrypted payload")
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Key is an AES-256 key and the id payloads name it by.
type Key struct {
	ID     string
	Secret []byte
}

// String, Format and LogValue print the id only, so a key that reaches a
// log line or an error message, with any verb, does not leak.
func (k Key) String() string             { return "key " + k.ID }
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }
func (k Key) LogValue() slog.Value       { return slog.StringValue(k.ID) }

// Codec is a converter.PayloadCodec that encrypts with its active key and
// decrypts with any of its keys.
type Codec struct {
	active string
	aeads  map[string]cipher.AEAD
	ids    []string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec that encrypts with keys[0] and decrypts with any of
// keys: during a rotation, the new key goes first and the old ones stay
// until no stored payload needs them.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}
	c := &Codec{active: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("duplicate key id %q", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

// ActiveKeyID is the id of the key new payloads are encrypted with.
func (c *Codec) ActiveKeyID() string { return c.active }

// KeyIDs lists every key id the codec decrypts, the active one first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// additionalData binds the ciphertext to its key id and format, so that a
// payload relabelled with another key id fails authentication.
func additionalData(keyID string) []byte { return []byte(cipherName + "\x00" + keyID) }

// Encode encrypts every payload with the active key and a fresh random nonce.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encoding payload %d: %w", i, err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encoding payload %d: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.active),
				MetadataCipher:             []byte(cipherName),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(c.active)),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec's format encrypted and passes any
// other payload through unchanged, so histories written before encryption
// was turned on stay readable.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		d, err := c.decrypt(p)
		if err != nil {
			return nil, fmt.Errorf("decoding payload %d: %w", i, err)
		}
		out[i] = d
	}
	return out, nil
}

func (c *Codec) decrypt(p *commonpb.Payload) (*commonpb.Payload, error) {
	if got := string(p.GetMetadata()[MetadataCipher]); got != cipherName {
		return nil, fmt.Errorf("%w: cipher %q, want %q", ErrMalformed, got, cipherName)
	}
	id := string(p.GetMetadata()[MetadataKeyID])
	aead, ok := c.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	data := p.GetData()
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(data))
	}
	nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, additionalData(id))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q", ErrTampered, id)
	}
	var out commonpb.Payload
	if err := proto.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &out, nil
}

// DataConverter is the SDK's default data converter (JSON and friends)
// with c encrypting every payload it produces.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves error messages and stack traces into an encrypted
// payload: a failure message can carry input values, and failures are
// stored in the history next to the payloads.
func FailureConverter(c *Codec) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(c),
		EncodeCommonAttributes: true,
	})
}

// ClientOptions returns opts with c's data and failure converters, or opts
// unchanged when c is nil (encryption off). Workers and every client that
// starts or reads workflows must use the same keys.
func ClientOptions(opts client.Options, c *Codec) client.Options {
	if c == nil {
		return opts
	}
	opts.DataConverter = DataConverter(c)
	opts.FailureConverter = FailureConverter(c)
	return opts
}
