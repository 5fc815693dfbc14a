"""The algorithm side of the co-design: does BDWP N:M training keep accuracy?

A small NumPy MLP (64-128-64-10, ReLU, softmax cross-entropy, SGD with momentum) on
scikit-learn's bundled ``load_digits`` (no download), trained four ways:

* ``dense``   -- no pruning;
* ``srste``   -- SR-STE N:M (Zhou et al. 2021, REFERENCE 1): each step the forward mask
  is the magnitude top-N of M along input channels of the dense weights; forward and
  backward-data use the masked W; the gradient goes straight through to the dense W,
  plus the refine term ``lambda * (1 - mask) * W``;
* ``bdwp``    -- as SR-STE, but backward-data uses a *second* mask (top-N of M along
  output channels), so both fwd and bwd_data are N:M GEMMs (what SAT accelerates);
* the weight gradient dW = dY^T X is dense in every method.

Two numerics (``numerics=``): ``float64`` (the algorithm alone) and ``sat-fp16``: every
GEMM of the step (fwd, bwd_data, bwd_weight) runs as SAT's FP16 PE array computes it --
operands rounded to FP16, products summed exactly and rounded once to FP32
(``accel.arch.sat.fp16.gemm_exact``) -- with FP32-range master weights and the update in
float64 (SAT's weight-update engine keeps FP32 masters), and static loss scaling
(``LOSS_SCALE``) so that small gradients survive FP16's range, as mixed-precision
training does.

Every layer is pruned (groups that straddle a short axis are zero-padded by
``accel.workloads.prune.nm_mask``).  Seeded; a float64 run takes about a second, a
sat-fp16 one about 7 s (every GEMM through the exact kernel; ``accel bdwp accuracy``,
all ten, ~35 s).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from accel.errors import AccelError

SRSTE_LAMBDA = 2e-4   # SR-STE refine weight decay (NM-sparsity devkit default)
HIDDEN = (128, 64)    # small enough to train in about a second on 2 cores
EPOCHS = 40           # test accuracy of the dense MLP has plateaued by then
LR = 0.01             # one SGD rate for every method; at 0.05 BDWP 2:8 diverges on some seeds (its bwd mask biases dX)
MOMENTUM = 0.9
BATCH = 32
METHODS = ("dense", "srste", "bdwp")
NUMERICS = ("float64", "sat-fp16")
# Static loss scale for FP16 gradients: 2^10, a power of two so scaling is exact.  Mixed
# precision training (Micikevicius et al., ICLR 2018) scales the loss so gradients below
# FP16's smallest normal (6.1e-5; the array reads subnormals as zero) are not lost.
LOSS_SCALE = 1024.0


@dataclass
class AccuracyRow:
    method: str
    pattern: str
    test_accuracy: float
    train_accuracy: float
    seed: int
    numerics: str = "float64"


def _data(seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-6
    return (xtr - mu) / sd, (xte - mu) / sd, ytr, yte


def nm_mask_fast(w: np.ndarray, n: int, m: int, axis: int) -> np.ndarray:
    """Top-n of |w| in each group of m along ``axis``; ties to the lower position.

    Same rule as ``accel.workloads.prune.magnitude_nm`` (tested against it), vectorised
    for the thousands of mask refreshes of a training run.
    """
    x = np.abs(w) if axis == 0 else np.abs(w).T
    length, lines = x.shape
    g = -(-length // m)
    xp = np.full((g * m, lines), -np.inf)
    xp[:length] = x
    order = np.argsort(-xp.reshape(g, m, lines), axis=1, kind="stable")
    keep = np.zeros((g, m, lines), dtype=bool)
    np.put_along_axis(keep, order[:, :n, :], True, axis=1)
    keep = keep.reshape(g * m, lines)[:length]
    return keep if axis == 0 else keep.T


def _matmul_for(numerics: str):
    """The GEMM of a training step: float64 NumPy, or SAT's FP16 array (module docstring)."""
    if numerics == "float64":
        return np.matmul
    from accel.arch.sat import fp16

    def sat_fp16(a, b):
        codes = fp16.gemm_exact(fp16.to_fp16_bits(a, "GEMM activations"),
                                fp16.to_fp16_bits(b, "GEMM weights"))
        return codes.astype(np.uint32).view(np.float32).astype(np.float64)

    return sat_fp16


