package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/regiongate/regiongate/internal/testkit/poll"
	"github.com/regiongate/regiongate/internal/tool/devstack"
	"github.com/regiongate/regiongate/regions"
)

// TestRecordsReconcile: after a records store loss, `records reconcile`
// lists every region's namespaces (an isolated tenant's too) through
// visibility, reports the ids without a record and, with --apply, writes
// them and marks the store complete; an id found in two regions is a
// conflict, reported and left without a record. Real dev server, real
// PostgreSQL.
func TestRecordsReconcile(t *testing.T) {
	if testing.Short() {
		t.Skip("real-server test: needs a Temporal dev server and PostgreSQL (skipped under -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	temporal, cfgPath := oneServer(ctx, t, dir)
	pg, err := devstack.StartPostgres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	keyFile := filepath.Join(dir, "records-keys")
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	if err := os.WriteFile(keyFile, []byte("k1:"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Workflows whose records were lost (never written here), one whose
	// record survived, and one id in two regions.
	placed := map[string][]string{
		"acme:order-1": {"dev-eu-west"},
		"order-2":      {"dev-us-east"},
		"dup-3":        {"dev-eu-west", "dev-eu-central"},
		"north-4":      {"dev-eu-west-northwind"},
	}
	for id, namespaces := range placed {
		for _, ns := range namespaces {
			_, err := dialNS(t, temporal.Addr, ns, nil).ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "nobody-polls"}, "DataProcessing")
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ns := range []string{"dev-eu-west", "dev-eu-central", "dev-us-east", "dev-eu-west-northwind"} {
		c := dialNS(t, temporal.Addr, ns, nil)
		poll.Until(t, 30*time.Second, "visibility of "+ns, func() bool {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns})
			return err == nil && len(resp.GetExecutions()) > 0
		})
	}
	flags := serveFlags{recordsKeyFile: keyFile, recordsPostgres: pg.DSN}
	keys, err := recordKeys(flags, true, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := regions.OpenPostgresRecords(ctx, pg.DSN, regions.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if _, err := store.Claim(ctx, keys.Key("order-2"), regions.Placement{Region: "us-east", Namespace: "dev-us-east"}); err != nil {
		t.Fatal(err)
	}

	args := []string{"records", "reconcile", "--config", cfgPath, "--state-dir", filepath.Join(dir, "state"),
		"--records-postgres", pg.DSN, "--records-key-file", keyFile}
	out, err := run(t, args...)
	for _, want := range []string{
		"conflict dup-3: found in eu-west@dev-eu-west, eu-central@dev-eu-central, record none",
		"4 workflows: 1 matching, 2 without a record (dry run: --apply writes them), 1 conflicts, 0 not listed; store marked complete: false",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run does not say %q:\n%s", want, out)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "1 conflicts") {
		t.Errorf("dry run with a conflict: %v, want an error", err)
	}
	if n, _ := store.Count(ctx); n != 1 {
		t.Fatalf("the dry run wrote: %d records", n)
	}

	out, _ = run(t, append(args, "--apply")...)
	if want := "2 without a record, 2 written, 1 conflicts, 0 not listed; store marked complete: true"; !strings.Contains(out, want) {
		t.Fatalf("--apply does not say %q:\n%s", want, out)
	}
	for id, want := range map[string]regions.Placement{
		"acme:order-1": {Region: "eu-west", Namespace: "dev-eu-west"},
		"north-4":      {Region: "eu-west", Namespace: "dev-eu-west-northwind"},
		"order-2":      {Region: "us-east", Namespace: "dev-us-east"},
		"dup-3":        {},
	} {
		if rec, err := store.Lookup(ctx, keys.Key(id)); err != nil || rec.Placement != want {
			t.Errorf("%s after --apply: %v, %v; want %v", id, rec, err, want)
		}
	}
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var plain int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM regiongate_records WHERE key LIKE '%order%' OR key LIKE '%acme%'`).Scan(&plain); err != nil || plain != 0 {
		t.Fatalf("records keyed by plain ids: %d, %v", plain, err)
	}
	// A second run finds everything in place.
	out, _ = run(t, append(args, "--apply")...)
	if want := "4 workflows: 3 matching, 0 without a record, 0 written, 1 conflicts"; !strings.Contains(out, want) {
		t.Fatalf("second run does not say %q:\n%s", want, out)
	}
}
