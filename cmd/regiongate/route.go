package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/router"
	"github.com/regiongate/regiongate/workflows"
)

func routeCmd() *cobra.Command {
	c := &cobra.Command{Use: "route", Short: "Review routing decisions offline, from a config file"}
	c.AddCommand(&cobra.Command{
		Use:   "table FILE",
		Short: "Print the matrix country x classification -> region order, as markdown",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			return router.New(cfg).WriteTable(cmd.OutOrStdout())
		},
	})
	c.AddCommand(explainCmd())
	return c
}

func explainCmd() *cobra.Command {
	var file, down string
	var req router.Request
	var asJSON bool
	c := &cobra.Command{
		Use:   "explain",
		Short: "Explain the decision for one request, with a reason for every region",
		Example: "  regiongate route explain --config configs/dev.yaml --location DE --class pii\n" +
			"  regiongate route explain --config configs/dev.yaml --location DE --class pii --down eu-west",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file)
			if err != nil {
				return err
			}
			snap := router.Snapshot{}
			for _, r := range strings.FieldsFunc(down, func(r rune) bool { return r == ',' }) {
				if _, ok := cfg.Region(r); !ok {
					return fmt.Errorf("--down: unknown region %q", r)
				}
				snap[r] = router.RegionState{Unhealthy: true}
			}
			d, derr := router.New(cfg, workflows.Names...).Explain(req, snap)
			if asJSON {
				return errors.Join(printJSON(cmd.OutOrStdout(), d), derr)
			}
			printExplanation(cmd, req, d, derr)
			return derr
		},
	}
	c.Flags().StringVar(&file, "config", "", "config file (default: the embedded configs/dev.yaml)")
	c.Flags().StringVar(&req.Location, "location", "", "user's country, ISO 3166-1 alpha-2 (required)")
	c.Flags().StringVar(&req.Class, "class", "", "data classification (required)")
	c.Flags().StringVar(&req.Tenant, "tenant", "", "tenant")
	c.Flags().StringVar(&req.WorkflowType, "type", "PropertyBooking", "workflow type")
	c.Flags().StringVar((*string)(&req.Priority), "priority", "normal", "high, normal or low")
	c.Flags().StringVar(&down, "down", "", "comma-separated regions to treat as unavailable")
	c.Flags().BoolVar(&asJSON, "json", false, "print the decision as JSON")
	_ = c.MarkFlagRequired("location")
	_ = c.MarkFlagRequired("class")
	return c
}

func printExplanation(cmd *cobra.Command, req router.Request, d router.Decision, err error) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "request: location %s, class %s (resident: %v), jurisdictions [%s]\n",
		req.Location, req.Class, d.Resident, strings.Join(d.Jurisdictions, ", "))
	if err == nil {
		fmt.Fprintf(out, "decision: %s (namespace %s, task queue %s)\n", d.Region, d.Namespace, d.TaskQueue)
	} else {
		fmt.Fprintf(out, "decision: refused: %v\n", err)
	}
	fmt.Fprintf(out, "lawful, in order: %s\n", strings.Join(d.Lawful, " → "))
	for _, r := range d.Reasons {
		mark := "skip"
		if r.Kept {
			mark = "keep"
		}
		fmt.Fprintf(out, "  %-4s %-12s %s\n", mark, r.Region, r.Why)
	}
}
