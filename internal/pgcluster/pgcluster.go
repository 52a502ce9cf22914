// Package pgcluster starts throwaway PostgreSQL clusters from the installed
// server binaries, for benchmarks (bench/) and for tests that must not
// share the suite's cluster (a test that fills a tablespace stalls every
// checkpoint of its cluster, and so every CREATE DATABASE of other tests).
// As root it runs the cluster as the postgres user: initdb refuses root.
package pgcluster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" for creating databases
)

// Options says how to start a throwaway cluster.
type Options struct {
	// BinDir holds initdb, pg_ctl and postgres; "" finds the newest
	// /usr/lib/postgresql/*/bin, or initdb on PATH.
	BinDir string
	// Dir is where the cluster's directory is made ("" is the system's
	// temporary directory). As root, the postgres user must be able to
	// reach it (a directory from os.MkdirTemp is not).
	Dir string
	// NoSync turns off fsync, synchronous_commit and full_page_writes, as
	// scripts/with-postgres does for tests. The default is durable: a
	// commit is on disk, like SQLite's synchronous=FULL in touchbase.
	NoSync bool
	// Settings are more server settings (name=value), after the defaults,
	// which they override.
	Settings []string
}

// Cluster is a PostgreSQL server to create databases in: either a
// throwaway cluster Start started, or one given by a DSN to Use.
type Cluster struct {
	AdminDSN string // a superuser DSN to the postgres database
	Version  string
	Settings string // the settings it was started with, for the report

	dir, bindir string
	asPG        func(name string, args ...string) *exec.Cmd
}

// Use uses an existing server; dsn must allow CREATE DATABASE.
func Use(ctx context.Context, dsn string) (*Cluster, error) {
	p := &Cluster{AdminDSN: dsn, Settings: "external (as configured)"}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&p.Version); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact(dsn), err)
	}
	return p, nil
}

// Find returns the directory of the PostgreSQL server binaries.
func Find() (string, error) {
	has := func(d string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, b)); err != nil || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/*/bin or on PATH")
}

func version(dir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return v
}

// Start initialises and starts a cluster on a free loopback port, as the
// postgres user when running as root (initdb refuses root).
func Start(ctx context.Context, o Options) (*Cluster, error) {
	bindir := o.BinDir
	if bindir == "" {
		var err error
		if bindir, err = Find(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp(o.Dir, "touchbase-pg-")
	if err != nil {
		return nil, err
	}
	// Not bound to ctx: Stop must work after ctx ends.
	p := &Cluster{dir: dir, bindir: bindir, asPG: exec.Command}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and there is no postgres user to run the cluster as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p.asPG = func(name string, args ...string) *exec.Cmd {
			cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
			cmd.Dir = dir
			return cmd
		}
	}
	fail := func(err error) (*Cluster, error) {
		p.Stop()
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := p.asPG(filepath.Join(bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}

	// Durable by default; sized for a small server: the WAL may grow
	// during a run rather than checkpoint every few seconds.
	settings := []string{"shared_buffers=512MB", "max_wal_size=4GB", "max_connections=100"}
	if o.NoSync {
		settings = append(settings, "fsync=off", "synchronous_commit=off", "full_page_writes=off")
	} else {
		settings = append(settings, "fsync=on", "synchronous_commit=on", "full_page_writes=on")
	}
	settings = append(settings, o.Settings...)
	p.Settings = strings.Join(settings, " ")
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	opts := fmt.Sprintf("-k %s -h 127.0.0.1 -p %d", dir, port)
	for _, s := range settings {
		opts += " -c " + s
	}
	if out, err := p.asPG(filepath.Join(bindir, "pg_ctl"), "start", "-D", data, "-l", filepath.Join(dir, "postgres.log"), "-w", "-t", "60", "-s", "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		return fail(fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log))
	}
	p.AdminDSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	out, err := exec.CommandContext(ctx, filepath.Join(bindir, "postgres"), "--version").Output()
	if f := strings.Fields(string(out)); err == nil && len(f) >= 3 {
		p.Version = f[2] // postgres (PostgreSQL) 15.18 (Debian ...)
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PostmasterPID is the cluster's main process, 0 for an external server.
func (p *Cluster) PostmasterPID() int {
	if p.dir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(p.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(line)))
	return pid
}

// CreateDatabase creates database name and returns its DSN.
func (p *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	db, err := sql.Open("pgx", p.AdminDSN)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+quoteIdent(name)); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(p.AdminDSN)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops database name, disconnecting its sessions.
func (p *Cluster) DropDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("pgx", p.AdminDSN)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// DatabaseSize returns the on-disk size of database name.
func (p *Cluster) DatabaseSize(ctx context.Context, name string) (int64, error) {
	db, err := sql.Open("pgx", p.AdminDSN)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int64
	err = db.QueryRowContext(ctx, "SELECT pg_database_size($1)", name).Scan(&n)
	return n, err
}

// Stop stops a cluster this package started and removes its directory;
// for an external server it does nothing.
func (p *Cluster) Stop() error {
	if p.dir == "" {
		return nil
	}
	var err error
	if _, statErr := os.Stat(filepath.Join(p.dir, "data", "postmaster.pid")); statErr == nil {
		stop := p.asPG(filepath.Join(p.bindir, "pg_ctl"), "stop", "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-s", "-w", "-t", "120")
		if out, e := stop.CombinedOutput(); e != nil {
			err = fmt.Errorf("pg_ctl stop: %w\n%s", e, out)
		}
	}
	if e := os.RemoveAll(p.dir); e != nil && err == nil {
		err = e
	}
	return err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// redact hides a DSN's password.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
