#!/usr/bin/python3
"""Time whole training runs: `nabla train` against the same training in
PyTorch, alternating run by run, and print the ratios with their range and
the peak RSS of each. bench/run_compare.sh builds nabla and calls this.

The run (nabla's defaults for MNIST, spelled out):

  nabla train --data mnist --hidden 512,256 --batch 128 --optimizer momentum
              --schedule constant   (lr 0.003, momentum 0.9, 5 epochs)

and in PyTorch the same: Flatten, Linear 784-512, ReLU, Linear 512-256,
ReLU, Linear 256-10 with PyTorch's default initialisation, cross-entropy,
SGD(lr, momentum 0.9), batch 128, a fresh permutation each epoch, the last
short batch kept, the batch's loss and accuracy accumulated every step,
the test set scored after every epoch (batch 256) and a checkpoint (model
and optimiser state) written after every epoch, as nabla does; at the end
the training and test sets scored (batch 1024, as `nabla train` does) and
the model saved. Both read the same four IDX .gz files and scale pixels by
1/255. PyTorch holds the images as uint8 and converts each batch (the
frugal way; --torch-data float32 holds them as float32, as torchvision's
ToTensor would leave them).

Phases, from the time each line of nabla's output arrives, and timed the
same way inside the PyTorch child:
  load    process start to the first step (reading MNIST, building the model)
  train   the epochs: steps, the per-epoch test evaluation and checkpoints
  step    the steps alone (nabla: examples / samples_per_sec in metrics.jsonl)
  eval    the end-of-run evaluation of the training and test sets
  total   the whole process, start to exit (wall clock)
Peak RSS is the child's ru_maxrss (os.wait4), the interpreter included for
PyTorch. With several thread counts, the total of each nabla setting is
also set against PyTorch's best thread count (its fastest median total),
as the issue's 2-thread target asks. Threads: nabla with GOMAXPROCS=T and --threads T; PyTorch as
bench/mlp_compare.py sets it up (torch.set_num_threads, OMP/OpenBLAS/MKL
threads T, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
unset in the child only).

Usage: /usr/bin/python3 bench/run_compare.py --nabla BIN --data-dir DIR
           [--threads 1,2] [--count 3] [--epochs 5] [--torch-data uint8]
"""

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PHASES = ["load", "train", "step", "eval", "total"]


def read_idx(path):
    import numpy as np

    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def idx_file(d, name):
    p = os.path.join(d, name)
    return p if os.path.exists(p) else p + ".gz"


def torch_child(args):
    """One PyTorch run; prints one JSON line of phase times."""
    t0 = time.perf_counter()
    import torch

    torch.set_num_threads(args.child)
    torch.manual_seed(args.seed)
    d = args.data_dir
    xs = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        img = torch.from_numpy(read_idx(idx_file(d, prefix + "-images-idx3-ubyte")).copy())
        lab = torch.from_numpy(read_idx(idx_file(d, prefix + "-labels-idx1-ubyte")).astype("int64"))
        img = img.reshape(img.shape[0], -1)
        if args.torch_data == "float32":
            img = img.float().div_(255)
        xs[split] = (img, lab)

    def batch_x(img, idx):
        x = img[idx]
        return x.float().div_(255) if x.dtype == torch.uint8 else x

    sizes = [784] + [int(s) for s in args.hidden.split(",")] + [10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    lossf = torch.nn.CrossEntropyLoss()
    out = tempfile.mkdtemp(prefix="torch-run-")

    def evaluate(split, batch):
        img, lab = xs[split]
        model.eval()
        tot, correct = 0.0, 0
        with torch.no_grad():
            for s in range(0, len(lab), batch):
                x = batch_x(img, slice(s, s + batch))
                y = lab[s : s + batch]
                logits = model(x)
                tot += lossf(logits, y).item() * len(y)
                correct += (logits.argmax(1) == y).sum().item()
        model.train()
        return tot / len(lab), correct / len(lab)

    t_load = time.perf_counter()
    img, lab = xs["train"]
    n = len(lab)
    step_s = 0.0
    for epoch in range(args.epochs):
        ts = time.perf_counter()
        perm = torch.randperm(n)
        tot, correct = 0.0, 0
        for s in range(0, n, args.batch):
            idx = perm[s : s + args.batch]
            x, y = batch_x(img, idx), lab[idx]
            logits = model(x)
            loss = lossf(logits, y)
            tot += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            opt.zero_grad()
            loss.backward()
            opt.step()
        step_s += time.perf_counter() - ts
        evaluate("test", max(args.batch, 256))
        torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, os.path.join(out, "checkpoint.pt"))
    t_train = time.perf_counter()
    evaluate("train", 1024)
    evaluate("test", 1024)
    t_eval = time.perf_counter()
    torch.save(model.state_dict(), os.path.join(out, "model.pt"))
    shutil.rmtree(out)
    print(json.dumps({"load": t_load - t0, "train": t_train - t_load, "step": step_s, "eval": t_eval - t_train}), flush=True)


def wait_rusage(p):
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_maxrss * 1024  # Linux reports KiB


