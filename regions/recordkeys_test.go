package regions

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

func recordKey(id string, b byte) RecordKey {
	return RecordKey{ID: id, Secret: bytes.Repeat([]byte{b}, MinRecordKeySize)}
}

func TestRecordKeysHashTheID(t *testing.T) {
	k1, err := NewRecordKeys([]RecordKey{recordKey("k1", 1)}, false)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewRecordKeys([]RecordKey{recordKey("k2", 2)}, false)
	key := k1.Key("acme:booking-123")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(key) || strings.Contains(key, "acme") {
		t.Fatalf("key %q is not a bare HMAC-SHA256 in hex", key)
	}
	if key != k1.Key("acme:booking-123") || key == k1.Key("globex:booking-123") || key == k2.Key("acme:booking-123") {
		t.Fatal("keys must depend on the id and the secret, and only on them")
	}
	for _, bad := range [][]RecordKey{nil, {{ID: "short", Secret: make([]byte, MinRecordKeySize-1)}}} {
		if _, err := NewRecordKeys(bad, false); err == nil {
			t.Errorf("NewRecordKeys(%d keys) accepted", len(bad))
		}
	}
}

// TestRecordKeyRotation: after a rotation a start finds the record under
// the previous key, moves it to the current one and starts only there;
// reads find it under either.
func TestRecordKeyRotation(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	m.keys, _ = NewRecordKeys([]RecordKey{recordKey("old", 1)}, false)
	fakes["eu-west"].set(refuse) // so the first start lands in eu-central
	if s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1")); err != nil || s.Region != "eu-central" {
		t.Fatalf("first start: %+v, %v", s, err)
	}
	old := m.keys
	m.keys, _ = NewRecordKeys([]RecordKey{recordKey("new", 2), recordKey("old", 1)}, false)
	if loc, err := m.Locate(ctx, "wf-1", nil); err != nil || loc.Region.Name() != "eu-central" {
		t.Fatalf("read after the rotation: %+v, %v", loc, err)
	}
	fakes["eu-west"].set(accept)
	fakes["eu-central"].set(duplicate)
	s, err := m.Start(ctx, decision(eu, eu), startReq("wf-1"))
	if err != nil || s.Region != "eu-central" || !s.Existing {
		t.Fatalf("retry after the rotation: %+v, %v", s, err)
	}
	if got := recordOf(t, m, "wf-1"); got != "eu-central" {
		t.Fatalf("record under the new key: %q", got)
	}
	if rec, _ := m.records.Lookup(ctx, old.Key("wf-1")); rec.Region != "" {
		t.Fatalf("record under the old key still there: %v", rec)
	}
	if n := len(fakes["eu-west"].calls()); n != 1 {
		t.Fatalf("eu-west was sent %d starts, want only the first, refused", n)
	}
}

// TestPlaintextRecordsAfterAnUpgrade: a store written before records were
// keyed by hash holds plain ids; with AcceptPlaintext they are found and
// the next start of the id rekeys its record.
func TestPlaintextRecordsAfterAnUpgrade(t *testing.T) {
	ctx := context.Background()
	m, fakes := fakeManager(t, eu...)
	m.keys, _ = NewRecordKeys([]RecordKey{recordKey("k1", 1)}, true)
	if _, err := m.records.Claim(ctx, "wf-legacy", Placement{Region: "eu-central"}); err != nil {
		t.Fatal(err)
	}
	if loc, err := m.Locate(ctx, "wf-legacy", nil); err != nil || loc.Region.Name() != "eu-central" || loc.Namespace != "ns-eu-central" {
		t.Fatalf("read of a plaintext record: %+v, %v", loc, err)
	}
	fakes["eu-central"].set(duplicate)
	if s, err := m.Start(ctx, decision(eu, eu), startReq("wf-legacy")); err != nil || s.Region != "eu-central" {
		t.Fatalf("retry: %+v, %v", s, err)
	}
	if rec, _ := m.records.Lookup(ctx, "wf-legacy"); rec.Region != "" {
		t.Fatalf("plaintext record still there: %v", rec)
	}
	if got := recordOf(t, m, "wf-legacy"); got != "eu-central" {
		t.Fatalf("hashed record %q", got)
	}
}
