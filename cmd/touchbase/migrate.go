package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the database or apply pending migrations, and report the schema version",
		Long: `Create the database or apply pending migrations, and report the schema
version. serve and the other commands migrate on their own; this is for
preparing a PostgreSQL database before rolling out new servers. It does not
create the default workspace.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.setup(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := a.openStore(ctx) // Open applies the migrations
			if err != nil {
				return err
			}
			defer st.Close()
			// goose records applied migrations in goose_db_version (its
			// default table); the store has no accessor for the version.
			var version int64
			err = st.DB().QueryRowContext(ctx,
				"SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&version)
			if err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if a.json {
				return a.printJSON(map[string]any{
					"dialect": st.Dialect(), "db": redactDSN(a.cfg.DB), "version": version,
				})
			}
			_, err = fmt.Fprintf(a.stdout, "%s database %s is at schema version %d\n",
				st.Dialect(), redactDSN(a.cfg.DB), version)
			return err
		},
	}
}

// Set with -ldflags "-X main.version=v1.2.3 -X main.commit=abc123".
var (
	version = "dev"
	commit  = ""
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := commit
			if c == "" {
				c = "unknown"
				if bi, ok := debug.ReadBuildInfo(); ok {
					for _, s := range bi.Settings {
						if s.Key == "vcs.revision" {
							c = s.Value
						}
					}
				}
			}
			if a.json {
				return a.printJSON(map[string]string{"version": version, "commit": c, "go": runtime.Version()})
			}
			_, err := fmt.Fprintf(a.stdout, "touchbase %s (commit %s, %s)\n", version, c, runtime.Version())
			return err
		},
	}
}
