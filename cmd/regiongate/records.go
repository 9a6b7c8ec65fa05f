package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/atomicfile"
	"github.com/regiongate/regiongate/regions"
	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
	"github.com/regiongate/regiongate/workflows/codec"
)

// envRecordsKeys holds the records keys in the environment, in the keys
// file's format (entries separated by line breaks or commas).
const envRecordsKeys = "REGIONGATE_RECORDS_KEYS"

// recordsFlags are where the routing records live and how they are keyed;
// serve and the records commands share them.
func recordsFlags(c *cobra.Command, f *serveFlags) {
	fl := c.Flags()
	fl.StringVar(&f.recordsPostgres, "records-postgres", "",
		"keep the routing records in PostgreSQL (a postgres:// URL or key=value DSN; PG* variables apply), with or without --consul; the schema is created if absent")
	fl.BoolVar(&f.recordsSkipMigrate, "records-postgres-skip-migrate", false,
		"leave the PostgreSQL records schema alone: it was applied by hand (`regiongate records schema`), as the gateway's role may not run DDL")
	fl.StringVar(&f.recordsKeyFile, "records-key-file", "",
		"the secret keys routing records are keyed with (HMAC-SHA256 of the tenant's workflow id): \"id:base64key\" (32 bytes) a line, the current first, previous ones after it; or the keys themselves in [$"+envRecordsKeys+"]; "+
			"needed with --consul or --records-postgres, and the same on every replica; without one, a bbolt store keeps a generated key in <state-dir>/records.key")
	fl.BoolVar(&f.recordsAcceptPlaintext, "records-accept-plaintext", false,
		"lookups also try the plain workflow id, as records written before records were keyed by hash hold it (an upgrade; see docs/regions.md)")
}

// recordsStore is where o's routing records go: PostgreSQL when asked
// for, else what openStores chose (bbolt, Consul). It also sets the keys.
func recordsStore(ctx context.Context, f serveFlags, o *gatewayd.Options) (close func(), err error) {
	close = func() {}
	if f.recordsPostgres != "" {
		pg, err := regions.OpenPostgresRecords(ctx, f.recordsPostgres, regions.PostgresOptions{SkipMigrate: f.recordsSkipMigrate})
		if err != nil {
			return nil, err
		}
		o.Records, close = pg, pg.Close
	}
	shared := f.consulAddr != "" || f.recordsPostgres != ""
	if o.RecordKeys, err = recordKeys(f, shared, os.Getenv); err != nil {
		close()
		return nil, err
	}
	return close, nil
}

// recordKeys reads the records keys from --records-key-file or the
// environment. A store shared by replicas needs them given; a local bbolt
// store without them keeps a generated key next to it.
func recordKeys(f serveFlags, shared bool, getenv func(string) string) (*regions.RecordKeys, error) {
	text, from := getenv(envRecordsKeys), "$"+envRecordsKeys
	if f.recordsKeyFile != "" {
		data, err := os.ReadFile(f.recordsKeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading records keys: %w", err)
		}
		text, from = string(data), f.recordsKeyFile
	}
	if strings.TrimSpace(text) == "" {
		if shared {
			return nil, errors.New("routing records shared by replicas (--consul, --records-postgres) need the same records key on every replica: give --records-key-file or $" + envRecordsKeys)
		}
		var err error
		if text, from, err = localRecordKey(f.stateDir); err != nil {
			return nil, err
		}
	}
	keys, err := codec.ParseKeys(text)
	if err == nil && len(keys) == 0 {
		err = errors.New("no keys")
	}
	if err != nil {
		return nil, fmt.Errorf("records keys from %s: %w", from, err)
	}
	rk := make([]regions.RecordKey, len(keys))
	for i, k := range keys {
		rk[i] = regions.RecordKey{ID: k.ID, Secret: k.Secret}
	}
	return regions.NewRecordKeys(rk, f.recordsAcceptPlaintext)
}

// localRecordKey is the key a bbolt store's records are keyed with when
// none is given: made once, kept in <state-dir>/records.key (mode 0600)
// beside the records file.
func localRecordKey(stateDir string) (text, from string, err error) {
	path := filepath.Join(stateDir, "records.key")
	data, err := os.ReadFile(path)
	if err == nil {
		return string(data), path, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("reading records key: %w", err)
	}
	k, err := codec.GenerateKey("local-1")
	if err != nil {
		return "", "", err
	}
	if err := atomicfile.Write(path, []byte(k.Encode()+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("writing records key: %w", err)
	}
	return k.Encode(), path, nil
}

func recordsCmd() *cobra.Command {
	c := &cobra.Command{Use: "records", Short: "Work with the routing records store"}
	c.AddCommand(reconcileCmd(), &cobra.Command{
		Use:   "schema",
		Short: "Print the PostgreSQL records schema (serve applies it itself; for databases where the gateway may not run DDL)",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprint(cmd.OutOrStdout(), regions.PostgresSchema) },
	})
	return c
}

