#!/usr/bin/python3
"""Write the safetensors fixtures for package safetensors, and check a file
written by nabla against PyTorch.

Run from the repository root:

    /usr/bin/python3 testdata/safetensors/gen_fixtures.py
    /usr/bin/python3 testdata/safetensors/gen_fixtures.py --check FILE

Needs PyTorch (Debian's python3-torch, 1.13, CPU) and numpy. It does NOT use
the `safetensors` Python package: that is not packaged by Debian and PyPI
is not reachable here. Instead this script reads and writes the format by
hand (struct + json), following the specification
(https://github.com/huggingface/safetensors, README "Format"):

    8 bytes   N, little-endian unsigned 64-bit: the length of the header
    N bytes   a UTF-8 JSON object {name: {"dtype": "F32", "shape": [...],
              "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
              that may be padded at the end with spaces
    rest      the data buffer; offsets are relative to its start; tensors
              are little-endian, row-major, and cover it with no holes and
              no overlap

The writer below uses the same conventions as nabla's Write (metadata first,
then tensors in sorted name order, compact JSON, header padded with spaces
to a multiple of 8 bytes, data ordered by decreasing element size and then
name, as the reference implementation's writer orders it), so a file written here and one written by Go from
the same tensors must be byte-for-byte equal; --check tests that.

Without arguments it writes, beside this script:

  torch_mlp.safetensors   the state_dict of
                          Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
                          after torch.manual_seed(SEED), with
                          __metadata__ {"format": "pt"}
  torch_mlp.json          that state_dict's values, an input batch (5x4)
                          and torch's output logits for it (float32)
  torch_f64.safetensors   float64 tensors: a matrix, a scalar, an empty
  torch_f64.json          tensor, and awkward values (-0.0, the smallest
                          subnormal, the largest finite double)
  torch_half.safetensors  F16 and BF16 tensors (including an F16
  torch_half.json         subnormal), and their exact float32 values
  torch_i64.safetensors   an I64 tensor, which nabla must refuse by name

and then, if go_written.safetensors exists (the Go test writes it with
-update), checks it as --check does.

--check FILE parses FILE by hand, compares every tensor with the torch
tensors in GO_EXPECTED below (dtype, shape, and exact bits), and checks that
the file equals this script's own encoding of GO_EXPECTED byte for byte. The
Go test safetensors/interop_test.go runs it on a freshly written file when
/usr/bin/python3 can import torch.

Floats in the JSON files are written with Python's repr, which round-trips
exactly; float32 values are written as the float64 number equal to them.
"""

import json
import math
import os
import struct
import sys

import torch

SEED = 20240611
HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}

# The tensors safetensors/interop_test.go writes (goWritten there); keep the
# two in step.
GO_EXPECTED_METADATA = {"format": "pt", "note": "written by nabla"}
GO_EXPECTED = {
    "a": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
    "b": torch.tensor([1 / 3, -2.5, 1e-300], dtype=torch.float64),
    "empty": torch.zeros(0, 2, dtype=torch.float32),
    "layer.weight": torch.tensor([[math.pi, math.e], [-0.0, 5e-324]], dtype=torch.float64),
    "scalar": torch.tensor(3.25, dtype=torch.float32),
    "zz<&>": torch.tensor([2.0**100], dtype=torch.float32),
}


def tensor_bytes(t):
    """The little-endian, row-major bytes of t."""
    assert sys.byteorder == "little"
    t = t.contiguous()
    if t.numel() == 0:
        return b""
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.view(torch.int16)  # numpy has no bfloat16
    return t.numpy().tobytes()


