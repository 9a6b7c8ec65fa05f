package services

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Datasets that make the record services fail, so that every error class
// of ResilientDataSync can be triggered end to end.
const (
	// AuthFailedDataset: the source does not accept our credentials.
	AuthFailedDataset = "ds-auth-failed"
	// InvalidDataset: the destination refuses the records as invalid.
	InvalidDataset = "ds-invalid"
	// FlakyDataset: the source fails the first FlakyFailures fetches of
	// each page, then serves it.
	FlakyDataset = "ds-flaky"
	// DownDataset: the source fails every fetch, as in an outage.
	DownDataset = "ds-down"
)

// FlakyFailures is how many fetches of each page of FlakyDataset fail.
const FlakyFailures = 2

// ErrSourceDown is the transient failure of FlakyDataset and DownDataset.
var ErrSourceDown = errors.New("record source is unavailable")

// Record is one record of a dataset.
type Record struct {
	ID   string `json:"id"`
	Data string `json:"data"`
}

// RecordSource is an in-memory source of datasets: every dataset has as
// many records as asked for, made up from the dataset id and the position.
type RecordSource struct {
	faults

	mu      sync.Mutex
	fetches map[string]int // per dataset and offset, for FlakyDataset
}

// NewRecordSource returns a source that has served nothing.
func NewRecordSource() *RecordSource {
	return &RecordSource{faults: newFaults(OpFetchRecords), fetches: map[string]int{}}
}

// FetchRecords returns records offset to offset+limit-1 of the dataset.
func (s *RecordSource) FetchRecords(ctx context.Context, datasetID string, offset, limit int) ([]Record, error) {
	if err := s.enter(ctx, OpFetchRecords); err != nil {
		return nil, err
	}
	page := fmt.Sprintf("%s@%d", datasetID, offset)
	s.mu.Lock()
	s.fetches[page]++
	n := s.fetches[page]
	s.mu.Unlock()
	switch {
	case datasetID == AuthFailedDataset:
		return nil, ErrUnauthenticated
	case datasetID == DownDataset, datasetID == FlakyDataset && n <= FlakyFailures:
		return nil, ErrSourceDown
	}
	out := make([]Record, limit)
	for i := range out {
		id := fmt.Sprintf("%s-%06d", datasetID, offset+i)
		out[i] = Record{ID: id, Data: "data of " + id}
	}
	return out, s.after(OpFetchRecords)
}

// RecordStore is an in-memory destination. A write is keyed by its
// idempotency key: writing again under a key stores nothing and returns the
// first write's count.
type RecordStore struct {
	faults

	mu      sync.Mutex
	writes  map[string]int
	records map[string]int
}

// NewRecordStore returns an empty store.
func NewRecordStore() *RecordStore {
	return &RecordStore{faults: newFaults(OpWriteRecords), writes: map[string]int{}, records: map[string]int{}}
}

// WriteRecords stores records and returns how many it stored under key.
func (s *RecordStore) WriteRecords(ctx context.Context, key, datasetID string, records []Record) (int, error) {
	if err := s.enter(ctx, OpWriteRecords); err != nil {
		return 0, err
	}
	if datasetID == InvalidDataset {
		return 0, ErrRejected
	}
	s.mu.Lock()
	n, seen := s.writes[key]
	if !seen {
		n = len(records)
		s.writes[key] = n
		s.records[datasetID] += n
	}
	s.mu.Unlock()
	return n, s.after(OpWriteRecords)
}

// Stored counts the records stored for datasetID.
func (s *RecordStore) Stored(datasetID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[datasetID]
}
