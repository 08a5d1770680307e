#!/usr/bin/python3
"""Generate PyTorch reference values for ag's derivatives of functions of
several inputs (VJPN, JVPN, JacobianN, HessianN, HVPN and their At forms).

Run from the repository root:

    /usr/bin/python3 testdata/functional/gen_functional.py

It writes testdata/functional/reference.json, which ag/functional_test.go
reads. Needs PyTorch (Debian's python3-torch, 1.13, CPU) and numpy. Every
number comes from torch.autograd.functional (vjp, jvp, jacobian, hessian,
hvp) in float64, on inputs drawn from a seeded numpy generator. The Go test
writes the same functions with ag ops:

    vector(a [3], b [2, 3]) = tanh(b·a) · Σa²                      -> [2]
    scalar(a [3], b [2, 3]) = Σ sin(b·a) + Σa² · logsumexp(b)       -> []
    mlp(W1 [5, 3], b1 [5], W2 [2, 5]) = cross_entropy(tanh(x·W1ᵀ + b1)·W2ᵀ, y)
                                        with fixed x [4, 3] and y

Floats are written with Python's repr (json does this), which round-trips.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.autograd import functional as AF

SEED = 20261207
torch.set_num_threads(1)


def vector(a, b):
    return torch.tanh(b @ a) * (a * a).sum()


def scalar(a, b):
    return torch.sin(b @ a).sum() + (a * a).sum() * torch.logsumexp(b, dim=(0, 1))


def main():
    rng = np.random.default_rng(SEED)
    t = lambda *s: torch.tensor(rng.standard_normal(s), dtype=torch.float64)
    js = lambda x: {"shape": list(x.shape), "data": x.detach().flatten().tolist()}
    cases = []

    a, b = t(3), t(2, 3)
    v = t(2)
    ta, tb = t(3), t(2, 3)
    out, vjp = AF.vjp(vector, (a, b), v)
    _, jvp = AF.jvp(vector, (a, b), (ta, tb))
    jac = AF.jacobian(vector, (a, b))
    cases.append({"name": "vector", "inputs": [js(a), js(b)], "v": js(v), "tangents": [js(ta), js(tb)],
                  "output": js(out), "vjp": [js(g) for g in vjp], "jvp": js(jvp), "jacobian": [js(j) for j in jac]})

    a, b = t(3), t(2, 3)
    ta, tb = t(3), t(2, 3)
    out = scalar(a, b)
    hess = AF.hessian(scalar, (a, b))
    _, hvp = AF.hvp(scalar, (a, b), (ta, tb))
    jac = AF.jacobian(scalar, (a, b))
    cases.append({"name": "scalar", "inputs": [js(a), js(b)], "tangents": [js(ta), js(tb)], "output": js(out),
                  "jacobian": [js(j) for j in jac], "hessian": [[js(h) for h in row] for row in hess],
                  "hvp": [js(h) for h in hvp]})

    x = t(4, 3)
    y = torch.tensor([0, 1, 1, 0])
    w1, b1, w2 = t(5, 3) * 0.7, t(5) * 0.3, t(2, 5) * 0.7
    tw1, tb1, tw2 = t(5, 3), t(5), t(2, 5)

    def mlp(w1, b1, w2):
        return F.cross_entropy(F.linear(torch.tanh(F.linear(x, w1, b1)), w2), y)

    out = mlp(w1, b1, w2)
    hess = AF.hessian(mlp, (w1, b1, w2))
    _, hvp = AF.hvp(mlp, (w1, b1, w2), (tw1, tb1, tw2))
    jac = AF.jacobian(mlp, (w1, b1, w2))
    cases.append({"name": "mlp", "x": js(x), "labels": y.tolist(), "inputs": [js(w1), js(b1), js(w2)],
                  "tangents": [js(tw1), js(tb1), js(tw2)], "output": js(out), "jacobian": [js(j) for j in jac],
                  "hessian": [[js(h) for h in row] for row in hess], "hvp": [js(h) for h in hvp]})

    doc = {"torch_version": torch.__version__, "command": "/usr/bin/python3 testdata/functional/gen_functional.py",
           "seed": SEED, "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
