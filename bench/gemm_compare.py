#!/usr/bin/python3
"""Time numpy and torch SGEMM on square n×n×n products, for comparison with
BenchmarkSgemm in package kernels (same sizes, same 2n³ flop count).

Each thread count runs in a child process, because BLAS libraries read their
thread settings once, at import. The child unsets OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE so OpenBLAS picks the kernel it would pick for this CPU
(the variables are left alone in the caller's environment).

Output, one line per measurement, median of --count runs:
    LIB THREADS N GFLOPS
Usage: /usr/bin/python3 bench/gemm_compare.py [--threads 1,2] [--sizes 64,...]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def measure(fn, min_time):
    """Mean seconds per call over at least min_time, after one warm-up call."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def blas_libs():
    """Shared libraries with 'blas' in their path mapped into this process:
    Debian's alternatives decide whether numpy gets OpenBLAS or the slow
    reference BLAS, so the output says which one it measured."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower()}
        return ", ".join(sorted(os.path.realpath(p) for p in paths)) or "none found"
    except OSError:
        return "unknown"


def child(args):
    threads = args.threads
    sizes = [int(s) for s in args.sizes.split(",")]
    libs = args.libs.split(",")
    if "numpy" in libs:
        import numpy as np

        rng = np.random.default_rng(1)
        for n in sizes:
            a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            c = np.empty((n, n), np.float32)
            runs = [measure(lambda: np.matmul(a, b, out=c), args.min_time) for _ in range(args.count)]
            if n == sizes[0]:
                print(f"# numpy {np.__version__}, threads={threads}, BLAS: {blas_libs()}", file=sys.stderr)
            print(f"numpy {threads} {n} {2 * n**3 / statistics.median(runs) / 1e9:.2f}", flush=True)
    if "torch" in libs:
        import torch

        torch.set_num_threads(int(threads))
        g = torch.Generator().manual_seed(1)
        for n in sizes:
            a = torch.rand((n, n), generator=g, dtype=torch.float32) * 2 - 1
            b = torch.rand((n, n), generator=g, dtype=torch.float32) * 2 - 1
            c = torch.empty((n, n), dtype=torch.float32)
            runs = [measure(lambda: torch.mm(a, b, out=c), args.min_time) for _ in range(args.count)]
            if n == sizes[0]:
                print(f"# torch {torch.__version__}, threads={torch.get_num_threads()}, BLAS: {blas_libs()}",
                      file=sys.stderr)
            print(f"torch {threads} {n} {2 * n**3 / statistics.median(runs) / 1e9:.2f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--sizes", default="64,128,256,512,1024,2048")
    p.add_argument("--libs", default="numpy,torch")
    p.add_argument("--count", type=int, default=3, help="runs per size; the median is printed")
    p.add_argument("--min-time", type=float, default=0.2, help="seconds per run")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args)
        return
    for t in args.threads.split(","):
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
            env[var] = t
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        cmd = [sys.executable, __file__, "--child", "--threads", t, "--sizes", args.sizes,
               "--libs", args.libs, "--count", str(args.count), "--min-time", str(args.min_time)]
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
