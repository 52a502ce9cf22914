package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/engine"
	"github.com/touchbase/touchbase/segment"
	"github.com/touchbase/touchbase/store"
)

func (a *app) segmentCmd() *cobra.Command {
	return groupCmd("segment", "Define segments, count and list their members, export them, explain them",
		a.segmentCreateCmd(), a.segmentListCmd(), a.segmentCountCmd(), a.segmentMembersCmd(),
		a.segmentExportCmd(), a.segmentExplainCmd(), a.segmentDeleteCmd())
}

// segmentFlags are the flags every segment command shares.
type segmentFlags struct {
	workspace string
	asOf      string
}

func (f *segmentFlags) add(cmd *cobra.Command, asOf bool) {
	cmd.Flags().StringVar(&f.workspace, "workspace", "", "workspace name (default: the first workspace)")
	if asOf {
		cmd.Flags().StringVar(&f.asOf, "as-of", "", "evaluate as if the clock said this time (RFC 3339 or a date; default now)")
	}
}

func (f *segmentFlags) time(cmd *cobra.Command) (time.Time, error) {
	if f.asOf == "" {
		return time.Time{}, nil
	}
	ms, err := segment.ParseTime(f.asOf)
	if err != nil {
		return time.Time{}, usageErrorf(cmd, "--as-of: %v", err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// withEngine opens the store and an engine over it for the workspace.
func (a *app) withEngine(ctx context.Context, f *segmentFlags, fn func(st *store.Store, ws *touchbase.Workspace, eng *engine.Engine) error) error {
	return a.inWorkspace(ctx, f.workspace, func(st *store.Store, ws *touchbase.Workspace) error {
		// Read-only: the server that owns the data directory records
		// membership changes (at its next tick for a segment saved here).
		eng := engine.New(st, newRegistry(), engine.Config{Logger: a.log, ReadOnly: true})
		defer eng.Close()
		return fn(st, ws, eng)
	})
}

// reading runs fn for the read-only commands: the flags read, a reader
// open (the server's when one answers, the data directory's otherwise),
// the as-of instant parsed.
func (a *app) reading(cmd *cobra.Command, f *segmentFlags, fn func(ctx context.Context, r segmentReader, asOf time.Time) error) error {
	if err := a.setup(cmd); err != nil {
		return err
	}
	asOf, err := f.time(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	r, err := a.openReader(ctx, f)
	if err != nil {
		return err
	}
	defer r.Close()
	return fn(ctx, r, asOf)
}

func parseDefinition(text string) (*segment.Node, error) {
	n, err := segment.Parse(text)
	if err == nil {
		err = segment.Check(n, newRegistry())
	}
	if err != nil {
		return nil, touchbase.Errorf(touchbase.EINVALID, "%s", err)
	}
	return n, nil
}

func (a *app) segmentCreateCmd() *cobra.Command {
	var f segmentFlags
	var description string
	var static bool
	cmd := &cobra.Command{
		Use:   "create NAME [EXPR]",
		Short: "Create a segment from a definition, or an empty list with --static",
		Long: `Create a segment. EXPR is its definition in the segment language, e.g.

  touchbase segment create "repeat buyers" 'orders >= 2 and last_order_at > 180d ago'

See docs/segments.md. With --static, the segment is a list you add customers
to through the API or the console.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			if static == (len(args) == 2) {
				return usageErrorf(cmd, "give a definition (EXPR), or --static for a list, not both")
			}
			ctx := cmd.Context()
			return a.withEngine(ctx, &f, func(st *store.Store, ws *touchbase.Workspace, eng *engine.Engine) error {
				seg := &touchbase.Segment{WorkspaceID: ws.ID, Name: args[0], Description: description, Kind: touchbase.SegmentStatic}
				var n *segment.Node
				if !static {
					var err error
					if n, err = parseDefinition(args[1]); err != nil {
						return err
					}
					seg.Kind = touchbase.SegmentDynamic
				}
				if err := eng.Save(ctx, seg, n); err != nil {
					return err
				}
				seg, err := st.FindSegment(ctx, ws.ID, seg.ID)
				if err != nil {
					return err
				}
				if n != nil {
					// The stored size is the server's to record (this
					// engine records nothing): count them here.
					ids, err := eng.Members(ctx, ws.ID, n, time.Time{})
					if err != nil {
						return err
					}
					seg.Size = len(ids)
				}
				if a.json {
					return a.printJSON(seg)
				}
				_, err = fmt.Fprintf(a.stdout, "created segment %q (id %d): %d members\n", seg.Name, seg.ID, seg.Size)
				return err
			})
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&description, "description", "", "what the segment is for")
	cmd.Flags().BoolVar(&static, "static", false, "create a list instead of a segment with a definition")
	return cmd
}

func (a *app) segmentListCmd() *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List segments with their sizes",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reading(cmd, &f, func(ctx context.Context, r segmentReader, _ time.Time) error {
				all, err := r.listSegments(ctx)
				if err != nil {
					return err
				}
				if a.json {
					if all == nil {
						all = []*touchbase.Segment{}
					}
					return a.printJSON(all)
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tKIND\tSIZE\tDEFINITION")
				for _, s := range all {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", s.ID, s.Name, s.Kind, s.Size, s.Text)
				}
				return tw.Flush()
			})
		},
	}
	f.add(cmd, false)
	return cmd
}

func (a *app) segmentCountCmd() *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "count EXPR|NAME",
		Short: "Count the members of a definition or a segment",
		Long: `Count the members of a definition (or of the segment named NAME), e.g.

  touchbase segment count 'count("Order Completed", within 90d) >= 2' --json

prints {"count": N}. --as-of evaluates as if the clock said that time.
A field no feature or trait of the workspace has is an error.` + remoteHelp,
		Args: exactArgs("EXPR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reading(cmd, &f, func(ctx context.Context, r segmentReader, asOf time.Time) error {
				q, err := resolveQuery(ctx, r, args[0], asOf)
				if err != nil {
					return err
				}
				n, err := r.count(ctx, q)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]int{"count": n})
				}
				_, err = fmt.Fprintln(a.stdout, n)
				return err
			})
		},
	}
	f.add(cmd, true)
	return cmd
}

func (a *app) segmentMembersCmd() *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "members NAME|EXPR",
		Short: "List the members of a segment or a definition, one per line",
		Long: `Print one member per line: user_id, customer id and email, separated by
tabs (user_id is empty for customers without one). With --json, one JSON
object per line.` + remoteHelp,
		Args: exactArgs("NAME|EXPR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reading(cmd, &f, func(ctx context.Context, r segmentReader, asOf time.Time) error {
				q, err := resolveQuery(ctx, r, args[0], asOf)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(a.stdout)
				return r.eachMember(ctx, q, func(cs []*touchbase.Customer) error {
					for _, c := range cs {
						var err error
						if a.json {
							err = enc.Encode(struct {
								UserID string `json:"user_id"`
								ID     int64  `json:"id"`
								Email  string `json:"email"`
							}{c.UserID, c.ID, c.Email})
						} else {
							_, err = fmt.Fprintf(a.stdout, "%s\t%d\t%s\n", c.UserID, c.ID, c.Email)
						}
						if err != nil {
							return err
						}
					}
					return nil
				})
			})
		},
	}
	f.add(cmd, true)
	return cmd
}

func (a *app) segmentExportCmd() *cobra.Command {
	var f segmentFlags
	var hashed bool
	var out string
	cmd := &cobra.Command{
		Use:   "export NAME|EXPR",
		Short: "Export members as CSV (id, user_id, email, phone), optionally with SHA-256 hashes for ad platforms",
		Long: `Export the members as CSV: id, user_id, email, phone, and with --hashed the
SHA-256 of the normalised email and phone, as ad platforms take them.` + remoteHelp,
		Args: exactArgs("NAME|EXPR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reading(cmd, &f, func(ctx context.Context, r segmentReader, asOf time.Time) error {
				q, err := resolveQuery(ctx, r, args[0], asOf)
				if err != nil {
					return err
				}
				w := a.stdout
				if out != "" && out != "-" {
					file, err := os.Create(out)
					if err != nil {
						return err
					}
					defer file.Close()
					w = file
				}
				return r.export(ctx, q, hashed, w)
			})
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVar(&hashed, "hashed", false, "add email_sha256 and phone_sha256 (normalised, then SHA-256) for custom audiences")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func (a *app) segmentExplainCmd() *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "explain NAME|EXPR CUSTOMER",
		Short: "Explain why a customer is or is not a member, clause by clause",
		Long:  "CUSTOMER is a customer id, a user id or an email address." + remoteHelp,
		Args:  exactArgs("NAME|EXPR", "CUSTOMER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.reading(cmd, &f, func(ctx context.Context, r segmentReader, asOf time.Time) error {
				q, err := resolveQuery(ctx, r, args[0], asOf)
				if err != nil {
					return err
				}
				if q.n == nil {
					return touchbase.Errorf(touchbase.EINVALID, "segment %q is a list: its members were added, there is no condition to explain", q.seg.Name)
				}
				id, err := r.findCustomer(ctx, args[1])
				if err != nil {
					return err
				}
				x, err := r.explain(ctx, q, id)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(x)
				}
				_, err = fmt.Fprint(a.stdout, x.String())
				return err
			})
		},
	}
	f.add(cmd, true)
	return cmd
}

// customerLookup is how findCustomerID reads customers: from the store or
// through the admin API.
type customerLookup struct {
	byFilter func(touchbase.CustomerFilter) ([]*touchbase.Customer, error)
	byID     func(id int64) error // ENOTFOUND when there is none
}

// findCustomerID resolves a customer id, user id or email: a user id
// first, then an email, then an id.
func findCustomerID(ctx context.Context, look customerLookup, arg string) (int64, error) {
	filters := []touchbase.CustomerFilter{{UserID: arg, Limit: 1}}
	if e := touchbase.NormalizeEmail(arg); e != "" {
		filters = append(filters, touchbase.CustomerFilter{Email: e, Limit: 1})
	}
	for _, f := range filters {
		cs, err := look.byFilter(f)
		if err != nil {
			return 0, err
		}
		if len(cs) > 0 {
			return cs[0].ID, nil
		}
	}
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		if err := look.byID(id); err == nil {
			return id, nil
		} else if touchbase.ErrorCode(err) != touchbase.ENOTFOUND {
			return 0, err
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, touchbase.Errorf(touchbase.ENOTFOUND, "no customer has the id, user id or email %q", arg)
}

func (a *app) segmentDeleteCmd() *cobra.Command {
	var f segmentFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a segment with its members and history",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withEngine(ctx, &f, func(st *store.Store, ws *touchbase.Workspace, eng *engine.Engine) error {
				seg, err := st.FindSegmentByName(ctx, ws.ID, args[0])
				if err != nil {
					return err
				}
				if _, err := eng.Delete(ctx, ws.ID, seg.ID); err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"deleted": seg.Name})
				}
				_, err = fmt.Fprintf(a.stdout, "deleted segment %q\n", seg.Name)
				return err
			})
		},
	}
	f.add(cmd, false)
	return cmd
}

// remoteHelp ends the help of the commands that ask a running server.
const remoteHelp = `

When a server runs on the data directory, the command asks it (it finds
its address in DATA/server.json); --server URL with --token asks another.
Otherwise it reads the data directory itself, and records nothing.`

// openReader returns the server's reader when one answers, else the data
// directory's.
func (a *app) openReader(ctx context.Context, f *segmentFlags) (segmentReader, error) {
	return a.openLocalReader(ctx, f.workspace)
}
