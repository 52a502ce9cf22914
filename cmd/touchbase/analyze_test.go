package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedData returns the path of a file of the shared real data sets
// (../shared/data from the repository root), skipping the test when the
// folder is absent.
func sharedData(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data sets not found (see /work/shared/data/README.md): %v", err)
	}
	return p
}

// TestAnalyzeCLVOnCDNOW runs what a script runs: import the CDNOW sample
// as orders, then `analyze clv --json` with the literature's 39-week
// calibration. The fitted parameters must be the published ones, to
// their published precision: BG/NBD r = 0.243, alpha = 4.414, a = 0.793,
// b = 2.426, LL = -9582.4 (Fader, Hardie & Lee 2005, "Counting Your
// Customers the Easy Way", Marketing Science 24(2), section 5); Gamma-
// Gamma p = 6.25, q = 3.74, v = 15.44 (Fader, Hardie & Lee 2005, "RFM and
// CLV: Using Iso-Value Curves for Customer Base Analysis", JMR 42(4); Hardie,
// "The Gamma-Gamma Model of Monetary Value", 2013).
func TestAnalyzeCLVOnCDNOW(t *testing.T) {
	clearEnv(t)
	sample := sharedData(t, "CDNOW_sample.txt")
	data := t.TempDir()
	if r := runCLI(t, "", "import", "orders", sample, "--data", data, "--format", "cdnow"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, "", "analyze", "clv", "--data", data, "--calibration-end", "1997-09-30", "--as-of", "1998-07-01", "--unit", "week", "--json")
	if r.code != 0 {
		t.Fatalf("analyze clv: exit %d: %s", r.code, r.stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("analyze clv --json printed %q: %v", r.stdout, err)
	}
	for _, want := range []struct {
		key   string
		value float64
		prec  float64
	}{
		{"r", 0.243, 0.001}, {"alpha", 4.414, 0.001}, {"a", 0.793, 0.001}, {"b", 2.426, 0.001},
		{"bgnbd_log_likelihood", -9582.4, 0.1},
		{"p", 6.25, 0.01}, {"q", 3.74, 0.01}, {"v", 15.44, 0.01},
	} {
		v, ok := got[want.key].(float64)
		if !ok || math.Abs(v-want.value) > want.prec/2+1e-9 {
			t.Errorf("%s = %v, want %v (to %v)", want.key, got[want.key], want.value, want.prec)
		}
	}
	if _, ok := got["gamma_gamma_log_likelihood"].(float64); !ok {
		t.Errorf("no gamma_gamma_log_likelihood in %s", r.stdout)
	}
	if got["customers"] != 2357.0 || got["repeaters"] != 946.0 {
		t.Errorf("fitted %v customers, %v repeaters; want 2357 and 946", got["customers"], got["repeaters"])
	}

	// The human form names the parameters, and the scores are there for
	// segments.
	r = runCLI(t, "", "analyze", "clv", "--data", data, "--calibration-end", "1997-09-30", "--as-of", "1998-07-01")
	if r.code != 0 || !strings.Contains(r.stdout, "r=0.2426") || !strings.Contains(r.stdout, "Holdout") {
		t.Errorf("analyze clv: exit %d, output %q", r.code, r.stdout)
	}
	r = runCLI(t, "", "segment", "count", "--data", data, "--json", `p_alive < 0.3`)
	var count struct{ Count int }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &count) != nil || count.Count == 0 {
		t.Errorf("segment count p_alive < 0.3: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}
}

// TestAnalyzeBasketFile checks `analyze basket --baskets` on the
// Groceries data, without a store: apriori(Groceries, parameter =
// list(support = 0.001, confidence = 0.5)) gives 5668 rules, the best by
// lift {Instant food products, soda} => {hamburger meat} (Hahsler et al.,
// arules; Hahsler & Chelluboina, "Visualizing Association Rules").
func TestAnalyzeBasketFile(t *testing.T) {
	clearEnv(t)
	groceries := sharedData(t, "groceries.csv")
	r := runCLI(t, "", "analyze", "basket", "--baskets", groceries, "--min-support", "0.001", "--min-confidence", "0.5", "--min-len", "1", "--json")
	if r.code != 0 {
		t.Fatalf("analyze basket: exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Orders int `json:"orders"`
		Rules  []struct {
			Antecedent []string `json:"antecedent"`
			Consequent []string `json:"consequent"`
			Support    float64  `json:"support"`
			Confidence float64  `json:"confidence"`
			Lift       float64  `json:"lift"`
			Count      int      `json:"count"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Orders != 9835 || len(got.Rules) != 5668 {
		t.Fatalf("%d transactions, %d rules; want 9835 and 5668", got.Orders, len(got.Rules))
	}
	top := got.Rules[0]
	if strings.Join(top.Antecedent, ",") != "Instant food products,soda" || top.Consequent[0] != "hamburger meat" ||
		top.Count != 12 || math.Abs(top.Lift-18.99565) > 1e-5 {
		t.Errorf("top rule = %+v", top)
	}
	// Without a store and without the file: a clear error.
	r = runCLI(t, "", "analyze", "basket", "--baskets", filepath.Join(t.TempDir(), "nope.csv"))
	if r.code == 0 || !strings.Contains(r.stderr, "nope.csv") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}
