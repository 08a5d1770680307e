#!/usr/bin/python3
"""Checks nabla's ONNX export and import against ONNX and PyTorch.

Needs onnx (1.12), numpy and torch (1.13), as Debian bookworm packages them
(python3-onnx, python3-numpy, python3-torch). onnxruntime, the reference
runtime, is not packaged there; where it is installed the script compares
with it too (onnxruntime_output), but it does not need it: it evaluates
graphs with its own numpy evaluator (evaluate below), written from the ONNX
operator specifications, independently of nabla's Go code.

1. nabla -> ONNX. For every nabla/<case>.onnx (written by
   `go test ./onnx -run TestExportReference -update`, with the fixed input
   and nabla's output in nabla/<case>.json) it runs
   onnx.checker.check_model(full_check=True) and shape inference, checks
   the inferred output shape against the declared one, evaluates the graph
   on the input with numpy and compares with nabla's output (|a-b| <=
   1e-5 + 1e-5*|b|). It writes nabla/<case>.ref.json: numpy's output and the
   SHA-256 of the file it checked, which the Go tests read, so that CI,
   which has no Python, checks nabla against these outputs and knows the
   exported file is still the one checked here.

2. PyTorch -> ONNX. It builds small PyTorch models with fixed seeds,
   exports them with torch.onnx.export (opset 17, dynamic batch), checks
   them the same way, and writes torch/<case>.onnx and torch/<case>.json
   (input, torch's output). The Go tests import each file into nabla and
   compare with torch's output.

Usage:
    /usr/bin/python3 testdata/onnx/check.py           # check, write the reference files
    /usr/bin/python3 testdata/onnx/check.py --verify  # check, write nothing; fail on a difference

Exit status 1 on any failed check.
"""

import hashlib
import io
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
ATOL = RTOL = 1e-5

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg)


# ---------------------------------------------------------------- evaluator

def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def pads_of(a, nd):
    p = a.get("pads", [0] * (2 * nd))
    return p[:nd], p[nd:]


def conv(x, w, b, a):
    nd = x.ndim - 2
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    group = a.get("group", 1)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError("auto_pad is not supported by this evaluator")
    lo, hi = pads_of(a, nd)
    x = np.pad(x, [(0, 0), (0, 0)] + [(lo[i], hi[i]) for i in range(nd)])
    n, c = x.shape[:2]
    m, cg, kh, kw = w.shape
    oh = (x.shape[2] - dil[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (x.shape[3] - dil[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, m, oh, ow))
    mg = m // group
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dil[0]: i * dil[0] + strides[0] * (oh - 1) + 1: strides[0],
                           j * dil[1]: j * dil[1] + strides[1] * (ow - 1) + 1: strides[1]]
                out[:, g * mg:(g + 1) * mg] += np.einsum("nchw,mc->nmhw", patch, w[g * mg:(g + 1) * mg, :, i, j])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def conv_transpose(x, w, b, a):
    nd = x.ndim - 2
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    group = a.get("group", 1)
    outpad = a.get("output_padding", [0] * nd)
    lo, hi = pads_of(a, nd)
    n, c, h, wd = x.shape
    _, mg, kh, kw = w.shape
    cg = c // group
    fh = (h - 1) * strides[0] + dil[0] * (kh - 1) + 1 + outpad[0]
    fw = (wd - 1) * strides[1] + dil[1] * (kw - 1) + 1 + outpad[1]
    full = np.zeros((n, mg * group, fh, fw))
    for g in range(group):
        xs = x[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                contrib = np.einsum("nchw,cm->nmhw", xs, w[g * cg:(g + 1) * cg, :, i, j])
                full[:, g * mg:(g + 1) * mg, i * dil[0]: i * dil[0] + strides[0] * (h - 1) + 1: strides[0],
                     j * dil[1]: j * dil[1] + strides[1] * (wd - 1) + 1: strides[1]] += contrib
    out = full[:, :, lo[0]: fh - hi[0], lo[1]: fw - hi[1]]
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def pool(x, a, kind):
    k = a["kernel_shape"]
    nd = len(k)
    strides = a.get("strides", [1] * nd)
    dil = a.get("dilations", [1] * nd)
    lo, hi = pads_of(a, nd)
    fill = -np.inf if kind == "max" else 0.0
    if a.get("ceil_mode", 0):
        # ONNX: out = ceil((H + pads - dilation*(k-1) - 1)/stride) + 1; the
        # last windows may reach past the end padding (max pooling only).
        if kind != "max":
            raise ValueError("ceil_mode with average pooling is not supported by this evaluator")
        hi = list(hi)
        for i in range(nd):
            span = x.shape[2 + i] + lo[i] + hi[i] - dil[i] * (k[i] - 1) - 1
            out = -(-span // strides[i]) + 1
            hi[i] += max(0, (out - 1) * strides[i] + dil[i] * (k[i] - 1) + 1 - (x.shape[2 + i] + lo[i] + hi[i]))
    xp = np.pad(x, [(0, 0), (0, 0)] + [(lo[i], hi[i]) for i in range(nd)], constant_values=fill)
    ones = np.pad(np.ones(x.shape[2:]), [(lo[i], hi[i]) for i in range(nd)])
    oh = (xp.shape[2] - dil[0] * (k[0] - 1) - 1) // strides[0] + 1
    ow = (xp.shape[3] - dil[1] * (k[1] - 1) - 1) // strides[1] + 1
    acc = np.full(x.shape[:2] + (oh, ow), fill)
    cnt = np.zeros((oh, ow))
    for i in range(k[0]):
        for j in range(k[1]):
            sl = (slice(i * dil[0], i * dil[0] + strides[0] * (oh - 1) + 1, strides[0]),
                  slice(j * dil[1], j * dil[1] + strides[1] * (ow - 1) + 1, strides[1]))
            patch = xp[(slice(None), slice(None)) + sl]
            if kind == "max":
                acc = np.maximum(acc, patch)
            else:
                acc = acc + patch
                cnt = cnt + ones[sl]
    if kind == "max":
        return acc
    if a.get("count_include_pad", 0):
        return acc / (k[0] * k[1])
    return acc / cnt


def evaluate(model, feeds):
    """Runs model's graph on feeds (name -> array) in float64, node by node
    in file order (ONNX requires nodes in topological order)."""
    g = model.graph
    env = {}
    for t in g.initializer:
        env[t.name] = numpy_helper.to_array(t)
    for k, v in feeds.items():
        env[k] = v
    f = lambda v: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == "f" else np.asarray(v)
    for node in g.node:
        a = attrs(node)
        x = [f(env[i]) if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Identity" or op == "Dropout":
            y = x[0]
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Pow": np.power}[op](x[0], x[1])
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "LeakyRelu":
            y = np.where(x[0] >= 0, x[0], a.get("alpha", 0.01) * x[0])
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-x[0]))
        elif op == "Tanh":
            y = np.tanh(x[0])
        elif op == "Elu":
            al = a.get("alpha", 1.0)
            y = np.where(x[0] > 0, x[0], al * (np.exp(x[0]) - 1))
        elif op == "Erf":
            y = erf(x[0])
        elif op == "Softplus":
            y = np.log(np.exp(x[0]) + 1)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Softmax":
            y = softmax(x[0], a.get("axis", -1))
        elif op == "LogSoftmax":
            y = np.log(softmax(x[0], a.get("axis", -1)))
        elif op == "Shape":
            y = np.array(x[0].shape, dtype=np.int64)
        elif op == "Slice":
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
            sl = [slice(None)] * x[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s), int(e), int(st))
            y = x[0][tuple(sl)]
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Gather":
            y = np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1]):
                y = np.expand_dims(y, ax)
        elif op == "Pad":
            if a.get("mode", b"constant") not in (b"constant", "constant"):
                raise ValueError("Pad mode %s is not supported by this evaluator" % a.get("mode"))
            p = [int(v) for v in x[1]]
            nd = x[0].ndim
            value = float(x[2]) if len(x) > 2 and x[2] is not None else 0.0
            y = np.pad(x[0], [(p[i], p[i + nd]) for i in range(nd)], constant_values=value)
        elif op == "Conv":
            y = conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "ConvTranspose":
            y = conv_transpose(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "MaxPool":
            y = pool(x[0], a, "max")
        elif op == "AveragePool":
            y = pool(x[0], a, "avg")
        elif op == "GlobalAveragePool":
            y = x[0].mean(axis=tuple(range(2, x[0].ndim)), keepdims=True)
        elif op == "BatchNormalization":
            sh = (1, -1) + (1,) * (x[0].ndim - 2)
            scale, bias, mean, var = (v.reshape(sh) for v in x[1:5])
            y = (x[0] - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale + bias
        elif op == "LayerNormalization":
            ax = a.get("axis", -1) % x[0].ndim
            axes = tuple(range(ax, x[0].ndim))
            mu = x[0].mean(axis=axes, keepdims=True)
            var = ((x[0] - mu) ** 2).mean(axis=axes, keepdims=True)
            y = (x[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * x[1]
            if len(x) > 2 and x[2] is not None:
                y = y + x[2]
        elif op == "InstanceNormalization":
            axes = tuple(range(2, x[0].ndim))
            mu = x[0].mean(axis=axes, keepdims=True)
            var = ((x[0] - mu) ** 2).mean(axis=axes, keepdims=True)
            sh = (1, -1) + (1,) * (x[0].ndim - 2)
            y = (x[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * x[1].reshape(sh) + x[2].reshape(sh)
        else:
            raise ValueError("the numpy evaluator has no op %s" % op)
        env[node.output[0]] = y
    return [env[o.name] for o in g.output]


# ------------------------------------------------------------------ checks

def declared_shape(vi):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in vi.type.tensor_type.shape.dim]


def onnxruntime_output(model, x):
    """The output of onnxruntime, the reference runtime, where it is
    installed (it is not packaged in Debian bookworm); else None."""
    try:
        import onnxruntime
    except ImportError:
        return None
    sess = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {model.graph.input[0].name: x})[0]


def check_model(name, model, x):
    """Checker, shape inference, onnxruntime where installed; returns the
    numpy evaluator's output on x."""
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:
        fail("%s: checker: %s" % (name, e))
    try:
        inferred = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        shapes = {vi.name: declared_shape(vi) for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
        out = model.graph.output[0]
        if shapes.get(out.name) != declared_shape(out):
            fail("%s: shape inference gives %s for %s, the file declares %s" % (name, shapes.get(out.name), out.name, declared_shape(out)))
    except Exception as e:
        fail("%s: shape inference: %s" % (name, e))
    try:
        y = evaluate(model, {model.graph.input[0].name: x})[0]
    except Exception as e:
        fail("%s: numpy evaluator: %s" % (name, e))
        return np.full(1, np.nan)
    ort = onnxruntime_output(model, x)
    if ort is not None:
        compare(name, "numpy evaluator vs onnxruntime", y, ort)
    return y


def compare(name, what, got, want):
    got, want = np.asarray(got, dtype=np.float64).ravel(), np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        fail("%s: %s: %d values, want %d" % (name, what, got.size, want.size))
        return float("inf")
    err = np.abs(got - want)
    bad = err > ATOL + RTOL * np.abs(want)
    if bad.any():
        i = int(np.argmax(err))
        fail("%s: %s: value %d is %r, want %r" % (name, what, i, got[i], want[i]))
    return float(err.max()) if err.size else 0.0


def check_nabla(verify):
    d = os.path.join(HERE, "nabla")
    names = sorted(f[:-5] for f in os.listdir(d) if f.endswith(".onnx"))
    for name in names:
        path = os.path.join(d, name + ".onnx")
        raw = open(path, "rb").read()
        model = onnx.load_from_string(raw)
        case = json.load(open(os.path.join(d, name + ".json")))
        dt = np.float64 if model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE else np.float32
        x = np.array(case["input"], dtype=dt).reshape(case["input_shape"])
        before = len(failures)
        y = check_model(name, model, x)
        if list(y.shape) != case["output_shape"]:
            fail("%s: output shape %s, nabla's is %s" % (name, list(y.shape), case["output_shape"]))
        diff = compare(name, "numpy evaluator vs nabla", y, case["nabla"])
        if len(failures) == before:
            print("nabla/%s: checker, shape inference ok; max |numpy - nabla| = %.2e" % (name, diff))
        ref = {"sha256": hashlib.sha256(raw).hexdigest(), "output_shape": list(y.shape),
               "numpy": [float(v) for v in y.ravel()], "max_abs_diff_vs_nabla": diff,
               "onnx": onnx.__version__, "reference": "numpy evaluator in check.py"}
        rpath = os.path.join(d, name + ".ref.json")
        if verify:
            old = json.load(open(rpath)) if os.path.exists(rpath) else None
            if old is None or old["sha256"] != ref["sha256"]:
                fail("%s: %s was not written for this file: run check.py without --verify" % (name, rpath))
            else:
                compare(name, "numpy evaluator vs committed reference", y, old["numpy"])
        else:
            with open(rpath, "w") as fh:
                json.dump(ref, fh)
                fh.write("\n")
    return len(names)


# ------------------------------------------------------------ torch models

def torch_models():
    import torch
    from torch import nn

    def mlp(acts, sizes, seed, bias=True, flatten=False):
        torch.manual_seed(seed)
        layers = [nn.Flatten()] if flatten else []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=bias if i == len(sizes) - 2 else True))
            if i < len(sizes) - 2:
                layers.append(acts[i % len(acts)])
        return nn.Sequential(*layers)

    def seeded(seed, make):
        torch.manual_seed(seed)
        return make()

    def randomize_norms(model):
        # Running statistics and affine parameters other than their initial
        # zeros and ones, so that the outputs depend on them.
        g = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                    m.running_mean.copy_(0.3 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)) and m.weight is not None:
                    m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=g))
        return model

    cases = {
        "mlp_relu": (mlp([nn.ReLU()], [6, 16, 16, 4], 1), [5, 6]),
        "mlp_activations": (mlp([nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.ELU(0.7), nn.GELU(),
                                 nn.GELU(approximate="tanh"), nn.SiLU(), nn.Softplus()], [5] + [7] * 8 + [3], 2), [4, 5]),
        "mlp_dropout_nobias": (seeded(3, lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3),
                                                             nn.Linear(8, 3, bias=False))), [3, 4]),
        "mlp_image": (mlp([nn.ReLU()], [16, 12, 10], 4, flatten=True), [3, 1, 4, 4]),
        # flatten(start_dim=2) exports as Shape, Slice, Concat and Reshape;
        # a Linear on 3-D inputs as MatMul and Add.
        "flatten_partial": (seeded(5, lambda: nn.Sequential(nn.Flatten(2), nn.Linear(4, 5), nn.GELU(), nn.Flatten(),
                                                          nn.Linear(15, 3))), [3, 3, 2, 2]),
        # torch.onnx.export folds a BatchNorm2d after a Conv2d into the
        # convolution's weight and bias.
        "cnn": (randomize_norms(seeded(6, lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, stride=2, groups=2, bias=False), nn.GELU(), nn.AdaptiveAvgPool2d(1),
            nn.Flatten(), nn.Linear(8, 3)))), [2, 1, 10, 10]),
        # GroupNorm as Reshape, InstanceNormalization, Reshape, Mul, Add;
        # AvgPool2d(padding=1) as Pad and AveragePool.
        "cnn_norms": (randomize_norms(seeded(7, lambda: nn.Sequential(
            nn.Conv2d(2, 4, 3), nn.GroupNorm(2, 4), nn.SiLU(), nn.AvgPool2d(2, padding=1),
            nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), nn.LayerNorm([2, 8, 8]),
            nn.Dropout2d(0.2), nn.Flatten(), nn.Linear(128, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.1),
            nn.Linear(8, 3)))), [2, 2, 8, 8]),
        # A dilated convolution and a final Softmax (which nabla takes off).
        "cnn_dilated_softmax": (seeded(9, lambda: nn.Sequential(
            nn.Conv2d(1, 2, 3, dilation=2, padding=2), nn.Tanh(), nn.Flatten(), nn.Linear(32, 3),
            nn.Softmax(dim=1))), [2, 1, 4, 4]),
        "cnn_pool": (randomize_norms(seeded(8, lambda: nn.Sequential(
            nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), nn.AdaptiveAvgPool2d(2),
            nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 3)))), [2, 3, 10, 10]),
    }
    return cases


def export_torch(model, x):
    import torch
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=17, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return f.getvalue()


def check_torch(verify):
    import torch
    d = os.path.join(HERE, "torch")
    os.makedirs(d, exist_ok=True)
    cases = torch_models()
    for name, (model, shape) in cases.items():
        model.eval()
        g = torch.Generator().manual_seed(100)
        x = torch.randn(*shape, generator=g)
        with torch.no_grad():
            want = model(x).numpy()
        raw = export_torch(model, x)
        mpath, jpath = os.path.join(d, name + ".onnx"), os.path.join(d, name + ".json")
        if verify:
            raw = open(mpath, "rb").read()
            old = json.load(open(jpath))
            compare(name, "torch now vs committed torch output", want, old["torch"])
            compare(name, "committed input", x.numpy(), old["input"])
        model_proto = onnx.load_from_string(raw)
        before = len(failures)
        y = check_model("torch/" + name, model_proto, x.numpy())
        diff = compare("torch/" + name, "numpy evaluator vs torch", y, want)
        if len(failures) == before:
            print("torch/%s: checker, shape inference ok; max |numpy - torch| = %.2e" % (name, diff))
        if not verify:
            with open(mpath, "wb") as fh:
                fh.write(raw)
            with open(jpath, "w") as fh:
                json.dump({"input_shape": list(shape), "input": [float(v) for v in x.numpy().ravel()],
                           "output_shape": list(want.shape), "torch": [float(v) for v in want.ravel()],
                           "torch_version": torch.__version__, "onnx": onnx.__version__}, fh)
                fh.write("\n")
    return len(cases)


def main():
    verify = "--verify" in sys.argv[1:]
    n = check_nabla(verify)
    m = check_torch(verify)
    if failures:
        print("%d failures" % len(failures))
        sys.exit(1)
    print("ok: %d nabla exports, %d torch exports checked" % (n, m))


if __name__ == "__main__":
    main()
