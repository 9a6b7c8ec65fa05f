package configs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRecordsBlock(t *testing.T) {
	tests := []struct {
		block    string
		wantPath string // "" when valid
	}{
		{"", ""},
		{"records: {retention: 2160h, sweepInterval: 30s, sweepBatch: 1000}\n", ""},
		{"records: {retention: 1h}\n", "records.retention"},
		{"records: {retention: -24h}\n", "records.retention"},
		{"records: {sweepInterval: 10ms}\n", "records.sweepInterval"},
		{"records: {sweepInterval: 48h}\n", "records.sweepInterval"},
		{"records: {sweepBatch: -1}\n", "records.sweepBatch"},
		{"records: {sweepBatch: 100000}\n", "records.sweepBatch"},
		{"records: {retain: 24h}\n", "unknown field"},
	}
	for _, tt := range tests {
		cfg, err := Parse(append(DefaultYAML(), tt.block...))
		var ve *ValidationError
		switch {
		case tt.wantPath == "" && err != nil:
			t.Errorf("%q: %v", tt.block, err)
		case tt.wantPath == "unknown field":
			if err == nil || !strings.Contains(err.Error(), "retain") {
				t.Errorf("%q: %v, want an unknown field", tt.block, err)
			}
		case tt.wantPath != "" && (!errors.As(err, &ve) || ve.Problems[0].Path != tt.wantPath):
			t.Errorf("%q: %v, want a problem at %s", tt.block, err, tt.wantPath)
		case tt.block == "":
			if cfg.RecordsRetention() != 720*time.Hour || cfg.SweepInterval() != time.Minute || cfg.SweepBatch() != 500 {
				t.Errorf("defaults: %s %s %d", cfg.RecordsRetention(), cfg.SweepInterval(), cfg.SweepBatch())
			}
		}
	}
}
