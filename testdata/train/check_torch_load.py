#!/usr/bin/python3
"""Check that PyTorch loads a model file written by nabla.

Run from the repository root:

    /usr/bin/python3 testdata/train/check_torch_load.py testdata/train/nabla_mlp.safetensors testdata/train/nabla_mlp.json

The JSON (written by the Go test train/interop_test.go) names the
architecture, an input batch and nabla's logits for it. This script parses
the safetensors file with the reader in ../safetensors/gen_fixtures.py (the
`safetensors` Python package is not installed here), builds the same
torch.nn.Sequential, loads the tensors with load_state_dict(strict=True),
runs the batch, and requires torch's logits to equal nabla's within 1e-5
(relative to the largest logit). It prints "ok" and exits 0 on success.
Needs Debian's python3-torch (1.13).
"""

import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "safetensors"))
from gen_fixtures import decode  # noqa: E402

ACTIVATIONS = {
    "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
    "gelu": torch.nn.GELU, "silu": torch.nn.SiLU, "softplus": torch.nn.Softplus,
    "elu": torch.nn.ELU, "leaky-relu": torch.nn.LeakyReLU,
    "gelu-tanh": lambda: torch.nn.GELU(approximate="tanh"),
}


def main(model_path, json_path):
    with open(model_path, "rb") as f:
        tensors, metadata = decode(f.read())
    with open(json_path) as f:
        spec = json.load(f)
    sizes = [spec["in"]] + spec["hidden"] + [spec["out"]]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[spec["activation"]]())
    model = torch.nn.Sequential(*layers)
    model.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=True)
    x = torch.tensor(spec["input"], dtype=torch.float32).reshape(spec["input_shape"])
    with torch.no_grad():
        got = model(x)
    want = torch.tensor(spec["logits"], dtype=torch.float32).reshape(got.shape)
    err = float((got - want).abs().max() / want.abs().max())
    if err > 1e-5:
        print(f"logits differ: relative error {err:.3g}\ntorch {got}\nnabla {want}")
        return 1
    print(f"ok: torch loads {model_path} (metadata {metadata}); logits agree to {err:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
