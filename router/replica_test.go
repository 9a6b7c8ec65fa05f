package router

import (
	"bytes"
	"strings"
	"testing"
)

// withEUReplicas is the dev config with eu-west and eu-central replicating
// each other's namespaces.
func withEUReplicas(s string) string {
	s = strings.Replace(s, "    failover: [eu-central]\n", "    failover: [eu-central]\n    replica: eu-central\n", 1)
	return strings.Replace(s, "    failover: [eu-west]\n", "    failover: [eu-west]\n    replica: eu-west\n", 1)
}

// TestTableShowsReplicas: a reviewer reading the route table sees where
// each route's data is replicated, and the legend says what the brackets
// mean.
func TestTableShowsReplicas(t *testing.T) {
	var b bytes.Buffer
	if err := policyFrom(t, withEUReplicas).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"[+X]: the region's namespaces are replicated to X",
		"| DE | EEA, EU | eu-west [+eu-central] → eu-central [+eu-west] → us-east → us-west | eu-west [+eu-central] → eu-central [+eu-west] → us-east → us-west | eu-west [+eu-central] → eu-central [+eu-west] | eu-west [+eu-central] → eu-central [+eu-west] |",
		"| US |  | us-east → us-west → eu-west [+eu-central] → eu-central [+eu-west] | us-east → us-west → eu-west [+eu-central] → eu-central [+eu-west] | us-east → us-west | us-east → us-west |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

// TestDiffShowsReplication: adding replicas changes no region order, yet
// the diff lists every route whose data is now also stored elsewhere.
func TestDiffShowsReplication(t *testing.T) {
	old, next := policyFrom(t, func(s string) string { return s }), policyFrom(t, withEUReplicas)
	changes := Diff(old, next)
	var de *Change
	for i, c := range changes {
		if !equal(c.Before, c.After) {
			t.Fatalf("an order changed: %+v", c)
		}
		if c.Country == "DE" && c.Class == "pii" {
			de = &changes[i]
		}
	}
	if de == nil || len(de.ReplicatedBefore) != 0 || strings.Join(de.ReplicatedAfter, ",") != "eu-west→eu-central,eu-central→eu-west" {
		t.Fatalf("DE pii change = %+v", de)
	}
	if s := Summary(changes); !strings.Contains(s, "replication changed for ") {
		t.Errorf("summary %q does not mention replication", s)
	}
	var b bytes.Buffer
	if err := WriteDiff(&b, changes); err != nil {
		t.Fatal(err)
	}
	if want := "| DE | pii | eu-west → eu-central | eu-west [+eu-central] → eu-central [+eu-west] |"; !strings.Contains(b.String(), want) {
		t.Errorf("diff lacks %q", want)
	}
}

func equal(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }
