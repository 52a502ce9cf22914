// Command kmeansbench times touchbase's k-means (analytics/kmeans) against
// scikit-learn's KMeans on the same data from the same initial centres.
//
// It generates a seeded store-like RFM data set (--n customers: recency
// uniform over two years with a recent bump, geometric order counts,
// log-normal spend per order), log-standardises it with kmeans.FitTransform,
// picks --k initial centres with kmeans.PlusPlus, and writes points and
// centres as little-endian float64 files. Then it starts the embedded
// sklearn_kmeans.py under /usr/bin/python3 (Debian's python3-sklearn; --python to
// change) with OMP_NUM_THREADS and threadpoolctl limited to --threads, and
// alternates, --runs times after one untimed warm-up each:
//
//   - ours: kmeans.Fit(points, Options{K, Init: centres, MaxIter, Tol,
//     Threads}) in this process;
//   - sklearn: KMeans(n_clusters=K, init=centres, n_init=1,
//     algorithm="lloyd", max_iter, tol).fit(X) in the Python process.
//
// Each side's time is the fit call alone, measured in its own process;
// data loading and imports are outside it. Both use the same tolerance
// rule (tol times the mean variance of the features), so they should run
// the same iterations and end at the same inertia. It prints the medians
// and ranges, the ratio of the medians, both inertias and their relative
// difference, the iterations, and how far apart the final centres are; it
// fails when the inertias differ by more than 0.1%.
//
//	cd bench && go run ./cmd/kmeansbench
//	cd bench && go run ./cmd/kmeansbench --runs 9 --n 2000000
package main

import (
	"bufio"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/touchbase/touchbase/analytics/kmeans"
)

//go:embed sklearn_kmeans.py
var sklearnScript []byte

type config struct {
	n, k, runs, threads, maxIter int
	tol                          float64
	seed                         uint64
	python, workdir              string
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kmeansbench:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	var c config
	fs := flag.NewFlagSet("kmeansbench", flag.ContinueOnError)
	fs.IntVar(&c.n, "n", 1_000_000, "customers")
	fs.IntVar(&c.k, "k", 8, "clusters")
	fs.IntVar(&c.runs, "runs", 7, "timed runs of each side, alternating")
	fs.IntVar(&c.threads, "threads", 2, "threads of each side")
	fs.IntVar(&c.maxIter, "max-iter", 300, "maximum Lloyd iterations")
	fs.Float64Var(&c.tol, "tol", 1e-4, "tolerance, relative to the mean feature variance (both sides)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the data and of the initial centres")
	fs.StringVar(&c.python, "python", "/usr/bin/python3", "Python with scikit-learn and threadpoolctl")
	fs.StringVar(&c.workdir, "workdir", "", "directory for the data files (default: a temporary one, removed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.runs < 1 || c.n < c.k || c.k < 1 {
		return fmt.Errorf("need runs >= 1 and n >= k >= 1")
	}
	dir := c.workdir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "kmeansbench"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}

	start := time.Now()
	raw := generate(c.n, c.seed)
	_, z, err := kmeans.FitTransform(raw, kmeans.RFMFeatures())
	if err != nil {
		return fmt.Errorf("standardise: %w", err)
	}
	init, err := kmeans.PlusPlus(z, 3, c.k, c.seed, c.threads)
	if err != nil {
		return fmt.Errorf("seed centres: %w", err)
	}
	if err := writeFloats(filepath.Join(dir, "points.f64"), z); err != nil {
		return err
	}
	if err := writeFloats(filepath.Join(dir, "centres.f64"), init); err != nil {
		return err
	}
	fmt.Fprintf(out, "data: %d customers × 3 (recency, frequency, monetary), log1p + z-score, seed %d, k-means++ centres (k=%d); prepared in %v\n",
		c.n, c.seed, c.k, time.Since(start).Round(time.Millisecond))

	py, err := startSklearn(c, dir)
	if err != nil {
		return err
	}
	defer py.close()
	fmt.Fprintf(out, "scikit-learn %s, numpy %s, %d OpenMP threads; Go %s, %d threads, GOMAXPROCS %d, %d CPUs\n",
		py.info.Sklearn, py.info.Numpy, py.info.Threads, runtime.Version(), c.threads, runtime.GOMAXPROCS(0), runtime.NumCPU())

	opts := kmeans.Options{K: c.k, Init: init, MaxIter: c.maxIter, Tol: c.tol, Threads: c.threads}
	ours := func() (result, error) {
		t0 := time.Now()
		r, err := kmeans.Fit(z, 3, opts)
		el := time.Since(t0)
		if err != nil {
			return result{}, err
		}
		return result{Seconds: el.Seconds(), Inertia: r.Inertia, Iterations: r.Iterations, Centres: r.Centroids}, nil
	}
	// One untimed run each: page in the data, warm caches and the
	// interpreter's imports.
	if _, err := ours(); err != nil {
		return err
	}
	if _, err := py.fit(); err != nil {
		return err
	}
	var goRuns, skRuns []result
	for r := range c.runs {
		// Alternate who goes first, so neither always runs after the
		// other's cache footprint or in the same phase of the
		// neighbours' load.
		sides := []string{"go", "sklearn"}
		if r%2 == 1 {
			sides = []string{"sklearn", "go"}
		}
		for _, side := range sides {
			var res result
			var err error
			if side == "go" {
				res, err = ours()
				goRuns = append(goRuns, res)
			} else {
				res, err = py.fit()
				skRuns = append(skRuns, res)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  run %d %-7s %8.1f ms  %3d iterations  inertia %.6f\n", r+1, side, 1000*res.Seconds, res.Iterations, res.Inertia)
		}
	}
	if rel := report(out, goRuns, skRuns); math.Abs(rel) > 1e-3 {
		return fmt.Errorf("the inertias differ by %.2e, more than 0.1%%", rel)
	}
	return nil
}

