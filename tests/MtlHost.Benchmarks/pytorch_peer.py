#!/usr/bin/env python3
"""PyTorch peer of the host's MiniLM training step, for an honest "how does TorchSharp compare" figure.

The same step as the benchmark's `peer` mode runs in TorchSharp (tests/MtlHost.Benchmarks/PeerBenchmark.cs):
a BERT encoder of MiniLM-L6's shape (6 layers, hidden 384, 12 heads, intermediate 1536, vocabulary 30,522,
post-LayerNorm, exact GELU, dropout 0.1 on embeddings, attention probabilities and sub-layer outputs), the
[CLS] vector -> dropout -> linear head with cross-entropy, on one fixed batch of 16 x 128 token ids; then
backward, gradient clipping to norm 1.0 and an AdamW step (lr 5e-5, weight decay 0.01). Weights are random:
speed does not depend on what they learned.

Run alone it prints ms/step for every round. With --serve it waits for a line on standard input before each
round and answers one line, so that the benchmark's `peer` mode can alternate rounds with its TorchSharp loop
in the same session (drift in the machine's speed then hits both alike):

    /usr/bin/python3 tests/MtlHost.Benchmarks/pytorch_peer.py --threads 2 --steps 10 --rounds 3
    dotnet run -c Release --project tests/MtlHost.Benchmarks -- peer --threads 2 --steps 10 --rounds 3

Needs only torch (Debian: apt-get install python3-torch; its BLAS is whatever libblas.so.3 points to, so install
an optimised one such as libopenblas0-openmp, or the reference BLAS makes every matmul slow). Prints the torch
version, its build configuration's BLAS line and the BLAS library actually loaded.
"""

import argparse
import math
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, HIDDEN, LAYERS, HEADS, INTERMEDIATE, POSITIONS = 30522, 384, 6, 12, 1536, 512


class Embeddings(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(POSITIONS, HIDDEN)
        self.token_type = nn.Embedding(2, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids, types):
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        return self.dropout(self.norm(self.word(ids) + self.position(positions) + self.token_type(types)))


class Layer(nn.Module):
    """One post-LayerNorm BERT layer, as Hugging Face's BertLayer and the host's BertLayer compute it."""

    def __init__(self, dropout, attention_dropout):
        super().__init__()
        self.query = nn.Linear(HIDDEN, HIDDEN)
        self.key = nn.Linear(HIDDEN, HIDDEN)
        self.value = nn.Linear(HIDDEN, HIDDEN)
        self.attention_output = nn.Linear(HIDDEN, HIDDEN)
        self.attention_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.intermediate = nn.Linear(HIDDEN, INTERMEDIATE)
        self.output = nn.Linear(INTERMEDIATE, HIDDEN)
        self.output_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        self.attention_dropout = attention_dropout

    def split(self, x):
        return x.view(x.shape[0], x.shape[1], HEADS, HIDDEN // HEADS).transpose(1, 2)

    def forward(self, hidden, additive_mask):
        q, k, v = self.split(self.query(hidden)), self.split(self.key(hidden)), self.split(self.value(hidden))
        p = self.attention_dropout if self.training else 0.0
        if hasattr(F, "scaled_dot_product_attention"):
            # torch >= 2.0: the same call the host makes (libtorch's scaled_dot_product_attention).
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=additive_mask, dropout_p=p)
        else:
            # torch 1.x (Debian 12 ships 1.13): the materialised path, which is also what libtorch runs
            # on the CPU when attention dropout is on.
            scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + additive_mask
            context = F.dropout(scores.softmax(-1), p, self.training) @ v
        context = context.transpose(1, 2).reshape(hidden.shape)
        hidden = self.attention_norm(hidden + self.dropout(self.attention_output(context)))
        return self.output_norm(hidden + self.dropout(self.output(F.gelu(self.intermediate(hidden)))))


class Model(nn.Module):
    def __init__(self, dropout, attention_dropout, labels):
        super().__init__()
        self.embeddings = Embeddings(dropout)
        self.layers = nn.ModuleList(Layer(dropout, attention_dropout) for _ in range(LAYERS))
        self.head_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(HIDDEN, labels)

    def forward(self, ids, types, mask):
        # BERT's extended mask: 0 where attention is allowed, a large negative number at padding.
        additive = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        hidden = self.embeddings(ids, types)
        for layer in self.layers:
            hidden = layer(hidden, additive)
        return self.head(self.head_dropout(hidden[:, 0]))


def loaded_blas():
    """The BLAS and OpenMP libraries this process has mapped (after a matmul forced them in)."""
    names = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                base = path.rsplit("/", 1)[-1]
                if any(k in base for k in ("blas", "mkl", "blis", "gomp", "iomp", "lapack")):
                    names.add(path)
    except OSError:
        pass
    return sorted(names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, required=True, help="torch intra-op threads (always set: the default varies)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--attention-dropout", type=float, default=0.1, help="the host's default, BERT's 0.1")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--serve", action="store_true", help="run a round per line read on standard input")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = Model(0.1, args.attention_dropout, 2)
    model.train()
    ids = torch.randint(1000, VOCAB, (args.batch, args.length))
    ids[:, 0] = 101  # [CLS]
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 2, (args.batch,))
    # AdamW over every parameter with weight decay 0.01 (the host exempts biases and LayerNorm weights; the
    # arithmetic per parameter is the same).
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(ids, types, mask), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    def round_ms():
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        return 1000 * (time.perf_counter() - start) / args.steps

    for _ in range(args.warmup):
        step()
    blas_line = " ".join(re.findall(r"(?:BLAS_INFO|LAPACK_INFO)=\w+", torch.__config__.show())) or "BLAS_INFO=?"
    print(f"pytorch {torch.__version__}, {blas_line}, threads {torch.get_num_threads()}, loaded: {' '.join(loaded_blas()) or '?'}", flush=True)
    print(f"step: BERT {LAYERS} layers, hidden {HIDDEN}, {HEADS} heads, intermediate {INTERMEDIATE}, batch {args.batch} x {args.length}, "
          f"attention dropout {args.attention_dropout}, AdamW, clip 1.0; {args.steps} steps per round", flush=True)
    if args.serve:
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "quit":
                break
            print(f"round {round_ms():.1f} ms/step", flush=True)
        return
    times = []
    for r in range(args.rounds):
        times.append(round_ms())
        print(f"  round {r + 1}: {times[-1]:.1f} ms/step", flush=True)
    print(f"  median {sorted(times)[len(times) // 2]:.1f} ms/step", flush=True)


if __name__ == "__main__":
    main()
