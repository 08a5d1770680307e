#!/usr/bin/python3
"""PyTorch reference files for nabla's convolutional layer kinds (issue 10).

Run from the repository root (needs Debian's python3-torch, 1.13):

    /usr/bin/python3 testdata/cnn/gen_torch_cnn.py            # write the torch files
    /usr/bin/python3 testdata/cnn/gen_torch_cnn.py check M J  # check nabla's file M against J

Both modes build the torch.nn.Sequential below, which uses every layer kind
of issue 10 and is the same model as nabla's spec in TEXT (nn/interop_test.go
builds it from that text):

  - write: after torch.manual_seed(SEED) the parameters are drawn by torch's
    default init and then perturbed (so that norm layers' weights are not
    ones), three training-mode batches update the BatchNorm running
    statistics, and the state_dict is saved as torch_cnn.safetensors, in
    float32 with num_batches_tracked as I64, as torch writes it (metadata
    {"format": "pt"}). torch_cnn.json holds an input batch and torch's
    evaluation-mode logits for it, and, for a lone BatchNorm2d(3), a
    training-mode batch, its output, and the running statistics after two
    such batches (PyTorch's momentum 0.1 and unbiased running variance).
  - check: loads nabla's file M with load_state_dict(strict=True) into the
    same Sequential, runs J's input in evaluation mode and requires torch's
    logits to equal J's (nabla's) within 1e-5 relative to the largest. It
    prints "ok" and exits 0 on success.

The safetensors encoder and decoder are testdata/safetensors/gen_fixtures.py's.
"""

import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "safetensors"))
from gen_fixtures import decode, encode  # noqa: E402

SEED = 20261207
INPUT = [2, 8, 8]  # one example: [C, H, W]
TEXT = ("conv(4, 3, pad=1)-batchnorm2d-relu-conv(6, 3, same=true, groups=2, bias=false)-groupnorm(3)-"
        "maxpool(2, ceil_mode=true)-convt(3, 2, stride=2, output_padding=1)-"
        "avgpool(3, stride=2, pad=1, count_include_pad=false)-dropout2d(0.2)-adaptiveavgpool(2)-"
        "layernorm(dims=3)-flatten-linear(6)-batchnorm1d-relu-linear(3)")


def model():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 6, 3, padding="same", groups=2, bias=False), nn.GroupNorm(3, 6),
        nn.MaxPool2d(2, ceil_mode=True), nn.ConvTranspose2d(6, 3, 2, stride=2, output_padding=1),
        nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), nn.Dropout2d(0.2),
        nn.AdaptiveAvgPool2d(2), nn.LayerNorm([3, 2, 2]), nn.Flatten(),
        nn.Linear(12, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def write():
    torch.manual_seed(SEED)
    net = model()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(5, *INPUT))
    net.eval()
    x = torch.randn(4, *INPUT)
    with torch.no_grad():
        logits = net(x)
    sd = {k: v.detach().clone() for k, v in net.state_dict().items()}
    with open(os.path.join(HERE, "torch_cnn.safetensors"), "wb") as f:
        f.write(encode(sd, {"format": "pt"}))

    bn = nn.BatchNorm2d(3)
    b1, b2 = torch.randn(4, 3, 2, 3) * 2 + 1, torch.randn(4, 3, 2, 3) - 0.5
    with torch.no_grad():
        bn(b1)
        y2 = bn(b2)
    with open(os.path.join(HERE, "torch_cnn.json"), "w") as f:
        json.dump({
            "source": "testdata/cnn/gen_torch_cnn.py (PyTorch %s, seed %d)" % (torch.__version__, SEED),
            "text": TEXT, "example": INPUT,
            "input": x.reshape(-1).tolist(), "input_shape": list(x.shape),
            "logits": logits.reshape(-1).tolist(),
            "batchnorm": {
                "batches": [b1.reshape(-1).tolist(), b2.reshape(-1).tolist()], "shape": list(b1.shape),
                "output": y2.reshape(-1).tolist(),
                "running_mean": bn.running_mean.tolist(), "running_var": bn.running_var.tolist(),
                "num_batches_tracked": int(bn.num_batches_tracked),
            },
        }, f, indent=1)
        f.write("\n")


def check(model_path, json_path):
    with open(model_path, "rb") as f:
        tensors, metadata = decode(f.read())
    with open(json_path) as f:
        ref = json.load(f)
    net = model()
    net.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=True)
    net.eval()
    x = torch.tensor(ref["input"], dtype=torch.float32).reshape(ref["input_shape"])
    with torch.no_grad():
        got = net(x)
    want = torch.tensor(ref["logits"], dtype=torch.float32).reshape(got.shape)
    err = float((got - want).abs().max() / want.abs().max())
    if err > 1e-5:
        print(f"logits differ: relative error {err:.3g}\ntorch {got}\nnabla {want}")
        return 1
    print(f"ok: torch loads {model_path} with strict=True; logits agree to {err:.2g}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    write()
