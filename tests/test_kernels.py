"""Every int8 matvec kernel this machine supports is bit-exact with the NumPy reference.

Kernels are forced through EDGEDIGITS_KERNEL (read by the C core when a model loads), so the
same forward pass runs once per kernel; kernels this CPU or build lacks are skipped with the
reason (tools/cross_test.sh runs the NEON ones under qemu-user).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import edgedigits
from edgedigits import reference
from edgedigits._core import ffi, lib
from edgedigits.kernels import KERNEL_ENV, KERNELS, best_kernel, kernel_id, supported_kernels
from edgedigits.modelfile import ModelFormatError, pack_model, unpack_model
from edgedigits.quantize import quantize_mlp

SUPPORTED = supported_kernels()
# Widths around every vector length (16, 32, 64) and its tails, the MNIST input, the limit.
WIDTHS = [1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 784, 800, 4096]
ROWS = [1, 3, 4, 5, 8, 13, 16, 17]
SHAPES = [[], [1], [5], [64], [100, 30], [800], [300, 100, 50]]


def each_kernel():
    return [pytest.param(k, marks=pytest.mark.skipif(k not in SUPPORTED, reason=(
        f"kernel {k} is not supported by this CPU or build (supported: {', '.join(SUPPORTED)})")))
        for k in KERNELS]


def matvec(kernel: str, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = np.empty(w.shape[0], np.int32)
    status = lib.ed_matvec_s8_kernel(
        kernel_id(kernel), ffi.from_buffer("int8_t[]", np.ascontiguousarray(w)),
        ffi.from_buffer("uint8_t[]", x), w.shape[1], w.shape[0],
        ffi.from_buffer("int32_t[]", out, require_writable=True))
    assert status == lib.ED_OK, ffi.string(lib.ed_status_str(status)).decode()
    return out


def random_mlp_blob(rng: np.random.Generator, hidden: list[int]) -> bytes:
    sizes = [784, *hidden, 10]
    layers = [(rng.normal(0, rng.uniform(0.02, 0.3), (o, i)), rng.normal(0, 1.0, o))
              for i, o in zip(sizes, sizes[1:])]
    return quantize_mlp(layers, {"name": "random-" + "-".join(map(str, sizes))})


def load_with_kernel(monkeypatch, blob: bytes, kernel: str) -> edgedigits.Model:
    monkeypatch.setenv(KERNEL_ENV, kernel)
    model = edgedigits.Model(blob)
    assert KERNELS[model._model.kernel] == kernel
    return model


def assert_model_exact(model: edgedigits.Model, x: np.ndarray) -> None:
    ref = reference.forward(model.blob, x)
    np.testing.assert_array_equal(model.logits_q16(x), ref.logits,
                                  err_msg=f"int32 Q16 logits, kernel {KERNELS[model._model.kernel]}")
    np.testing.assert_array_equal(model.predict_digits(x), ref.digits)


@pytest.mark.parametrize("kernel", each_kernel())
def test_matvec_bit_exact_random(kernel):
    rng = np.random.default_rng(6)
    for n_in in WIDTHS:
        x = rng.integers(0, 256, n_in, dtype=np.uint8)
        for n_rows in ROWS:
            w = rng.integers(-127, 128, (n_rows, n_in), dtype=np.int8)
            expected = w.astype(np.int64) @ x.astype(np.int64)
            np.testing.assert_array_equal(matvec(kernel, w, x), expected,
                                          err_msg=f"{kernel}: n_in={n_in} n_rows={n_rows}")


@pytest.mark.parametrize("kernel", each_kernel())
@pytest.mark.parametrize("weight", [-128, -127, 127])
def test_matvec_extremes_do_not_saturate(kernel, weight):
    """All-255 inputs with extreme weights: where vpmaddubsw would saturate (255*127*2 > 32767)
    and where int16 accumulators would overflow; -128 is outside the quantiser's range but exact."""
    for n_in in (32, 784, 4096):
        w = np.full((5, n_in), weight, np.int8)
        x = np.full(n_in, 255, np.uint8)
        np.testing.assert_array_equal(matvec(kernel, w, x), np.full(5, weight * 255 * n_in))