// result is one fit.
type result struct {
	Seconds    float64   `json:"seconds"`
	Inertia    float64   `json:"inertia"`
	Iterations int       `json:"iterations"`
	Centres    []float64 `json:"centres"`
}

// report prints the comparison and returns the inertias' relative
// difference.
func report(out io.Writer, goRuns, skRuns []result) float64 {
	gm, glo, ghi := stats(goRuns)
	sm, slo, shi := stats(skRuns)
	fmt.Fprintf(out, "\n%-22s %10s %21s %12s %s\n", "", "median", "range", "iterations", "inertia")
	fmt.Fprintf(out, "%-22s %7.1f ms %8.1f – %6.1f ms %12d %.6f\n", "touchbase kmeans (Go)", gm, glo, ghi, goRuns[0].Iterations, goRuns[0].Inertia)
	fmt.Fprintf(out, "%-22s %7.1f ms %8.1f – %6.1f ms %12d %.6f\n", "scikit-learn KMeans", sm, slo, shi, skRuns[0].Iterations, skRuns[0].Inertia)
	fmt.Fprintf(out, "\nsklearn / Go (medians): %.2f×\n", sm/gm)
	rel := (goRuns[0].Inertia - skRuns[0].Inertia) / skRuns[0].Inertia
	fmt.Fprintf(out, "inertia: Go %.6f, sklearn %.6f, relative difference %+.2e\n", goRuns[0].Inertia, skRuns[0].Inertia, rel)
	maxDiff := 0.0
	for i := range goRuns[0].Centres {
		maxDiff = math.Max(maxDiff, math.Abs(goRuns[0].Centres[i]-skRuns[0].Centres[i]))
	}
	fmt.Fprintf(out, "final centres: largest coordinate difference %.2e (standardised units)\n", maxDiff)
	return rel
}

// stats returns the median and range of the times, in milliseconds.
func stats(rs []result) (median, lo, hi float64) {
	ms := make([]float64, len(rs))
	for i, r := range rs {
		ms[i] = 1000 * r.Seconds
	}
	slices.Sort(ms)
	n := len(ms)
	median = ms[n/2]
	if n%2 == 0 {
		median = (ms[n/2-1] + ms[n/2]) / 2
	}
	return median, ms[0], ms[n-1]
}

func writeFloats(path string, v []float64) error {
	buf := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// sklearnProc is the Python process, fitting on request.
type sklearnProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	info struct {
		Sklearn, Numpy string
		Threads        int
	}
}

func startSklearn(c config, dir string) (*sklearnProc, error) {
	script := filepath.Join(dir, "sklearn_kmeans.py")
	if err := os.WriteFile(script, sklearnScript, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.python, script, dir, strconv.Itoa(c.n), "3", strconv.Itoa(c.k),
		strconv.Itoa(c.threads), strconv.Itoa(c.maxIter), strconv.FormatFloat(c.tol, 'g', -1, 64))
	th := strconv.Itoa(c.threads)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+th, "OPENBLAS_NUM_THREADS="+th, "MKL_NUM_THREADS="+th)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (apt-get install python3-sklearn): %w", c.python, err)
	}
	p := &sklearnProc{cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	p.out.Buffer(nil, 1<<20)
	if !p.out.Scan() {
		p.close()
		return nil, fmt.Errorf("sklearn_kmeans.py did not start (is scikit-learn installed for %s?): %w", c.python, errors.Join(p.out.Err(), io.ErrUnexpectedEOF))
	}
	if err := json.Unmarshal(p.out.Bytes(), &p.info); err != nil {
		p.close()
		return nil, fmt.Errorf("sklearn_kmeans.py: %w", err)
	}
	return p, nil
}

func (p *sklearnProc) fit() (result, error) {
	if _, err := io.WriteString(p.in, "run\n"); err != nil {
		return result{}, fmt.Errorf("sklearn_kmeans.py: %w", err)
	}
	if !p.out.Scan() {
		return result{}, fmt.Errorf("sklearn_kmeans.py stopped: %w", errors.Join(p.out.Err(), io.ErrUnexpectedEOF))
	}
	var r result
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("sklearn_kmeans.py: %w", err)
	}
	return r, nil
}

func (p *sklearnProc) close() {
	p.in.Close() // ends the script's loop
	_ = p.cmd.Wait()
}
