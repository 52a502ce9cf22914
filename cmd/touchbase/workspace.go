package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) workspaceCmd() *cobra.Command {
	return groupCmd("workspace", "Create and list workspaces (one per store or brand)",
		a.workspaceCreateCmd(), a.workspaceListCmd())
}

func (a *app) workspaceCreateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create a workspace",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openBootstrapped(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := st.CreateWorkspace(ctx, args[0])
			if err != nil {
				return fmt.Errorf("create workspace %q: %w", args[0], err)
			}
			if a.json {
				return a.printJSON(ws)
			}
			_, err = fmt.Fprintf(a.stdout, "created workspace %q (id %d)\n", ws.Name, ws.ID)
			return err
		},
	}
}

func (a *app) workspaceListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List workspaces, oldest first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openBootstrapped(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.ListWorkspaces(ctx)
			if err != nil {
				return fmt.Errorf("list workspaces: %w", err)
			}
			if a.json {
				return a.printJSON(all)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tCREATED")
			for _, ws := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\n", ws.ID, ws.Name, ws.CreatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
}
