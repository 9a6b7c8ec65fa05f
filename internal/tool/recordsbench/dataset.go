package recordsbench

import (
	"strconv"

	"github.com/regiongate/regiongate/regions"
)

// The records a fill writes, the same for every store: record i is the
// claim of workflow "bench:wf-<i>" (router.TenantWorkflowID's form),
// keyed as a gateway keys it (RecordKeys: HMAC-SHA256 in hex), in one of
// three placements. Its expiry is what sweeps would have given it:
//
//   - every 100th record (1%) expired within the hour before the sweep's
//     time: what the measured sweep removes;
//   - every odd one (50%) expires within the 30 days after it: a workflow
//     closed and its record waiting out the retention;
//   - the rest (49%) have none: workflows still running.
const (
	expiredEvery  = 100
	expiredWithin = 3600           // seconds before the sweep's time
	retention     = 30 * 24 * 3600 // seconds after it
)

var placements = []regions.Placement{
	{Region: "eu-west", Namespace: "dev-eu-west"},
	{Region: "us-east", Namespace: "dev-us-east"},
	{Region: "eu-central", Namespace: "dev-eu-central"},
}

// dataset makes the records of a fill, and the keys of the claims
// measured after it.
type dataset struct {
	keys *regions.RecordKeys
	// now is the sweep's time (Unix seconds): expiries are set around it.
	now int64
}

// key is record i's key.
func (d dataset) key(i int) string { return d.keys.Key("bench:wf-" + strconv.Itoa(i)) }

// claimKey is the key of the j-th claim measured in a phase: never one a
// fill wrote.
func (d dataset) claimKey(phase string, j int) string {
	return d.keys.Key("bench:" + phase + "-" + strconv.Itoa(j))
}

// record is record i as a store holds it. Versions are i+2: bbolt reads
// version 1 as a record written before versions existed.
func (d dataset) record(i int) regions.Record {
	rec := regions.Record{Placement: placements[i%len(placements)], Version: uint64(i) + 2}
	switch {
	case i%expiredEvery == 0:
		rec.Expires = d.now - 1 - int64(i/expiredEvery%expiredWithin)
	case i%2 == 1:
		rec.Expires = d.now + 1 + int64(i*7919%retention) // spread, not in key order
	}
	return rec
}

// expiredIn is how many of the first n records have expired at d.now.
func expiredIn(n int) int { return (n + expiredEvery - 1) / expiredEvery }
