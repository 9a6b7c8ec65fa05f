package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// scanner walks a body with encoding/json's own tokenizer (Decoder.Token)
// for what Decoder.Decode does not check: duplicate keys, nesting depth and
// data after the value.
type scanner struct {
	dec      *json.Decoder
	maxDepth int
}

// scan checks that data is exactly one JSON value with no duplicate keys
// at any depth, nested at most maxDepth deep.
func scan(data []byte, maxDepth int) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	// Numbers stay text: their range is for the real decode to judge (an
	// out-of-range number is fine in a json.RawMessage).
	dec.UseNumber()
	s := scanner{dec: dec, maxDepth: maxDepth}
	first, err := s.value(0)
	if err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		// Covers a second value and a stray "}" or "]" alike.
		return fmt.Errorf("%w: data after the %s", ErrMalformed, kindOf(first))
	}
	return nil
}

// value reads one value at depth (the number of containers around it) and
// returns its first token.
func (s *scanner) value(depth int) (json.Token, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= s.maxDepth {
		return nil, fmt.Errorf("%w: more than %d levels", ErrTooDeep, s.maxDepth)
	}
	if d == '{' {
		err = s.object(depth + 1)
	} else {
		err = s.array(depth + 1)
	}
	return tok, err
}

// object reads the members of an object whose "{" has been read, and its "}".
func (s *scanner) object(depth int) error {
	var keys keySet
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return malformed(err)
		}
		key, _ := tok.(string) // Token allows only a string here
		if !keys.add(key) {
			return fmt.Errorf("%w: duplicate key %q (keys differing only in case count as the same)", ErrMalformed, key)
		}
		if _, err := s.value(depth); err != nil {
			return err
		}
	}
	return s.end()
}

// array reads the elements of an array whose "[" has been read, and its "]".
func (s *scanner) array(depth int) error {
	for s.dec.More() {
		if _, err := s.value(depth); err != nil {
			return err
		}
	}
	return s.end()
}

// end reads the delimiter closing the current object or array.
func (s *scanner) end() error {
	if _, err := s.dec.Token(); err != nil {
		return malformed(err)
	}
	return nil
}

// malformed wraps a tokenizer error; the end of input inside a value is
// unexpected, not the clean end io.EOF stands for.
func malformed(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

func kindOf(first json.Token) string {
	switch first {
	case json.Delim('{'):
		return "object"
	case json.Delim('['):
		return "array"
	}
	return "value"
}

// keySet holds one object's keys. Most objects have a few keys, compared
// in place with strings.EqualFold; past that the keys go into a map by
// their folded form, so a huge object costs linear time, not quadratic.
type keySet struct {
	few  [8]string
	n    int
	many map[string]struct{}
}

// add records key and reports whether it was new.
func (k *keySet) add(key string) bool {
	if k.many == nil {
		for _, seen := range k.few[:k.n] {
			if strings.EqualFold(seen, key) {
				return false
			}
		}
		if k.n < len(k.few) {
			k.few[k.n] = key
			k.n++
			return true
		}
		k.many = make(map[string]struct{}, 4*len(k.few))
		for _, seen := range k.few {
			k.many[fold(seen)] = struct{}{}
		}
	}
	f := fold(key)
	if _, ok := k.many[f]; ok {
		return false
	}
	k.many[f] = struct{}{}
	return true
}

// fold maps every rune to the smallest rune of its case-folding orbit, so
// fold(a) == fold(b) exactly when strings.EqualFold(a, b) (for the valid
// UTF-8 the tokenizer hands out; it turns invalid bytes into U+FFFD).
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(smallestFold(r))
	}
	return b.String()
}

func smallestFold(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