def _forward(ws, bs, masks, x, matmul=np.matmul):
    acts = [x]
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        z = matmul(acts[-1], (w * masks[i][0]).T) + b
        acts.append(np.maximum(z, 0) if i < len(ws) - 1 else z)
    return acts


def train_mlp(method: str = "dense", n: int = 2, m: int = 8, seed: int = 0,
              epochs: int = EPOCHS, numerics: str = "float64") -> AccuracyRow:
    """Train one MLP and return its accuracies (module docstring)."""
    if method not in METHODS:
        raise AccelError(f"unknown training method {method!r}; known: {', '.join(METHODS)}")
    if numerics not in NUMERICS:
        raise AccelError(f"unknown numerics {numerics!r}; known: {', '.join(NUMERICS)}")
    matmul = _matmul_for(numerics)
    scale = LOSS_SCALE if numerics == "sat-fp16" else 1.0
    if method != "dense" and not 1 <= n < m:
        raise AccelError(f"N:M needs 1 <= N < M, got {n}:{m}")
    xtr, xte, ytr, yte = _data(seed)
    rng = np.random.default_rng(seed)
    dims = (xtr.shape[1], *HIDDEN, 10)
    ws = [rng.standard_normal((o, i)) * np.sqrt(2.0 / i) for i, o in zip(dims[:-1], dims[1:], strict=True)]
    bs = [np.zeros(o) for o in dims[1:]]
    vw = [np.zeros_like(w) for w in ws]
    vb = [np.zeros_like(b) for b in bs]

    def masks_of(ws):
        out = []
        for w in ws:
            if method == "dense":
                one = np.ones_like(w, dtype=bool)
                out.append((one, one))
            else:
                fwd = nm_mask_fast(w, n, m, axis=1)     # groups along input channels
                out.append((fwd, nm_mask_fast(w, n, m, axis=0) if method == "bdwp" else fwd))
        return out

    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for s in range(0, len(order), BATCH):
            idx = order[s: s + BATCH]
            masks = masks_of(ws)
            acts = _forward(ws, bs, masks, xtr[idx], matmul)
            logits = acts[-1]
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), ytr[idx]] -= 1.0
            dy = p / len(idx) * scale                    # loss-scaled gradient (scale 2^k: exact)
            for i in reversed(range(len(ws))):
                gw = matmul(dy.T, acts[i]) / scale       # bwd_weight: dense
                if method != "dense":
                    gw += SRSTE_LAMBDA * (~masks[i][0]) * ws[i]
                gb = dy.sum(0) / scale
                if i > 0:                                # bwd_data with the backward mask
                    dy = matmul(dy, ws[i] * masks[i][1]) * (acts[i] > 0)
                vw[i] = MOMENTUM * vw[i] - LR * gw
                vb[i] = MOMENTUM * vb[i] - LR * gb
                ws[i] += vw[i]
                bs[i] += vb[i]
    masks = masks_of(ws)

    def acc(x, y):
        return float(np.mean(np.argmax(_forward(ws, bs, masks, x, matmul)[-1], 1) == y))

    return AccuracyRow(method, "dense" if method == "dense" else f"{n}:{m}",
                       acc(xte, yte), acc(xtr, ytr), seed, numerics)


STUDY = (("dense", 2, 8), ("srste", 2, 4), ("srste", 2, 8), ("bdwp", 2, 4), ("bdwp", 2, 8))


def accuracy_study(seed: int = 0, numerics: str = "float64") -> list[dict]:
    """Test accuracy of dense, SR-STE and BDWP (2:4, 2:8) MLPs, one seed."""
    return [asdict(train_mlp(meth, n, m, seed, numerics=numerics)) for meth, n, m in STUDY]
