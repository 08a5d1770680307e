#!/usr/bin/python3
"""Time PyTorch on the CNN workloads of BenchmarkCNNTrainStep and
BenchmarkCNNInference (package nn), for side-by-side ratios.

The network is issue 10's MNIST CNN, nabla's
conv(32,5,pad=2)-relu-maxpool(2)-conv(64,5,pad=2)-relu-maxpool(2)-flatten-linear(128)-relu-linear(10),
float32, on random inputs [N, 1, 28, 28] in [0, 1) and random labels:
  train     batch 64, one step = forward, cross-entropy, zero_grad,
            backward, SGD with momentum 0.9 (lr 0: the update is computed
            but the network stays the same, as in the Go benchmark)
  infer     batch 1000, forward under no_grad

Each thread count runs in a child process configured as PyTorch runs best
here: OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set, OMP_WAIT_POLICY=PASSIVE,
torch.set_num_threads, and OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset in the
child only. The child also reports its peak RSS (getrusage ru_maxrss).

Output, one line per measurement:  torch KIND BATCH THREADS SAMPLES_PER_SEC SAMPLES_PER_CPU_SEC
and one per child:                  torch rss THREADS KIB
(samples per CPU-second: per second of the process's CPU time, all threads,
which measures the work on a machine shared with other processes).
Usage: /usr/bin/python3 bench/cnn_compare.py [--threads 1,2] [--min-time 2] [--count 1]
"""

import argparse
import os
import resource
import subprocess
import sys
import time


def model(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def child(threads, min_time, count):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = model(torch)
    opt = torch.optim.SGD(net.parameters(), lr=0.0, momentum=0.9)
    x = torch.rand(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))

    def step():
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    xi = torch.rand(1000, 1, 28, 28)

    def infer():
        with torch.no_grad():
            net(xi)

    for _ in range(count):
        wall, cpu = per_call(step, min_time)
        print("torch train 64 %d %.1f %.1f" % (threads, 64 / wall, 64 / cpu), flush=True)
        wall, cpu = per_call(infer, min_time)
        print("torch infer 1000 %d %.1f %.1f" % (threads, 1000 / wall, 1000 / cpu), flush=True)
    print("torch rss %d %d" % (threads, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), flush=True)


def per_call(fn, min_time):
    """Wall and CPU seconds per call."""
    for _ in range(3):
        fn()
    calls, start, cpu0 = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls, (time.process_time() - cpu0) / calls


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--min-time", type=float, default=2.0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--child", type=int, default=0)
    args = p.parse_args()
    if args.child:
        child(args.child, args.min_time, args.count)
        return
    for t in [int(s) for s in args.threads.split(",")]:
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        env.update(OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t), OMP_WAIT_POLICY="PASSIVE")
        subprocess.run([sys.executable, __file__, "--child", str(t), "--min-time", str(args.min_time),
                        "--count", str(args.count)], env=env, check=True)


if __name__ == "__main__":
    main()
