package kmeans

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
)

// chunkSize is the number of points a worker takes at a time. Each chunk
// keeps its own partial sums, added up in chunk order, so the result does
// not depend on the number of threads or on which thread ran what: the
// same seed gives the same bits on any machine.
const chunkSize = 4096

// pool runs a function over the chunks of n points on a fixed number of
// goroutines, each pulling the next chunk from a shared counter so that a
// thread slowed by a noisy neighbour does less of the work.
type pool struct {
	n, threads int
	// size is the chunk size, chunkSize when 0.
	size int
}

func (p pool) chunkLen() int {
	if p.size > 0 {
		return p.size
	}
	return chunkSize
}

func (p pool) chunks() int { return (p.n + p.chunkLen() - 1) / p.chunkLen() }

// run calls f(c, lo, hi) for every chunk c holding points lo..hi-1, on up
// to p.threads goroutines, and returns when all are done.
func (p pool) run(f func(c, lo, hi int)) {
	nc, size := p.chunks(), p.chunkLen()
	var next atomic.Int64
	work := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= nc {
				return
			}
			lo := c * size
			f(c, lo, min(lo+size, p.n))
		}
	}
	t := min(p.threads, nc)
	var wg sync.WaitGroup
	for range t - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// lloydRun is the outcome of one run of Lloyd's algorithm.
type lloydRun struct {
	centres    []float64
	labels     []int32
	inertia    float64
	iterations int
	converged  bool
}

// lloyd runs Lloyd's algorithm from centres (which it takes over) on the
// n×d points x, the way scikit-learn's KMeans(algorithm="lloyd") does, so
// the two can be compared run for run:
//
//   - each iteration assigns every point to its nearest centre (the
//     lowest-numbered one on a tie) and moves each centre to the mean of
//     its points;
//   - it stops when no label changed ("strict convergence"), or when the
//     sum over centres of the squared distance each moved is at most tol,
//     or after maxIter iterations;
//   - unless it stopped on unchanged labels, a last assignment pass makes
//     the labels and the inertia those of the final centres.
//
// A centre left without points is moved onto the point farthest from its
// own centre (taken out of its cluster), as scikit-learn does too; the
// next iteration then gives it the points near there.
func lloyd(x []float64, d int, centres []float64, maxIter int, tol float64, threads int) lloydRun {
	n, k := len(x)/d, len(centres)/d
	p := pool{n: n, threads: threads}
	nc := p.chunks()
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = -1
	}
	// Per-chunk partials: sums (k×d), counts (k), inertia, changed labels.
	sums := make([]float64, nc*k*d)
	counts := make([]int, nc*k)
	inertia := make([]float64, nc)
	changed := make([]int, nc)
	next := make([]float64, k*d)
	total := make([]int, k)

	run := lloydRun{labels: labels}
	strict := false
	for run.iterations < maxIter {
		run.iterations++
		p.run(func(c, lo, hi int) {
			s, cnt := sums[c*k*d:(c+1)*k*d], counts[c*k:(c+1)*k]
			clear(s)
			clear(cnt)
			inertia[c], changed[c] = assign(x[lo*d:hi*d], d, centres, labels[lo:hi], s, cnt)
		})
		moved := 0
		for c := range nc {
			moved += changed[c]
		}
		// Reduce in chunk order, so the sums' rounding never varies.
		clear(next)
		clear(total)
		for c := range nc {
			s, cnt := sums[c*k*d:(c+1)*k*d], counts[c*k:(c+1)*k]
			for j := range k * d {
				next[j] += s[j]
			}
			for j := range k {
				total[j] += cnt[j]
			}
		}
		var empty []int
		for j := range k {
			if total[j] == 0 {
				empty = append(empty, j)
				continue
			}
			inv := 1 / float64(total[j])
			for f := range d {
				next[j*d+f] *= inv
			}
		}
		relocated := len(empty) > 0 && relocate(x, d, centres, labels, next, total, empty)
		shift := 0.0
		for j := range k * d {
			delta := next[j] - centres[j]
			shift += delta * delta
		}
		centres, next = next, centres
		// A relocated centre has no points yet: not converged, whatever
		// the labels did.
		if moved == 0 && !relocated {
			strict, run.converged = true, true
			break
		}
		if shift <= tol {
			run.converged = true
			break
		}
	}
	if !strict {
		// The labels are those of the centres before the last move.
		p.run(func(c, lo, hi int) {
			inertia[c], _ = assign(x[lo*d:hi*d], d, centres, labels[lo:hi], nil, nil)
		})
	}
	for c := range nc {
		run.inertia += inertia[c]
	}
	run.centres = centres
	return run
}

