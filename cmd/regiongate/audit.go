package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/assembly/gatewayd"
	"github.com/regiongate/regiongate/internal/base/audit"
)

// auditFlags say which audit log to read: a gateway's file, or the one its
// replicas share in Consul.
type auditFlags struct {
	file, consulAddr, consulPrefix string
}

func (f *auditFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.file, "file", "", "the audit log file (<state-dir>/audit.jsonl of a gateway without Consul)")
	c.Flags().StringVar(&f.consulAddr, "consul", "", "Consul HTTP address of gateways run with --consul (CONSUL_HTTP_TOKEN applies)")
	c.Flags().StringVar(&f.consulPrefix, "consul-prefix", "regiongate/", "their --consul-prefix")
	c.MarkFlagsMutuallyExclusive("file", "consul")
	c.MarkFlagsOneRequired("file", "consul")
}

func (f *auditFlags) store() (audit.Store, error) {
	if f.file != "" {
		return &audit.FileStore{Path: f.file}, nil
	}
	c, err := consulClient(f.consulAddr)
	if err != nil {
		return nil, err
	}
	return gatewayd.ConsulAudit(c, f.consulPrefix), nil
}

func auditCmd() *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Read and check the audit log (the store itself, not the admin API)"}
	var vf auditFlags
	var anchors []string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain; exits non-zero naming the first edited, removed or reordered entry",
		Long: `Check the audit log's hash chain from its first entry: every entry's hash, its link to the one
before, the order, and the head record (which shows entries removed from the end). It prints
the head; keep it somewhere the store's writers cannot reach and pass it back with --anchor
later: a chain rewritten from some entry onward, hashes and head included, passes every other
check but no longer holds the anchor.`,
		Example: "  regiongate audit verify --file .regiongate/audit.jsonl\n  regiongate audit verify --consul 127.0.0.1:8500 --anchor 42:9f86d0...",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var heads []audit.Head
			for _, a := range anchors {
				h, err := audit.ParseHead(a)
				if err != nil {
					return fmt.Errorf("--anchor: %w", err)
				}
				heads = append(heads, h)
			}
			s, err := vf.store()
			if err != nil {
				return err
			}
			r, err := audit.Verify(cmd.Context(), s, heads...)
			if err != nil {
				return err
			}
			return printVerify(cmd.OutOrStdout(), r)
		},
	}
	vf.register(verify)
	verify.Flags().StringArrayVar(&anchors, "anchor", nil, "a head (SEQ:HASH) printed by an earlier verify that the chain must still hold; repeatable")

	var lf auditFlags
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Print the audit log, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := lf.store()
			if err != nil {
				return err
			}
			entries, err := s.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), entries)
			}
			return printEntries(cmd.OutOrStdout(), entries)
		},
	}
	lf.register(list)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	c.AddCommand(verify, list)
	return c
}

func printVerify(w io.Writer, r audit.Report) error {
	if r.Legacy > 0 {
		fmt.Fprintf(w, "%d entries from before the chain: listed, but nothing protects them\n", r.Legacy)
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(w, "checked %d entries before the break\n", r.Checked)
		var b *audit.Break
		if errors.As(err, &b) && b.Seq != 0 {
			return fmt.Errorf("audit log broken at entry %d (%s): %s", b.Seq, b.Kind, b.Detail)
		}
		return fmt.Errorf("audit log broken: %w", err)
	}
	fmt.Fprintf(w, "checked %d entries: the chain is intact\nhead %s\n", r.Checked, r.Last)
	return nil
}

func printEntries(w io.Writer, entries []audit.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tSOURCE\tOUTCOME\tDETAIL")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Local().Format(time.RFC3339), e.Actor, e.Action,
			e.Target, dash(e.Source), dash(e.Outcome), dash(e.Detail))
	}
	return tw.Flush()
}
