package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
)

func (a *app) keyCmd() *cobra.Command {
	return groupCmd("key", "Create, list and revoke write keys, server keys and admin API tokens",
		a.keyCreateCmd(), a.keyListCmd(), a.keyRevokeCmd())
}

// keyJSON is a key as `key create --json` and `key list --json` print it.
type keyJSON struct {
	*touchbase.Key
	Workspace string `json:"workspace"`
	// Secret is set only by create.
	Secret string `json:"key,omitempty"`
}

func (a *app) keyCreateCmd() *cobra.Command {
	var kind, workspace, role, name string
	cmd := &cobra.Command{
		Use:   "create --kind write|server|admin",
		Short: "Create a write key, a server key or an admin API token and print it (only it) on stdout",
		Long: `Create a key and print the secret alone on stdout, so that

    KEY=$(touchbase key create --kind write)

works. Kinds:

  write   a public write key, for web pages (tb.js, analytics.js): it sends
          events through /v1 and can read nothing; its events may create
          orders for the customer who sends them and change only that
          customer's orders, and may not change products that a server key
          or an import defined (see docs/ingestion.md)
  server  a server write key, for your backend (server-side SDKs): /v1 with
          full rights over orders and the catalogue; a secret, refused from
          browsers
  admin   an admin API token (/api/v1), with --role

The secret is stored hashed and never shown again. On a new data
directory the database is created first, and the owner's password is
printed once on stderr.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			k := touchbase.KeyKind(kind)
			if kind == "" {
				return usageErrorf(cmd, "--kind is required: write (public, for browsers), server (secret, for your backend) or admin (admin API token)")
			} else if !k.Ingests() && k != touchbase.KeyAdmin {
				return usageErrorf(cmd, "--kind must be write, server or admin, not %q", kind)
			}
			var r touchbase.Role
			switch {
			case k.Ingests() && role != "":
				return usageErrorf(cmd, "--role applies to admin tokens only; write and server keys can only ingest")
			case k == touchbase.KeyAdmin && role == "":
				r = touchbase.RoleAdmin
			case k == touchbase.KeyAdmin:
				r = touchbase.Role(role)
				if !r.Valid() {
					return usageErrorf(cmd, "--role must be one of owner, admin, marketer, analyst, not %q", role)
				}
			}

			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				key, secret, err := st.CreateKey(ctx, ws.ID, k, r, name)
				if err != nil {
					return fmt.Errorf("create key: %w", err)
				}
				if a.json {
					return a.printJSON(keyJSON{Key: key, Workspace: ws.Name, Secret: secret})
				}
				_, err = fmt.Fprintln(a.stdout, secret)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "write (public, for browsers), server (secret, for your backend) or admin (admin API token)")
	f.StringVar(&workspace, "workspace", "", "workspace name (default: the first workspace)")
	f.StringVar(&role, "role", "", "admin token role: owner, admin, marketer or analyst (default admin)")
	f.StringVar(&name, "name", "", "a name to tell the key apart")
	return cmd
}

func (a *app) keyListCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a workspace's keys and tokens (revoked ones included)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				keys, err := st.ListKeys(ctx, ws.ID)
				if err != nil {
					return fmt.Errorf("list keys: %w", err)
				}
				if a.json {
					out := make([]keyJSON, len(keys))
					for i, k := range keys {
						out[i] = keyJSON{Key: k, Workspace: ws.Name}
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tROLE\tNAME\tPREFIX\tCREATED\tREVOKED")
				for _, k := range keys {
					revoked := "-"
					if k.RevokedAt != nil {
						revoked = k.RevokedAt.Local().Format(time.DateTime)
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, dash(string(k.Role)), dash(k.Name),
						k.Prefix, k.CreatedAt.Local().Format(time.DateTime), revoked)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", "workspace name (default: the first workspace)")
	return cmd
}

func (a *app) keyRevokeCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key or token: it stops working at once",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErrorf(cmd, "key ID %q is not a number (see `touchbase key list`)", args[0])
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				err = st.RevokeKey(ctx, ws.ID, id)
				if touchbase.ErrorCode(err) == touchbase.ENOTFOUND {
					return touchbase.Errorf(touchbase.ENOTFOUND, "workspace %q has no key %d (see `touchbase key list`)", ws.Name, id)
				} else if err != nil {
					return fmt.Errorf("revoke key %d: %w", id, err)
				}
				if a.json {
					return a.printJSON(map[string]any{"id": id, "workspace": ws.Name, "revoked": true})
				}
				_, err = fmt.Fprintf(a.stdout, "revoked key %d in workspace %q\n", id, ws.Name)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", "workspace name (default: the first workspace)")
	return cmd
}

// dash shows an empty table cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
