"""BDWP accuracy loop and the vision workload presets."""

import numpy as np
import pytest

from accel.arch.sat.accuracy import train_mlp
from accel.errors import AccelError
from accel.workloads.cnn import resnet18_cifar_layers, resnet50_layers, vit_b16_layers


def test_mlp_trains_and_is_seeded():
    a = train_mlp("bdwp", 2, 4, seed=0, epochs=8)
    b = train_mlp("bdwp", 2, 4, seed=0, epochs=8)
    assert a == b
    assert a.test_accuracy > 0.85            # 10 classes: chance is 0.1
    assert train_mlp("dense", seed=0, epochs=8).test_accuracy > 0.9


def test_mlp_trains_on_sat_fp16_numerics():
    """The sat-fp16 run really goes through the FP16 array's numerics: its GEMM is the
    exact-sum-rounded-once product of FP16-rounded operands (not float64), and training
    on it still learns."""
    from accel.arch.sat import accuracy

    mm = accuracy._matmul_for("sat-fp16")
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 70)), rng.standard_normal((70, 4))
    got = mm(a, b)
    a16, b16 = a.astype(np.float16).astype(np.float64), b.astype(np.float16).astype(np.float64)
    np.testing.assert_array_equal(got, (a16 @ b16).astype(np.float32).astype(np.float64))
    assert not np.array_equal(got, a @ b)
    row = train_mlp("bdwp", 2, 8, seed=0, epochs=3, numerics="sat-fp16")
    assert row.numerics == "sat-fp16" and row.test_accuracy > 0.85
    assert row != train_mlp("bdwp", 2, 8, seed=0, epochs=3)
    with pytest.raises(AccelError, match="unknown numerics"):
        train_mlp("dense", numerics="bf16")


def test_mlp_bad_method():
    with pytest.raises(AccelError, match="unknown training method"):
        train_mlp("magic")


def test_layer_shapes():
    r18 = resnet18_cifar_layers()
    assert r18[0][:4] == ("conv1", 64, 27, 1024)
    assert [x[0] for x in r18].count("layer4.0.downsample") == 1
    assert r18[-1][:4] == ("fc", 10, 512, 1)
    # ResNet-50: 53 convs + fc; the last 3x3 runs on 7x7
    r50 = resnet50_layers()
    assert len(r50) == 54 and ("layer4.2.conv2", 512, 4608, 49, 3, 49) in r50
    # ResNet-50 MACs at 224x224: ~4.1 GMAC
    macs = sum(o * k * p for _, o, k, p, _, _ in r50)
    assert 3.9e9 < macs < 4.2e9
    vit = vit_b16_layers()
    assert len(vit) == 50 and vit[1][:4] == ("blocks.0.attn.qkv", 2304, 768, 197)


def test_transposed_conv_bwd_data_is_dx():
    """bwd_data of a 3x3 conv equals the gradient of the conv w.r.t. its input."""
    from accel.workloads.cnn import cnn_workload

    w = cnn_workload("resnet18", prune="dense", batch=1)
    op = w.op("layer1.0.conv2:bwd_data")
    assert (op.M, op.K, op.N) == (1024, 9 * 64, 64)
    fwd = w.op("layer1.0.conv2:fwd")
    wt = fwd.b.to_dense().T.reshape(64, 3, 3, 64)             # (out, kh, kw, in)
    bt = op.b.to_dense().reshape(3, 3, 64, 64)                 # (kh, kw, out, in)
    np.testing.assert_array_equal(bt, wt[:, ::-1, ::-1, :].transpose(1, 2, 0, 3))
