package jsonbody

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// linearKeys is how many keys of one object are compared one by one with
// bytes.EqualFold. Past it the object also keeps a set of its keys'
// hashes, so that an object of many keys costs linear time, not quadratic.
const linearKeys = 16

// scan checks what encoding/json's Decode does not: that data is one value
// with nothing but white space after it, no key twice in one object at
// any depth, and nesting at most maxDepth deep. It judges no other syntax:
// on valid JSON it is exact; on anything else it takes linear time and
// memory, and may stop early or report an error, because the decode that
// follows refuses every invalid first value anyway.
func scan(data []byte, maxDepth int) error {
	return scanWith(data, maxDepth, linearKeys)
}

// scanWith is scan with its own linearKeys (tests lower it, so that every
// object takes the hashed path).
func scanWith(data []byte, maxDepth, linear int) error {
	s := scanner{data: data, maxDepth: maxDepth, linear: linear, seed: maphash.MakeSeed()}
	end, err := s.value()
	if err != nil || end < 0 {
		return err
	}
	if skipSpace(data, end) < len(data) {
		// Covers a second value and a stray "}" or "]" alike.
		return fmt.Errorf("%w: data after the %s", ErrMalformed, kindOf(data[skipSpace(data, 0)]))
	}
	return nil
}

// scanner is what one scan keeps outside value's loop.
type scanner struct {
	data     []byte
	maxDepth int
	linear   int
	folded   []byte // room for hash
	seed     maphash.Seed
}

// container is an open object or array.
type container struct {
	object bool
	base   int // where the object's keys start in the keys of all open objects
	// hashes holds the hashes of the folded keys once the object has
	// more than scanner.linear of them.
	hashes map[uint64]struct{}
}

// value walks the first value of data and returns where it ends, or -1
// if it is not valid JSON and scanning stopped.
func (s *scanner) value() (int, error) {
	// The open objects and arrays, innermost last, and the keys of the
	// open objects, outermost first: locals, so that a shallow body with
	// few keys keeps them on the stack.
	var openRoom [8]container
	var keysRoom [32][]byte
	open, keys := openRoom[:0], keysRoom[:0]
	data := s.data
	expectKey := false // the next string is a key: it follows "{" or "," in an object
	for i := 0; i < len(data); {
		switch c := data[i]; c {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		case '{', '[':
			if len(open) >= s.maxDepth {
				return -1, fmt.Errorf("%w: more than %d levels", ErrTooDeep, s.maxDepth)
			}
			open = append(open, container{object: c == '{', base: len(keys)})
			expectKey = c == '{'
			i++
			continue
		case ',', ':':
			if len(open) == 0 {
				return -1, nil
			}
			expectKey = c == ',' && open[len(open)-1].object
			i++
			continue
		case '}', ']':
			if len(open) == 0 {
				return -1, nil
			}
			keys = keys[:open[len(open)-1].base]
			open = open[:len(open)-1]
			i++
		case '"':
			end, escaped := stringEnd(data, i)
			if end < 0 {
				return -1, nil
			}
			if expectKey {
				var err error
				if keys, err = s.key(keys, &open[len(open)-1], data[i:end], escaped); err != nil {
					return -1, err
				}
			}
			i = end
		default:
			end := scalarEnd(data, i)
			if end == i {
				return -1, nil
			}
			i = end
		}
		expectKey = false
		if len(open) == 0 {
			return i, nil
		}
	}
	return -1, nil
}

// key appends to keys a key of the innermost object obj, quoted as it is
// in the body, and refuses one the object has already.
func (s *scanner) key(keys [][]byte, obj *container, quoted []byte, escaped bool) ([][]byte, error) {
	key := quoted[1 : len(quoted)-1]
	if escaped {
		k, err := unquote(quoted)
		if err != nil {
			return nil, err
		}
		key = []byte(k)
	}
	if s.seen(keys[obj.base:], obj, key) {
		return nil, fmt.Errorf("%w: duplicate key %q (keys differing only in case count as the same)", ErrMalformed, key)
	}
	return append(keys, key), nil
}

