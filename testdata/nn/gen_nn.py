#!/usr/bin/python3
"""Generate PyTorch reference values for packages nn and loss.

Run from the repository root:

    /usr/bin/python3 testdata/nn/gen_nn.py

It writes testdata/nn/reference.json, which nn/reference_test.go and
loss/reference_test.go read. Needs PyTorch (Debian's python3-torch, 1.13,
CPU) and numpy.

Cases (each in float64, and in float32 from the same inputs rounded to
float32 and computed by torch in float32):

  loss cases  "cross-entropy" (smoothing 0 and 0.1), "hinge" (the CS231n
              multiclass SVM written out explicitly: torch's MultiMarginLoss
              divides by C, nabla's Hinge does not), "mse", "bce" (with
              logits), "l1", "l2". Each records the loss and its gradient
              with respect to every float input.
  mlp cases   torch.nn.Sequential(Linear, act, Linear, …) with the given
              state_dict (keys "0.weight", "0.bias", "2.weight", …), a batch
              x, labels, and the cross-entropy of the output; records the
              output, the loss and the gradients of x and of every parameter.

Inputs come from one numpy generator with a fixed seed, so the file is the
same on every run. Scores for hinge keep every margin term at least 0.05
from its kink; MLP pre-activations are checked to stay clear of ReLU's kink.
Floats are written with Python's repr (json does this), which round-trips
exactly; float32 values are written as the float64 number equal to them.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240612
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")

rng = np.random.default_rng(SEED)
torch.set_num_threads(1)

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def enc(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.double().reshape(-1).tolist()]}


def tens(a, dt, grad=False):
    return torch.tensor(a, dtype=DTYPES[dt]).requires_grad_(grad)


def hinge_torch(s, y, margin):
    """CS231n: mean_i sum_{j != y_i} max(0, s_ij - s_iy + margin)."""
    n, c = s.shape
    sy = s.gather(1, y.view(-1, 1))
    m = torch.clamp(s - sy + margin, min=0)
    mask = torch.ones(n, c, dtype=s.dtype).scatter_(1, y.view(-1, 1), 0)
    return (m * mask).sum() / n


def hinge_scores(n, c, margin):
    """Scores whose margin terms all stay 0.05 or more from the kink."""
    while True:
        s = rng.standard_normal((n, c)) * 1.5
        y = rng.integers(0, c, n)
        d = s - s[np.arange(n), y][:, None] + margin
        d[np.arange(n), y] = 1.0
        if np.all(np.abs(d) > 0.05):
            return s, y


cases = []


def loss_case(name, kind, inputs, labels, attrs, fn):
    """inputs: list of (numpy array, requires grad)."""
    for dt in DTYPES:
        ts = [tens(a, dt, g) for a, g in inputs]
        lab = torch.tensor(labels, dtype=torch.long) if labels is not None else None
        out = fn(ts, lab)
        grads = torch.autograd.grad(out, [t for t in ts if t.requires_grad])
        gi = iter(grads)
        cases.append({
            "name": name, "kind": kind, "dtype": dt, "attrs": attrs,
            "inputs": [dict(enc(t), grad=t.requires_grad) for t in ts],
            "labels": labels,
            "loss": float(out.detach().double()),
            "grads": [enc(next(gi)) if t.requires_grad else None for t in ts],
        })


N, C = 6, 5

# Cross-entropy, with and without label smoothing.
logits = rng.standard_normal((N, C)) * 2
labels = rng.integers(0, C, N).tolist()
for eps in (0.0, 0.1):
    loss_case(f"cross-entropy/eps={eps}", "cross-entropy", [(logits, True)], labels, {"smoothing": eps},
              lambda ts, y, eps=eps: F.cross_entropy(ts[0], y, label_smoothing=eps))

# Hinge (CS231n), margin 1 and 0.5.
for margin in (1.0, 0.5):
    s, y = hinge_scores(N, C, margin)
    loss_case(f"hinge/margin={margin}", "hinge", [(s, True)], y.tolist(), {"margin": margin},
              lambda ts, y, margin=margin: hinge_torch(ts[0], y, margin))

# MSE and BCE with logits, both inputs differentiated.
pred, target = rng.standard_normal((N, C)), rng.standard_normal((N, C))
loss_case("mse", "mse", [(pred, True), (target, True)], None, {}, lambda ts, _: F.mse_loss(ts[0], ts[1]))
x, t = rng.standard_normal((N, C)) * 3, rng.uniform(0, 1, (N, C))
loss_case("bce", "bce", [(x, True), (t, True)], None, {},
          lambda ts, _: F.binary_cross_entropy_with_logits(ts[0], ts[1]))

# L1 and L2 penalties over two parameters.
p1 = rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.1, 2, (3, 4))
p2 = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.1, 2, 4)
loss_case("l1", "l1", [(p1, True), (p2, True)], None, {"lambda": 0.03},
          lambda ts, _: 0.03 * sum(p.abs().sum() for p in ts))
loss_case("l2", "l2", [(p1, True), (p2, True)], None, {"lambda": 0.03},
          lambda ts, _: 0.03 * sum((p * p).sum() for p in ts))

ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}


def mlp_case(name, sizes, act, n):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ACTS[act]())
    state = {}
    for i in range(len(sizes) - 1):
        b = 1 / np.sqrt(sizes[i])
        state[f"{2 * i}.weight"] = rng.uniform(-b, b, (sizes[i + 1], sizes[i]))
        state[f"{2 * i}.bias"] = rng.uniform(-b, b, sizes[i + 1])
    x = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n).tolist()
    for dt in DTYPES:
        net = torch.nn.Sequential(*layers).to(DTYPES[dt])
        net.load_state_dict({k: torch.tensor(v, dtype=DTYPES[dt]) for k, v in state.items()})
        xt = tens(x, dt, True)
        h = xt
        for m in net:
            if isinstance(m, torch.nn.Linear) and m is not net[-1] and act == "relu":
                pre = m(h)
                assert pre.abs().min() > 1e-3, "pre-activation near ReLU's kink; change the seed"
            h = m(h)
        out = h
        loss = F.cross_entropy(out, torch.tensor(y))
        params = list(net.state_dict().keys())
        grads = torch.autograd.grad(loss, [xt] + [dict(net.named_parameters())[k] for k in params])
        cases.append({
            "name": name, "kind": "mlp", "dtype": dt,
            "attrs": {"sizes": sizes, "activation": act},
            "inputs": [dict(enc(xt), grad=True)], "labels": y,
            "state": {k: enc(v) for k, v in net.state_dict().items()},
            "output": enc(out), "loss": float(loss.detach().double()),
            "grads": [enc(grads[0])],
            "param_grads": {k: enc(g) for k, g in zip(params, grads[1:])},
        })


mlp_case("mlp/relu 4-8-3", [4, 8, 3], "relu", 7)
mlp_case("mlp/tanh 3-6-5-2", [3, 6, 5, 2], "tanh", 5)
mlp_case("mlp/gelu 5-4-3", [5, 4, 3], "gelu", 4)

with open(OUT, "w") as f:
    json.dump({
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "command": "/usr/bin/python3 testdata/nn/gen_nn.py",
        "seed": SEED,
        "cases": cases,
    }, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)
