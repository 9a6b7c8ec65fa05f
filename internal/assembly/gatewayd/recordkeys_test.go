package gatewayd

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/regiongate/regiongate/regions"
)

// TestCheckRecordKeys: records in memory may go without keys (a random one
// lives exactly as long); a store that outlives the gateway may not.
func TestCheckRecordKeys(t *testing.T) {
	bolt, err := regions.OpenBoltRecords(filepath.Join(t.TempDir(), "records.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	for _, tc := range []struct {
		name string
		o    Options
		want error
	}{
		{"no records", Options{}, nil},
		{"memory, no keys", Options{Records: regions.NewMemoryRecords()}, nil},
		{"bolt, no keys", Options{Records: bolt}, errNoRecordKeys},
		{"bolt, keys", Options{Records: bolt, RecordKeys: regions.RandomRecordKeys()}, nil},
	} {
		if err := checkRecordKeys(tc.o); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}