// unquote unescapes a key as encoding/json does. strconv.Unquote does
// the same for every escape of JSON but "\/" and surrogates ("\ud83d"),
// and refuses those; encoding/json itself, several times slower, is for
// them.
func unquote(quoted []byte) (string, error) {
	if k, err := strconv.Unquote(string(quoted)); err == nil {
		return k, nil
	}
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return k, nil
}

// seen reports whether obj, whose keys so far are own, has key already.
// Keys are the same when bytes.EqualFold says so, as encoding/json
// matches a key to a field. Past s.linear keys, a key is compared only if
// the object has seen its hash: that happens once for a duplicate (the
// scan stops) and, with a random seed, next to never for two different
// keys.
func (s *scanner) seen(own [][]byte, obj *container, key []byte) bool {
	if obj.hashes == nil && len(own) >= s.linear {
		obj.hashes = make(map[uint64]struct{}, 2*len(own)+1)
		for _, k := range own {
			obj.hashes[s.hash(k)] = struct{}{}
		}
	}
	if obj.hashes != nil {
		n := len(obj.hashes)
		if obj.hashes[s.hash(key)] = struct{}{}; len(obj.hashes) > n {
			return false // a new hash: a new key
		}
	}
	return containsFold(own, key)
}

// hash hashes key's folded form, so keys that bytes.EqualFold calls equal
// hash the same.
func (s *scanner) hash(key []byte) uint64 {
	s.folded = appendFolded(s.folded[:0], key)
	return maphash.Bytes(s.seed, s.folded)
}

func containsFold(keys [][]byte, key []byte) bool {
	for _, k := range keys {
		if bytes.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// appendFolded appends key with every rune replaced by the least rune of
// its unicode.SimpleFold orbit, the runes bytes.EqualFold takes as one:
// "K", "k" and the Kelvin sign all become "K". Invalid UTF-8 becomes
// U+FFFD byte by byte, as EqualFold reads it. It is the fold by which
// encoding/json looks a key up among the fields (appendFoldedName in its
// fold.go).
func appendFolded(dst, key []byte) []byte {
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		dst = utf8.AppendRune(dst, least)
		i += n
	}
	return dst
}

// stringEnd returns where the string that opens at data[i] ends (just
// past its closing quote), or -1 if it does not, and whether it holds a
// backslash.
func stringEnd(data []byte, i int) (end int, escaped bool) {
	i++
	if q := bytes.IndexByte(data[i:], '"'); q >= 0 && bytes.IndexByte(data[i:i+q], '\\') < 0 {
		return i + q + 1, false
	}
	for ; i < len(data); i++ {
		switch data[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++ // whatever it escapes, a quote included
		}
	}
	return -1, true
}

// scalarEnd returns where the number, true, false or null at data[i]
// ends, reading the longest prefix that is one, as encoding/json does; i
// if none starts there. It must be exact for a value at the top level,
// where what follows it is data after the value.
func scalarEnd(data []byte, i int) int {
	var lit string
	switch data[i] {
	case 't':
		lit = "true"
	case 'f':
		lit = "false"
	case 'n':
		lit = "null"
	}
	if lit != "" {
		if bytes.HasPrefix(data[i:], []byte(lit)) {
			return i + len(lit)
		}
		return i
	}
	j := i
	if data[j] == '-' {
		j++
	}
	switch {
	case j < len(data) && data[j] == '0':
		j++
	case j < len(data) && '1' <= data[j] && data[j] <= '9':
		j = digitsEnd(data, j)
	default:
		return i
	}
	if j+1 < len(data) && data[j] == '.' && isDigit(data[j+1]) {
		j = digitsEnd(data, j+1)
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		k := j + 1
		if k < len(data) && (data[k] == '+' || data[k] == '-') {
			k++
		}
		if k < len(data) && isDigit(data[k]) {
			j = digitsEnd(data, k)
		}
	}
	return j
}

func digitsEnd(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

func kindOf(first byte) string {
	switch first {
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}