def run_torch(args, threads, py):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    t = str(threads)
    env.update(OMP_NUM_THREADS=t, OPENBLAS_NUM_THREADS=t, MKL_NUM_THREADS=t, OMP_WAIT_POLICY="PASSIVE")
    cmd = [py, os.path.abspath(__file__), "--child", t, "--data-dir", args.data_dir, "--epochs", str(args.epochs),
           "--batch", str(args.batch), "--lr", str(args.lr), "--hidden", args.hidden, "--torch-data", args.torch_data]
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    lines = p.stdout.read().splitlines()
    rss = wait_rusage(p)
    total = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit("run_compare: the PyTorch run failed")
    ph = json.loads(lines[-1])
    ph["total"] = total
    return ph, rss


def run_nabla(args, threads, tmp, k):
    run = os.path.join(tmp, "nabla-run-%d" % k)
    cmd = [args.nabla, "train", "--data", "mnist", "--data-dir", args.data_dir, "--hidden", args.hidden,
           "--batch", str(args.batch), "--optimizer", "momentum", "--schedule", "constant", "--lr", str(args.lr),
           "--epochs", str(args.epochs), "--threads", str(threads), "--out", run]
    env = dict(os.environ, GOMAXPROCS=str(threads))
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    stamps, out = {}, []
    for line in p.stdout:
        now = time.perf_counter() - start
        out.append(line)
        for key, prefix in (("training", "training "), ("epoch", "epoch "), ("train_acc", "train accuracy"),
                            ("test_acc", "test accuracy"), ("saved", "model saved")):
            if line.startswith(prefix):
                stamps[key] = now
    rss = wait_rusage(p)
    total = time.perf_counter() - start
    if p.returncode != 0 or "test_acc" not in stamps:
        sys.exit("run_compare: the nabla run failed:\n" + "".join(out))
    step = 0.0
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            step += 60000 / m["samples_per_sec"]
    shutil.rmtree(run)
    return {"load": stamps["training"], "train": stamps["epoch"] - stamps["training"], "step": step,
            "eval": stamps["test_acc"] - stamps["epoch"], "total": total}, rss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nabla", help="the nabla binary")
    p.add_argument("--data-dir", required=True, help="folder with the four MNIST IDX files (.gz or raw)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--count", type=int, default=3, help="runs of each side per thread count")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--hidden", default="512,256")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--torch-data", choices=["uint8", "float32"], default="uint8")
    p.add_argument("--child", type=int, default=0)
    args = p.parse_args()
    if args.child:
        torch_child(args)
        return
    threads = [int(s) for s in args.threads.split(",")]
    tmp = tempfile.mkdtemp(prefix="run-compare-")
    res = {}  # (side, threads) -> list of (phases, rss)
    k = 0
    try:
        for rep in range(args.count):
            for t in threads:
                # Alternate which side goes first, so that a slow spell of a
                # shared machine falls on both alike.
                sides = ["nabla", "torch"] if rep % 2 == 0 else ["torch", "nabla"]
                for side in sides:
                    k += 1
                    r = run_nabla(args, t, tmp, k) if side == "nabla" else run_torch(args, t, sys.executable)
                    res.setdefault((side, t), []).append(r)
                    ph, rss = r
                    print("# run %d threads %d %-5s " % (rep + 1, t, side) +
                          " ".join("%s %.2fs" % (q, ph[q]) for q in PHASES) + "  peak RSS %.0f MB" % (rss / 1e6), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("seconds: median (min-max) of %d runs each; ratio = PyTorch / nabla, median (min-max) over alternating pairs" % args.count)
    print("%-7s %-6s %-22s %-22s %-22s" % ("threads", "phase", "nabla s", "torch s", "torch/nabla"))
    for t in threads:
        nab, tor = res[("nabla", t)], res[("torch", t)]
        for q in PHASES:
            a = [r[0][q] for r in nab]
            b = [r[0][q] for r in tor]
            ratios = [y / x for x, y in zip(a, b) if x > 0]
            print("%-7d %-6s %-22s %-22s %-22s" % (t, q, spread(a, "%.2f"), spread(b, "%.2f"), spread(ratios, "%.2f")))
        a = [r[1] / 1e6 for r in nab]
        b = [r[1] / 1e6 for r in tor]
        print("%-7d %-6s %-22s %-22s %-22s" % (t, "RSS MB", spread(a, "%.0f"), spread(b, "%.0f"),
                                               "nabla/torch " + spread([x / y for x, y in zip(a, b)], "%.2f")))
    if len(threads) > 1:
        # The 2-thread target is against PyTorch's best thread
        # set-up: its fastest median whole run at any thread count here.
        best_t = min(threads, key=lambda t: statistics.median(r[0]["total"] for r in res[("torch", t)]))
        best = [r[0]["total"] for r in res[("torch", best_t)]]
        print("against PyTorch's best thread count (%d: total %s s):" % (best_t, spread(best, "%.2f")))
        for t in threads:
            a = [r[0]["total"] for r in res[("nabla", t)]]
            print("  nabla at %d threads: torch/nabla total %.2f (medians)" % (t, statistics.median(best) / statistics.median(a)))
    print("PyTorch %s data; cpu: %s" % (args.torch_data, cpu_name()))


def spread(v, fmt):
    if not v:
        return "-"
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(v), min(v), max(v))


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
