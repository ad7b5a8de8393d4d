#!/usr/bin/env python3
"""PyTorch interop for unroll's checkpoints, with no `safetensors` package (not in Debian): the format
(8-byte little-endian header length, JSON header, raw little-endian data) is written and read below
with torch + json + struct.

  make_safetensors_fixture.py make OUTDIR     writes the fixtures the C++ tests load:
      tagger_f32.safetensors  Embedding(6,3) + LSTM(3,4,num_layers=2,bidirectional=True) + Linear(8,5)
      gru_f64.safetensors     GRU(2,3) in float64 (tensor names without a prefix)
      expected.json           per tensor: shape, sum, first values; a forward pass for later equivalence tests
  make_safetensors_fixture.py check FILE DTYPE [FILE DTYPE...]  reads a file written by the C++ test (tests/test_checkpoint.cc),
      loads it into the same Tagger with load_state_dict(strict=True), checks every value bitwise against
      the formula the C++ side used (or, when the metadata has test.ids / test.logits, compares PyTorch's
      forward pass with the logits unroll computed); prints OK and exits 0, else exits 1.
Run with Debian's python3-torch: /usr/bin/python3 tools/torch/make_safetensors_fixture.py make tests/fixtures/safetensors
"""
import json
import struct
import sys

try:
    import torch
    from torch import nn
except ImportError:  # the C++ test treats exit code 3 as "skip: no PyTorch here"
    print("SKIP: torch is not importable")
    sys.exit(3)

DTYPES = {torch.float32: "F32", torch.float64: "F64"}
FROM_NAME = {"F32": torch.float32, "F64": torch.float64}


def save_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> tensor (written in insertion order, without gaps)."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def load_safetensors(path):
    """Returns (metadata, dict name -> tensor) after checking the layout the spec requires."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    assert 8 + n <= len(data), "header runs past the file"
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, info in header.items():
        b, e = info["data_offsets"]
        dtype = FROM_NAME[info["dtype"]]
        t = torch.frombuffer(bytearray(body[b:e]), dtype=dtype) if e > b else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
        spans.append((b, e))
    spans.sort()
    cursor = 0
    for b, e in spans:
        assert b == cursor, "tensors do not tile the data section"
        cursor = e
    assert cursor == len(body), "bytes after the last tensor"
    return metadata, tensors


class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(6, 3)
        self.lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(8, 5)

    def forward(self, ids):
        out, _ = self.lstm(self.embed(ids))
        return self.fc(out)


def summary(t):
    flat = t.reshape(-1).double()
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "sum": float(flat.sum()),
            "first": [float(x) for x in flat[:4]]}


def make(outdir):
    torch.manual_seed(0)
    tagger = Tagger()
    sd = tagger.state_dict()
    save_safetensors(f"{outdir}/tagger_f32.safetensors", sd, {"format": "pt", "written_by": "torch " + torch.__version__})
    gru = nn.GRU(2, 3).double()
    save_safetensors(f"{outdir}/gru_f64.safetensors", gru.state_dict())
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        logits = tagger(ids)
    expected = {
        "tagger_f32": {k: summary(v) for k, v in sd.items()},
        "gru_f64": {k: summary(v) for k, v in gru.state_dict().items()},
        "tagger_forward": {"ids": ids.tolist(), "logits": logits.double().tolist()},
    }
    with open(f"{outdir}/expected.json", "w") as f:
        json.dump(expected, f, indent=1)
    print("wrote", outdir)


def formula(j, k):
    # The C++ test fills tensor j (in state_dict order) at flat index k with this value.
    return ((k * 7 + j * 13) % 97) / 97.0 - 0.5


def check(path, dtype_name):
    dtype = FROM_NAME[dtype_name]
    metadata, tensors = load_safetensors(path)
    assert metadata.get("unroll.format") == "unroll", f"metadata: {metadata.keys()}"
    tagger = Tagger().to(dtype)
    tagger.load_state_dict(tensors, strict=True)  # names and shapes must match exactly
    if "test.ids" in metadata:  # a model trained/initialised by unroll: PyTorch must compute its logits
        ids = json.loads(metadata["test.ids"])
        want = torch.tensor(json.loads(metadata["test.logits"]), dtype=torch.float64)
        with torch.no_grad():
            got = tagger(torch.tensor([ids]))[0].double()
        err = float((got - want).abs().max())
        assert err < 1e-5, f"logits differ from unroll's by {err}"
        print(f"OK: PyTorch {torch.__version__} loaded {len(tensors)} tensors ({dtype_name}) from {path} "
              f"with load_state_dict(strict=True); its logits match unroll's within {err:.3g}")
        return
    for j, (name, t) in enumerate(tagger.state_dict().items()):
        want = torch.tensor([formula(j, k) for k in range(t.numel())], dtype=torch.float64).to(dtype)
        got = tensors[name].reshape(-1)
        assert got.dtype == dtype, f"{name}: dtype {got.dtype}"
        assert torch.equal(got, want), f"{name}: values differ"
    with torch.no_grad():
        out = tagger(torch.tensor([[0, 1, 2]]))
    assert torch.isfinite(out).all()
    print(f"OK: PyTorch {torch.__version__} loaded {len(tensors)} tensors ({dtype_name}) from {path} "
          f"with load_state_dict(strict=True); values bitwise equal; metadata {sorted(metadata)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) >= 4 and len(sys.argv) % 2 == 0 and sys.argv[1] == "check":
        try:
            for i in range(2, len(sys.argv), 2):
                check(sys.argv[i], sys.argv[i + 1])
        except AssertionError as e:
            print("FAILED:", e)
            sys.exit(1)
    else:
        print(__doc__)
        sys.exit(2)
