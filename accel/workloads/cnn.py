"""Training workloads of vision models: shape presets with seeded random weights.

``cnn_workload("resnet18" | "resnet50" | "vit-b16", prune="bdwp:2:8", batch=None)``
returns one training step (fwd, bwd_data, bwd_weight per layer, built by
:func:`accel.workloads.training.training_ops`).

* ``resnet18``: the CIFAR-10 variant (3x3 stem, no max-pool, 32x32 input, 10 classes);
  ``resnet50``: torchvision ImageNet (224x224, stride on the 3x3 conv, 1000 classes);
  ``vit-b16``: ViT-B/16 at 224x224 (196 patches + class token = 197 tokens, 12 layers,
  hidden 768, MLP 3072); attention score/context products have no weights and are
  left out (they are not N:M-prunable, as in the paper's weight-pruning setting).
* Convolutions are lowered by im2col: W (out, kh*kw*cin) with the reduction index
  ordered (kh, kw, cin), so the N:M groups of M consecutive reduction elements run
  along *input channels* at one kernel position (the stem conv with cin=3 is the one
  exception: its groups straddle kernel positions).  M of the GEMM = batch x output
  pixels (tokens for ViT).
* Weights: Kaiming-normal, seeded.  Activations are *sampled*, not computed by a conv
  forward pass: im2col inputs are ReLU of a seeded standard normal (ViT: standard
  normal).  The cycle model depends only on shapes and the weights' N:M structure;
  the functional path checks the GEMM arithmetic, which does not need real features.
* bwd_data of a k x k conv (k > 1) is lowered as the transposed convolution
  (im2col of the zero-dilated, padded dY): B' (k*k*out, cin) is W with the kernel
  flipped, reduction index ordered (kh, kw, out), so BDWP's backward groups run along
  output channels as in REFERENCE section 1; M = batch x *input* pixels.  (Lowering it
  as dY @ W then col2im would make K = out, e.g. 64 -- a reduction too short to keep a
  systolic array busy, and not how GEMM engines compute conv gradients.)
* Every layer is pruned (stem and classifier included) -- one uniform rule, no
  hand-picked dense layers.
"""

from __future__ import annotations

import numpy as np

from accel.errors import WorkloadError
from accel.workloads.formats import NM, Dense, Unstructured, nm_compress
from accel.workloads.ops import Gemm, Workload
from accel.workloads.prune import parse_prune
from accel.workloads.training import GRAD_SCALE, training_ops

# batch defaults: ImageNet models at 1 (keeps M, hence memory, manageable); CIFAR
# images are 48x smaller, so 8 of them give ResNet-18 a similar per-layer M.
CNN_PRESETS = {"resnet18": 8, "resnet50": 1, "vit-b16": 1}
# Bytes a training step holds per activation element of a layer (input rows x (k + cout)):
# float32 activations, output gradients and the bwd operands made from them, ~3 float32
# copies.  An estimate, checked (accel.memory) before the first array is drawn.
BYTES_PER_ACTIVATION = 12


