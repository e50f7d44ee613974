"""Query latency of the song index (``sampleaudio.retrieval.EmbeddingIndex``) at 10^5 and 10^6 songs.

    python benchmarks/retrieval.py --sizes 100000 1000000 --queries 200 --threads 2

For each index size, in the same run: ``exact`` (numpy matrix product + partial sort, the default, which is the
baseline), ``faiss`` (faiss-cpu ``IndexFlatIP``, also exact) and ``faiss-ivf`` (inverted lists, ``nlist =
4 sqrt(N)``, ``nprobe`` lists searched: approximate, with its recall@10 against the exact top 10). Vectors are
256-d (the Park 2018 song feature), Gaussian and unit-normalised; latency does not depend on their content but
IVF recall does (real embeddings cluster, so recall on them is usually higher). Latency is per query, queries
issued one at a time (an interactive ``similar``) and as one batch. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def _latencies(index, queries, top: int) -> tuple[float, float]:
    """Seconds per query: one query per call (up to 20 of them), and all queries in one call."""
    index.search(queries[:1], top)  # warm-up
    k = min(len(queries), 20)
    t0 = time.perf_counter()
    for q in queries[:k]:
        index.search(q, top)
    single = (time.perf_counter() - t0) / k
    t0 = time.perf_counter()
    index.search(queries, top)
    return single, (time.perf_counter() - t0) / len(queries)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--nprobe", type=int, default=32)
    parser.add_argument("--backends", nargs="+", default=["exact", "faiss", "faiss-ivf"],
                        help="exact is always run first: it is the baseline and gives the true neighbours")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="BLAS and faiss threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    from sampleaudio.retrieval import EmbeddingIndex

    try:
        import faiss

        faiss.omp_set_num_threads(args.threads)
        backends = ["exact"] + [b for b in args.backends if b != "exact"]
    except ImportError:
        backends = ["exact"]
        print("faiss-cpu not installed (pip install 'sampleaudio[faiss]'): exact search only")
    rng = np.random.default_rng(args.seed)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, threads {args.threads}, "
          f"dim {args.dim}, top {args.top}")
    print(f"{'songs':>9} {'backend':>10} {'build s':>8} {'1 query ms':>11} {'batch ms/q':>11} {'recall@10':>10} "
          f"{'vs exact (1 query)':>19}")
    for n in args.sizes:
        vectors = rng.standard_normal((n, args.dim), dtype=np.float32)
        queries = rng.standard_normal((args.queries, args.dim), dtype=np.float32)
        paths = [str(i) for i in range(n)]
        truth, base = None, None
        for backend in backends:
            t0 = time.perf_counter()
            index = EmbeddingIndex(vectors, paths, backend=backend, nprobe=args.nprobe, seed=args.seed)
            index.search(queries[:1], args.top)  # builds the faiss structure
            build = time.perf_counter() - t0
            single, batch = _latencies(index, queries, args.top)
            _, found = index.search(queries, args.top)
            if truth is None:
                truth, base = found, single
            recall = np.mean([len(set(a) & set(b)) / args.top for a, b in zip(found, truth)])
            print(f"{n:>9} {backend:>10} {build:>8.2f} {1e3 * single:>11.2f} {1e3 * batch:>11.3f} {recall:>10.3f} "
                  f"{base / single:>18.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