@pytest.mark.parametrize("kernel", each_kernel())
@pytest.mark.parametrize("hidden", SHAPES, ids=lambda h: "784-" + "-".join(map(str, h + [10])))
def test_forward_bit_exact_random_models(monkeypatch, kernel, hidden):
    rng = np.random.default_rng(len(hidden) * 1000 + sum(hidden))
    model = load_with_kernel(monkeypatch, random_mlp_blob(rng, hidden), kernel)
    x = rng.integers(0, 256, (64, 784), dtype=np.uint8)
    x[0] = 0
    x[1] = 255
    assert_model_exact(model, x)


@pytest.mark.parametrize("kernel", each_kernel())
def test_forward_bit_exact_mnist(monkeypatch, kernel, mnist_test):
    images = mnist_test[0][:2000].reshape(-1, 784)
    for name in ("default", "logreg"):
        with open(edgedigits.load_model(name).path, "rb") as f:
            blob = f.read()
        assert_model_exact(load_with_kernel(monkeypatch, blob, kernel), images)
    rng = np.random.default_rng(7)
    assert_model_exact(load_with_kernel(monkeypatch, random_mlp_blob(rng, [800]), kernel), images)


@pytest.mark.parametrize("kernel", each_kernel())
def test_batch_path_equals_one_at_a_time(monkeypatch, kernel):
    """ed_forward_batch_u8 with the batch scratch (ED_BATCH_LANES images per pass over the
    weights where the kernel has a batched form) against one call per image."""
    rng = np.random.default_rng(9)
    model = load_with_kernel(monkeypatch, random_mlp_blob(rng, [70, 20]), kernel)
    x = rng.integers(0, 256, (4 * 5 + 3, 784), dtype=np.uint8)
    assert model.scratch_size == lib.ed_batch_scratch_size(model._model)
    one_by_one = np.stack([model.logits_q16(x[i:i + 1])[0] for i in range(len(x))])
    np.testing.assert_array_equal(model.logits_q16(x), one_by_one)
    np.testing.assert_array_equal(one_by_one, reference.forward(model.blob, x).logits)


def test_default_is_best(monkeypatch):
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    assert edgedigits.kernel_name() == best_kernel()
    assert KERNELS[edgedigits.load_model()._model.kernel] == best_kernel()
    assert "portable" in SUPPORTED and best_kernel() in SUPPORTED


@pytest.mark.parametrize("name", [k for k in KERNELS if k not in SUPPORTED] + ["sse9", "AVX2"])
def test_forcing_unsupported_kernel_is_a_clear_error(monkeypatch, name):
    monkeypatch.setenv(KERNEL_ENV, name)
    with pytest.raises(ValueError, match=KERNEL_ENV):
        edgedigits.kernel_name()
    with pytest.raises(ModelFormatError, match=KERNEL_ENV):
        edgedigits.load_model("logreg")


def test_empty_variable_means_best(monkeypatch):
    monkeypatch.setenv(KERNEL_ENV, "")
    assert edgedigits.kernel_name() == best_kernel()


def test_set_kernel_and_unsupported(monkeypatch):
    monkeypatch.delenv(KERNEL_ENV, raising=False)
    model = edgedigits.load_model("logreg")
    assert lib.ed_model_set_kernel(model._model, kernel_id("portable")) == lib.ED_OK
    assert model._model.kernel == kernel_id("portable")
    for k, name in enumerate(KERNELS):
        assert lib.ed_model_set_kernel(model._model, k) == (lib.ED_OK if name in SUPPORTED else lib.ED_ERR_KERNEL)
    assert lib.ed_model_set_kernel(model._model, lib.ED_KERNEL_COUNT) == lib.ED_ERR_KERNEL
    assert ffi.string(lib.ed_kernel_name(lib.ED_KERNEL_COUNT)) == b"unknown"


