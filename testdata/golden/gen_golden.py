#!/usr/bin/python3
"""Generate PyTorch reference values for every differentiable op in package ag.

Run from the repository root:

    /usr/bin/python3 testdata/golden/gen_golden.py

It writes testdata/golden/ops.json, which ag/golden_test.go reads. Needs
PyTorch (Debian's python3-torch, 1.13, CPU) and numpy.

Each case names an ag function ("op"), its parameters ("attrs"), its inputs
and a random upstream gradient (never all ones: that would hide transpose and
broadcast mistakes), and records torch's forward value and the gradient of
<output, upstream> with respect to every input that requires one. Every case
is generated twice: in float64, and in float32 from the same inputs rounded
to float32 and computed by torch in float32. Inputs are drawn from one
numpy generator with a fixed seed, so the output is the same on every run.

Inputs stay away from the points where an op has a kink (|x| > 0.1 for
ReLU, Abs, LeakyReLU, ELU; away from Clamp's bounds; no ties for Maximum,
Minimum, Max, Min), so that no case depends on a convention at a kink, and
|x| < 5 for Softplus, so that torch's threshold (20) never matters.

Floats are written with Python's repr (json does this), which round-trips
exactly; float32 values are written as the float64 number equal to them.
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")

rng = np.random.default_rng(SEED)
torch.set_num_threads(1)  # fixed summation order


# ---------------------------------------------------------------- inputs


def gen(shape, kind):
    """An input array of the given shape, drawn from rng, in float64."""
    shape = tuple(shape)
    n = int(np.prod(shape)) if shape else 1
    if kind == "normal":
        v = rng.standard_normal(n)
    elif kind == "wide":  # logits: a wider spread for softmax
        v = 3.0 * rng.standard_normal(n)
    elif kind == "pos":  # base of log, sqrt, pow; divisor
        v = rng.uniform(0.5, 2.0, n)
    elif kind == "away":  # |x| >= 0.2: no kink at 0 is ever touched
        v = rng.choice([-1.0, 1.0], n) * rng.uniform(0.2, 2.0, n)
    elif kind == "soft":  # |x| < 5: Softplus' threshold never matters
        v = rng.uniform(-4.5, 4.5, n)
    elif kind == "distinct":  # all values at least 0.05 apart: no ties
        v = (rng.permutation(n) - n / 2) * 0.25 + rng.uniform(-0.05, 0.05, n)
    elif kind == "zeros_pos":  # exact zeros among positive values: the 0^0 cases
        v = rng.uniform(0.5, 2.0, n)
        v[::2] = 0.0
    elif kind == "gt_m1":  # Log1p's domain, with small values where it matters
        v = rng.uniform(-0.9, 2.0, n)
        v[::3] *= 1e-4
    elif kind == "small":  # Expm1 near 0, where it beats Exp(x) − 1
        v = rng.standard_normal(n)
        v[::2] *= 1e-4
    elif kind == "one_zero_rows":  # one exact zero in every row of the last axis
        v = rng.uniform(0.5, 1.5, n) * rng.choice([-1.0, 1.0], n)
        last = shape[-1]
        for r in range(n // last):
            v[r * last + rng.integers(last)] = 0.0
    elif kind == "zero_row":  # normal, with the second row of the last axis all zero
        v = rng.standard_normal(n)
        v[shape[-1]:2 * shape[-1]] = 0.0
    elif kind == "zeros_exp":  # exponents ≥ 1 with exact zeros: 0^b stays finite
        v = rng.uniform(1.0, 2.5, n)
        v[::3] = 0.0
    else:
        raise ValueError(kind)
    return v.reshape(shape)


class In:
    """An input of a case: shape, how to draw it, whether it needs a grad."""

    def __init__(self, shape, kind="normal", grad=True):
        self.shape, self.kind, self.grad = list(shape), kind, grad


# ---------------------------------------------------------------- cases

CASES = []  # (name, op, [In], attrs, fn(inputs, attrs) -> torch tensor)


def case(name, op, inputs, fn, **attrs):
    CASES.append((name, op, inputs, attrs, fn))


def all_axes(x, axes):
    return tuple(axes) if axes else tuple(range(x.dim()))


def sum_to(x, shape):
    """Sum x down to shape, undoing a numpy broadcast (ag.SumTo)."""
    lead = x.dim() - len(shape)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    if dims:
        x = x.sum(dim=dims, keepdim=True)
    return x.reshape(shape)


def pad_slice(x, shape, axis, start):
    """Zeros of shape with x placed at start along axis (ag.PadSlice)."""
    axis %= len(shape)
    before = list(shape)
    before[axis] = start
    after = list(shape)
    after[axis] = shape[axis] - start - x.shape[axis]
    z = lambda s: torch.zeros(s, dtype=x.dtype)
    return torch.cat([z(before), x, z(after)], dim=axis)


def idx_tensor(idx):
    return torch.tensor(idx, dtype=torch.long)


def gather(x, axis, idx):
    """ag.Gather: remove axis, picking idx[p] at each other position p."""
    axis %= x.dim()
    shape = list(x.shape)
    del shape[axis]
    it = idx_tensor(idx).reshape(shape).unsqueeze(axis)
    return torch.gather(x, axis, it).squeeze(axis)


def scatter(x, shape, axis, idx):
    """ag.Scatter: the adjoint of gather, adding x into zeros of shape."""
    axis %= len(shape)
    it = idx_tensor(idx).reshape(x.shape).unsqueeze(axis)
    return torch.zeros(shape, dtype=x.dtype).scatter_add(axis, it, x.unsqueeze(axis))


# Element-wise binary ops, with broadcasting.
BIN_SHAPES = [("same", [3, 4], [3, 4]), ("row", [3, 4], [4]), ("3d", [2, 1, 4], [3, 1]),
              ("scalar", [], [2, 3])]
for op, fn, bkind in [("Add", torch.add, "normal"), ("Sub", torch.sub, "normal"),
                      ("Mul", torch.mul, "normal"), ("Div", torch.div, "away")]:
    for tag, sa, sb in BIN_SHAPES:
        case(f"{op}/{tag}", op, [In(sa), In(sb, bkind)], lambda t, a, fn=fn: fn(t[0], t[1]))
    # A constant operand: the op must still give the other its gradient.
    case(f"{op}/const_a", op, [In([3, 4], grad=False), In([4], bkind)], lambda t, a, fn=fn: fn(t[0], t[1]))
    case(f"{op}/const_b", op, [In([4]), In([3, 4], bkind, grad=False)], lambda t, a, fn=fn: fn(t[0], t[1]))

for op, fn in [("Maximum", torch.maximum), ("Minimum", torch.minimum)]:
    for tag, sa, sb in BIN_SHAPES[:3]:
        case(f"{op}/{tag}", op, [In(sa), In(sb)], lambda t, a, fn=fn: fn(t[0], t[1]))

case("Pow/same", "Pow", [In([3, 4], "pos"), In([3, 4])], lambda t, a: torch.pow(t[0], t[1]))
case("Pow/row", "Pow", [In([3, 4], "pos"), In([4])], lambda t, a: torch.pow(t[0], t[1]))
case("Pow/3d", "Pow", [In([2, 1, 4], "pos"), In([3, 1])], lambda t, a: torch.pow(t[0], t[1]))
case("Pow/const_exp", "Pow", [In([3, 4], "pos"), In([4], grad=False)], lambda t, a: torch.pow(t[0], t[1]))

# Element-wise unary ops.
UNARY = [
    ("Neg", "normal", lambda x: -x),
    ("Exp", "normal", torch.exp),
    ("Log", "pos", torch.log),
    ("Sqrt", "pos", torch.sqrt),
    ("Square", "normal", torch.square),
    ("Abs", "away", torch.abs),
    ("ReLU", "away", torch.relu),
    ("Sigmoid", "wide", torch.sigmoid),
    ("Tanh", "wide", torch.tanh),
    ("Erf", "normal", torch.erf),
    ("GELU", "wide", lambda x: F.gelu(x, approximate="none")),
    ("GELUTanh", "wide", lambda x: F.gelu(x, approximate="tanh")),
    ("SiLU", "wide", F.silu),
    ("Softplus", "soft", lambda x: F.softplus(x, beta=1, threshold=20)),
]
for op, kind, fn in UNARY:
    case(f"{op}/2d", op, [In([3, 4], kind)], lambda t, a, fn=fn: fn(t[0]))
    case(f"{op}/3d", op, [In([2, 3, 4], kind)], lambda t, a, fn=fn: fn(t[0]))

for c in [-2.5, 0.3]:
    case(f"Scale/{c}", "Scale", [In([3, 4])], lambda t, a: t[0] * a["c"], c=c)
case("AddScalar/1.7", "AddScalar", [In([3, 4])], lambda t, a: t[0] + a["c"], c=1.7)
case("AddScalar/-0.4", "AddScalar", [In([2, 3, 4])], lambda t, a: t[0] + a["c"], c=-0.4)
for p, kind in [(2.0, "normal"), (3.0, "normal"), (0.5, "pos"), (-1.5, "pos")]:
    case(f"PowScalar/{p}", "PowScalar", [In([3, 4], kind)], lambda t, a: torch.pow(t[0], a["p"]), p=p)
for slope in [0.01, 0.2]:
    case(f"LeakyReLU/{slope}", "LeakyReLU", [In([3, 4], "away")],
         lambda t, a: F.leaky_relu(t[0], a["slope"]), slope=slope)
for alpha in [1.0, 0.5]:
    case(f"ELU/{alpha}", "ELU", [In([3, 4], "away")], lambda t, a: F.elu(t[0], a["alpha"]), alpha=alpha)


def clamp_input(lo, hi, shape):
    """Normal values at least 0.05 away from the clamp bounds."""
    while True:
        v = gen(shape, "normal")
        if all(b is None or np.min(np.abs(v - b)) > 0.05 for b in (lo, hi)):
            return v


# Clamp: lo or hi None (JSON null) leaves that side open (math.Inf in Go).
for tag, lo, hi in [("both", -0.5, 0.7), ("hi_only", None, 0.3), ("lo_only", -0.2, None)]:
    case(f"Clamp/{tag}", "Clamp", [In([3, 4], ("clamp", lo, hi))],
         lambda t, a: torch.clamp(t[0], a["lo"], a["hi"]), lo=lo, hi=hi)


def where_case(name, mshape, sa, sb, grad_b=True):
    mask = (rng.uniform(size=mshape) < 0.5).astype(float)
    case(name, "Where", [In(sa), In(sb, grad=grad_b)],
         lambda t, a: torch.where(torch.tensor(np.array(a["mask"]["data"]).reshape(a["mask"]["shape"]) != 0),
                                  t[0], t[1]),
         mask={"shape": list(mshape), "data": mask.ravel().tolist()})


where_case("Where/same", [3, 4], [3, 4], [3, 4])
where_case("Where/broadcast", [3, 4], [4], [3, 1])
where_case("Where/const_b", [2, 3, 4], [2, 3, 4], [3, 4], grad_b=False)

# Reductions over all axes, one axis, several axes, negative axes.
RED_AXES = [("all", []), ("axis1", [1]), ("axes02", [0, 2]), ("neg1", [-1]), ("neg3neg1", [-3, -1])]
REDUCE = [
    ("Sum", "normal", lambda x, ax, k: torch.sum(x, dim=ax, keepdim=k)),
    ("Mean", "normal", lambda x, ax, k: torch.mean(x, dim=ax, keepdim=k)),
    ("Max", "distinct", lambda x, ax, k: torch.amax(x, dim=ax, keepdim=k)),
    ("Min", "distinct", lambda x, ax, k: torch.amin(x, dim=ax, keepdim=k)),
]
for op, kind, fn in REDUCE:
    for keep in [False, True]:
        name = op + ("Keep" if keep else "")
        for tag, axes in RED_AXES:
            case(f"{name}/{tag}", name, [In([2, 3, 4], kind)],
                 lambda t, a, fn=fn, keep=keep: fn(t[0], all_axes(t[0], a["axes"]), keep), axes=axes)

# Matrix products.
for tag, sa, sb, ga in [("2d", [3, 4], [4, 5], True), ("batched", [2, 3, 4], [2, 4, 5], True),
                        ("batch_x_2d", [2, 3, 4], [4, 5], True), ("2d_x_batch", [3, 4], [2, 4, 5], True),
                        ("broadcast_batch", [2, 1, 3, 4], [3, 4, 2], True),
                        ("const_a", [2, 3, 4], [4, 5], False)]:
    case(f"MatMul/{tag}", "MatMul", [In(sa, grad=ga), In(sb)], lambda t, a: torch.matmul(t[0], t[1]))

# Shape ops.
for tag, shape in [("flat2", [6, 4]), ("infer", [3, -1, 2]), ("vector", [24])]:
    case(f"Reshape/{tag}", "Reshape", [In([2, 3, 4])], lambda t, a: t[0].reshape(a["shape"]), shape=shape)
for tag, perm in [("201", [2, 0, 1]), ("neg", [-1, 0, 1]), ("2d", [1, 0])]:
    shape = [3, 4] if len(perm) == 2 else [2, 3, 4]
    case(f"Permute/{tag}", "Permute", [In(shape)], lambda t, a: t[0].permute(*a["perm"]), perm=perm)
for tag, shape, ax in [("02", [2, 3, 4], (0, 2)), ("neg", [2, 3, 4], (-1, -2)), ("2d", [3, 4], (0, 1))]:
    case(f"Transpose/{tag}", "Transpose", [In(shape)], lambda t, a: t[0].transpose(a["a"], a["b"]),
         a=ax[0], b=ax[1])
case("T/2d", "T", [In([3, 4])], lambda t, a: t[0].transpose(-2, -1))
case("T/3d", "T", [In([2, 3, 4])], lambda t, a: t[0].transpose(-2, -1))
for tag, sx, shape in [("col", [3, 1], [2, 3, 4]), ("row", [4], [3, 4]), ("scalar", [], [2, 3])]:
    case(f"BroadcastTo/{tag}", "BroadcastTo", [In(sx)], lambda t, a: t[0].expand(a["shape"]), shape=shape)
for tag, sx, shape in [("col", [2, 3, 4], [3, 1]), ("row", [3, 4], [4]), ("keep", [2, 3, 4], [1, 3, 1]),
                       ("scalar", [3, 4], [])]:
    case(f"SumTo/{tag}", "SumTo", [In(sx)], lambda t, a: sum_to(t[0], a["shape"]), shape=shape)
for tag, sx, axis, start, end in [("2d", [3, 4], 1, 1, 3), ("first", [2, 3, 4], 0, 1, 2),
                                  ("neg", [2, 3, 4], -1, 0, 2)]:
    case(f"Slice/{tag}", "Slice", [In(sx)], lambda t, a: t[0].narrow(a["axis"], a["start"], a["end"] - a["start"]),
         axis=axis, start=start, end=end)
for tag, sx, shape, axis, start in [("2d", [3, 2], [3, 5], 1, 2), ("3d", [2, 1, 4], [2, 3, 4], 1, 1),
                                    ("neg", [2, 3, 2], [2, 3, 4], -1, 0)]:
    case(f"PadSlice/{tag}", "PadSlice", [In(sx)], lambda t, a: pad_slice(t[0], a["shape"], a["axis"], a["start"]),
         shape=shape, axis=axis, start=start)
case("Concat/axis1", "Concat", [In([2, 3]), In([2, 1]), In([2, 2])], lambda t, a: torch.cat(t, a["axis"]), axis=1)
case("Concat/axis0", "Concat", [In([1, 3]), In([2, 3])], lambda t, a: torch.cat(t, a["axis"]), axis=0)
case("Concat/neg", "Concat", [In([2, 3, 1]), In([2, 3, 2], grad=False), In([2, 3, 3])],
     lambda t, a: torch.cat(t, a["axis"]), axis=-1)
for tag, sx, axis, idx in [("rows", [4, 3], 0, [2, 0, 2, 3, 2]), ("mid", [2, 3, 4], 1, [1, 1, 0]),
                           ("neg", [2, 3, 4], -1, [3, 3, 1])]:
    case(f"IndexSelect/{tag}", "IndexSelect", [In(sx)],
         lambda t, a: torch.index_select(t[0], a["axis"], idx_tensor(a["idx"])), axis=axis, idx=idx)
for tag, sx, shape, axis, idx in [("rows", [5, 3], [4, 3], 0, [2, 0, 2, 3, 2]),
                                  ("mid", [2, 3, 4], [2, 2, 4], 1, [1, 1, 0]),
                                  ("neg", [2, 3, 3], [2, 3, 4], -1, [3, 3, 1])]:
    case(f"IndexAdd/{tag}", "IndexAdd", [In(sx)],
         lambda t, a: torch.zeros(a["shape"], dtype=t[0].dtype).index_add(a["axis"], idx_tensor(a["idx"]), t[0]),
         shape=shape, axis=axis, idx=idx)
for tag, sx, axis, idx in [("labels", [3, 5], 1, [4, 0, 2]), ("mid", [2, 3, 4], 1, [0, 2, 1, 1, 2, 0, 0, 1]),
                           ("first", [2, 3, 4], 0, [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1]),
                           ("neg", [2, 3, 4], -1, [3, 0, 2, 2, 1, 3])]:
    case(f"Gather/{tag}", "Gather", [In(sx)], lambda t, a: gather(t[0], a["axis"], a["idx"]), axis=axis, idx=idx)
for tag, sx, shape, axis, idx in [("labels", [3], [3, 5], 1, [4, 0, 2]),
                                  ("mid", [2, 4], [2, 3, 4], 1, [0, 2, 1, 1, 2, 0, 0, 1]),
                                  ("neg", [2, 3], [2, 3, 4], -1, [3, 0, 2, 2, 1, 3])]:
    case(f"Scatter/{tag}", "Scatter", [In(sx)], lambda t, a: scatter(t[0], a["shape"], a["axis"], a["idx"]),
         shape=shape, axis=axis, idx=idx)

# Softmax family.
for op, fn in [("Softmax", torch.softmax), ("LogSoftmax", torch.log_softmax)]:
    for tag, sx, axis in [("axis1", [3, 4], 1), ("neg1", [3, 4], -1), ("axis0", [3, 4], 0), ("3d", [2, 3, 4], 1)]:
        case(f"{op}/{tag}", op, [In(sx, "wide")], lambda t, a, fn=fn: fn(t[0], a["axis"]), axis=axis)
case("SoftmaxCrossEntropy/4x5", "SoftmaxCrossEntropy", [In([4, 5], "wide")],
     lambda t, a: F.cross_entropy(t[0], idx_tensor(a["labels"]), reduction="mean"), labels=[3, 0, 4, 1])
case("SoftmaxCrossEntropy/repeats", "SoftmaxCrossEntropy", [In([3, 3], "wide")],
     lambda t, a: F.cross_entropy(t[0], idx_tensor(a["labels"]), reduction="mean"), labels=[2, 2, 0])
# Linear: x·Wᵀ + b (torch.nn.functional.linear); without b when there are two inputs.
case("Linear/bias", "Linear", [In([4, 3]), In([5, 3]), In([5])], lambda t, a: F.linear(t[0], t[1], t[2]))
case("Linear/nobias", "Linear", [In([4, 3]), In([5, 3])], lambda t, a: F.linear(t[0], t[1]))
case("Linear/batched", "Linear", [In([2, 4, 3]), In([5, 3]), In([5])], lambda t, a: F.linear(t[0], t[1], t[2]))
case("Linear/const_x", "Linear", [In([4, 3], grad=False), In([5, 3]), In([5])], lambda t, a: F.linear(t[0], t[1], t[2]))
# Powers at 0⁰, where the formulas give 0·∞ and PyTorch defines the
# gradient as 0 (pow_backward, pow_backward_self).
case("PowScalar/p0_at_zero", "PowScalar", [In([3, 4], "zeros_pos")], lambda t, a: torch.pow(t[0], a["p"]), p=0.0)
case("Pow/zeros", "Pow", [In([3, 4], "zeros_pos"), In([3, 4], "zeros_exp")], lambda t, a: torch.pow(t[0], t[1]))
# LinearReLU: relu(x·Wᵀ + b), fused in nabla.
case("LinearReLU/bias", "LinearReLU", [In([4, 3]), In([5, 3]), In([5])], lambda t, a: F.relu(F.linear(t[0], t[1], t[2])))
case("LinearReLU/nobias", "LinearReLU", [In([6, 3]), In([5, 3])], lambda t, a: F.relu(F.linear(t[0], t[1])))
case("LinearReLU/const_x", "LinearReLU", [In([2, 4, 3], grad=False), In([5, 3]), In([5])],
     lambda t, a: F.relu(F.linear(t[0], t[1], t[2])))


# Issue 14: the functions PyTorch users reach for daily.
for op, kind, fn in [("Log1p", "gt_m1", torch.log1p), ("Expm1", "small", torch.expm1),
                     ("LogSigmoid", "wide", F.logsigmoid), ("Sin", "wide", torch.sin), ("Cos", "wide", torch.cos)]:
    case(f"{op}/2d", op, [In([3, 4], kind)], lambda t, a, fn=fn: fn(t[0]))
    case(f"{op}/3d", op, [In([2, 3, 4], kind)], lambda t, a, fn=fn: fn(t[0]))
for tag, axes, kind in [("all", [], "wide"), ("axis1", [1], "wide"), ("neg3neg1", [-3, -1], "normal")]:
    case(f"LogSumExp/{tag}", "LogSumExp", [In([2, 3, 4], kind)],
         lambda t, a: torch.logsumexp(t[0], dim=all_axes(t[0], a["axes"])), axes=axes)
for op, fn in [("Variance", torch.var), ("Std", torch.std)]:
    for tag, axes, corr in [("all_c1", [], 1), ("axis1_c0", [1], 0), ("axes02_c1", [0, 2], 1), ("neg1_c2", [-1], 2)]:
        case(f"{op}/{tag}", op, [In([2, 3, 4])],
             lambda t, a, fn=fn: fn(t[0], dim=all_axes(t[0], a["axes"]), correction=a["correction"]),
             correction=corr, axes=axes)
# Norm: p null (JSON) is +inf.
for tag, p, axes, kind in [("p1_axis1", 1.0, [1], "away"), ("p2_all", 2.0, [], "normal"),
                           ("p2_zero_row", 2.0, [-1], "zero_row"), ("fro", 2.0, [-2, -1], "normal"),
                           ("inf_axis0", None, [0], "distinct"), ("p3_neg1", 3.0, [-1], "away")]:
    case(f"Norm/{tag}", "Norm", [In([2, 3, 4], kind)],
         lambda t, a: torch.linalg.vector_norm(t[0], ord=float("inf") if a["p"] is None else a["p"],
                                               dim=all_axes(t[0], a["axes"])), p=p, axes=axes)


def prod(x, axes):
    """torch.prod over several axes (it takes one at a time)."""
    if not axes:
        return torch.prod(x)
    for ax in sorted((a % x.dim() for a in axes), reverse=True):
        x = torch.prod(x, dim=ax)
    return x


for tag, axes, kind in [("all", [], "pos"), ("axis1", [1], "normal"), ("axes02", [0, 2], "normal"),
                        ("zeros", [-1], "one_zero_rows")]:
    case(f"Prod/{tag}", "Prod", [In([2, 3, 4], kind)], lambda t, a: prod(t[0], a["axes"]), axes=axes)
for tag, shape, axis in [("axis0", [3, 4], 0), ("neg1", [2, 3, 4], -1), ("mid", [2, 3, 4], 1)]:
    case(f"Cumsum/{tag}", "Cumsum", [In(shape)], lambda t, a: torch.cumsum(t[0], a["axis"]), axis=axis)
# MatMul with 1-D operands: torch.matmul's rules.
for tag, sa, sb in [("vec_vec", [4], [4]), ("vec_mat", [4], [4, 5]), ("mat_vec", [3, 4], [4]),
                    ("vec_batch", [4], [2, 4, 5]), ("batch_vec", [2, 3, 4], [4])]:
    case(f"MatMul/{tag}", "MatMul", [In(sa), In(sb)], lambda t, a: torch.matmul(t[0], t[1]))


def py_slice(x, axis, start, end):
    """x[..., start:end, ...] on axis, Python's negative indices included."""
    idx = [slice(None)] * x.dim()
    idx[axis] = slice(start, end)
    return x[tuple(idx)]