def encode(tensors, metadata=None):
    """Encode tensors ({name: torch.Tensor}) as nabla's Write does."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(sorted(metadata.items()))
    # Data in order of decreasing element size, then name (as the
    # reference writer does, so that each tensor is aligned in the file);
    # header entries in name order.
    blobs, off, offsets = [], 0, {}
    for name in sorted(tensors, key=lambda n: (-tensors[n].element_size(), n)):
        raw = tensor_bytes(tensors[name])
        offsets[name] = [off, off + len(raw)]
        blobs.append(raw)
        off += len(raw)
    for name in sorted(tensors):
        t = tensors[name]
        header[name] = {
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": offsets[name],
        }
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def decode(b):
    """Parse a safetensors file by hand, checking the layout rules."""
    (n,) = struct.unpack("<Q", b[:8])
    assert 8 + n <= len(b), "header runs past the end"

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), "duplicate keys %r" % keys
        return dict(pairs)

    header = json.loads(b[8 : 8 + n].decode("utf-8"), object_pairs_hook=no_dups)
    buf = b[8 + n :]
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        assert all(isinstance(v, str) for v in metadata.values())
    pos, out = 0, {}
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        assert begin == pos, "%s: hole or overlap at %d" % (name, begin)
        dtype = TORCH_DTYPES[info["dtype"]]
        shape = info["shape"]
        count = math.prod(shape)
        itemsize = torch.empty(0, dtype=dtype).element_size()
        assert end - begin == count * itemsize, "%s: shape disagrees with offsets" % name
        if count == 0:
            out[name] = torch.empty(shape, dtype=dtype)
        else:
            out[name] = torch.frombuffer(bytearray(buf[begin:end]), dtype=dtype).reshape(shape)
        pos = end
    assert pos == len(buf), "buffer not covered: %d of %d bytes" % (pos, len(buf))
    return out, metadata


def same_bits(x, y):
    return (
        x.dtype == y.dtype
        and x.shape == y.shape
        and tensor_bytes(x) == tensor_bytes(y)
    )


def check_go_file(path):
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    assert n % 8 == 0, "header length %d is not a multiple of 8" % n
    got, metadata = decode(b)
    assert metadata == GO_EXPECTED_METADATA, metadata
    assert sorted(got) == sorted(GO_EXPECTED), sorted(got)
    for name, want in GO_EXPECTED.items():
        assert same_bits(got[name], want), "%s: got %r, want %r" % (name, got[name], want)
    want_bytes = encode(GO_EXPECTED, GO_EXPECTED_METADATA)
    assert b == want_bytes, "bytes differ from Python's encoding:\n%r\n%r" % (b[:200], want_bytes[:200])
    print("%s: OK (%d tensors, %d bytes, equal to Python's encoding)" % (path, len(got), len(b)))


def values(t):
    return {"shape": list(t.shape), "values": t.reshape(-1).double().tolist()}


def write(name, tensors, metadata=None, dump=None):
    b = encode(tensors, metadata)
    got, meta = decode(b)  # our own reader agrees with our writer
    assert meta == metadata and all(same_bits(got[k], v) for k, v in tensors.items())
    with open(os.path.join(HERE, name + ".safetensors"), "wb") as f:
        f.write(b)
    if dump is not None:
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            json.dump(dump, f, indent=1)
            f.write("\n")


def generate():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(5, 4)
    with torch.no_grad():
        logits = model(x)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert sorted(sd) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    write(
        "torch_mlp",
        sd,
        {"format": "pt"},
        {
            "source": "testdata/safetensors/gen_fixtures.py, torch %s, seed %d" % (torch.__version__, SEED),
            "model": "Sequential(Linear(4, 8), ReLU(), Linear(8, 3)); Linear computes x @ weight.T + bias",
            "metadata": {"format": "pt"},
            "state_dict": {k: values(v) for k, v in sd.items()},
            "input": values(x),
            "logits": values(logits),
        },
    )

    g = torch.Generator().manual_seed(SEED + 1)
    f64 = {
        "matrix": torch.randn(3, 2, generator=g, dtype=torch.float64),
        "scalar": torch.tensor(-1.5, dtype=torch.float64),
        "empty": torch.zeros(0, 3, dtype=torch.float64),
        "odd": torch.tensor([-0.0, 5e-324, 1.7976931348623157e308, 1 / 3], dtype=torch.float64),
    }
    write(
        "torch_f64",
        f64,
        None,
        {
            "source": "testdata/safetensors/gen_fixtures.py",
            "tensors": {k: values(v) for k, v in f64.items()},
        },
    )

    half = {
        "f16": torch.tensor([[1.0, -2.5, 65504.0], [2.0**-20, 2.0**-14, 0.1]], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16),
    }
    write(
        "torch_half",
        half,
        {"format": "pt"},
        {
            "source": "testdata/safetensors/gen_fixtures.py; values are exact (float16 and bfloat16 are subsets of float32)",
            "tensors": {k: values(v.float()) for k, v in half.items()},
        },
    )

    write("torch_i64", {"ids": torch.arange(4, dtype=torch.int64)})

    go = os.path.join(HERE, "go_written.safetensors")
    if os.path.exists(go):
        check_go_file(go)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check_go_file(sys.argv[2])
    elif len(sys.argv) == 1:
        generate()
    else:
        sys.exit("usage: gen_fixtures.py [--check FILE]")
