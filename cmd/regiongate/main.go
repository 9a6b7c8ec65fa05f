// Command regiongate runs the gateway and its workers, and gives operators
// and compliance reviewers their CLI.
package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/configs"
	"github.com/regiongate/regiongate/router"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "regiongate:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	info, ok := debug.ReadBuildInfo()
	root := &cobra.Command{
		Use:           "regiongate",
		Short:         "Multi-region routing gateway for Temporal",
		Version:       buildVersion(version, info, ok),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), workerCmd(), configCmd(), routeCmd(), regionsCmd(), drillCmd(), auditCmd(), recordsCmd(), benchCmd())
	return root
}

// version names this build. `make build` and the Dockerfile set it at link
// time: -ldflags "-X main.version=$(git describe --tags --always --dirty)".
var version string

// buildVersion is what --version prints: the stamped version, or for a build
// that did not set it (a plain go build, go install ...@v1.2.3) the module
// version and any VCS revision the toolchain recorded; then the Go version.
func buildVersion(stamped string, info *debug.BuildInfo, ok bool) string {
	if !ok {
		return cmp.Or(stamped, "unknown") + ", " + runtime.Version()
	}
	parts := []string{stamped}
	if stamped == "" {
		parts[0] = cmp.Or(info.Main.Version, "(devel)")
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				parts = append(parts, "revision "+s.Value)
			}
		}
	}
	return strings.Join(append(parts, info.GoVersion), ", ")
}

// loadConfig reads the config file, or the embedded dev config when path is empty.
func loadConfig(path string) (*configs.Config, error) {
	if path == "" {
		return configs.Default(), nil
	}
	return configs.LoadFile(path)
}

func newLogger(format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}

func configCmd() *cobra.Command {
	c := &cobra.Command{Use: "config", Short: "Work with region config files, and the config a gateway runs (get, preview, put)"}
	c.AddCommand(configAPICmds()...)
	c.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a config file; prints every problem with its place in the file, and warnings (a Temporal Cloud endpoint without credentials)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := configs.LoadFile(args[0])
			if err != nil {
				return err
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid (version %s, %d regions, warnings: %d)\n", args[0], cfg.Version(), len(cfg.Regions), len(cfg.Warnings()))
			return nil
		},
	})
	var nsConfig string
	ns := &cobra.Command{
		Use:   "namespaces REGION",
		Short: "List the namespaces a region's cluster needs (its own and every isolated tenant's), one per line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(nsConfig)
			if err != nil {
				return err
			}
			rc, ok := cfg.Region(args[0])
			if !ok {
				return fmt.Errorf("unknown region %q", args[0])
			}
			for _, n := range router.Namespaces(cfg, rc) {
				fmt.Fprintln(cmd.OutOrStdout(), n)
			}
			return nil
		},
	}
	ns.Flags().StringVar(&nsConfig, "config", "", "config file (default: the embedded configs/dev.yaml)")
	c.AddCommand(ns)
	c.AddCommand(&cobra.Command{
		Use:   "diff OLD NEW",
		Short: "What a config change means for users: every country x class whose region order moves",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			old, err := configs.LoadFile(args[0])
			if err != nil {
				return err
			}
			next, err := configs.LoadFile(args[1])
			if err != nil {
				return err
			}
			return router.WriteDiff(cmd.OutOrStdout(), router.Diff(router.New(old), router.New(next)))
		},
	})
	return c
}
