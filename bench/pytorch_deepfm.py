#!/usr/bin/python3
"""PyTorch reference for embedps's DeepFM throughput (#11, issue 16).

The model is embedps's DeepFM on Criteo-format data: an FM over all 39
fields (the 13 integers as log buckets, the 26 categoricals) with 16 factors
and a linear weight per feature, plus an MLP 400-400-400 with ReLU over the
26 categorical fields' embeddings and the 13 integers as dense inputs
(log1p(x) * 0.1, as embedps's --dense_feature_scale). Sparse Adagrad
(lr 0.05) on the embeddings, Adam (lr 0.001) on the MLP, batch 1024.

Only the training loop is timed, on tensors parsed beforehand; the test AUC
is computed afterwards. Run it on an otherwise idle machine:

    /usr/bin/python3 bench/pytorch_deepfm.py --train train.tsv --test test.tsv \
        --threads 2 --precision bf16

It is a benchmark reference, not part of the test suite. Debian's
python3-torch (1.13) and libopenblas0-openmp are what it was run with.
"""
import argparse
import math
import sys
import time

import numpy as np
import torch

INT_FIELDS = 13
CAT_FIELDS = 26
FIELDS = INT_FIELDS + CAT_FIELDS


def bucket(v):
    # embedps's BucketizeInteger shape: small counts as themselves, larger
    # ones by log2 (any monotone bucketing gives the FM the same capacity).
    if v < 0:
        return -1
    if v < 16:
        return v
    return 16 + int(math.log2(v))


def parse(path, vocab, grow, limit):
    """Rows of `path` as (ids [n, 39], dense [n, 13], labels [n]); ids index
    one shared table, assigned per (field, token) on first sight when
    `grow`, else 0 (an untrained row) for unseen tokens."""
    ids, dense, labels = [], [], []
    with open(path) as f:
        for n, line in enumerate(f):
            if limit and n >= limit:
                break
            cols = line.rstrip("\n").split("\t")
            cols += [""] * (1 + FIELDS - len(cols))
            labels.append(float(cols[0]))
            row_ids, row_dense = [], []
            for i in range(INT_FIELDS):
                tok = cols[1 + i]
                v = int(tok) if tok else None
                row_dense.append(0.1 * math.log1p(v) if v is not None and v > 0 else 0.0)
                key = (i, bucket(v) if v is not None else "")
                row_ids.append(lookup(vocab, key, grow))
            for j in range(CAT_FIELDS):
                row_ids.append(lookup(vocab, (INT_FIELDS + j, cols[1 + INT_FIELDS + j]), grow))
            ids.append(row_ids)
            dense.append(row_dense)
    return (torch.tensor(ids, dtype=torch.int64), torch.tensor(dense, dtype=torch.float32),
            torch.tensor(labels, dtype=torch.float32))


def lookup(vocab, key, grow):
    i = vocab.get(key)
    if i is None:
        if not grow:
            return 0
        i = len(vocab) + 1  # 0 stays the unseen row
        vocab[key] = i
    return i


class DeepFm(torch.nn.Module):
    def __init__(self, rows, factors, hidden):
        super().__init__()
        self.linear = torch.nn.Embedding(rows, 1, sparse=True)
        self.factors = torch.nn.Embedding(rows, factors, sparse=True)
        torch.nn.init.zeros_(self.linear.weight)
        torch.nn.init.normal_(self.factors.weight, std=0.01)
        self.bias = torch.nn.Parameter(torch.zeros(1))
        sizes = [CAT_FIELDS * factors + INT_FIELDS] + hidden
        layers = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(sizes[-1], 1))
        self.mlp = torch.nn.Sequential(*layers)

    def forward(self, ids, dense):
        v = self.factors(ids)  # [n, 39, k]
        fm = 0.5 * (v.sum(1).pow(2) - v.pow(2).sum(1)).sum(1)
        wide = self.bias + self.linear(ids).sum((1, 2)) + fm
        deep_in = torch.cat([v[:, INT_FIELDS:, :].flatten(1), dense], 1)
        return wide + self.mlp(deep_in).squeeze(1)


def auc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels > 0.5
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--rows", type=int, default=0, help="train on the first N rows (0: all)")
    p.add_argument("--factors", type=int, default=16)
    p.add_argument("--hidden", default="400,400,400")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

    t0 = time.time()
    vocab = {}
    ids, dense, labels = parse(a.train, vocab, True, a.rows)
    test_ids, test_dense, test_labels = parse(a.test, vocab, False, 0)
    print(f"parsed {len(labels)} training and {len(test_labels)} test rows, {len(vocab)} features, "
          f"in {time.time() - t0:.1f} s (not timed)", flush=True)

    model = DeepFm(len(vocab) + 1, a.factors, [int(h) for h in a.hidden.split(",")])
    sparse_opt = torch.optim.Adagrad(list(model.linear.parameters()) + list(model.factors.parameters()),
                                     lr=0.05, initial_accumulator_value=0.1)
    dense_opt = torch.optim.Adam([model.bias] + list(model.mlp.parameters()), lr=0.001)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    bf16 = a.precision == "bf16"

    n = len(labels)
    start = time.time()
    last = start
    for b in range(0, n, a.batch):
        x, d, y = ids[b:b + a.batch], dense[b:b + a.batch], labels[b:b + a.batch]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logit = model(x, d)
        loss = loss_fn(logit.float(), y)
        sparse_opt.zero_grad()
        dense_opt.zero_grad()
        loss.backward()
        sparse_opt.step()
        dense_opt.step()
        now = time.time()
        if now - last >= 5:
            print(f"  {b + len(y)} rows, {(b + len(y)) / (now - start):.0f} rows/s, loss {loss.item():.4f}",
                  flush=True)
            last = now
    elapsed = time.time() - start

    model.eval()
    scores = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for b in range(0, len(test_labels), 8192):
            scores.append(model(test_ids[b:b + 8192], test_dense[b:b + 8192]).float())
    s = torch.cat(scores).numpy()
    print(f"pytorch {torch.__version__} {a.precision} threads={a.threads} batch={a.batch}: "
          f"trained {n} rows in {elapsed:.1f} s ({n / elapsed:.0f} rows/s), "
          f"test AUC {auc(s, test_labels.numpy()):.4f}")


if __name__ == "__main__":
    sys.exit(main())
