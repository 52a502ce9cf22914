package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/server/ui"
	"github.com/touchbase/touchbase/store"
)

func (a *app) userCmd() *cobra.Command {
	return groupCmd("user", "Invite, create and list the people who sign in to a workspace",
		a.userInviteCmd(), a.userInvitationsCmd(), a.userRevokeInvitationCmd(), a.userCreateCmd(), a.userListCmd())
}

// userJSON is a member as `user create --json` prints it.
type userJSON struct {
	*touchbase.Member
	Workspace string `json:"workspace"`
	// Password is set when create generated it.
	Password string `json:"password,omitempty"`
}

func (a *app) userCreateCmd() *cobra.Command {
	var email, name, role, workspace, password string
	cmd := &cobra.Command{
		Use:   "create --email EMAIL",
		Short: "Add a user to a workspace with a role, without an invitation (operators)",
		Long: `Add a user to a workspace with a role (default admin), at once and without
asking them: for operators, who have the database in hand anyway. People
who should choose whether to join get an invitation instead (user invite).
Without --password a password is generated and printed once; --password -
reads it from the first line of stdin. An existing user (same email, say
from another workspace) keeps their password and gets the role in this
workspace.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			if email == "" {
				return usageErrorf(cmd, "--email is required")
			}
			r := touchbase.Role(role)
			if !r.Valid() {
				return usageErrorf(cmd, "--role must be one of owner, admin, marketer, analyst, not %q", role)
			}
			generated := false
			switch password {
			case "":
				p, err := newPassword()
				if err != nil {
					return err
				}
				password, generated = p, true
			case "-":
				line, err := bufio.NewReader(a.stdin).ReadString('\n')
				password = strings.TrimRight(line, "\r\n")
				if password == "" {
					return touchbase.Errorf(touchbase.EINVALID, "--password -: no password on stdin (%v)", err)
				}
			}

			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				m, err := st.CreateUser(ctx, ws.ID, email, name, password, r)
				if err != nil {
					return fmt.Errorf("create user %s: %w", email, err)
				}
				// CreateUser keeps an existing user's password: then the one
				// given or generated here does not sign in, and must not be
				// shown as if it did.
				if _, err := st.Authenticate(ctx, m.Email, password); err != nil {
					generated = false
					fmt.Fprintf(a.stderr, "touchbase: note: %s already had an account; their password was not changed\n", m.Email)
				}
				if a.json {
					out := userJSON{Member: m, Workspace: ws.Name}
					if generated {
						out.Password = password
					}
					return a.printJSON(out)
				}
				fmt.Fprintf(a.stdout, "added %s (user %d) to workspace %q as %s\n", m.Email, m.ID, ws.Name, m.Role)
				if generated {
					fmt.Fprintf(a.stdout, "password: %s\n(shown once; it is stored only as a hash)\n", password)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email address (required)")
	f.StringVar(&name, "name", "", "the user's name")
	f.StringVar(&role, "role", string(touchbase.RoleAdmin), "owner, admin, marketer or analyst")
	f.StringVar(&workspace, "workspace", "", workspaceFlagUsage)
	f.StringVar(&password, "password", "", "password (default: generated and printed once; - reads stdin)")
	return cmd
}

func (a *app) userListCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a workspace's users and their roles",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				members, err := st.ListMembers(ctx, ws.ID)
				if err != nil {
					return fmt.Errorf("list users: %w", err)
				}
				if a.json {
					out := make([]userJSON, len(members))
					for i, m := range members {
						out[i] = userJSON{Member: m, Workspace: ws.Name}
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tJOINED")
				for _, m := range members {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Email, dash(m.Name), m.Role,
						m.CreatedAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", workspaceFlagUsage)
	return cmd
}

// invitationJSON is an invitation as `user invite --json` prints it.
type invitationJSON struct {
	*touchbase.Invitation
	Workspace string `json:"workspace"`
	Link      string `json:"link,omitempty"`
}

func (a *app) userInviteCmd() *cobra.Command {
	var email, role, workspace, base string
	cmd := &cobra.Command{
		Use:   "invite --email EMAIL",
		Short: "Invite someone to a workspace with a role, and print the link they accept it with",
		Long: `Invite an email address to a workspace with a role (default marketer). The
person becomes a member when they open the link and accept: signing in if
they have an account, or choosing a name and password if not. touchbase
sends no mail yet: pass the link on yourself. It works once, for 7 days,
and is printed only now. Inviting the address again replaces the earlier
invitation.

The link starts with --url, the address people reach the console at
(default: the server's own, from --addr).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			if email == "" {
				return usageErrorf(cmd, "--email is required")
			}
			r := touchbase.Role(role)
			if !r.Valid() {
				return usageErrorf(cmd, "--role must be one of owner, admin, marketer, analyst, not %q", role)
			}
			if base == "" {
				base = baseURL(a.cfg.Addr)
			}
			base = strings.TrimRight(base, "/")
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				inv, token, err := st.CreateInvitation(ctx, ws.ID, email, r, "touchbase user invite")
				if err != nil {
					return fmt.Errorf("invite %s: %w", email, err)
				}
				link := base + ui.InvitationPath(token)
				if a.json {
					return a.printJSON(invitationJSON{Invitation: inv, Workspace: ws.Name, Link: link})
				}
				fmt.Fprintf(a.stdout, "invited %s to workspace %q as %s (invitation %d)\n", inv.Email, ws.Name, inv.Role, inv.ID)
				fmt.Fprintf(a.stdout, "link: %s\n", link)
				fmt.Fprintf(a.stdout, "(send it to them yourself: touchbase sends no mail; it works once, until %s, and is shown only now)\n",
					inv.ExpiresAt.Local().Format(time.DateTime))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the invitee's email address (required)")
	f.StringVar(&role, "role", string(touchbase.RoleMarketer), "owner, admin, marketer or analyst")
	f.StringVar(&workspace, "workspace", "", workspaceFlagUsage)
	f.StringVar(&base, "url", "", "the console's address as invitees reach it (default: http://ADDR of the server)")
	return cmd
}

func (a *app) userInvitationsCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "invitations",
		Short: "List a workspace's pending invitations",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				invs, err := st.ListInvitations(ctx, ws.ID)
				if err != nil {
					return fmt.Errorf("list invitations: %w", err)
				}
				if a.json {
					out := make([]invitationJSON, len(invs))
					for i, inv := range invs {
						out[i] = invitationJSON{Invitation: inv, Workspace: ws.Name}
					}
					return a.printJSON(out)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tINVITED BY\tEXPIRES")
				for _, inv := range invs {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", inv.ID, inv.Email, inv.Role, dash(inv.InvitedBy),
						inv.ExpiresAt.Local().Format(time.DateTime))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", workspaceFlagUsage)
	return cmd
}

func (a *app) userRevokeInvitationCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "revoke-invitation ID",
		Short: "Revoke a pending invitation: its link stops working",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageErrorf(cmd, "ID must be an invitation id (see user invitations), not %q", args[0])
			}
			ctx := cmd.Context()
			return a.inWorkspace(ctx, workspace, func(st *store.Store, ws *touchbase.Workspace) error {
				if err := st.RevokeInvitation(ctx, ws.ID, id); err != nil {
					return fmt.Errorf("revoke invitation %d: %w", id, err)
				}
				if a.json {
					return a.printJSON(map[string]any{"revoked": id, "workspace": ws.Name})
				}
				_, err := fmt.Fprintf(a.stdout, "revoked invitation %d of workspace %q\n", id, ws.Name)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", workspaceFlagUsage)
	return cmd
}

// newPassword returns a random password of 24 URL-safe characters (144 bits).
func newPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
