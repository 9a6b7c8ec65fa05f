package configs

import "time"

// Records tunes the routing records' lifecycle (docs/regions.md,
// "Lifecycle"). Zero values take the defaults below.
type Records struct {
	// Retention is how long the record of a closed workflow is kept after
	// it closed. The sweeper keeps it at least as long as the namespace's
	// own retention, whatever this says, so a closed workflow Temporal
	// still has always has its record. Zero means DefaultRecordsRetention.
	Retention Duration `yaml:"retention,omitempty"`
	// SweepInterval is how often each gateway sweeps: marks the records of
	// workflows that closed since its last sweep and removes the expired
	// ones. Zero means DefaultSweepInterval.
	SweepInterval Duration `yaml:"sweepInterval,omitempty"`
	// SweepBatch is how many workflows one visibility page lists and how
	// many records one delete removes. Zero means DefaultSweepBatch.
	SweepBatch int `yaml:"sweepBatch,omitempty"`
}

// Defaults and bounds of the records block.
const (
	DefaultRecordsRetention = Duration(720 * time.Hour)
	DefaultSweepInterval    = Duration(time.Minute)
	DefaultSweepBatch       = 500
	// MinRecordsRetention is Temporal's own least namespace retention.
	MinRecordsRetention = Duration(24 * time.Hour)
	MaxRecordsRetention = Duration(10 * 365 * 24 * time.Hour)
	MinSweepInterval    = Duration(time.Second)
	MaxSweepInterval    = Duration(24 * time.Hour)
	MaxSweepBatch       = 10000
)

// RecordsRetention is Records.Retention or its default.
func (c *Config) RecordsRetention() time.Duration {
	return time.Duration(orDuration(c.Records.Retention, DefaultRecordsRetention))
}

// SweepInterval is Records.SweepInterval or its default.
func (c *Config) SweepInterval() time.Duration {
	return time.Duration(orDuration(c.Records.SweepInterval, DefaultSweepInterval))
}

// SweepBatch is Records.SweepBatch or its default.
func (c *Config) SweepBatch() int {
	if c.Records.SweepBatch <= 0 {
		return DefaultSweepBatch
	}
	return c.Records.SweepBatch
}

func orDuration(d, def Duration) Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (v *validator) records(r Records) {
	if r.Retention != 0 {
		v.check(r.Retention >= MinRecordsRetention, "records.retention",
			"must be at least %s (Temporal's least namespace retention), got %s", time.Duration(MinRecordsRetention), time.Duration(r.Retention))
		v.durationWithin(r.Retention, MaxRecordsRetention, "records.retention")
	}
	if r.SweepInterval != 0 {
		v.check(r.SweepInterval >= MinSweepInterval, "records.sweepInterval", "must be at least %s, got %s", time.Duration(MinSweepInterval), time.Duration(r.SweepInterval))
		v.durationWithin(r.SweepInterval, MaxSweepInterval, "records.sweepInterval")
	}
	v.within(float64(r.SweepBatch), MaxSweepBatch, "records.sweepBatch", "records")
}
