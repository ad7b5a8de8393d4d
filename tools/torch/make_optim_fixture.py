#!/usr/bin/python3
"""Writes tests/fixtures/optim/optim.json: torch.optim trajectories, clip_grad_norm_ values and masked
sequence-loss values, all in float64, for tests/test_optim.cc, tests/test_clip.cc, tests/test_loss_seq.cc.

Run with Debian's python3-torch (1.13):  /usr/bin/python3 tools/torch/make_optim_fixture.py
The output is deterministic (fixed seed) and small (~60 KB).

Problems:
  linear     L = mean((X·Wᵀ + b - Y)²) over W [2, 3], b [1, 2]; a third parameter "unused" [2, 2] never
             enters the loss, so its grad stays None and every optimizer must leave it alone.
  embedding  L = Σ_i <E[ids_i], R_i> + ½ Σ_i |E[ids_i]|² over a table E [6, 3] with different ids at each
             step (some rows untouched at some steps); sparse=True runs torch's sparse-gradient path.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20241123)
torch.set_default_dtype(torch.float64)
STEPS = 6
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "optim", "optim.json")


def mat(t):
    t = t.detach()
    if t.dim() == 1:
        t = t.view(1, -1)
    return [[float(v) for v in row] for row in t.tolist()]


X = torch.randn(5, 3)
Y = torch.randn(5, 2)
LIN0 = {"W": torch.randn(2, 3) * 0.5, "b": torch.randn(1, 2) * 0.5, "unused": torch.randn(2, 2)}
EMB_IDS = [[0, 2, 2, 5], [1, 2], [0, 0, 3], [2], [4, 5, 1], [3, 2]]
EMB_R = [torch.randn(len(ids), 3) for ids in EMB_IDS]
EMB0 = torch.randn(6, 3)


def run_linear(make_opt):
    ps = {k: v.clone().requires_grad_(True) for k, v in LIN0.items()}
    opt = make_opt([ps["W"], ps["b"], ps["unused"]])
    traj, losses = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.mse_loss(X @ ps["W"].t() + ps["b"], Y)
        loss.backward()
        losses.append(loss.item())
        opt.step()
        traj.append({k: mat(v) for k, v in ps.items()})
    return {"problem": "linear", "init": {k: mat(v) for k, v in LIN0.items()}, "losses": losses, "after": traj}


def run_embedding(make_opt, sparse):
    E = EMB0.clone().requires_grad_(True)
    opt = make_opt([E])
    traj, losses = [], []
    for ids, R in zip(EMB_IDS, EMB_R):
        opt.zero_grad()
        e = F.embedding(torch.tensor(ids), E, sparse=sparse)
        loss = (e * R).sum() + 0.5 * (e * e).sum()
        loss.backward()
        losses.append(loss.item())
        opt.step()
        traj.append({"E": mat(E)})
    return {"problem": "embedding", "init": {"E": mat(EMB0)}, "losses": losses, "after": traj}


cases = []


def case(name, kind, options, result):
    result.update({"name": name, "kind": kind, "options": options})
    cases.append(result)


O = torch.optim
case("sgd_plain", "sgd", {"lr": 0.1}, run_linear(lambda p: O.SGD(p, lr=0.1)))
case("sgd_momentum_wd", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
     run_linear(lambda p: O.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)))
case("sgd_dampening", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3},
     run_linear(lambda p: O.SGD(p, lr=0.1, momentum=0.9, dampening=0.3)))
case("sgd_nesterov", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001},
     run_linear(lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)))
case("adagrad", "adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1},
     run_linear(lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)))
case("rmsprop", "rmsprop", {"lr": 0.01, "alpha": 0.9}, run_linear(lambda p: O.RMSprop(p, lr=0.01, alpha=0.9)))
case("rmsprop_centered_momentum", "rmsprop",
     {"lr": 0.01, "alpha": 0.95, "eps": 1e-6, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
     run_linear(lambda p: O.RMSprop(p, lr=0.01, alpha=0.95, eps=1e-6, momentum=0.5, centered=True,
                                    weight_decay=0.01)))
case("adam", "adam", {"lr": 0.01}, run_linear(lambda p: O.Adam(p, lr=0.01)))
case("adam_amsgrad_wd", "adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.01, "amsgrad": True},
     run_linear(lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.99), weight_decay=0.01, amsgrad=True)))
case("adamw", "adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
     run_linear(lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1)))
# Embedding tables: dense Adam moves untouched rows (momentum); sparse_rows matches SparseAdam.
case("adam_dense_embedding", "adam", {"lr": 0.05}, run_embedding(lambda p: O.Adam(p, lr=0.05), sparse=False))
case("sparse_adam_embedding", "adam", {"lr": 0.05, "sparse_rows": True},
     run_embedding(lambda p: O.SparseAdam(p, lr=0.05), sparse=True))
case("sparse_adagrad_embedding", "adagrad", {"lr": 0.1, "lr_decay": 0.01, "sparse_rows": True},
     run_embedding(lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.01), sparse=True))
case("sparse_sgd_embedding", "sgd", {"lr": 0.1, "sparse_rows": True},
     run_embedding(lambda p: O.SGD(p, lr=0.1), sparse=True))

# ---- clip_grad_norm_ ------------------------------------------------------------------------------------
clip = []
G = [torch.randn(2, 3) * 3, torch.randn(1, 3) * 3, torch.randn(4, 1) * 3]
for norm_type in [2.0, 1.0, 3.0, float("inf")]:
    for max_norm in [1.0, 100.0]:
        ps = [torch.zeros_like(g, requires_grad=True) for g in G]
        for p, g in zip(ps, G):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        clip.append({"norm_type": "inf" if norm_type == float("inf") else norm_type, "max_norm": max_norm,
                     "total_norm": float(total), "grads_after": [mat(p.grad) for p in ps]})
clip_fixture = {"grads": [mat(g) for g in G], "cases": clip}

# ---- masked sequence losses ------------------------------------------------------------------------------
T, B, V, K = 4, 3, 5, 2
lengths = [4, 2, 1]
logits = torch.randn(T, B, V) * 2
targets = torch.randint(0, V, (T, B))
targets[1, 0] = -100  # an ignored real token
real = torch.tensor([[t < lengths[b] for b in range(B)] for t in range(T)])
tgt_masked = targets.clone()
tgt_masked[~real] = -100
ce_sum = F.cross_entropy(logits.view(T * B, V), tgt_masked.view(-1), ignore_index=-100, reduction="sum")
ce_mean = F.cross_entropy(logits.view(T * B, V), tgt_masked.view(-1), ignore_index=-100, reduction="mean")
bce_x = torch.randn(T, B, K) * 2
bce_y = torch.rand(T, B, K)
bce_el = F.binary_cross_entropy_with_logits(bce_x, bce_y, reduction="none")
m3 = real.unsqueeze(-1).to(torch.float64)
bce_sum = (bce_el * m3).sum()
bce_mean = bce_sum / (m3.sum() * K)
mse_p = torch.randn(T, B, K)
mse_y = torch.randn(T, B, K)
mse_el = (mse_p - mse_y) ** 2
mse_sum = (mse_el * m3).sum()
mse_mean = mse_sum / (m3.sum() * K)
losses = {
    "lengths": lengths, "targets": targets.tolist(),
    "logits": [mat(logits[t]) for t in range(T)],
    "ce_sum": float(ce_sum), "ce_mean": float(ce_mean),
    "bce_x": [mat(bce_x[t]) for t in range(T)], "bce_y": [mat(bce_y[t]) for t in range(T)],
    "bce_sum": float(bce_sum), "bce_mean": float(bce_mean),
    "mse_p": [mat(mse_p[t]) for t in range(T)], "mse_y": [mat(mse_y[t]) for t in range(T)],
    "mse_sum": float(mse_sum), "mse_mean": float(mse_mean),
}

fixture = {"torch_version": torch.__version__, "steps": STEPS,
           "linear": {"X": mat(X), "Y": mat(Y)},
           "embedding": {"ids": EMB_IDS, "R": [mat(r) for r in EMB_R]},
           "optim": cases, "clip": clip_fixture, "seq_losses": losses}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(fixture, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, torch {torch.__version__})", file=sys.stderr)