def _conv(layers, name, cin, cout, k, stride, hw):
    """Append a conv as (name, out, k*k*cin, out_pixels, k, in_pixels); return output size."""
    out = (hw + 2 * (k // 2) - k) // stride + 1
    layers.append((name, cout, k * k * cin, out * out, k, hw * hw))
    return out


def resnet18_cifar_layers() -> list[tuple[str, int, int, int]]:
    layers: list[tuple[str, int, int, int]] = []
    hw = _conv(layers, "conv1", 3, 64, 3, 1, 32)
    cin = 64
    for li, width in enumerate((64, 128, 256, 512), start=1):
        for bi in range(2):
            stride = 2 if (li > 1 and bi == 0) else 1
            p = f"layer{li}.{bi}"
            hw_in = hw
            hw = _conv(layers, f"{p}.conv1", cin, width, 3, stride, hw_in)
            _conv(layers, f"{p}.conv2", width, width, 3, 1, hw)
            if stride != 1 or cin != width:
                _conv(layers, f"{p}.downsample", cin, width, 1, stride, hw_in)
            cin = width
    layers.append(("fc", 10, 512, 1, 1, 1))
    return layers


def resnet50_layers() -> list[tuple[str, int, int, int]]:
    layers: list[tuple[str, int, int, int]] = []
    hw = _conv(layers, "conv1", 3, 64, 7, 2, 224)
    hw = (hw + 2 - 3) // 2 + 1  # 3x3/2 max-pool: 112 -> 56
    cin = 64
    for li, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=1):
        for bi in range(blocks):
            stride = 2 if (li > 1 and bi == 0) else 1
            p = f"layer{li}.{bi}"
            hw_in = hw
            _conv(layers, f"{p}.conv1", cin, width, 1, 1, hw_in)
            hw = _conv(layers, f"{p}.conv2", width, width, 3, stride, hw_in)
            _conv(layers, f"{p}.conv3", width, 4 * width, 1, 1, hw)
            if bi == 0:
                _conv(layers, f"{p}.downsample", cin, 4 * width, 1, stride, hw_in)
            cin = 4 * width
    layers.append(("fc", 1000, 2048, 1, 1, 1))
    return layers


def vit_b16_layers(depth: int = 12, hidden: int = 768, mlp: int = 3072,
                   tokens: int = 197) -> list[tuple[str, int, int, int]]:
    # the 16x16/16 patch embedding has no overlap: its bwd_data is a plain GEMM (k=1 rule)
    layers = [("patch_embed", hidden, 16 * 16 * 3, tokens - 1, 1, tokens - 1)]
    for i in range(depth):
        p = f"blocks.{i}"
        layers += [(f"{p}.attn.qkv", 3 * hidden, hidden, tokens, 1, tokens),
                   (f"{p}.attn.proj", hidden, hidden, tokens, 1, tokens),
                   (f"{p}.mlp.fc1", mlp, hidden, tokens, 1, tokens),
                   (f"{p}.mlp.fc2", hidden, mlp, tokens, 1, tokens)]
    layers.append(("head", 1000, hidden, 1, 1, 1))
    return layers


_LAYERS = {"resnet18": resnet18_cifar_layers, "resnet50": resnet50_layers,
           "vit-b16": vit_b16_layers}


def cnn_workload(model: str, prune: str = "bdwp:2:8", batch: int | None = None,
                 seed: int = 0) -> Workload:
    """One training step of ``model`` (see module docstring)."""
    if model not in _LAYERS:
        raise WorkloadError(f"unknown vision model {model!r}; known: {', '.join(_LAYERS)}")
    batch = CNN_PRESETS[model] if batch is None else int(batch)
    if batch < 1:
        raise WorkloadError(f"batch must be >= 1, got {batch}")
    layers = _LAYERS[model]()
    per_sample = sum(pixels * (k + cout) for _n, cout, k, pixels, _ks, _in in layers) * BYTES_PER_ACTIVATION
    from accel.memory import check_memory, memory_budget

    check_memory(float(per_sample) * batch, f"{model} at batch {batch}", WorkloadError,
                 hint=f"at most batch {memory_budget() // per_sample}")
    spec = parse_prune(prune)
    if spec.method not in ("dense", "nm", "bdwp"):
        raise WorkloadError(f"training workloads take --prune dense, N:M or bdwp:N:M, got {prune!r}")
    method = "bdwp" if spec.method == "bdwp" else ("srste" if spec.is_nm else "dense")
    rng = np.random.default_rng(seed)
    ops = []
    for i, (name, cout, k, pixels, ksize, in_pixels) in enumerate(layers):
        w = (rng.standard_normal((cout, k)) * np.sqrt(2.0 / k)).astype(np.float32)
        x = rng.standard_normal((batch * pixels, k)).astype(np.float32)
        if model != "vit-b16":
            np.maximum(x, 0, out=x)
        layer = training_ops(name, w, x, spec.n or 1, spec.m or 1, method=method,
                             seed=seed * 1000 + i)
        if ksize > 1:
            layer[1] = _transposed_conv_bwd_data(layer, w, ksize, batch * in_pixels, rng)
        ops += layer
    prov = {"source": f"{model} shape preset, seeded random weights, sampled activations",
            "prune": spec.text, "batch": batch, "seed": seed, "training": True}
    return Workload(f"{model}-{spec.text}-training", ops, prov)


def _transposed_conv_bwd_data(layer: list[Gemm], w: np.ndarray, ksize: int, rows: int,
                              rng: np.random.Generator) -> Gemm:
    """bwd_data of a k x k conv as a transposed conv (module docstring)."""
    fwd, bwd = layer[0], layer[1]
    cout, kk = w.shape
    cin = kk // (ksize * ksize)
    # B'[(kh, kw, o), c] = W[o, (k-1-kh, k-1-kw, c)]
    w4 = w.reshape(cout, ksize, ksize, cin)[:, ::-1, ::-1, :]
    bt = np.ascontiguousarray(w4.transpose(1, 2, 0, 3).reshape(ksize * ksize * cout, cin))
    if isinstance(bwd.b, NM):                       # BDWP: groups along output channels
        b = nm_compress(bt, bwd.b.n, bwd.b.m, axis=0)
    elif isinstance(bwd.b, Unstructured):           # SR-STE: the forward mask, transposed
        import scipy.sparse as sp

        mw = fwd.b.to_dense().T.reshape(cout, ksize, ksize, cin)[:, ::-1, ::-1, :]
        masked = np.ascontiguousarray(mw.transpose(1, 2, 0, 3).reshape(ksize * ksize * cout, cin))
        b = Unstructured.from_scipy(sp.csr_matrix(masked))
    else:
        b = Dense(bt.shape, bt)
    dy_col = (rng.standard_normal((rows, bt.shape[0])) * GRAD_SCALE).astype(np.float32)
    return Gemm(bwd.name, "bwd_data", rows, bt.shape[0], cin, b, a=dy_col, a_bits=bwd.a_bits,
                b_bits=bwd.b_bits, source=bwd.source, source_axis=bwd.source_axis)
