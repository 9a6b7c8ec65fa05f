package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/regiongate/regiongate/internal/base/jsonbody"
	"github.com/regiongate/regiongate/regions"
)

// pageToken is where a listing stands in every region: the nextPageToken
// of GET /v1/workflows, base64url (unpadded) of this JSON. It is bound to
// its listing (Scope: the caller's tenant and filters), so it cannot
// continue another. It is not signed: the caller's scope comes from the
// credential on every page, never from the token, so a forged token can
// only move within the caller's own listing, or be refused.
type pageToken struct {
	Version int                     `json:"v"`
	Scope   string                  `json:"s"`
	Regions map[string]regionCursor `json:"r"`
}

// regionCursor is one region's regions.Cursor: its own page token, the
// workflows of that page listed already, or done.
type regionCursor struct {
	Token []byte `json:"t,omitempty"`
	Skip  int    `json:"k,omitempty"`
	Done  bool   `json:"d,omitempty"`
}

const (
	pageTokenVersion = 1
	// maxPageTokenLen bounds a token as the client sends it.
	maxPageTokenLen = 8 << 10
	// maxRegionTokenLen bounds one region's own page token (Temporal's
	// SQL visibility tokens are about 100 bytes).
	maxRegionTokenLen = 1 << 10
)

// errBadPageToken: a pageToken this listing did not give out.
var errBadPageToken = errors.New("pageToken is not one this listing gave out; start again without it")

// listScope names one listing: the caller's tenant and the visibility
// query its filters make.
func listScope(tenant, query string) string {
	sum := sha256.Sum256([]byte(tenant + "\x00" + query))
	return hex.EncodeToString(sum[:12])
}

// encodePageToken writes the token of the page after cursors.
func encodePageToken(scope string, cursors map[string]regions.Cursor) string {
	t := pageToken{Version: pageTokenVersion, Scope: scope, Regions: make(map[string]regionCursor, len(cursors))}
	for name, c := range cursors {
		t.Regions[name] = regionCursor{Token: c.Token, Skip: c.Skip, Done: c.Done}
	}
	data, _ := json.Marshal(t) // maps, strings, bytes and ints: it cannot fail
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodePageToken reads a token back, strictly: the exact bytes
// encodePageToken writes for the listing named by scope, with regions
// known, skips within maxSkip and region tokens within their bound.
// Anything else is errBadPageToken, with why.
func decodePageToken(s, scope string, known func(region string) bool, maxSkip int) (map[string]regions.Cursor, error) {
	if len(s) > maxPageTokenLen {
		return nil, fmt.Errorf("%w (it is longer than any it gives out)", errBadPageToken)
	}
	data, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w (not unpadded base64url)", errBadPageToken)
	}
	var t pageToken
	if err := jsonbody.Decode(bytes.NewReader(data), maxPageTokenLen, &t); err != nil {
		return nil, fmt.Errorf("%w (%v)", errBadPageToken, err)
	}
	switch {
	case t.Version != pageTokenVersion:
		return nil, fmt.Errorf("%w (version %d)", errBadPageToken, t.Version)
	case t.Scope != scope:
		return nil, fmt.Errorf("%w (it continues another listing: other filters or another caller)", errBadPageToken)
	case len(t.Regions) == 0:
		return nil, fmt.Errorf("%w (no regions)", errBadPageToken)
	}
	cursors := make(map[string]regions.Cursor, len(t.Regions))
	for name, c := range t.Regions {
		switch {
		case !known(name):
			return nil, fmt.Errorf("%w (region %q is not in the config)", errBadPageToken, name)
		case c.Skip < 0 || c.Skip > maxSkip || len(c.Token) > maxRegionTokenLen:
			return nil, fmt.Errorf("%w (region %q's cursor is out of bounds)", errBadPageToken, name)
		case c.Done && (c.Skip != 0 || c.Token != nil):
			return nil, fmt.Errorf("%w (region %q is both done and not)", errBadPageToken, name)
		}
		cursors[name] = regions.Cursor{Token: c.Token, Skip: c.Skip, Done: c.Done}
	}
	// One spelling per token: what it decodes to must encode to it again.
	if encodePageToken(scope, cursors) != s {
		return nil, fmt.Errorf("%w (not in the form it gives out)", errBadPageToken)
	}
	return cursors, nil
}