def test_matvec_rejects_bad_arguments():
    w = np.zeros((2, 8), np.int8)
    x = np.zeros(8, np.uint8)
    out = np.empty(2, np.int32)
    wb, xb = ffi.from_buffer("int8_t[]", w), ffi.from_buffer("uint8_t[]", x)
    ob = ffi.from_buffer("int32_t[]", out, require_writable=True)
    assert lib.ed_matvec_s8_kernel(0, ffi.NULL, xb, 8, 2, ob) == lib.ED_ERR_NULL
    assert lib.ed_matvec_s8_kernel(0, wb, xb, lib.ED_MAX_WIDTH + 1, 2, ob) == lib.ED_ERR_DIMS
    assert lib.ed_matvec_s8_kernel(lib.ED_KERNEL_COUNT, wb, xb, 8, 2, ob) == lib.ED_ERR_KERNEL


# Convolutions (channels, kernel, stride[, pool]): 8-channel groups one to five at a time (the
# AVX2 form's 8, 24, 32, 40; the VNNI form's one or two 16-lane groups, the last masked to 8
# lanes or not: 8, 16, 24, 32, 40), a count they leave to the portable loop (17), numbers of
# taps odd, even and not a multiple of 4 (the VNNI form's quads), max-pooling with windows left
# over, and a kernel too large for its weight buffer (28 x 28 x 8 widened: the portable loop).
CONVS = [(8, 5, 1, 2), (16, 3, 2), (24, 5, 2), (24, 5, 1, 2), (32, 4, 3), (40, 3, 3, 3),
         (17, 5, 1, 2), (8, 28, 1)]


def conv_blob(rng: np.random.Generator, conv: tuple[int, ...], extreme: int | None = None) -> bytes:
    channels, k, stride, pool = (*conv, 1)[:4]
    n_out = channels * (((28 - k) // stride + 1) // pool) ** 2
    layers = [(rng.normal(0, 0.3, (channels, k * k)), rng.normal(0, 1.0, channels)),
              (rng.normal(0, 0.02, (10, n_out)), rng.normal(0, 1.0, 10))]
    blob = quantize_mlp(layers, conv=conv)
    if extreme is None:
        return blob
    q, meta = unpack_model(blob)
    weights = np.full_like(q[0].weights, extreme)
    weights[::2, ::3] = -extreme if extreme != -128 else 127  # both signs in each window
    return pack_model([dataclasses.replace(q[0], weights=weights), q[1]], meta)


@pytest.mark.parametrize("kernel", each_kernel())
@pytest.mark.parametrize("conv", CONVS, ids=lambda c: "x".join(map(str, c)))
def test_conv_forward_bit_exact(monkeypatch, kernel, conv):
    """Each kernel's convolution (the AVX2 form pairs taps through vpmaddwd, the VNNI form
    takes them in quads through vpdpbusd) against the reference: random models on random,
    empty, full and sparse images, and extreme weights (-128 is outside the quantiser's range
    but exact) on all-255 images."""
    rng = np.random.default_rng(sum(conv))
    x = rng.integers(0, 256, (9, 784), dtype=np.uint8)
    x[0], x[1] = 0, 255
    x[2:5] *= rng.random((3, 784)) < 0.2
    x[5:7] *= (np.abs(np.arange(784) % 28 - 14) < 5) & (np.abs(np.arange(784) // 28 - 13) < 8)  # ink
    # in the middle only, as in a digit patch: windows without ink are skipped, others not
    assert_model_exact(load_with_kernel(monkeypatch, conv_blob(rng, conv), kernel), x)
    for extreme in (-128, 127):
        model = load_with_kernel(monkeypatch, conv_blob(rng, conv, extreme), kernel)
        assert_model_exact(model, np.full((2, 784), 255, np.uint8))