var reconcileEnv = map[string]string{
	"config": "REGIONGATE_CONFIG", "consul": "REGIONGATE_CONSUL",
	"records-postgres": "REGIONGATE_RECORDS_POSTGRES", "records-key-file": "REGIONGATE_RECORDS_KEYFILE",
}

func reconcileCmd() *cobra.Command {
	var f serveFlags
	var apply bool
	var pageSize int
	c := &cobra.Command{
		Use:   "reconcile",
		Short: "Rebuild routing records from the regions' visibility after a store loss (dry run unless --apply)",
		Long: `List every workflow in every region and namespace of the config and compare each with its
routing record. Ids without a record are reported, and with --apply written (claimed for the one
place they were found). Ids found in two places, or whose record names another place, are reported
as conflicts and never changed. With --apply and every region listed, the store is marked complete:
gateways then fail over new ids without asking their home region first. Exits non-zero when there
are conflicts or a region could not be listed. A bbolt store is held by its gateway: stop it first.`,
		PreRunE: func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd, reconcileEnv, os.Getenv) },
		RunE: func(cmd *cobra.Command, _ []string) error {
			return reconcile(cmd.Context(), cmd.OutOrStdout(), f, regions.ReconcileOptions{Apply: apply, PageSize: pageSize})
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "region config file (default: <state-dir>/config.yaml; with --consul, the config in Consul)")
	fl.StringVar(&f.consulAddr, "consul", "", "Consul HTTP address of gateways run with --consul")
	fl.StringVar(&f.consulPrefix, "consul-prefix", "regiongate/", "Consul KV prefix")
	fl.StringVar(&f.stateDir, "state-dir", ".regiongate", "the gateway's state dir (its records.db and records.key, without --consul)")
	fl.BoolVar(&apply, "apply", false, "write the missing records and mark the store complete; without it, only report")
	fl.IntVar(&pageSize, "page-size", 500, "workflows per visibility page")
	recordsFlags(c, &f)
	return c
}

func reconcile(ctx context.Context, out io.Writer, f serveFlags, o regions.ReconcileOptions) error {
	var gw gatewayd.Options
	closeStores, err := openStores(ctx, f, &gw)
	if err != nil {
		return err
	}
	defer closeStores()
	rev, err := gw.ConfigSource.Read(ctx)
	if err != nil {
		return fmt.Errorf("reading config from %s: %w", gw.ConfigSource, err)
	}
	cfg, err := configs.Parse(rev.Data)
	if err != nil {
		return err
	}
	m, err := regions.NewManager(cfg, regions.Options{Records: gw.Records, RecordKeys: gw.RecordKeys})
	if err != nil {
		return err
	}
	defer m.Close()
	pol := router.New(cfg, workflows.Names...)
	m.UsePolicy(func() *router.Policy { return pol })
	rep, err := m.Reconcile(ctx, o)
	printReconcile(out, rep, o.Apply)
	switch {
	case err != nil:
		return err
	case len(rep.Errors) > 0:
		return fmt.Errorf("%d regions or namespaces could not be listed: %w", len(rep.Errors), errors.Join(rep.Errors...))
	case len(rep.Conflicts) > 0:
		return fmt.Errorf("%d conflicts: decide where each id belongs before starting it again", len(rep.Conflicts))
	}
	return nil
}

func printReconcile(out io.Writer, rep regions.ReconcileReport, apply bool) {
	for _, c := range rep.Conflicts {
		var found []string
		for _, p := range c.Found {
			found = append(found, p.String())
		}
		record := "none"
		if c.Record.Region != "" {
			record = c.Record.String()
		}
		fmt.Fprintf(out, "conflict %s: found in %s, record %s\n", c.WorkflowID, strings.Join(found, ", "), record)
	}
	missing := fmt.Sprintf("%d without a record (dry run: --apply writes them)", rep.Missing)
	if apply {
		missing = fmt.Sprintf("%d without a record, %d written", rep.Missing, rep.Written)
	}
	fmt.Fprintf(out, "%d workflows: %d matching, %s, %d conflicts, %d not listed; store marked complete: %v\n",
		rep.Workflows, rep.Matching, missing, len(rep.Conflicts), len(rep.Errors), rep.Complete)
}
