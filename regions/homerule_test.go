package regions

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestStartAfterARecordsLoss: while the records may be incomplete (no
// marker), a start of an id without a record goes outside its home region
// only once the home region has said it does not have the id.
func TestStartAfterARecordsLoss(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// home is eu-west's start, homeDescribe its answer to "do you have
		// this id?" (nil: no), candidates the decision's.
		home, homeDescribe func(ctx context.Context) error
		candidates         []string
		wantRegion         string // "" when the start fails
		wantErr            error
		wantExisting       bool
		wantCentral        bool // whether eu-central was sent the start
	}{
		{"home takes it: nothing to prove", accept, nil, eu, "eu-west", nil, false, false},
		{"home refuses starts but says the id is new: fails over", refuse, notFound, eu, "eu-central", nil, false, true},
		{"home cannot be asked: nothing is sent elsewhere", refuse, refuse, eu, "", ErrRecordsIncomplete, false, false},
		{"home drained and has the id: started there, the existing run", duplicate, accept, []string{"eu-central"}, "eu-west", nil, true, false},
		{"home drained and the id is new: the next region", accept, notFound, []string{"eu-central"}, "eu-central", nil, false, true},
		{"home drained and unreachable: refused", accept, refuse, []string{"eu-central"}, "", ErrUnavailable, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fakes := fakeManager(t, eu...)
			m.complete.Store(false) // the store came back empty
			fakes["eu-west"].set(tt.home)
			fakes["eu-west"].setDescribe(tt.homeDescribe)
			s, err := m.Start(ctx, decision(eu, tt.candidates), startReq("wf-1"))
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("start: %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("start: %v, want %v", err, tt.wantErr)
			case err == nil && (s.Region != tt.wantRegion || s.Existing != tt.wantExisting):
				t.Fatalf("started %+v, want region %q existing %v", s, tt.wantRegion, tt.wantExisting)
			}
			if sent := len(fakes["eu-central"].calls()) > 0; sent != tt.wantCentral {
				t.Fatalf("eu-central sent the start: %v, want %v", sent, tt.wantCentral)
			}
			if got := recordOf(t, m, "wf-1"); got != tt.wantRegion {
				t.Fatalf("record %q, want %q", got, tt.wantRegion)
			}
		})
	}
}

// TestCompleteRecordsAskNobody: with the marker in place, a failover is
// not held up by a question to the home region.
func TestCompleteRecordsAskNobody(t *testing.T) {
	m, fakes := fakeManager(t, eu...)
	fakes["eu-west"].set(refuse)
	fakes["eu-west"].setDescribe(refuse)
	s, err := m.Start(context.Background(), decision(eu, eu), startReq("wf-1"))
	if err != nil || s.Region != "eu-central" {
		t.Fatalf("start: %+v, %v", s, err)
	}
	if n := len(fakes["eu-west"].described()); n != 0 {
		t.Fatalf("eu-west was asked %d times", n)
	}
}

// TestCheckRecords: a store with its marker is complete; one without is
// complete only if no region holds a workflow, and then gets its marker.
func TestCheckRecords(t *testing.T) {
	ctx := context.Background()
	m, _ := fakeManager(t, eu...)
	m.regions["eu-west"].client.(*fakeClient).listed = 1
	if err := m.CheckRecords(ctx); err != nil || m.RecordsComplete() {
		t.Fatalf("store without a marker, eu-west holds workflows: complete %v, %v", m.RecordsComplete(), err)
	}
	m.regions["eu-west"].client.(*fakeClient).listed = 0
	if err := m.CheckRecords(ctx); err != nil || !m.RecordsComplete() {
		t.Fatalf("store without a marker, regions empty: complete %v, %v", m.RecordsComplete(), err)
	}
	// The store loses everything (a Consul agent back empty).
	m.records = NewMemoryRecords()
	m.regions["eu-west"].client.(*fakeClient).listed = 1
	if err := m.CheckRecords(ctx); err != nil || m.RecordsComplete() {
		t.Fatalf("after the loss: complete %v, %v", m.RecordsComplete(), err)
	}
	if err := m.MarkRecordsComplete(ctx); err != nil || !m.RecordsComplete() {
		t.Fatal("marked complete (reconcile) but not complete")
	}
	if err := m.CheckRecords(ctx); err != nil || !m.RecordsComplete() {
		t.Fatalf("after reconcile: complete %v, %v", m.RecordsComplete(), err)
	}
	if slices.Contains([]string{"-"}, recordOf(t, m, "wf-1")) {
		t.Fatal("the marker is visible as a workflow's record")
	}
	// A new store while a region cannot be asked and the others are empty:
	// complete for now, but no marker until every region has answered.
	m.records = NewMemoryRecords()
	m.regions["eu-west"].client.(*fakeClient).listed = 0
	m.regions["eu-central"].client.(*fakeClient).listErr = errors.New("connection refused")
	if err := m.CheckRecords(ctx); err == nil || !m.RecordsComplete() {
		t.Fatalf("a region unasked, the rest empty: complete %v, %v", m.RecordsComplete(), err)
	}
	if n, _ := m.records.Count(ctx); n != 0 {
		t.Fatal("the marker was written while a region could not be asked")
	}
	m.regions["eu-west"].client.(*fakeClient).listed = 1
	if err := m.CheckRecords(ctx); err != nil || m.RecordsComplete() {
		t.Fatalf("a region unasked, another holds workflows: complete %v, %v", m.RecordsComplete(), err)
	}
}
