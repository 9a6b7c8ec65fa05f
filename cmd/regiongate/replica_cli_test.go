package main

import (
	"strings"
	"testing"
)

// replicated is the dev config with eu-west replicating to to.
func replicated(t *testing.T, to string) string {
	t.Helper()
	text := strings.Replace(devYAML(t), "    failover: [eu-central]\n", "    failover: [eu-central]\n    replica: "+to+"\n", 1)
	if text == devYAML(t) {
		t.Fatal("the dev config's eu-west failover line moved")
	}
	return text
}

// TestConfigValidateRefusesAnUnlawfulReplica: EU resident data never
// replicates to the US; the reviewer is told where and why.
func TestConfigValidateRefusesAnUnlawfulReplica(t *testing.T) {
	_, err := run(t, "config", "validate", writeFile(t, replicated(t, "us-east")))
	if err == nil {
		t.Fatal("a replica outside the region's residency must be refused")
	}
	for _, want := range []string{"line 37: regions[2].replica: us-east may not hold everything eu-west may: resident classes pii, financial of EU, GB, CH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if out, err := run(t, "config", "validate", writeFile(t, replicated(t, "eu-central"))); err != nil {
		t.Fatalf("a lawful replica: %v\n%s", err, out)
	}
}

// TestConfigDiffAndRouteTableShowReplicas: the tools a compliance reviewer
// reads name the replica wherever its region appears.
func TestConfigDiffAndRouteTableShowReplicas(t *testing.T) {
	next := writeFile(t, replicated(t, "eu-central"))
	out, err := run(t, "config", "diff", "../../configs/dev.yaml", next)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| DE | pii | eu-west → eu-central | eu-west [+eu-central] → eu-central |", "replication changed for"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff does not show %q:\n%.600s", want, out)
		}
	}
	out, err = run(t, "route", "table", next)
	if err != nil || !strings.Contains(out, "| DE | EEA, EU | eu-west [+eu-central] → eu-central → us-east → us-west |") {
		t.Fatalf("route table: %v\n%.600s", err, out)
	}
}