for tag, sx, axis, start, end in [("neg_start", [3, 5], 1, -3, 5), ("neg_both", [2, 3, 4], -1, -3, -1),
                                  ("neg_end", [4, 3], 0, 1, -1)]:
    case(f"Slice/{tag}", "Slice", [In(sx)], lambda t, a: py_slice(t[0], a["axis"], a["start"], a["end"]),
         axis=axis, start=start, end=end)



# Issue 10: convolutions, pooling, normalisation. Padding for Conv2D and
# ConvTranspose2D is [top, bottom, left, right] (nabla allows asymmetric
# padding; torch gets it through F.pad, or by cropping a transposed
# convolution's output).
def conv2d(t, a, relu=False):
    top, bottom, left, right = a["padding"]
    x = F.pad(t[0], (left, right, top, bottom))
    y = F.conv2d(x, t[1], t[2] if len(t) > 2 else None, stride=a["stride"], dilation=a["dilation"], groups=a["groups"])
    return F.relu(y) if relu else y


def conv_transpose2d(t, a):
    top, bottom, left, right = a["padding"]
    y = F.conv_transpose2d(t[0], t[1], t[2] if len(t) > 2 else None, stride=a["stride"],
                           output_padding=a["output_padding"], groups=a["groups"], dilation=a["dilation"])
    return y[:, :, top:y.shape[2] - bottom, left:y.shape[3] - right]


