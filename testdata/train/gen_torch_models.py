#!/usr/bin/python3
"""PyTorch model files in the dtypes real safetensors files use.

Run from the repository root (needs Debian's python3-torch, 1.13):

    /usr/bin/python3 testdata/train/gen_torch_models.py

For each of float64, float16 and bfloat16 it writes torch_mlp_<dtype>.safetensors,
the state_dict of Sequential(Linear(4, 8), ReLU(), Linear(8, 3)) after
torch.manual_seed(SEED) converted to that dtype (metadata {"format": "pt"}),
and torch_mlp_<dtype>.json with an input batch (5x4) and torch's logits for
it, computed in float64 from the stored (rounded) weights. The Go test
train/interop_test.go loads each file with train.LoadModel and compares.
The encoder is testdata/safetensors/gen_fixtures.py's.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "safetensors"))
from gen_fixtures import encode  # noqa: E402

SEED = 20261207


def main():
    torch.manual_seed(SEED)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(5, 4, dtype=torch.float64)
    for name, dt in [("f64", torch.float64), ("f16", torch.float16), ("bf16", torch.bfloat16)]:
        sd = {k: v.detach().to(dt) for k, v in net.state_dict().items()}
        ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
        ref.load_state_dict({k: v.double() for k, v in sd.items()}, strict=True)
        with torch.no_grad():
            logits = ref(x)
        with open(os.path.join(HERE, f"torch_mlp_{name}.safetensors"), "wb") as f:
            f.write(encode(sd, {"format": "pt"}))
        with open(os.path.join(HERE, f"torch_mlp_{name}.json"), "w") as f:
            json.dump({
                "source": "testdata/train/gen_torch_models.py (PyTorch %s)" % torch.__version__,
                "dtype": name,
                "input": x.reshape(-1).tolist(), "input_shape": list(x.shape),
                "logits": logits.reshape(-1).tolist(),
            }, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