// relocate moves each empty cluster's centre (already zero in next) onto
// the point farthest from the centre it was assigned to, taking that point
// out of its cluster's mean. Points are taken farthest first, the lowest
// index on a tie; a point at distance 0 is never taken (there are then
// fewer distinct points than clusters), and the centre stays where it was.
// It tells whether it moved any centre.
func relocate(x []float64, d int, centres []float64, labels []int32, next []float64, total []int, empty []int) bool {
	n := len(labels)
	// The m farthest points, farthest first.
	m := len(empty)
	far := make([]int, 0, m)
	farDist := make([]float64, 0, m)
	for i := range n {
		dist := sqDist(x[i*d:(i+1)*d], centres[int(labels[i])*d:(int(labels[i])+1)*d])
		if dist == 0 || (len(far) == m && dist <= farDist[m-1]) {
			continue
		}
		pos := len(far)
		for pos > 0 && farDist[pos-1] < dist {
			pos--
		}
		if len(far) < m {
			far = append(far, 0)
			farDist = append(farDist, 0)
		}
		copy(far[pos+1:], far[pos:len(far)-1])
		copy(farDist[pos+1:], farDist[pos:len(farDist)-1])
		far[pos], farDist[pos] = i, dist
	}
	for e, j := range empty {
		if e >= len(far) {
			copy(next[j*d:(j+1)*d], centres[j*d:(j+1)*d])
			continue
		}
		pt := x[far[e]*d : (far[e]+1)*d]
		copy(next[j*d:(j+1)*d], pt)
		// Take the point out of its donor's mean.
		donor := int(labels[far[e]])
		if cnt := total[donor]; cnt > 1 {
			for f := range d {
				next[donor*d+f] = (next[donor*d+f]*float64(cnt) - pt[f]) / float64(cnt-1)
			}
			total[donor] = cnt - 1
		}
		total[j] = 1
	}
	return len(far) > 0
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for f := range a {
		t := a[f] - b[f]
		s += t * t
	}
	return s
}

// assign labels each point of x with its nearest centre and returns the
// sum of the squared distances and the number of labels that changed.
// With sums non-nil it also adds each point to its cluster's sum and
// count.
//
// Finding the nearest centre is the whole cost of k-means, and a compare
// and branch per centre mispredicts about as often as the running minimum
// changes, which on real data is random. So the minimum is taken without
// branches: a non-negative float64's bits order like the float, so the
// distance's bits with the centre's index in the lowest few bits of the
// mantissa form one integer key, and the smallest key, kept with a
// subtract, shift and mask, is the nearest centre, the lowest-numbered
// among those at the same distance. Those bits (5 for k <= 32) make
// distances within a relative 2^-47 count as equal, far below the
// rounding of the distances themselves. The squared distance added to the
// inertia is then recomputed exactly. Three features (RFM) also take the
// points four at a time, which gives the processor four independent
// chains to overlap; together about three times faster than a branch per
// centre.
func assign(x []float64, d int, centres []float64, labels []int32, sums []float64, counts []int) (inertia float64, changed int) {
	k := len(centres) / d
	mask := int64(1)<<bits.Len(uint(k-1)) - 1
	n := len(labels)
	x = x[:n*d]
	i := 0
	if d == 3 {
		i = n &^ 3
		inertia, changed = assign3x4(x[:3*i], centres, mask, labels[:i], sums, counts)
	}
	for ; i < n; i++ {
		p := x[i*d : (i+1)*d : (i+1)*d]
		key := int64(math.MaxInt64)
		for j := range k {
			cand := int64(math.Float64bits(sqDist(p, centres[j*d:(j+1)*d]))) &^ mask
			diff := cand | int64(j) - key
			key += diff & (diff >> 63)
		}
		bj := int(key & mask)
		inertia += sqDist(p, centres[bj*d:(bj+1)*d])
		if labels[i] != int32(bj) {
			labels[i] = int32(bj)
			changed++
		}
		if sums != nil {
			s := sums[bj*d : (bj+1)*d]
			for f, v := range p {
				s[f] += v
			}
			counts[bj]++
		}
	}
	return inertia, changed
}

// assign3x4 is assign for three features and a multiple of four points.
func assign3x4(x []float64, centres []float64, mask int64, labels []int32, sums []float64, counts []int) (inertia float64, changed int) {
	for i := 0; i+4 <= len(labels); i += 4 {
		p := x[3*i : 3*i+12 : 3*i+12]
		k0, k1, k2, k3 := int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64)
		for j := 0; j+3 <= len(centres); j += 3 {
			c := centres[j : j+3 : j+3]
			c0, c1, c2 := c[0], c[1], c[2]
			idx := int64(j / 3)
			a0, a1, a2 := p[0]-c0, p[1]-c1, p[2]-c2
			b0, b1, b2 := p[3]-c0, p[4]-c1, p[5]-c2
			e0, e1, e2 := p[6]-c0, p[7]-c1, p[8]-c2
			f0, f1, f2 := p[9]-c0, p[10]-c1, p[11]-c2
			q0 := int64(math.Float64bits(a0*a0+a1*a1+a2*a2))&^mask | idx - k0
			q1 := int64(math.Float64bits(b0*b0+b1*b1+b2*b2))&^mask | idx - k1
			q2 := int64(math.Float64bits(e0*e0+e1*e1+e2*e2))&^mask | idx - k2
			q3 := int64(math.Float64bits(f0*f0+f1*f1+f2*f2))&^mask | idx - k3
			k0 += q0 & (q0 >> 63)
			k1 += q1 & (q1 >> 63)
			k2 += q2 & (q2 >> 63)
			k3 += q3 & (q3 >> 63)
		}
		for t, key := range [4]int64{k0, k1, k2, k3} {
			bj := int(key & mask)
			x0, x1, x2 := p[3*t], p[3*t+1], p[3*t+2]
			c := centres[3*bj : 3*bj+3 : 3*bj+3]
			d0, d1, d2 := x0-c[0], x1-c[1], x2-c[2]
			inertia += d0*d0 + d1*d1 + d2*d2
			if labels[i+t] != int32(bj) {
				labels[i+t] = int32(bj)
				changed++
			}
			if sums != nil {
				s := sums[3*bj : 3*bj+3 : 3*bj+3]
				s[0] += x0
				s[1] += x1
				s[2] += x2
				counts[bj]++
			}
		}
	}
	return inertia, changed
}
