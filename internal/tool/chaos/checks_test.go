package chaos

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

// start is a start entry of tenant's workflow id for a user in country.
func start(seq int64, kind, tenant, id, country, class string, status int, region string) Entry {
	return Entry{Seq: seq, Kind: kind, Tenant: tenant, WorkflowID: id, Country: country, Class: class, Type: "DataProcessing", Status: status, Region: region}
}

func TestAuditorCountsEachKindOfFinding(t *testing.T) {
	here := func(region, ns string) []Placement {
		return []Placement{{Region: region, Namespace: ns, RunID: "r1", Status: "COMPLETED"}}
	}
	for _, tc := range []struct {
		name    string
		entries []Entry
		found   []Placement
		direct  []Placement // what describing the id finds
		want    AuditResult
		detail  string
	}{{
		name:    "acknowledged and found where acknowledged",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west")},
		found:   here("eu-west", "dev-eu-west"),
		want:    AuditResult{Acked: 1},
	}, {
		name:    "acknowledged, not listed, but described: not lost",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west")},
		direct:  here("eu-west", "dev-eu-west"),
		want:    AuditResult{Acked: 1},
	}, {
		name:    "acknowledged and found nowhere",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west")},
		want:    AuditResult{Acked: 1, Lost: 1},
		detail:  "acknowledged in eu-west (ledger seq [1]), found in no region",
	}, {
		name: "the acknowledged run is gone, another in its place",
		entries: []Entry{
			{Seq: 1, Kind: KindStart, Tenant: "acme", WorkflowID: "a", Country: "DE", Class: "pii", Status: 201, Region: "eu-west", RunID: "r0"},
			{Seq: 2, Kind: KindRepeat, Tenant: "acme", WorkflowID: "a", Country: "DE", Class: "pii", Status: 201, Region: "eu-west", RunID: "r1"},
		},
		found:  here("eu-west", "dev-eu-west"),
		want:   AuditResult{Acked: 1, Lost: 1},
		detail: "acknowledged run r0 (ledger seq [1]) is in no region",
	}, {
		name:    "in two regions",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west")},
		found:   append(here("eu-west", "dev-eu-west"), here("eu-central", "dev-eu-central")...),
		want:    AuditResult{Acked: 1, Duplicated: 1},
		detail:  "found 2 times",
	}, {
		name: "answered from two regions",
		entries: []Entry{
			start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west"),
			start(2, KindRepeat, "acme", "a", "DE", "pii", 200, "eu-central"),
		},
		found:  here("eu-west", "dev-eu-west"),
		want:   AuditResult{Acked: 1, Duplicated: 1},
		detail: "answered from eu-central (ledger seq [2]) and eu-west (ledger seq [1])",
	}, {
		name:    "German pii in the US",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "us-east")},
		found:   here("us-east", "dev-us-east"),
		want:    AuditResult{Acked: 1, Misplaced: 1},
		detail:  "DE pii data in us-east; lawful: [eu-west eu-central]",
	}, {
		name:    "an isolated tenant's workflow in the shared namespace",
		entries: []Entry{start(1, KindStart, "northwind", "a", "US", "public", 201, "us-east")},
		found:   here("us-east", "dev-us-east"),
		want:    AuditResult{Acked: 1, Misplaced: 1},
		detail:  `in namespace dev-us-east of us-east, tenant "northwind"'s is dev-us-east-northwind`,
	}, {
		name:    "found but never requested",
		entries: []Entry{start(1, KindStart, "acme", "a", "DE", "pii", 201, "eu-west")},
		found:   here("eu-west", "dev-eu-west"),
		want:    AuditResult{Acked: 1, Misplaced: 1},
		detail:  "never requested",
	}, {
		name: "a 503 settled by the final retry in one region",
		entries: []Entry{
			{Seq: 1, Kind: KindStart, Tenant: "acme", WorkflowID: "a", Country: "FR", Class: "pii", Status: 503, Problem: "unknown-outcome"},
			start(2, KindFinalRetry, "acme", "a", "FR", "pii", 200, "eu-west"),
		},
		found: here("eu-west", "dev-eu-west"),
		want:  AuditResult{Acked: 1, FinalRetries: 1, With503ID: 1, ResolvedRegion: 1},
	}, {
		name: "no answer, then refused after the run and in no region",
		entries: []Entry{
			{Seq: 1, Kind: KindStart, Tenant: "acme", WorkflowID: "a", Country: "JP", Class: "pii", Err: "timeout"},
			start(2, KindFinalRetry, "acme", "a", "JP", "pii", 422, ""),
		},
		want: AuditResult{FinalRetries: 1, ResolvedNone: 1},
	}, {
		name: "still a 503 after the run",
		entries: []Entry{
			{Seq: 1, Kind: KindStart, Tenant: "acme", WorkflowID: "a", Country: "FR", Class: "pii", Status: 503, Problem: "unknown-outcome"},
			{Seq: 2, Kind: KindFinalRetry, Tenant: "acme", WorkflowID: "a", Country: "FR", Class: "pii", Status: 503, Problem: "unknown-outcome"},
		},
		want:   AuditResult{FinalRetries: 1, With503ID: 1, Unresolved: 1},
		detail: "still no settled answer: 503 unknown-outcome (ledger seq 2)",
	}, {
		name: "a refused connection re-sent to the other replica settles nothing",
		entries: []Entry{
			{Seq: 1, Kind: KindStart, Tenant: "acme", WorkflowID: "a", Country: "FR", Class: "pii", Err: "connection refused", Refused: true},
			start(2, KindStart, "acme", "a", "FR", "pii", 201, "eu-west"),
		},
		found: here("eu-west", "dev-eu-west"),
		want:  AuditResult{Acked: 1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			res := &AuditResult{}
			a := &auditor{pol: router.New(configs.Default()), res: res,
				describe: func(context.Context, string) ([]Placement, error) { return tc.direct, nil }}
			found := map[string][]Placement{"acme:a": tc.found}
			if strings.Contains(tc.name, "never requested") {
				found["acme:b"] = tc.found
			}
			if strings.HasPrefix(tc.name, "an isolated") {
				found = map[string][]Placement{"northwind:a": tc.found}
			}
			hs := histories(tc.entries)
			for tid, ps := range found {
				tenant, id := splitTemporalID(tid)
				if err := a.check(context.Background(), tenant, id, hs[tenant+"/"+id], ps); err != nil {
					t.Fatal(err)
				}
			}
			got := *res
			got.Findings = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v\nfindings: %+v", got, tc.want, res.Findings)
			}
			if tc.detail != "" && (len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Detail, tc.detail)) {
				t.Errorf("findings %+v, want one saying %q", res.Findings, tc.detail)
			}
		})
	}
}

func TestSplitTemporalIDReversesTenantWorkflowID(t *testing.T) {
	for _, c := range [][2]string{{"acme", "booking-1"}, {"", "booking-1"}, {"globex", "a:b"}} {
		tenant, id := splitTemporalID(router.TenantWorkflowID(c[0], c[1]))
		if tenant != c[0] || id != c[1] {
			t.Errorf("%q: got %q %q", c, tenant, id)
		}
	}
}
