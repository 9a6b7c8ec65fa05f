package configs_test

import (
	"strings"
	"testing"

	"github.com/regiongate/regiongate/configs"
)

// TestReplicaAccepted: eu-west replicating to eu-central and back, and the
// US pair likewise, is valid: each replica holds the same residency.
func TestReplicaAccepted(t *testing.T) {
	text := devEdited(t, "    failover: [eu-central]\n", "    failover: [eu-central]\n    replica: eu-central\n")
	text = []byte(strings.Replace(string(text), "    failover: [eu-west]\n", "    failover: [eu-west]\n    replica: eu-west\n", 1))
	cfg, err := configs.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	west, _ := cfg.Region("eu-west")
	if west.Replica != "eu-central" || len(cfg.ReplicaGaps(west)) != 0 {
		t.Errorf("eu-west: replica %q, gaps %v", west.Replica, cfg.ReplicaGaps(west))
	}
	if got := cfg.ReplicatedTo("eu-central"); len(got) != 1 || got[0].Name != "eu-west" {
		t.Errorf("ReplicatedTo(eu-central) = %v", got)
	}
}

// TestUnlawfulReplicaRefused: resident data never replicates to a region
// that may not hold it. Each refusal names the replica's path and line and
// says which classes and countries it lacks.
func TestUnlawfulReplicaRefused(t *testing.T) {
	tests := []struct {
		name, old, new string
		also           [2]string // a second edit, if any
		path           string
		says           []string
	}{
		{
			name: "EU data replicated to the US",
			old:  "    failover: [eu-central]\n", new: "    failover: [eu-central]\n    replica: us-east\n",
			path: "regions[2].replica",
			says: []string{"us-east may not hold everything eu-west may: resident classes pii, financial of EU, GB, CH;"},
		},
		{
			name: "a replica that holds only part of the residency",
			old:  "    residency: [EU, GB, CH]\n    failover: [eu-west]\n", new: "    residency: [EU]\n    failover: [eu-west]\n",
			also: [2]string{"    failover: [eu-central]\n", "    failover: [eu-central]\n    replica: eu-central\n"},
			path: "regions[2].replica",
			says: []string{"eu-central may not hold everything eu-west may: resident classes pii, financial of GB, CH;"},
		},
		{
			name: "an unknown replica",
			old:  "    failover: [eu-central]\n", new: "    failover: [eu-central]\n    replica: eu-north\n",
			path: "regions[2].replica", says: []string{`unknown region "eu-north"`},
		},
		{
			name: "a region replicating to itself",
			old:  "    failover: [eu-central]\n", new: "    failover: [eu-central]\n    replica: eu-west\n",
			path: "regions[2].replica", says: []string{"its own replica"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := devEdited(t, tt.old, tt.new)
			if tt.also[0] != "" {
				text = []byte(strings.Replace(string(text), tt.also[0], tt.also[1], 1))
			}
			_, err := configs.Parse(text)
			ps := problemsOf(t, err)
			if len(ps) != 1 || ps[0].Path != tt.path || ps[0].Line == 0 {
				t.Fatalf("problems = %v, want one at %s with its line", ps, tt.path)
			}
			for _, s := range tt.says {
				if !strings.Contains(ps[0].Message, s) {
					t.Errorf("problem %q does not say %q", ps[0].Message, s)
				}
			}
		})
	}
}

// TestReplicaAndClassRestriction: a class restricted to some regions may
// only be replicated among them.
func TestReplicaAndClassRestriction(t *testing.T) {
	text := devEdited(t, "  - {name: internal, resident: false}\n", "  - {name: internal, resident: false, regions: [eu-west]}\n")
	text = []byte(strings.Replace(string(text), "    failover: [eu-central]\n", "    failover: [eu-central]\n    replica: eu-central\n", 1))
	_, err := configs.Parse(text)
	ps := problemsOf(t, err)
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "class internal is restricted to eu-west, which leaves eu-central out") {
		t.Fatalf("problems = %v", ps)
	}
}
