#!/usr/bin/python3
"""Generate PyTorch reference values for package loss's option-taking losses.

Run from the repository root:

    /usr/bin/python3 testdata/loss/gen_loss.py

It writes testdata/loss/reference.json, which loss/torch_test.go reads.
Needs PyTorch (Debian's python3-torch, 1.13, CPU) and numpy.

Each case calls one torch.nn.functional loss (cross_entropy with class
indices or with probabilities, nll_loss, binary_cross_entropy_with_logits,
huber_loss, smooth_l1_loss, kl_div) on inputs drawn from a seeded numpy
generator, with the keyword arguments in "options" (PyTorch's names), and
records the loss and the gradient of every input that requires one. For
reduction "none" the gradient is that of sum(loss * upstream), with the
random "upstream" stored in the case. Every case is run twice: in float64,
and in float32 from the same numbers rounded to float32. Floats are written
with Python's repr (json does this), which round-trips exactly; float32
values are written as the float64 number equal to them.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261207
N, C = 5, 4


def main():
    rng = np.random.default_rng(SEED)
    specs = []

    def add(name, kind, inputs, labels=None, **options):
        specs.append((name, kind, inputs, labels, options))

    def normal(*shape, scale=1.0):
        return (rng.standard_normal(shape) * scale).tolist()

    def probs(*shape):
        p = rng.random(shape) + 0.05
        return (p / p.sum(axis=-1, keepdims=True)).tolist()

    labels = rng.integers(0, C, N).tolist()
    labels_ign = list(labels)
    labels_ign[1] = -100
    labels_ign[3] = -100
    labels_ign1 = [1 if i % 2 == 0 else y for i, y in enumerate(labels)]
    weight = (rng.random(C) + 0.5).tolist()

    x = lambda: {"x": normal(N, C, scale=1.5)}
    for red in ("mean", "sum", "none"):
        add("ce_" + red, "cross_entropy", x(), labels, reduction=red)
        add("ce_weight_" + red, "cross_entropy", x(), labels, weight=weight, reduction=red)
        add("ce_ignore_" + red, "cross_entropy", x(), labels_ign, reduction=red)
        add("ce_all_" + red, "cross_entropy", x(), labels_ign, weight=weight, label_smoothing=0.2, reduction=red)
        add("ce_soft_" + red, "cross_entropy_prob", {"x": normal(N, C, scale=1.5), "t": probs(N, C)}, reduction=red)
        add("ce_soft_all_" + red, "cross_entropy_prob", {"x": normal(N, C), "t": probs(N, C)}, weight=weight,
            label_smoothing=0.1, reduction=red)
        add("nll_" + red, "nll", {"x": normal(N, C)}, labels_ign, weight=weight, reduction=red)
        add("bce_pos_weight_" + red, "bce_logits", {"x": normal(N, C, scale=2), "t": rng.random((N, C)).tolist()},
            pos_weight=(rng.random(C) * 3).tolist(), reduction=red)
        add("huber_" + red, "huber", {"x": normal(N, C, scale=1.5), "t": normal(N, C)}, delta=1.0, reduction=red)
        add("smooth_l1_" + red, "smooth_l1", {"x": normal(N, C, scale=1.5), "t": normal(N, C)}, beta=1.0,
            reduction=red)
    add("ce_ignore_index_1", "cross_entropy", x(), labels_ign1, ignore_index=1, label_smoothing=0.3)
    add("ce_smoothing_weight", "cross_entropy", x(), labels, weight=weight, label_smoothing=0.25)
    add("ce_soft_requires_grad_target", "cross_entropy_prob", {"x": normal(N, C), "t*": probs(N, C)})
    add("nll_ignore_index_2", "nll", {"x": normal(N, C)}, [2, 0, 2, 1, 3], ignore_index=2)
    add("bce_weight", "bce_logits", {"x": normal(N, C, scale=2), "t": rng.random((N, C)).tolist()},
        weight=(rng.random((N, 1)) + 0.5).tolist(), pos_weight=(rng.random(C) * 3).tolist())
    add("bce_plain", "bce_logits", {"x": normal(N, C, scale=2), "t*": rng.random((N, C)).tolist()})
    add("huber_delta_0.4", "huber", {"x": normal(N, C), "t*": normal(N, C)}, delta=0.4)
    add("huber_delta_3", "huber", {"x": normal(N, C, scale=2), "t": normal(N, C)}, delta=3.0, reduction="sum")
    add("smooth_l1_beta_0.3", "smooth_l1", {"x": normal(N, C), "t": normal(N, C)}, beta=0.3)
    add("smooth_l1_beta_0", "smooth_l1", {"x": normal(N, C), "t": normal(N, C)}, beta=0.0)
    for red in ("batchmean", "mean", "sum", "none"):
        add("kl_div_" + red, "kl_div", {"x": np.log(probs(N, C)).tolist(), "t": probs(N, C)}, reduction=red)
    t0 = np.array(probs(N, C))
    t0[0, 1] = 0.0
    t0[2, 3] = 0.0
    add("kl_div_zero_target", "kl_div", {"x": np.log(probs(N, C)).tolist(), "t": t0.tolist()}, reduction="batchmean")
    add("kl_div_target_grad", "kl_div", {"x": normal(N, C), "t*": probs(N, C)}, reduction="batchmean")
    add("kl_div_log_target", "kl_div", {"x": np.log(probs(N, C)).tolist(), "t*": np.log(probs(N, C)).tolist()},
        reduction="batchmean", log_target=True)

    upstream = normal(N, C)
    cases = []
    for name, kind, inputs, labels_, options in specs:
        for dtype in (torch.float64, torch.float32):
            cases.append(run(name, kind, inputs, labels_, options, dtype, upstream))
    out = {
        "torch_version": torch.__version__,
        "command": "/usr/bin/python3 testdata/loss/gen_loss.py",
        "seed": SEED,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path, file=sys.stderr)


def run(name, kind, inputs, labels, options, dtype, upstream):
    ts, recs = {}, []
    for key, data in inputs.items():
        grad = True if key == "x" else key.endswith("*")
        k = key.rstrip("*")
        t = torch.tensor(np.asarray(data, dtype=np.float64), dtype=dtype).requires_grad_(grad)
        ts[k] = t
        recs.append({"name": k, "shape": list(t.shape), "data": t.detach().double().flatten().tolist(), "grad": grad})
    kw = dict(options)
    for k in ("weight", "pos_weight"):
        if k in kw:
            kw[k] = torch.tensor(kw[k], dtype=dtype)
    x = ts["x"]
    if kind == "cross_entropy":
        out = F.cross_entropy(x, torch.tensor(labels), **kw)
    elif kind == "cross_entropy_prob":
        out = F.cross_entropy(x, ts["t"], **kw)
    elif kind == "nll":
        out = F.nll_loss(x, torch.tensor(labels), **kw)
    elif kind == "bce_logits":
        out = F.binary_cross_entropy_with_logits(x, ts["t"], **kw)
    elif kind == "huber":
        out = F.huber_loss(x, ts["t"], **kw)
    elif kind == "smooth_l1":
        out = F.smooth_l1_loss(x, ts["t"], **kw)
    elif kind == "kl_div":
        out = F.kl_div(x, ts["t"], **kw)
    else:
        raise ValueError(kind)
    up = None
    if out.dim() == 0:
        out.backward()
    else:
        up = torch.tensor(upstream, dtype=dtype).flatten()[:out.numel()].reshape(out.shape)
        (out * up).sum().backward()
    for r in recs:
        t = ts[r["name"]]
        r["grad_data"] = t.grad.double().flatten().tolist() if r["grad"] else None
    opts = {k: v for k, v in options.items()}
    for k in ("weight", "pos_weight"):
        if k in opts:
            opts[k] = {"shape": list(np.shape(opts[k])),
                       "data": torch.tensor(opts[k], dtype=dtype).double().flatten().tolist()}
    return {
        "name": name, "kind": kind, "dtype": str(dtype).replace("torch.", ""),
        "inputs": recs, "labels": labels, "options": opts,
        "upstream": None if up is None else up.double().flatten().tolist(),
        "loss": {"shape": list(out.shape), "data": out.detach().double().flatten().tolist()},
    }


if __name__ == "__main__":
    main()
