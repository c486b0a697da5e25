"""The C core against the NumPy reference: every integer intermediate bit-exact."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import edgedigits
from edgedigits._core import ffi, lib
from edgedigits import reference
from edgedigits.modelfile import ACT_CONV_SIGMOID, ACT_SIGMOID, unpack_model
from edgedigits.quantize import quantize_mlp


def random_mlp(rng: np.random.Generator, hidden: list[int], n_classes: int = 10, scale: float = 0.1):
    sizes = [784, *hidden, n_classes]
    return [(rng.normal(0, scale * rng.uniform(0.2, 3.0), (o, i)), rng.normal(0, 1.0, o))
            for i, o in zip(sizes, sizes[1:])]


def c_trace(model: edgedigits.Model, x: np.ndarray):
    """Run the C kernels layer by layer, returning (accumulators, hidden, logits)."""
    accs, hidden = [], []
    h = x
    for i in range(model._model.n_layers):
        layer = ffi.addressof(model._model.layers[i])
        acc = np.empty((h.shape[0], layer.n_out), np.int32)
        out_h = np.empty((h.shape[0], layer.n_out), np.uint8)
        for n in range(h.shape[0]):
            row = np.ascontiguousarray(h[n])
            if layer.activation == ACT_CONV_SIGMOID:
                lib.ed_conv_sigmoid_u8(layer, ffi.from_buffer("uint8_t[]", row),
                                       ffi.from_buffer("int32_t[]", acc[n], require_writable=True),
                                       ffi.from_buffer("uint8_t[]", out_h[n], require_writable=True))
                continue
            lib.ed_dense_acc_s8(layer, ffi.from_buffer("uint8_t[]", row),
                                ffi.from_buffer("int32_t[]", acc[n], require_writable=True))
            if layer.activation == ACT_SIGMOID:
                lib.ed_sigmoid_u8(layer, ffi.from_buffer("int32_t[]", acc[n]),
                                  ffi.from_buffer("uint8_t[]", out_h[n], require_writable=True))
        accs.append(acc)
        if layer.activation in (ACT_SIGMOID, ACT_CONV_SIGMOID):
            hidden.append(out_h)
            h = out_h
    return accs, hidden, model.logits_q16(x)


def assert_trace_equal(model: edgedigits.Model, x: np.ndarray) -> None:
    ref = reference.forward(model.blob, x)
    accs, hidden, logits = c_trace(model, x)
    for k, (a, b) in enumerate(zip(accs, ref.accumulators)):
        np.testing.assert_array_equal(a, b, err_msg=f"accumulators of layer {k}")
    for k, (a, b) in enumerate(zip(hidden, ref.hidden)):
        np.testing.assert_array_equal(a, b, err_msg=f"hidden activations of layer {k}")
    np.testing.assert_array_equal(logits, ref.logits, err_msg="int32 Q16 logits")
    # C returns float32: within 1e-5, relative to the magnitude once |log p| exceeds 1
    # (random models reach |log p| of hundreds, where a float32 ulp alone is 3e-5).
    logp = model.predict_class_log_proba(x)
    diff = (np.abs(logp - ref.log_proba) / np.maximum(1.0, np.abs(ref.log_proba))).max()
    assert diff <= 1e-5, f"log-probabilities differ by up to {diff:g}"
    np.testing.assert_array_equal(model.predict_digits(x), ref.digits)


@pytest.mark.parametrize("hidden", [[], [1], [37], [13, 7], [100, 30]])
def test_random_models_bit_exact(hidden):
    rng = np.random.default_rng(len(hidden) * 100 + sum(hidden))
    model = edgedigits.Model(quantize_mlp(random_mlp(rng, hidden)))
    x = rng.integers(0, 256, (64, 784), dtype=np.uint8)
    x[0] = 0
    x[1] = 255
    assert_trace_equal(model, x)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       hidden=st.lists(st.integers(1, 70), min_size=0, max_size=3),
       n_classes=st.integers(2, 12),
       scale=st.floats(1e-3, 3.0))
def test_property_bit_exact(seed, hidden, n_classes, scale):
    rng = np.random.default_rng(seed)
    model = edgedigits.Model(quantize_mlp(random_mlp(rng, hidden, n_classes, scale)))
    x = rng.integers(0, 256, (8, 784), dtype=np.uint8)
    assert_trace_equal(model, x)


def random_conv(rng: np.random.Generator, conv: tuple[int, ...], hidden: list[int],
                n_classes: int = 10, scale: float = 0.3):
    channels, k, stride, pool = (*conv, 1)[:4]
    side = ((28 - k) // stride + 1) // pool
    kernels = (rng.normal(0, scale * rng.uniform(0.2, 3.0), (channels, k * k)), rng.normal(0, 1.0, channels))
    rest = random_mlp(rng, hidden, n_classes, scale / 3)
    w, b = rest[0]
    rest[0] = (rng.normal(0, w.std() + 1e-3, (w.shape[0], channels * side * side)), b)
    return [kernels, *rest]


@pytest.mark.parametrize("conv, hidden", [((16, 5, 2), [200]), ((24, 5, 2), []), ((1, 1, 1), [3]),
                                          ((2, 28, 5), [4, 3]), ((5, 3, 3), [11]),
                                          # max-pooled: 2x2 blocks; 3x3; windows left over (9 per
                                          # row, pool 2); one block of all 24 x 24 windows
                                          ((24, 5, 1, 2), [200]), ((3, 3, 2, 3), [5]),
                                          ((4, 4, 3, 2), []), ((2, 5, 1, 24), [3])])
def test_conv_models_bit_exact(conv, hidden):
    """A convolutional first layer: C (ed_conv_sigmoid_u8 and both forward paths) against the
    reference, and the int8 model against the float one it was quantised from (so the C core
    pools where training pools)."""
    rng = np.random.default_rng(sum(conv) + len(hidden))
    layers = random_conv(rng, conv, hidden)
    model = edgedigits.Model(quantize_mlp(layers, conv=conv))
    assert model.layers[0].activation == "conv-sigmoid" and model.layers[0].conv == conv
    pool = conv[3] if len(conv) > 3 else 1
    assert model.layer_sizes[1] == conv[0] * (((28 - conv[1]) // conv[2] + 1) // pool) ** 2
    x = rng.integers(0, 256, (13, 784), dtype=np.uint8)  # not a multiple of the batch lanes
    x[0], x[1] = 0, 255
    assert_trace_equal(model, x)
    from training.models import Conv, Mlp, log_proba
    fm = Mlp([w for w, _ in layers], [b for _, b in layers], Conv(*conv))
    np.testing.assert_allclose(np.exp(model.predict_log_proba(x)), np.exp(log_proba(fm, x / 255.0)), atol=0.05)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), channels=st.integers(1, 6), kernel=st.integers(1, 28),
       stride=st.integers(1, 28), pool=st.integers(1, 4),
       hidden=st.lists(st.integers(1, 20), min_size=0, max_size=2))
def test_property_conv_bit_exact(seed, channels, kernel, stride, pool, hidden):
    rng = np.random.default_rng(seed)
    windows = (28 - kernel) // stride + 1
    pool = min(pool, windows)
    assume(channels * (windows // pool) ** 2 <= 4096)
    conv = (channels, kernel, stride) + ((pool,) if pool > 1 else ())
    model = edgedigits.Model(quantize_mlp(random_conv(rng, conv, hidden), conv=conv))
    assert_trace_equal(model, rng.integers(0, 256, (5, 784), dtype=np.uint8))


def test_conv_too_wide_is_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="4096"):
        quantize_mlp(random_conv(rng, (8, 3, 1), []), conv=(8, 3, 1))  # 8 * 26 * 26 = 5408 outputs
    with pytest.raises(ValueError, match="kernels of shape"):
        quantize_mlp(random_conv(rng, (4, 5, 2), []), conv=(4, 3, 2))
    with pytest.raises(ValueError, match="a layer after it"):
        quantize_mlp(random_conv(rng, (4, 5, 2), [])[:1], conv=(4, 5, 2))


def test_mnist_digits_bit_exact(mnist_test):
    images, _ = mnist_test
    rng = np.random.default_rng(7)
    x = images[rng.choice(len(images), 300, replace=False)].reshape(-1, 784)
    for hidden in ([], [64], [48, 24]):
        model = edgedigits.Model(quantize_mlp(random_mlp(rng, hidden, scale=0.05)))
        assert_trace_equal(model, x)
    for name in ("default", "default-3"):  # an MLP, and the convolutional member
        assert_trace_equal(edgedigits.load_model(name), x)


def test_requantize_rounds_half_up_for_both_signs():
    # 2^S * (k + 1/2) must round to k + 1 for positive and negative k alike.
    for acc in range(-40, 41):
        for shift in (1, 2, 3, 5):
            got = lib.ed_requantize(acc, 1, shift)
            ref = reference.requantize(np.array([acc]), np.array([1]), np.array([shift]))[0]
            assert got == ref == np.floor(acc / 2**shift + 0.5), (acc, shift)


def test_sigmoid_table_matches_formula():
    c_lut = np.frombuffer(ffi.buffer(lib.ed_sigmoid_lut(), lib.ED_SIGMOID_LUT_SIZE), np.uint8)
    np.testing.assert_array_equal(c_lut, reference.sigmoid_lut())


def test_every_status_has_its_own_string():
    texts = [ffi.string(lib.ed_status_str(s)).decode() for s in range(lib.ED_STATUS_COUNT)]
    assert len(set(texts)) == len(texts)
    assert texts[lib.ED_OK] == "ok"
    assert "CRC" in texts[lib.ED_ERR_CRC] and "magic" in texts[lib.ED_ERR_MAGIC]
    assert ffi.string(lib.ed_status_str(lib.ED_STATUS_COUNT)) == b"unknown status"


def test_scratch_too_small_is_refused():
    rng = np.random.default_rng(3)
    model = edgedigits.Model(quantize_mlp(random_mlp(rng, [20])))
    need = lib.ed_scratch_size(model._model)
    assert need == 40
    x = np.zeros(784, np.uint8)
    scratch = np.zeros(need, np.uint8)
    pred = ffi.new("int32_t *")
    status = lib.ed_forward_u8(model._model, ffi.from_buffer(x), ffi.NULL, ffi.NULL, pred,
                               ffi.from_buffer(scratch), need - 1)
    assert status == lib.ED_ERR_BUFFER
    status = lib.ed_forward_u8(model._model, ffi.from_buffer(x), ffi.NULL, ffi.NULL, pred,
                               ffi.from_buffer(scratch), need)
    assert status == lib.ED_OK


def test_quantised_logreg_agrees_with_float(mnist_train, mnist_test):
    """A quickly fitted logistic regression: int8 predictions agree with float on >= 99.5%."""
    images, labels = mnist_train
    x = images[:20000].reshape(-1, 784) / 255.0
    t = labels[:20000]
    rng = np.random.default_rng(0)
    w, b = np.zeros((10, 784)), np.zeros(10)
    for epoch in range(3):
        for idx in np.array_split(rng.permutation(len(x)), len(x) // 100):
            z = x[idx] @ w.T + b
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), t[idx]] -= 1.0
            w -= 0.5 / (1 + epoch) * p.T @ x[idx] / len(idx)
            b -= 0.5 / (1 + epoch) * p.mean(0)
    test_x, test_t = mnist_test
    float_pred = np.argmax(test_x.reshape(-1, 784) / 255.0 @ w.T + b, axis=1)
    model = edgedigits.Model(quantize_mlp([(w, b)]))
    int8_pred = model.predict_digits(test_x)
    assert np.mean(int8_pred == float_pred) >= 0.995
    assert np.mean(int8_pred == test_t) >= 0.88  # sanity: it learned


def test_pack_unpack_round_trip():
    rng = np.random.default_rng(11)
    blob = quantize_mlp(random_mlp(rng, [9, 5]), meta={"name": "t", "x": [1, 2]})
    layers, meta = unpack_model(blob)
    assert meta == {"name": "t", "x": [1, 2]}
    assert [layer.weights.shape for layer in layers] == [(9, 784), (5, 9), (10, 5)]
    assert edgedigits.Model(blob).layer_sizes == (784, 9, 5, 10)


def test_generated_sigmoid_header_is_up_to_date():
    import subprocess
    import sys
    from pathlib import Path
    tool = Path(__file__).resolve().parent.parent / "tools" / "gen_sigmoid_lut.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