for tag, sx, sw, bias, stride, pad, dil, groups in [
        ("3x3_bias", [2, 3, 5, 6], [4, 3, 3, 3], True, [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ("stride2_pad1", [2, 2, 7, 5], [3, 2, 3, 3], True, [2, 2], [1, 1, 1, 1], [1, 1], 1),
        ("asym_pad", [1, 2, 5, 6], [3, 2, 2, 3], False, [1, 2], [1, 0, 2, 1], [1, 1], 1),
        ("dilation2", [1, 2, 7, 7], [2, 2, 3, 3], True, [1, 1], [2, 2, 2, 2], [2, 2], 1),
        ("groups2", [2, 4, 5, 5], [6, 2, 3, 3], False, [2, 2], [0, 0, 0, 0], [1, 1], 2),
        ("depthwise_same", [1, 3, 6, 5], [3, 1, 3, 3], True, [1, 1], [1, 1, 1, 1], [1, 1], 3),
        ("even_same", [1, 2, 5, 5], [2, 2, 4, 2], False, [1, 1], [1, 2, 0, 1], [1, 1], 1),
        ("pointwise", [2, 4, 3, 3], [5, 4, 1, 1], True, [1, 1], [0, 0, 0, 0], [1, 1], 1),
        ("big_tiled", [2, 3, 20, 18], [4, 3, 3, 3], True, [1, 1], [1, 1, 1, 1], [1, 1], 1)]:
    ins = [In(sx), In(sw)] + ([In([sw[0]])] if bias else [])
    case(f"Conv2D/{tag}", "Conv2D", ins, lambda t, a: conv2d(t, a),
         stride=stride, padding=pad, dilation=dil, groups=groups)
case("Conv2D/const_x", "Conv2D", [In([2, 3, 5, 5], grad=False), In([2, 3, 3, 3]), In([2])],
     lambda t, a: conv2d(t, a), stride=[1, 1], padding=[1, 1, 1, 1], dilation=[1, 1], groups=1)
for tag, sx, sw, pad in [("pad1", [2, 2, 4, 5], [3, 2, 3, 3], [1, 1, 1, 1]), ("valid", [1, 3, 5, 4], [2, 3, 2, 2], [0, 0, 0, 0])]:
    case(f"Conv2DReLU/{tag}", "Conv2DReLU", [In(sx), In(sw), In([sw[0]])], lambda t, a: conv2d(t, a, relu=True),
         stride=[1, 1], padding=pad, dilation=[1, 1], groups=1)
for tag, sx, sw, bias, stride, pad, dil, groups, op in [
        ("stride2_outpad", [2, 3, 3, 4], [3, 2, 3, 3], True, [2, 2], [1, 1, 1, 1], [1, 1], 1, [1, 1]),
        ("groups2_dil2", [1, 4, 3, 3], [4, 3, 2, 2], True, [1, 1], [0, 0, 0, 0], [2, 2], 2, [0, 0]),
        ("asym_pad", [1, 2, 4, 3], [2, 3, 3, 2], False, [2, 1], [1, 0, 0, 1], [1, 1], 1, [0, 0]),
        ("plain", [2, 2, 3, 3], [2, 4, 3, 3], True, [1, 1], [0, 0, 0, 0], [1, 1], 1, [0, 0])]:
    ins = [In(sx), In(sw)] + ([In([sw[1] * groups])] if bias else [])
    case(f"ConvTranspose2D/{tag}", "ConvTranspose2D", ins, conv_transpose2d,
         stride=stride, padding=pad, dilation=dil, groups=groups, output_padding=op)
for tag, sx, k, stride, pad, dil, ceil in [
        ("2x2", [2, 3, 6, 6], [2, 2], [2, 2], [0, 0], [1, 1], False),
        ("3x3_s2_p1", [1, 2, 7, 6], [3, 3], [2, 2], [1, 1], [1, 1], False),
        ("ceil", [1, 2, 5, 7], [2, 2], [2, 2], [0, 0], [1, 1], True),
        ("ceil_pad", [1, 2, 6, 5], [3, 3], [2, 2], [1, 1], [1, 1], True),
        ("dilation2", [1, 1, 7, 7], [3, 2], [1, 2], [0, 0], [2, 2], False)]:
    case(f"MaxPool2D/{tag}", "MaxPool2D", [In(sx, "distinct")],
         lambda t, a: F.max_pool2d(t[0], a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"]),
         kernel=k, stride=stride, padding=pad, dilation=dil, ceil_mode=ceil)
for tag, sx, k, stride, pad, ceil, incl, div in [
        ("2x2", [2, 3, 6, 6], [2, 2], [2, 2], [0, 0], False, True, None),
        ("3x3_s2_p1", [1, 2, 7, 6], [3, 3], [2, 2], [1, 1], False, True, None),
        ("exclude_ceil", [1, 2, 5, 7], [3, 2], [2, 2], [1, 1], True, False, None),
        ("include_ceil", [1, 2, 5, 7], [3, 2], [2, 2], [1, 1], True, True, None),
        ("divisor5", [1, 2, 5, 5], [2, 3], [1, 2], [0, 0], False, True, 5)]:
    case(f"AvgPool2D/{tag}", "AvgPool2D", [In(sx)],
         lambda t, a: F.avg_pool2d(t[0], a["kernel"], a["stride"], a["padding"], a["ceil_mode"],
                                   a["count_include_pad"], a["divisor"]),
         kernel=k, stride=stride, padding=pad, ceil_mode=ceil, count_include_pad=incl, divisor=div)
for tag, sx, out in [("7x5_to_3x2", [2, 2, 7, 5], [3, 2]), ("global", [2, 3, 3, 4], [1, 1]),
                     ("upsample", [1, 2, 3, 2], [4, 5])]:
    case(f"AdaptiveAvgPool2D/{tag}", "AdaptiveAvgPool2D", [In(sx)],
         lambda t, a: F.adaptive_avg_pool2d(t[0], a["out"]), out=out)
for tag, sx, affine in [("4d_affine", [4, 3, 2, 3], True), ("2d_plain", [5, 4], False), ("3d_affine", [3, 2, 5], True)]:
    c = sx[1]
    ins = [In(sx)] + ([In([c], "pos"), In([c])] if affine else [])
    case(f"BatchNorm/{tag}", "BatchNorm", ins,
         lambda t, a: F.batch_norm(t[0], None, None, t[1] if len(t) > 1 else None, t[2] if len(t) > 1 else None,
                                   training=True, eps=a["eps"]), eps=1e-5)
for tag, sx, affine in [("4d_affine", [4, 3, 2, 3], True), ("2d_plain", [6, 4], False)]:
    c = sx[1]
    ins = [In(sx)] + ([In([c], "pos"), In([c])] if affine else [])
    case(f"BatchNormReLU/{tag}", "BatchNormReLU", ins,
         lambda t, a: F.relu(F.batch_norm(t[0], None, None, t[1] if len(t) > 1 else None,
                                          t[2] if len(t) > 1 else None, training=True, eps=a["eps"])), eps=1e-5)
for tag, sx, dims, affine in [("last", [3, 5], 1, True), ("last2", [2, 3, 4], 2, True), ("plain", [2, 3, 4], 1, False)]:
    ns = sx[len(sx) - dims:]
    ins = [In(sx)] + ([In(ns, "pos"), In(ns)] if affine else [])
    case(f"LayerNorm/{tag}", "LayerNorm", ins,
         lambda t, a, ns=ns: F.layer_norm(t[0], ns, t[1] if len(t) > 1 else None, t[2] if len(t) > 1 else None,
                                          eps=a["eps"]), dims=dims, eps=1e-5)
for tag, sx, groups, affine in [("6c_3g", [2, 6, 3, 2], 3, True), ("1g_plain", [2, 4, 3], 1, False),
                                ("depthwise_groups", [2, 4, 2, 2], 4, True)]:
    c = sx[1]
    ins = [In(sx)] + ([In([c], "pos"), In([c])] if affine else [])
    case(f"GroupNorm/{tag}", "GroupNorm", ins,
         lambda t, a: F.group_norm(t[0], a["groups"], t[1] if len(t) > 1 else None, t[2] if len(t) > 1 else None,
                                   eps=a["eps"]), groups=groups, eps=1e-5)

# (Added after the cases above, so that their random inputs stay as they were.)
# Conv2DMaxPool and Conv2DReLUMaxPool: a convolution, (a ReLU,) and a max
# pooling as one op in nabla, the three functions in turn here. Random
# inputs make the convolution's outputs distinct, so no window has a tie
# (the ReLU's zeros tie, but their gradient is zero whichever is taken).
for tag, sx, sw, pad, k, stride, ppad, relu in [
        ("same_2x2", [2, 2, 6, 6], [3, 2, 3, 3], [1, 1, 1, 1], [2, 2], [2, 2], [0, 0], False),
        ("valid_3x3_s2_p1", [1, 3, 7, 6], [2, 3, 2, 2], [0, 0, 0, 0], [3, 3], [2, 2], [1, 1], False),
        ("relu_same_2x2", [2, 2, 6, 6], [3, 2, 3, 3], [1, 1, 1, 1], [2, 2], [2, 2], [0, 0], True),
        ("relu_odd_2x2", [1, 2, 7, 5], [4, 2, 3, 3], [1, 1, 1, 1], [2, 2], [2, 2], [0, 0], True)]:
    name = "Conv2DReLUMaxPool" if relu else "Conv2DMaxPool"
    case(f"{name}/{tag}", name, [In(sx), In(sw), In([sw[0]])],
         lambda t, a, relu=relu: F.max_pool2d(conv2d(t, a, relu=relu), a["kernel"], a["pool_stride"], a["pool_padding"]),
         stride=[1, 1], padding=pad, dilation=[1, 1], groups=1, kernel=k, pool_stride=stride, pool_padding=ppad)

# ChannelAffine(ReLU): x·scale + shift per channel (a BatchNorm in
# evaluation mode), in one op in nabla.
for tag, sx, shift, relu in [("4d", [2, 3, 2, 3], True, False), ("2d_noshift", [4, 3], False, False),
                             ("relu_3d", [2, 3, 4], True, True)]:
    name = "ChannelAffineReLU" if relu else "ChannelAffine"
    view = [1, sx[1]] + [1] * (len(sx) - 2)
    ins = [In(sx), In([sx[1]])] + ([In([sx[1]])] if shift else [])

    def affine(t, a, view=view, relu=relu):
        y = t[0] * t[1].view(view)
        if len(t) > 2:
            y = y + t[2].view(view)
        return F.relu(y) if relu else y
    case(f"{name}/{tag}", name, ins, affine)

# Cases where nabla is known to disagree with torch because of a bug in
# nabla: case name (without the dtype suffix) -> description. The Go test
# reports each one as a failure until the bug is fixed and the entry is
# removed. (A legitimate convention difference is instead avoided by the
# choice of inputs; see the module docstring.) None at present.
KNOWN_BUGS = {}

# ---------------------------------------------------------------- run


def tensor_json(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": a.ravel().tolist()}


def run(inputs, specs, attrs, fn, dtype, upstream=None):
    """Forward and backward in torch; returns output, upstream, grads."""
    ts = [torch.tensor(v, dtype=dtype, requires_grad=i.grad) for v, i in zip(inputs, specs)]
    out = fn(ts, attrs)
    if upstream is None:
        upstream = gen(list(out.shape), "normal")
    out.backward(torch.tensor(upstream, dtype=dtype))
    grads = [t.grad.detach().double().numpy() if i.grad else None for t, i in zip(ts, specs)]
    return out.detach().double().numpy(), upstream, grads


def main():
    assert set(KNOWN_BUGS) <= {c[0] for c in CASES}, "KNOWN_BUGS names an unknown case"
    cases, names = [], set()
    for name, op, ins, attrs, fn in CASES:
        assert name not in names, name
        names.add(name)
        vals = []
        for i in ins:
            if isinstance(i.kind, tuple):  # ("clamp", lo, hi)
                vals.append(clamp_input(i.kind[1], i.kind[2], i.shape))
            else:
                vals.append(gen(i.shape, i.kind))
        out64, up, g64 = run(vals, ins, attrs, fn, torch.float64)
        vals32 = [v.astype(np.float32).astype(np.float64) for v in vals]
        up32 = up.astype(np.float32).astype(np.float64)
        out32, _, g32 = run(vals32, ins, attrs, fn, torch.float32, up32)
        check_no_ties(name, op, vals32)
        for dt, vs, u, o, gs in [("float64", vals, up, out64, g64), ("float32", vals32, up32, out32, g32)]:
            cases.append({
                "name": f"{name}/{dt}",
                "op": op,
                "dtype": dt,
                "attrs": attrs,
                "inputs": [dict(tensor_json(v), grad=i.grad) for v, i in zip(vs, ins)],
                "upstream": tensor_json(u),
                "output": tensor_json(o),
                "grads": [None if g is None else tensor_json(g) for g in gs],
            })
            if name in KNOWN_BUGS:
                cases[-1]["known_bug"] = KNOWN_BUGS[name]
    doc = {
        "generator": "testdata/golden/gen_golden.py",
        "command": "/usr/bin/python3 testdata/golden/gen_golden.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "seed": SEED,
        "note": "grads[i] is the gradient of sum(output*upstream) w.r.t. inputs[i], null where inputs[i].grad "
                "is false; float32 cases take the float64 inputs rounded to float32 and are computed by "
                "torch in float32.",
        "cases": cases,
    }
    # One case per line, so that a regenerated file diffs case by case.
    dump = lambda v: json.dumps(v, separators=(",", ":"), allow_nan=False)
    head = dump({k: v for k, v in doc.items() if k != "cases"})[:-1]
    with open(OUT, "w") as f:
        f.write(head + ',"cases":[\n')
        f.write(",\n".join(dump(c) for c in doc["cases"]))
        f.write("\n]}\n")
    per = {}
    for c in cases:
        per[c["dtype"]] = per.get(c["dtype"], 0) + 1
    print(f"wrote {OUT}: {per}, {os.path.getsize(OUT)} bytes")


def check_no_ties(name, op, vals):
    """Guard the kink-free choice of inputs, in the float32 rounding too."""
    if op in ("Maximum", "Minimum"):
        a, b = np.broadcast_arrays(vals[0], vals[1])
        assert np.min(np.abs(a - b)) > 1e-3, name
    if op in ("Max", "MaxKeep", "Min", "MinKeep", "MaxPool2D"):
        assert len(np.unique(vals[0])) == vals[0].size, name


if __name__ == "__main__":
    main()
