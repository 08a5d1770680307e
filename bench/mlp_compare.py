#!/usr/bin/python3
"""Time PyTorch on the MLP workloads of BenchmarkMLPTrainStep,
BenchmarkMLPInference and BenchmarkMLPLatency (package train), for
side-by-side ratios.

Workloads (float32, random inputs in [0, 1), random labels):
  train     784-512-256-10 batch 128 and 784-100-10 batch 64, ReLU, one
            step = forward, cross-entropy, zero_grad, backward, SGD with
            momentum 0.9 (lr 0.01)
  infer     the same networks, forward at batch 1000 and at batch 1 (the
            latency of one example: BenchmarkMLPLatency) under no_grad

Each thread count runs in a child process configured as PyTorch runs best
here: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set, OMP_WAIT_POLICY=PASSIVE
(otherwise OpenMP threads spin against OpenBLAS's pool and two threads run
2-3x slower), torch.set_num_threads, and OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
unset in the child only.

Output, one line per measurement:  torch KIND ARCH BATCH THREADS SAMPLES_PER_SEC
Usage: /usr/bin/python3 bench/mlp_compare.py [--threads 1,2] [--min-time 2]
"""

import argparse
import os
import subprocess
import sys
import time

WORKLOADS = [("784-512-256-10", [512, 256], 128), ("784-100-10", [100], 64)]


def child(threads, min_time):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    for arch, hidden, batch in WORKLOADS:
        sizes = [784] + hidden + [10]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
        x = torch.rand(batch, 784)
        y = torch.randint(0, 10, (batch,))

        def step():
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        print("torch train %s %d %d %.0f" % (arch, batch, threads, batch / per_call(step, min_time)), flush=True)
        xi = torch.rand(1000, 784)

        def infer():
            with torch.no_grad():
                model(xi)

        print("torch infer %s %d %d %.0f" % (arch, 1000, threads, 1000 / per_call(infer, min_time)), flush=True)
        x1 = torch.rand(1, 784)

        def infer1():
            with torch.no_grad():
                model(x1)

        print("torch infer %s %d %d %.0f" % (arch, 1, threads, 1 / per_call(infer1, min_time)), flush=True)


def per_call(fn, min_time):
    for _ in range(5):
        fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--min-time", type=float, default=2.0)
    p.add_argument("--child", type=int, default=0)
    args = p.parse_args()
    if args.child:
        child(args.child, args.min_time)
        return
    for t in [int(s) for s in args.threads.split(",")]:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        env.update(OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
        subprocess.run([sys.executable, __file__, "--child", str(t), "--min-time", str(args.min_time)], env=env, check=True)


if __name__ == "__main__":
    main()
