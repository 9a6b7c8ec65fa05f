// Package jsonbody reads request bodies the same strict way for every endpoint: one size cap, one value, no unknown fields, no duplicate keys.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// DefaultLimit is the body cap when Options.Limit is zero: the client
// API's default maxBodyBytes.
const DefaultLimit = 1 << 20

// DefaultMaxDepth is the nesting cap when Options.MaxDepth is zero. A start
// body is one level and its input a second; 30 more is far beyond any
// workflow input seen, and low enough that a deep body is refused before
// encoding/json recurses into it.
const DefaultMaxDepth = 32

var (
	// ErrTooLarge: the body is over the limit (HTTP 413).
	ErrTooLarge = errors.New("request body too large")
	// ErrTooDeep: objects and arrays nest deeper than the cap.
	ErrTooDeep = errors.New("JSON nested too deeply")
	// ErrMalformed: anything else that is not one acceptable JSON value
	// for the destination: bad syntax, an empty body, data after the
	// value, a duplicate key, an unknown field, a wrong type.
	ErrMalformed = errors.New("malformed JSON body")
)

// Options say how to read a body. The zero value is the strict default.
type Options struct {
	// Limit caps the body in bytes; zero or less means DefaultLimit.
	Limit int64
	// MaxDepth caps how deeply objects and arrays nest (a top-level
	// object is depth 1); zero or less means DefaultMaxDepth.
	MaxDepth int
	// AllowEmpty accepts a body of nothing but white space as "no value",
	// leaving dst as it is. False makes such a body ErrMalformed.
	AllowEmpty bool
}

// Decode reads one JSON value of at most limit bytes (zero or less means
// DefaultLimit) into dst with the default Options.
func Decode(r io.Reader, limit int64, dst any) error {
	return Options{Limit: limit}.Decode(r, dst)
}

// Decode reads the body into dst. It refuses, before dst is touched, a
// body over the limit (ErrTooLarge), nesting over the cap (ErrTooDeep),
// and bad syntax, data after the value, or a key twice in one object
// (ErrMalformed). Keys count as the same when strings.EqualFold says so,
// because that is how encoding/json matches a key to a struct field:
// {"class":"pii","Class":"public"} would otherwise decode as public. What
// is left, decoding into dst with unknown fields refused, is
// encoding/json's own work, so numbers, strings and types are checked
// exactly as it checks them; its errors are ErrMalformed too.
func (o Options) Decode(r io.Reader, dst any) error {
	data, err := ReadLimited(r, o.Limit)
	if err != nil {
		return err
	}
	if skipSpace(data, 0) == len(data) {
		if o.AllowEmpty {
			return nil
		}
		return fmt.Errorf("%w: empty body", ErrMalformed)
	}
	depth := o.MaxDepth
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	if err := scan(data, depth); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// ReadLimited reads all of r if it holds at most limit bytes (zero or less
// means DefaultLimit); a longer body is ErrTooLarge after reading only
// limit+1 bytes of it. It is the size cap of Decode, alone, for bodies
// that are not JSON (the config PUT's YAML).
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	data, err := io.ReadAll(io.LimitReader(r, min(limit, math.MaxInt64-1)+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, limit)
	}
	return data, nil
}
