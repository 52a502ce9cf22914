package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
	"github.com/touchbase/touchbase"
)

// setting describes one configuration key: its flag, its environment
// variable and its default. docs/configuration.md documents the same list.
type setting struct {
	key  string // as written in the config file
	def  string // "" means empty (db derives its default from data)
	help string
}

// flag is the command-line flag that sets the key.
func (s setting) flag() string { return strings.ReplaceAll(s.key, "_", "-") }

// env is the environment variable that sets the key.
func (s setting) env() string { return "TOUCHBASE_" + strings.ToUpper(s.key) }

// settings are every key touchbase reads from flags, environment and file.
// It is a table, never changed at run time.
var settings = []setting{
	{"data", "./touchbase-data", "data directory (the SQLite database lives here)"},
	{"db", "", "database DSN: a SQLite file path or postgres://... (default DATA/touchbase.db)"},
	{"log_level", "info", "log level: debug, info, warn or error (unless set, commands other than serve and demo log at warn)"},
	{"log_format", "auto", "log format: text, json, or auto (text on a terminal, JSON otherwise)"},
	{"addr", "127.0.0.1:8080", "address serve listens on, HOST:PORT (port 0 picks a free one)"},
	{"rate_limit", "0", "default events per second one write key may send (0: the server's default)"},
	{"owner_email", "owner@localhost", "email of the owner created on first start"},
	{"segment_interval", "1m", "how often segments that depend on the clock (windows, \"ago\", birthdays) are re-evaluated"},
	{"analytics_interval", "24h", "how often RFM, clusters, lifetime value, basket rules and cohorts are recomputed (0: on demand only)"},
	{"ingest_log", "auto", "acknowledge /v1 events once they are in the ingestion log (DATA/ingest-log) and apply them to the database behind: on, off, or auto (on for SQLite, off for PostgreSQL)"},
	{"import_max_bytes", "64GiB", "the most one import's file may hold once decompressed (gzip): bytes, or a number with KiB, MiB, GiB or TiB"},
}

func lookupSetting(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// config is the resolved configuration of one invocation.
type config struct {
	Data       string
	DB         string
	LogLevel   string
	LogFormat  string
	Addr       string
	RateLimit  int
	OwnerEmail string
	// SegmentInterval is how often clock-dependent segments are
	// re-evaluated.
	SegmentInterval time.Duration
	// AnalyticsInterval is how often serve recomputes the analyses; 0
	// means on demand only.
	AnalyticsInterval time.Duration
	// IngestLog is "on", "off" or "auto"; see useIngestLog.
	IngestLog string
	// ImportMaxBytes bounds one import's file once decompressed.
	ImportMaxBytes int64

	// File is the config file that was read, "" when none.
	File string
	// values and sources hold each key's final value as text and where it
	// came from, for `touchbase config` and for error messages.
	values  map[string]string
	sources map[string]string
}

// Source says where key's value came from: "default", "flag --x",
// "env TOUCHBASE_X" or "file PATH".
func (c *config) Source(key string) string { return c.sources[key] }

// Value returns key's value as text.
func (c *config) Value(key string) string { return c.values[key] }

// configFileEnv names the config file when --config is not given.
const configFileEnv = "TOUCHBASE_CONFIG"

// loadConfig resolves the configuration from, by precedence, the flags that
// were set, TOUCHBASE_* environment variables, the optional YAML config file
// (--config or TOUCHBASE_CONFIG) and the defaults. Flags that were not set
// on the command line do not count: their defaults are the table's.
func loadConfig(flags *pflag.FlagSet) (*config, error) {
	type layer struct {
		name func(key string) string
		k    *koanf.Koanf
	}

	defaults := koanf.New(".")
	for _, s := range settings {
		if s.def != "" {
			if err := defaults.Set(s.key, s.def); err != nil {
				return nil, fmt.Errorf("config defaults: %w", err)
			}
		}
	}

	// The config file: --config beats TOUCHBASE_CONFIG.
	path := os.Getenv(configFileEnv)
	if f := flags.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	fileK := koanf.New(".")
	if path != "" {
		if err := fileK.Load(file.Provider(path), yaml.Parser()); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, touchbase.Errorf(touchbase.EINVALID, "config file %s does not exist", path)
			}
			return nil, touchbase.Errorf(touchbase.EINVALID, "config file %s: %v", path, err)
		}
		for _, key := range fileK.Keys() {
			if _, ok := lookupSetting(key); !ok {
				return nil, touchbase.Errorf(touchbase.EINVALID,
					"config file %s: unknown key %q (known keys: %s)", path, key, knownKeys())
			}
		}
	}

	// Environment: TOUCHBASE_<KEY>. Other TOUCHBASE_ variables (the config
	// file's, the tests') are not settings; empty ones count as unset.
	envK := koanf.New(".")
	err := envK.Load(env.ProviderWithValue("TOUCHBASE_", ".", func(name, value string) (string, any) {
		key := strings.ToLower(strings.TrimPrefix(name, "TOUCHBASE_"))
		if _, ok := lookupSetting(key); !ok || value == "" {
			return "", nil
		}
		return key, value
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("config from environment: %w", err)
	}

	flagK := koanf.New(".")
	err = flagK.Load(posflag.ProviderWithFlag(flags, ".", nil, func(f *pflag.Flag) (string, any) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		if _, ok := lookupSetting(key); !ok || !f.Changed {
			return "", nil
		}
		return key, posflag.FlagVal(flags, f)
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("config from flags: %w", err)
	}

	// Lowest precedence first: each layer overrides the ones before it.
	layers := []layer{
		{func(string) string { return "default" }, defaults},
		{func(string) string { return "file " + path }, fileK},
		{func(key string) string { s, _ := lookupSetting(key); return "env " + s.env() }, envK},
		{func(key string) string { s, _ := lookupSetting(key); return "flag --" + s.flag() }, flagK},
	}
	c := &config{File: path, values: map[string]string{}, sources: map[string]string{}}
	for _, s := range settings {
		for _, l := range layers {
			if !l.k.Exists(s.key) {
				continue
			}
			v, err := scalar(l.k.Get(s.key))
			if err != nil {
				return nil, touchbase.Errorf(touchbase.EINVALID, "%s (%s): %v", s.key, l.name(s.key), err)
			}
			c.values[s.key], c.sources[s.key] = v, l.name(s.key)
		}
	}
	if c.values["db"] == "" {
		c.values["db"] = filepath.Join(c.values["data"], "touchbase.db")
		c.sources["db"] = c.sources["data"] + " (data directory + /touchbase.db)"
	}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	return c, nil
}

// scalar renders a config value as text, refusing lists and maps.
func scalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v), nil
	case map[string]any, []any:
		return "", fmt.Errorf("must be a single value, not %T", v)
	}
	return fmt.Sprint(v), nil
}

