package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regiongate/regiongate/internal/tool/apiclient"
	"github.com/regiongate/regiongate/internal/tool/apiclient/admin"
	"github.com/regiongate/regiongate/router"
)

// configAPICmds are the config commands that talk to a running gateway's
// admin API: the compliance flow of docs/compliance.md from a shell.
func configAPICmds() []*cobra.Command {
	var gf adminFlags
	var out string
	get := &cobra.Command{
		Use:     "get",
		Short:   "Print the config in force (admin API, viewer role); its version goes to stderr",
		Example: "  regiongate config get --token dev-compliance --out current.yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := gf.client()
			if err != nil {
				return err
			}
			r, err := cl.GetConfigWithResponse(cmd.Context())
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return err
			}
			version := strings.Trim(r.HTTPResponse.Header.Get("ETag"), `"`)
			if gf.asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"version": version, "yaml": string(r.Body)})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "version %s\n", version)
			if out != "" {
				return os.WriteFile(out, r.Body, 0o644)
			}
			_, err = cmd.OutOrStdout().Write(r.Body)
			return err
		},
	}
	gf.register(get)
	get.Flags().StringVar(&out, "out", "", "write the YAML to this file instead of stdout")

	var pf adminFlags
	preview := &cobra.Command{
		Use:   "preview FILE",
		Short: "What saving FILE would do: every problem with its line, or every country x class whose region order changes (admin API, compliance role; changes nothing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, cl, err := readAndDial(&pf, args[0])
			if err != nil {
				return err
			}
			r, err := cl.PreviewConfigWithBodyWithResponse(cmd.Context(), "application/yaml", bytes.NewReader(data))
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return err
			}
			p := r.JSON200
			if pf.asJSON {
				return printJSON(cmd.OutOrStdout(), p)
			}
			return printPreview(cmd.OutOrStdout(), args[0], *p)
		},
	}
	pf.register(preview)

	var uf adminFlags
	var ifMatch string
	put := &cobra.Command{
		Use:     "put FILE",
		Short:   "Replace the config in force with FILE, if it is still the version you edited (admin API, compliance role; audited)",
		Example: "  regiongate config put new.yaml --if-match 3f2a9c... --token dev-compliance",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, cl, err := readAndDial(&uf, args[0])
			if err != nil {
				return err
			}
			r, err := cl.PutConfigWithBodyWithResponse(cmd.Context(), &admin.PutConfigParams{IfMatch: `"` + strings.Trim(ifMatch, `"`) + `"`},
				"application/yaml", bytes.NewReader(data))
			if err := apiclient.Check(r.HTTPResponse, r.Body, err); err != nil {
				return explainPutError(err)
			}
			if uf.asJSON {
				return printJSON(cmd.OutOrStdout(), r.JSON200)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "config %s in force (was %s): %s\n", r.JSON200.Version, r.JSON200.Previous, r.JSON200.Summary)
			return nil
		},
	}
	uf.register(put)
	put.Flags().StringVar(&ifMatch, "if-match", "", "the version you edited (config get prints it) (required)")
	_ = put.MarkFlagRequired("if-match")
	return []*cobra.Command{get, preview, put}
}

func readAndDial(f *adminFlags, file string) ([]byte, *admin.ClientWithResponses, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	cl, err := f.client()
	return data, cl, err
}

func printPreview(w io.Writer, file string, p admin.ConfigPreview) error {
	if !p.Valid {
		for _, pr := range p.Problems {
			fmt.Fprintf(w, "%s:%s %s\n", file, problemPlace(pr), pr.Message)
		}
		return fmt.Errorf("%s is not valid (%d problems); nothing would change", file, len(p.Problems))
	}
	for _, pr := range p.Warnings {
		fmt.Fprintf(w, "warning: %s:%s %s\n", file, problemPlace(pr), pr.Message)
	}
	fmt.Fprintf(w, "against the config in force (%s):\n", p.Base)
	changes := make([]router.Change, len(p.Changes))
	for i, c := range p.Changes {
		changes[i] = router.Change{Country: c.Country, Class: c.Class, Before: deref(c.Before), After: deref(c.After)}
	}
	return router.WriteDiff(w, changes)
}

func problemPlace(p admin.ConfigProblem) string {
	place := ""
	if p.Line != nil {
		place = fmt.Sprintf("%d:", *p.Line)
	}
	if p.Path != "" {
		place += " " + p.Path + ":"
	}
	return place
}

// explainPutError adds what to do about a refused PUT.
func explainPutError(err error) error {
	var e *apiclient.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Status {
	case 412:
		return fmt.Errorf("%w\nsomeone changed the config since the version you edited: config get, redo your edit, put again", err)
	case 400:
		if problems, ok := e.Problem["problems"].([]any); ok {
			var lines []string
			for _, p := range problems {
				if m, ok := p.(map[string]any); ok {
					lines = append(lines, fmt.Sprintf("  line %v: %v: %v", m["line"], m["path"], m["message"]))
				}
			}
			return fmt.Errorf("%s: %s\n%s", e.Title, "the old config stays in force", strings.Join(lines, "\n"))
		}
	}
	return err
}
