package router

import (
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

func policyFrom(t *testing.T, edit func(string) string) *Policy {
	t.Helper()
	cfg, err := configs.Parse([]byte(edit(string(configs.DefaultYAML()))))
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg)
}

func TestDiff(t *testing.T) {
	same := func(s string) string { return s }
	tests := []struct {
		name    string
		edit    func(string) string
		changes int
		check   func(t *testing.T, ch []Change)
	}{
		{name: "identical configs", edit: same, changes: 0},
		{
			name: "japan added to eu-west residency",
			edit: func(s string) string {
				return strings.Replace(s, "residency: [EU, GB, CH]\n    failover: [eu-central]", "residency: [EU, GB, CH, JP]\n    failover: [eu-central]", 1)
			},
			changes: 4, // JP x pii, financial (now allowed), public, internal (home moves to eu-west)
			check: func(t *testing.T, ch []Change) {
				for _, c := range ch {
					if c.Country != "JP" {
						t.Fatalf("unexpected change %+v", c)
					}
					if c.Class == "pii" && (len(c.Before) != 0 || c.After[0] != "eu-west") {
						t.Fatalf("JP pii: %+v", c)
					}
				}
			},
		},
		{
			name:    "switzerland removed from both EU regions",
			edit:    func(s string) string { return strings.ReplaceAll(s, "residency: [EU, GB, CH]", "residency: [EU, GB]") },
			changes: 4,
			check: func(t *testing.T, ch []Change) {
				for _, c := range ch {
					if c.Country != "CH" {
						t.Fatalf("unexpected change %+v", c)
					}
				}
				if !strings.Contains(Summary(ch), "2 newly refused") {
					t.Fatalf("summary: %s", Summary(ch))
				}
			},
		},
	}
	base := New(configs.Default())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := Diff(base, policyFrom(t, tt.edit))
			if len(ch) != tt.changes {
				t.Fatalf("got %d changes, want %d: %+v", len(ch), tt.changes, ch)
			}
			if tt.check != nil {
				tt.check(t, ch)
			}
		})
	}
}
