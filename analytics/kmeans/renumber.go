package kmeans

import (
	"fmt"
	"math"
)

// DefaultMaxShift is how far, in standardised units (Euclidean, in the new
// run's space), a cluster's centre may have moved since the previous run
// and keep its number. Half a standard deviation is also Describe's cut:
// a centre that moved less is still described by the same words, give or
// take one.
const DefaultMaxShift = 0.5

// Previous is what a run keeps of its clusters so that the next run can
// give the same clusters the same numbers. Segments and templates refer to
// clusters by number ("cluster = 3"), so a re-run must not shuffle them.
type Previous struct {
	// IDs are the previous clusters' numbers.
	IDs []int
	// Centres are their centres in original units (Cluster.Centre), row
	// by row: original units survive a change of the population's means
	// and deviations, which standardised ones would not.
	Centres []float64
	// Next is the first number never given; 0 means max(IDs)+1. Keeping
	// it stops a number that disappeared from coming back with another
	// meaning.
	Next int
}

// Renumber numbers the current clusters, whose centroids are in scaler's
// standardised space, from the previous run's: the previous centres are
// standardised with the current scaler, clusters are matched one to one
// by the optimal assignment (Hungarian algorithm) minimising the total
// distance, and a matched cluster keeps its number when its centre is at
// most maxShift away (DefaultMaxShift when 0). Pairs farther apart never
// take part in the matching. Other clusters get new numbers from
// prev.Next up, in cluster order. Renumber returns the numbers and the
// next free number.
func Renumber(centroids []float64, scaler *Scaler, prev Previous, maxShift float64) (ids []int, next int, err error) {
	d := len(scaler.Features)
	if len(centroids)%d != 0 {
		return nil, 0, fmt.Errorf("kmeans: %d centroid values are not rows of %d features", len(centroids), d)
	}
	if len(prev.Centres) != len(prev.IDs)*d {
		return nil, 0, fmt.Errorf("kmeans: %d previous centre values for %d clusters of %d features", len(prev.Centres), len(prev.IDs), d)
	}
	if maxShift <= 0 {
		maxShift = DefaultMaxShift
	}
	next = prev.Next
	seen := map[int]bool{}
	for _, id := range prev.IDs {
		if id < 1 || seen[id] {
			return nil, 0, fmt.Errorf("kmeans: previous cluster number %d is duplicate or not positive", id)
		}
		seen[id] = true
		next = max(next, id+1)
	}
	next = max(next, 1)
	old, err := scaler.Transform(prev.Centres)
	if err != nil {
		return nil, 0, fmt.Errorf("previous centres: %w", err)
	}

	k, p := len(centroids)/d, len(prev.IDs)
	size := max(k, p)
	// Pairs farther than maxShift cost maxShift, as does staying
	// unmatched (the padding), so the assignment only trades close pairs.
	cost := make([][]float64, size)
	dist := make([][]float64, k)
	for i := range cost {
		cost[i] = make([]float64, size)
		for j := range cost[i] {
			cost[i][j] = maxShift
		}
	}
	for i := range k {
		dist[i] = make([]float64, p)
		for j := range p {
			dist[i][j] = math.Sqrt(sqDist(centroids[i*d:(i+1)*d], old[j*d:(j+1)*d]))
			cost[i][j] = min(dist[i][j], maxShift)
		}
	}
	match := hungarian(cost)
	ids = make([]int, k)
	for i := range k {
		if j := match[i]; j < p && dist[i][j] <= maxShift {
			ids[i] = prev.IDs[j]
		}
	}
	for i := range ids {
		if ids[i] == 0 {
			ids[i] = next
			next++
		}
	}
	return ids, next, nil
}

// hungarian solves the square assignment problem: it returns, for each
// row, the column that minimises the total cost. O(n³), with the row and
// column potentials of the shortest augmenting path form (Kuhn-Munkres as
// Jonker and Volgenant write it); plenty for k <= 100.
func hungarian(cost [][]float64) []int {
	n := len(cost)
	// 1-based, with row/column 0 as the sentinel.
	u, v := make([]float64, n+1), make([]float64, n+1)
	p, way := make([]int, n+1), make([]int, n+1) // p[col] = row
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if cur := cost[i0-1][j-1] - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	rowCol := make([]int, n)
	for j := 1; j <= n; j++ {
		rowCol[p[j]-1] = j - 1
	}
	return rowCol
}
