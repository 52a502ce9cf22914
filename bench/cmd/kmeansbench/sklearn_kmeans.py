"""scikit-learn's side of kmeansbench (embedded in the Go command; not named
sklearn.py, which would shadow the package).

Usage: python3 sklearn_kmeans.py DIR N D K THREADS MAX_ITER TOL

Loads DIR/points.f64 (N x D) and DIR/centres.f64 (K x D), little-endian
float64 row-major as kmeansbench writes them, then answers each "run" line
on stdin with one JSON line: the wall time of KMeans(...).fit(X) alone,
the inertia, the iterations and the final centres. Loading and imports
are not timed. Threads are limited both ways: OMP_NUM_THREADS (set by the
caller before the interpreter starts) and threadpoolctl.
"""

import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from threadpoolctl import threadpool_limits


def main():
    d = sys.argv[1]
    n, dims, k, threads, max_iter = (int(a) for a in sys.argv[2:7])
    tol = float(sys.argv[7])
    X = np.fromfile(os.path.join(d, "points.f64"), dtype="<f8").reshape(n, dims)
    init = np.fromfile(os.path.join(d, "centres.f64"), dtype="<f8").reshape(k, dims)
    with threadpool_limits(limits=threads):
        print(json.dumps({
            "ready": True,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "threads": _openmp_effective_n_threads(),
        }), flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                break
            km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd",
                        max_iter=max_iter, tol=tol)
            start = time.perf_counter()
            km.fit(X)
            seconds = time.perf_counter() - start
            print(json.dumps({
                "seconds": seconds,
                "inertia": float(km.inertia_),
                "iterations": int(km.n_iter_),
                "centres": km.cluster_centers_.ravel().tolist(),
            }), flush=True)


if __name__ == "__main__":
    main()
