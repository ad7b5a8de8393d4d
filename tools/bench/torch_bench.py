#!/usr/bin/env python3
"""tools/bench/torch_bench.py — the issue-7 benchmark rows in PyTorch, the same work as unroll_bench
(tools/bench/models.cc): same shapes, optimizers, sentence lengths and timing rule (median tokens/s of
>= 5 timed runs after a warm-up). PyTorch runs in its fast setting on a 2-core machine: one intra-op
thread (torch.set_num_threads(1)) and OpenBLAS's own threads (OPENBLAS_NUM_THREADS, set by unroll_bench).
Prints one JSON line per row. Usually started by `unroll_bench --vs-torch`; runs alone too:
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/bench/torch_bench.py --rows charlm-train,tagger-b1
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SeqLM:
    """embedding -> RNN/LSTM/GRU layers -> linear -> cross-entropy (rows charlm-*, sample, gru/rnn, wordlm)."""

    def __init__(self, kind="lstm", V=96, E=64, H=256, L=2, B=32, T=64, adam=False, mode="train"):
        self.V, self.B, self.T, self.mode = V, B, T, mode
        self.emb = nn.Embedding(V, E, sparse=adam)
        cls = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind]
        self.rnn = cls(E, H, L)
        self.out = nn.Linear(H, V)
        dense = list(self.rnn.parameters()) + list(self.out.parameters())
        if adam:  # ours: Adam with lazy (sparse) rows on the embedding = SparseAdam here
            self.opts = [torch.optim.SparseAdam(list(self.emb.parameters())), torch.optim.Adam(dense)]
        else:
            self.opts = [torch.optim.SGD(list(self.emb.parameters()) + dense, lr=0.1)]

    def run(self):
        if self.mode == "sample":
            return self.sample()
        ids = torch.randint(0, self.V, (self.T, self.B))
        tgt = torch.randint(0, self.V, (self.T * self.B,))
        if self.mode == "fwd":
            with torch.no_grad():
                h, _ = self.rnn(self.emb(ids))
                F.cross_entropy(self.out(h.reshape(-1, h.shape[-1])), tgt).item()
            return self.T * self.B
        for o in self.opts:
            o.zero_grad()
        h, _ = self.rnn(self.emb(ids))
        loss = F.cross_entropy(self.out(h.reshape(-1, h.shape[-1])), tgt)
        loss.backward()
        for o in self.opts:
            o.step()
        return self.T * self.B

    def sample(self):
        with torch.no_grad():
            tok, state = torch.zeros(1, 1, dtype=torch.long), None
            for _ in range(self.T):
                h, state = self.rnn(self.emb(tok), state)
                p = F.softmax(self.out(h[0]), dim=-1)
                tok = torch.multinomial(p, 1)
        return self.T


def sentence_length(i):
    return 5 + (i * 37) % 36  # the same formula as models.cc: 5 .. 40, mean 22.5


class Tagger:
    """embedding -> BiLSTM -> Linear(2H, 32) -> tanh -> Linear(32, K) -> cross-entropy; Adam."""

    def __init__(self, B=1, V=20000, E=128, H=50, M=32, K=5, per_unit=9):
        self.B, self.V, self.K, self.per_unit, self.next = B, V, K, per_unit, 0
        self.emb = nn.Embedding(V, E, sparse=True)
        self.rnn = nn.LSTM(E, H, bidirectional=True)
        self.mlp = nn.Linear(2 * H, M)
        self.out = nn.Linear(M, K)
        dense = list(self.rnn.parameters()) + list(self.mlp.parameters()) + list(self.out.parameters())
        self.opts = [torch.optim.SparseAdam(list(self.emb.parameters())), torch.optim.Adam(dense)]

    def step(self):
        lengths = [sentence_length(self.next + b) for b in range(self.B)]
        self.next += self.B
        T = max(lengths)
        ids = torch.randint(0, self.V, (T, self.B))
        tags = torch.randint(0, self.K, (T, self.B))
        for b, n in enumerate(lengths):
            tags[n:, b] = -100
        for o in self.opts:
            o.zero_grad()
        x = self.emb(ids)
        if self.B == 1:
            h, _ = self.rnn(x)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
            h, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], total_length=T)
        logits = self.out(torch.tanh(self.mlp(h.reshape(T * self.B, -1))))
        loss = F.cross_entropy(logits, tags.reshape(-1), ignore_index=-100)
        loss.backward()
        for o in self.opts:
            o.step()
        return sum(lengths)

    def run(self):
        return sum(self.step() for _ in range(self.per_unit if self.B == 1 else 1))


def make(row):
    return {
        "charlm-train": lambda: SeqLM(),
        "charlm-adam": lambda: SeqLM(adam=True),
        "charlm-fwd": lambda: SeqLM(mode="fwd"),
        "sample": lambda: SeqLM(B=1, mode="sample"),
        "gru-train": lambda: SeqLM(kind="gru"),
        "rnn-train": lambda: SeqLM(kind="rnn"),
        "wordlm-train": lambda: SeqLM(V=10000, E=128, H=256, L=1, B=16, T=32, adam=True),
        "tagger-b1": lambda: Tagger(B=1),
        "tagger-b32": lambda: Tagger(B=32),
    }[row]()


def rss_kib():
    """Resident set size now (KiB), from /proc/self/statm."""
    import os
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def time_row(row, runs, min_time, clock):
    torch.manual_seed(7)
    w = make(row)
    w.run()  # warm-up
    t0 = clock()
    w.run()
    units = max(1, round(min_time / max(clock() - t0, 1e-6)))
    rates = []
    for _ in range(runs):
        t1 = clock()
        tokens = sum(w.run() for _ in range(units))
        rates.append(tokens / (clock() - t1))
    return statistics.median(rates), rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="charlm-train,charlm-adam,charlm-fwd,sample,gru-train,rnn-train,wordlm-train,tagger-b1,tagger-b32")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: process CPU time of every thread (as unroll_bench --clock cpu)")
    ap.add_argument("--peak-rss", metavar="ROW",
                    help="no timing: run ROW (warm-up + --units units) in this fresh process and print its peak RSS")
    ap.add_argument("--units", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.peak_rss:  # peak memory of one row, measured in a process of its own (ru_maxrss: KiB on Linux)
        import resource
        torch.manual_seed(7)
        base = rss_kib()
        w = make(a.peak_rss)
        for _ in range(1 + a.units):
            w.run()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"row": a.peak_rss, "peak_rss_kib": peak, "base_rss_kib": base}), flush=True)
        return 0
    print(json.dumps({"info": f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)"}), flush=True)
    for row in a.rows.split(","):
        clock = time.process_time if a.clock == "cpu" else time.perf_counter
        tok_s, rates = time_row(row, max(a.runs, 5), a.min_time, clock)
        print(json.dumps({"row": row, "tok_s": tok_s, "runs": rates}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
