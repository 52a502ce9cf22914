package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/touchbase/touchbase"
	"github.com/touchbase/touchbase/store"
	"github.com/touchbase/touchbase/wal"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
)

// run executes the command line args and returns the exit code. It is main
// without the process: tests call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "touchbase: %s\n", errorText(err))
	var uerr *usageError
	if errors.As(err, &uerr) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitError
}

// errorText is the one line shown for err: a *touchbase.Error's message as
// is, anything else in full.
func errorText(err error) string {
	var terr *touchbase.Error
	if errors.As(err, &terr) {
		return terr.Message
	}
	return err.Error()
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())}
}

// app is one invocation: its streams and what it resolved.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool

	cfg *config
	log *slog.Logger
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "touchbase",
		Short: "Customer segmentation and engagement platform for online stores",
		Long: `touchbase collects what customers do (Segment-compatible tracking API),
unifies it into one profile per person, and lets you segment and reach them.

Configuration: flags > TOUCHBASE_* environment > --config file > defaults.
See docs/configuration.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare `touchbase` shows the help; `touchbase nosuch` is an error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(cmd, "unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	pf := root.PersistentFlags()
	pf.String("data", "./touchbase-data", "data directory (env TOUCHBASE_DATA)")
	pf.String("db", "", "database DSN: SQLite file path or postgres://... (default DATA/touchbase.db; env TOUCHBASE_DB)")
	pf.String("config", "", "YAML config file (env TOUCHBASE_CONFIG)")
	pf.BoolVar(&a.json, "json", false, "machine-readable JSON output on stdout")
	pf.String("log-level", "info", "log level: debug, info, warn, error (env TOUCHBASE_LOG_LEVEL)")
	pf.String("log-format", "auto", "log format: text, json, auto (env TOUCHBASE_LOG_FORMAT)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf(cmd, "%v", err)
	})

	root.AddCommand(
		a.serveCmd(),
		a.demoCmd(),
		a.importCmd(),
		a.segmentCmd(),
		a.analyzeCmd(),
		a.keyCmd(),
		a.workspaceCmd(),
		a.userCmd(),
		a.migrateCmd(),
		a.configCmd(),
		a.versionCmd(),
	)
	return root
}

// groupCmd returns a command that only holds subcommands.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(cmd, "unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			return usageErrorf(cmd, "%q needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
		},
	}
	c.AddCommand(subs...)
	return c
}

// exactArgs is cobra.ExactArgs with a message that names the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErrorf(cmd, "%s takes %d argument(s) (%s), got %d",
				cmd.CommandPath(), len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// setup loads the configuration and the logger for cmd. Commands call it
// first, so that `touchbase version` works even with a broken config file.
func (a *app) setup(cmd *cobra.Command) error {
	if a.cfg != nil {
		return nil
	}
	cfg, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	a.cfg = cfg
	level := cfg.LogLevel
	if cmd.Annotations[annotServer] == "" && cfg.Source("log_level") == "default" {
		// A command that answers and exits says what it did on stdout;
		// its INFO lines (a workspace loaded, a backlog applied) are noise
		// there. A server's are its record. --log-level info asks for them.
		level = "warn"
	}
	a.log = newLogger(a.stderr, level, cfg.LogFormat)
	return nil
}

// annotServer marks the commands that run a server (serve, demo), which log
// at INFO by default; every other command logs warnings and errors only
// unless log_level is set.
const annotServer = "touchbase/server"

// newLogger logs to w; format "auto" is text when w is a terminal and JSON
// otherwise (a service manager, a container, a file).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // checked by config.resolve
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// openStore opens (creating and migrating as needed) the configured
// database, and applies what a stopped server acknowledged from the
// ingestion log and had not applied yet, so that commands see every event
// that was answered with a 200.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	st, err := a.openServingStore(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.applyIngestLog(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// openServingStore opens the database for serve, whose ingestion writer
// applies the ingestion log itself.
func (a *app) openServingStore(ctx context.Context) (*store.Store, error) {
	st, err := store.Open(ctx, a.cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactDSN(a.cfg.DB), err)
	}
	return st, nil
}

// ingestLogDir is where serve keeps the ingestion log.
func (a *app) ingestLogDir() string { return filepath.Join(a.cfg.Data, "ingest-log") }

// applyIngestLog applies the ingestion log's backlog, if there is one and
// no server is running on it (a running server applies it itself).
func (a *app) applyIngestLog(ctx context.Context, st *store.Store) error {
	dir := a.ingestLogDir()
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.log")); len(segs) == 0 {
		return nil
	}
	l, err := wal.Open(dir, 0)
	if errors.Is(err, wal.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	defer l.Close()
	w := wal.NewWriter(st, wal.WriterConfig{Log: l, Logger: a.log, DrainTimeout: 10 * time.Minute})
	if err := w.Open(ctx); err != nil {
		return err
	}
	if n, b := w.Lag(); n > 0 {
		a.log.Info("applying events the server acknowledged and had not applied yet", "requests", n, "bytes", b)
	}
	w.Close()
	if n, _ := w.Lag(); n > 0 {
		return fmt.Errorf("ingestion log %s: %d requests could not be applied; see the log above", dir, n)
	}
	return nil
}

// openBootstrapped opens the store and, when it has no workspace yet,
// creates the default workspace and its owner, printing the owner's
// password once on stderr.
func (a *app) openBootstrapped(ctx context.Context) (*store.Store, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	res, err := st.Bootstrap(ctx, a.cfg.OwnerEmail)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if res.Created {
		a.printBanner(res, "")
	}
	return st, nil
}

// printBanner shows, once, the credentials bootstrap created. baseURL is
// the server's when it is listening, "" otherwise.
func (a *app) printBanner(res *store.BootstrapResult, baseURL string) {
	var b strings.Builder
	line := strings.Repeat("=", 72)
	fmt.Fprintf(&b, "\n%s\n", line)
	fmt.Fprintf(&b, "  touchbase: first start. Created workspace %q and its owner.\n\n", res.Workspace.Name)
	if baseURL != "" {
		fmt.Fprintf(&b, "    URL:       %s\n", baseURL)
		fmt.Fprintf(&b, "    admin API: %s/api/v1\n", baseURL)
	}
	fmt.Fprintf(&b, "    email:     %s\n", res.Owner.Email)
	if res.Password != "" {
		fmt.Fprintf(&b, "    password:  %s\n\n", res.Password)
		fmt.Fprintf(&b, "  Save this password now: it is stored only as a hash and will NOT be\n")
		fmt.Fprintf(&b, "  shown again.\n")
	}
	if baseURL == "" {
		fmt.Fprintf(&b, "\n  Start the server with `touchbase serve` (it will listen on %s).\n", a.cfg.Addr)
	}
	fmt.Fprintf(&b, "%s\n\n", line)
	fmt.Fprint(a.stderr, b.String())
}

// inWorkspace opens the store (bootstrapping a new one), finds the named
// workspace (the first one when name is empty) and runs fn with them.
func (a *app) inWorkspace(ctx context.Context, name string, fn func(st *store.Store, ws *touchbase.Workspace) error) error {
	st, err := a.openBootstrapped(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := a.workspace(ctx, st, name)
	if err != nil {
		return err
	}
	return fn(st, ws)
}

// workspaceFlagUsage describes every command's --workspace.
const workspaceFlagUsage = "workspace name or id (default: the first workspace)"

// workspace returns the workspace named name (or with that id, when no
// workspace has that name), or the first one (the default workspace
// bootstrap created) when name is "". Names need not be unique: a name
// several workspaces share is an error that lists their ids.
func (a *app) workspace(ctx context.Context, st *store.Store, name string) (*touchbase.Workspace, error) {
	if name != "" {
		ws, err := st.FindWorkspaceByName(ctx, name)
		if touchbase.ErrorCode(err) == touchbase.ENOTFOUND {
			if id, perr := strconv.ParseInt(name, 10, 64); perr == nil {
				if ws, err := st.FindWorkspace(ctx, id); err == nil {
					return ws, nil
				}
			}
			return nil, touchbase.Errorf(touchbase.ENOTFOUND,
				"workspace %q does not exist (see `touchbase workspace list`)", name)
		} else if err != nil {
			return nil, fmt.Errorf("find workspace %q: %w", name, err)
		}
		return ws, nil
	}
	all, err := st.ListWorkspaces(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	if len(all) == 0 {
		return nil, touchbase.Errorf(touchbase.ENOTFOUND, "the database has no workspace yet")
	}
	return all[0], nil
}

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// redactDSN hides the password of a postgres:// DSN.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
