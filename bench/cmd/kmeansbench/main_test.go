package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, b := generate(10_000, 3), generate(10_000, 3)
	if !slices.Equal(a, b) {
		t.Fatalf("the same seed gives different data")
	}
	if slices.Equal(a, generate(10_000, 4)) {
		t.Fatalf("another seed gives the same data")
	}
	oneTime := 0
	for i := 0; i < len(a); i += 3 {
		days, orders, revenue := a[i], a[i+1], a[i+2]
		if days < 0 || days > 730 || orders < 1 || revenue <= 0 {
			t.Fatalf("row %v", a[i:i+3])
		}
		if orders == 1 {
			oneTime++
		}
	}
	if oneTime < 5_700 || oneTime > 6_300 {
		t.Errorf("%d of 10000 one-time buyers, want about 60%%", oneTime)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		seconds       []float64
		med, lo, high float64
	}{
		{"odd", []float64{0.3, 0.1, 0.2}, 200, 100, 300},
		{"even", []float64{0.4, 0.1, 0.2, 0.3}, 250, 100, 400},
	}
	for _, tt := range tests {
		var rs []result
		for _, s := range tt.seconds {
			rs = append(rs, result{Seconds: s})
		}
		med, lo, hi := stats(rs)
		if !near(med, tt.med) || !near(lo, tt.lo) || !near(hi, tt.high) {
			t.Errorf("%s: stats = %v, %v, %v; want %v, %v, %v", tt.name, med, lo, hi, tt.med, tt.lo, tt.high)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestRun runs the whole comparison on a small data set when Debian's
// scikit-learn is installed: both sides must agree on the inertia.
func TestRun(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, threadpoolctl").Run(); err != nil {
		t.Skip("no scikit-learn for /usr/bin/python3 (apt-get install python3-sklearn)")
	}
	var out strings.Builder
	if err := run([]string{"--n", "20000", "--runs", "1"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "relative difference") {
		t.Fatalf("no inertia comparison in:\n%s", out.String())
	}
	t.Log(out.String())
}
