#!/usr/bin/python3
"""Writes tests/fixtures/torch_rnn/rnn_parity.json: PyTorch reference values for unroll's RNN/LSTM/GRU layers.

For each layer type (2 layers, bidirectional, input 3, hidden 4, batch 3, mixed lengths run through
pack_padded_sequence with enforce_sorted=False) in float64: the weights (PyTorch's names and shapes), the
padded time-major input x [T, B, in], h0 (and c0), the outputs [T, B, 2H] (zero at padding), h_n (c_n),
and the gradients of a fixed projection loss
    L = sum(outputs * R_out) + sum(h_n * R_h) (+ sum(c_n * R_c))
with respect to x, h0, c0 and every parameter. tests/test_nn_torch_parity.cc loads it.

Run with Debian's python3-torch:  /usr/bin/python3 tools/torch/make_rnn_fixture.py
"""
import json
import os
import sys

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

IN, H, LAYERS, B = 3, 4, 2, 3
LENGTHS = [4, 2, 3]  # unsorted on purpose: the layer must not care about order
T = max(LENGTHS)


def tolist(t):
    return t.detach().cpu().double().tolist()


def make_case(kind, seed, nonlinearity="tanh"):
    torch.manual_seed(seed)
    cls = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[kind]
    kwargs = dict(num_layers=LAYERS, bidirectional=True)
    if kind == "RNN":
        kwargs["nonlinearity"] = nonlinearity
    m = cls(IN, H, **kwargs).double()
    D = 2
    x = torch.randn(T, B, IN, dtype=torch.float64)
    for b, n in enumerate(LENGTHS):  # padding holds garbage on purpose: it must not leak anywhere
        x[n:, b, :] = 7.0
    x.requires_grad_(True)
    h0 = (0.5 * torch.randn(LAYERS * D, B, H, dtype=torch.float64)).requires_grad_(True)
    c0 = (0.5 * torch.randn(LAYERS * D, B, H, dtype=torch.float64)).requires_grad_(True)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    if kind == "LSTM":
        out_p, (h_n, c_n) = m(packed, (h0, c0))
    else:
        out_p, h_n = m(packed, h0)
        c_n = None
    out, _ = pad_packed_sequence(out_p, total_length=T)
    R_out = torch.randn_like(out)
    R_h = torch.randn_like(h_n)
    loss = (out * R_out).sum() + (h_n * R_h).sum()
    R_c = None
    if c_n is not None:
        R_c = torch.randn_like(c_n)
        loss = loss + (c_n * R_c).sum()
    loss.backward()

    case = {
        "cell": kind,
        "nonlinearity": nonlinearity,
        "input_size": IN,
        "hidden_size": H,
        "num_layers": LAYERS,
        "bidirectional": True,
        "T": T,
        "B": B,
        "lengths": LENGTHS,
        "params": {name: tolist(p) for name, p in m.named_parameters()},
        "x": tolist(x),
        "h0": tolist(h0),
        "R_out": tolist(R_out),
        "R_h": tolist(R_h),
        "outputs": tolist(out),
        "h_n": tolist(h_n),
        "loss": loss.item(),
        "grads": {name: tolist(p.grad) for name, p in m.named_parameters()},
    }
    case["grads"]["x"] = tolist(x.grad)
    case["grads"]["h0"] = tolist(h0.grad)
    if kind == "LSTM":
        case["c0"] = tolist(c0)
        case["R_c"] = tolist(R_c)
        case["c_n"] = tolist(c_n)
        case["grads"]["c0"] = tolist(c0.grad)
    return case


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_path = os.path.join(here, "..", "..", "tests", "fixtures", "torch_rnn", "rnn_parity.json")
    if len(sys.argv) > 1:
        out_path = sys.argv[1]
    fixture = {
        "generator": "tools/torch/make_rnn_fixture.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "loss": "sum(outputs * R_out) + sum(h_n * R_h) + sum(c_n * R_c) (LSTM)",
        "cases": [make_case("LSTM", 1), make_case("GRU", 2), make_case("RNN", 3), make_case("RNN", 4, "relu")],
    }
    with open(out_path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(out_path)} ({os.path.getsize(out_path)} bytes)")


if __name__ == "__main__":
    main()