// resolve parses and checks the text values into c's typed fields. Each
// error names the key and where its value came from.
func (c *config) resolve() error {
	bad := func(key, format string, args ...any) error {
		return touchbase.Errorf(touchbase.EINVALID, "%s (%s): %s", key, c.sources[key], fmt.Sprintf(format, args...))
	}

	c.Data = c.values["data"]
	if c.Data == "" {
		return bad("data", "the data directory must not be empty")
	}
	c.DB = c.values["db"]

	c.LogLevel = strings.ToLower(c.values["log_level"])
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "%q is not one of debug, info, warn, error", c.values["log_level"])
	}

	c.LogFormat = strings.ToLower(c.values["log_format"])
	switch c.LogFormat {
	case "text", "json", "auto":
	default:
		return bad("log_format", "%q is not one of text, json, auto", c.values["log_format"])
	}

	c.Addr = c.values["addr"]
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return bad("addr", "%q is not HOST:PORT (for example 127.0.0.1:8080 or :8080)", c.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("addr", "port %q in %q is not a number from 0 to 65535", port, c.Addr)
	}
	_ = host

	n, err := strconv.Atoi(strings.TrimSpace(c.values["rate_limit"]))
	if err != nil || n < 0 {
		return bad("rate_limit", "%q is not a whole number of events per second (0 or more)", c.values["rate_limit"])
	}
	c.RateLimit = n

	c.OwnerEmail = touchbase.NormalizeEmail(c.values["owner_email"])
	if c.OwnerEmail == "" {
		return bad("owner_email", "%q is not an email address", c.values["owner_email"])
	}

	d, err := time.ParseDuration(strings.TrimSpace(c.values["segment_interval"]))
	if err != nil || d < time.Second {
		return bad("segment_interval", "%q is not a duration of a second or more (for example 30s, 1m, 5m)", c.values["segment_interval"])
	}
	c.SegmentInterval = d

	d, err = time.ParseDuration(strings.TrimSpace(c.values["analytics_interval"]))
	if err != nil || (d != 0 && d < time.Minute) {
		return bad("analytics_interval", "%q is not 0 or a duration of a minute or more (for example 6h, 24h)", c.values["analytics_interval"])
	}
	c.AnalyticsInterval = d

	c.IngestLog = strings.ToLower(strings.TrimSpace(c.values["ingest_log"]))
	switch c.IngestLog {
	case "on", "off", "auto":
	default:
		return bad("ingest_log", "%q is not one of on, off, auto", c.values["ingest_log"])
	}

	if c.ImportMaxBytes, err = parseBytes(c.values["import_max_bytes"]); err != nil || c.ImportMaxBytes < 1<<20 {
		return bad("import_max_bytes", "%q is not a size of 1MiB or more (for example 64GiB, 500MiB, or a number of bytes)", c.values["import_max_bytes"])
	}
	return nil
}

// parseBytes reads a size: a number of bytes, or a whole number with KiB,
// MiB, GiB or TiB ("64GiB", "500 MiB").
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	shift := 0
	for i, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if t, ok := strings.CutSuffix(s, unit); ok {
			s, shift = strings.TrimSpace(t), 10*(i+1)
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n << shift, nil
}

// useIngestLog reports whether serve acknowledges from the ingestion log
// on a database of this dialect. Auto leaves it off on PostgreSQL, where
// several touchbase nodes may serve one database and a node's local log
// would hold events only that node can apply.
func (c *config) useIngestLog(dialect string) bool {
	switch c.IngestLog {
	case "on":
		return true
	case "off":
		return false
	}
	return dialect == "sqlite"
}

func knownKeys() string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}
