"""Hostile model files: every one gives ModelFormatError with a clear message, never a crash.

tests/test_api.py covers one mutation per validation rule; here the inputs are exhaustive or
random: every truncation, random bytes, random bytes dressed with a valid header and CRC,
absurd declared sizes, a file too large to be a model, bad metadata; and a hypothesis property
that pack_model / unpack_model round-trip and that what packs also loads and runs in C exactly
as the NumPy reference. The C side's own fuzzing is csrc/fuzz (tools/sanitize.sh).
"""
from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import edgedigits
from edgedigits import reference
from edgedigits.modelfile import (ACT_CONV_SIGMOID, ACT_LINEAR, ACT_SIGMOID, CONV_HEADER, HEADER,
                                  LAYER_ENTRY, MAX_FILE_BYTES, ModelFormatError, QuantLayer, pack_model,
                                  unpack_model)
from edgedigits.quantize import quantize_mlp

CLEAR = "cannot load model"


def small_blob(hidden=(8,), seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    sizes = [784, *hidden, 10]
    return quantize_mlp([(rng.normal(0, 0.1, (o, i)), rng.normal(0, 1, o))
                         for i, o in zip(sizes, sizes[1:])], {"name": "hostile"})


def with_crc(body: bytes) -> bytes:
    """body + a valid CRC, with the header's total length made to match."""
    b = bytearray(body + b"\0\0\0\0")
    if len(b) >= 12:
        struct.pack_into("<I", b, 8, len(b))
    struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[:-4])))
    return bytes(b)


def assert_refused_or_sane(blob: bytes) -> None:
    """Either a clear ModelFormatError, or a model that predicts a valid class."""
    try:
        model = edgedigits.Model(blob)
    except ModelFormatError as e:
        assert CLEAR in str(e) and len(str(e)) > len(CLEAR) + 5
        return
    pred = model.predict_digits(np.full((2, 784), 77, np.uint8))
    assert ((0 <= pred) & (pred < model.n_classes)).all()


def test_every_truncation_is_refused():
    blob = small_blob()
    for n in range(len(blob)):
        with pytest.raises(ModelFormatError, match=CLEAR):
            edgedigits.Model(blob[:n])


def test_empty_and_tiny_files(tmp_path):
    for content in (b"", b"E", b"EDGD", b"EDGD" + b"\0" * 20):
        path = tmp_path / "m.edm"
        path.write_bytes(content)
        with pytest.raises(ModelFormatError, match=CLEAR):
            edgedigits.load_model(path)


def test_file_too_large_to_be_a_model_is_not_read(tmp_path):
    path = tmp_path / "huge.edm"
    with open(path, "wb") as f:  # sparse: no disk space, and never read
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ModelFormatError, match="larger than any valid model"):
        edgedigits.load_model(path)


@pytest.mark.parametrize("n_layers, width", [(8, 4096), (2, 4096), (8, 0xFFFFFFFF), (1, 1 << 31)])
def test_absurd_declared_sizes_with_valid_crc(n_layers, width):
    """A short blob that declares huge layers, with length and CRC made valid."""
    table = b"".join(LAYER_ENTRY.pack(784 if i == 0 else width, width,
                                      ACT_LINEAR if i == n_layers - 1 else ACT_SIGMOID,
                                      HEADER.size + LAYER_ENTRY.size * n_layers)
                     for i in range(n_layers))
    body = HEADER.pack(b"EDGD", 1, n_layers, 0, 0, 0, 0) + table + b"\0" * 256
    with pytest.raises(ModelFormatError, match=CLEAR):
        edgedigits.Model(with_crc(body))


def test_metadata_that_is_not_json_is_refused():
    layers, _ = unpack_model(small_blob())
    blob = bytearray(pack_model(layers, {"name": "x"}))
    meta_off, meta_len = struct.unpack_from("<II", blob, 12)
    for junk in (b"\xff" * meta_len, b"{" * meta_len):
        blob[meta_off:meta_off + meta_len] = junk
        with pytest.raises(ModelFormatError, match="metadata"):
            edgedigits.Model(with_crc(bytes(blob[:-4])))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=4000))
def test_random_bytes_are_refused(data):
    with pytest.raises(ModelFormatError, match=CLEAR):
        edgedigits.Model(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_real_model_with_valid_crc(data):
    """Random bytes written into a real model, then length and CRC fixed: past the CRC, every
    other check must still refuse it cleanly, or the model must run."""
    blob = bytearray(small_blob(seed=data.draw(st.integers(0, 3))))
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, min(len(blob) - 5, data.draw(st.sampled_from([64, 200, len(blob) - 5])))))
        blob[at] = data.draw(st.integers(0, 255))
    assert_refused_or_sane(with_crc(bytes(blob[:-4])))


quant_layer_dims = st.lists(st.integers(1, 40), min_size=0, max_size=3)


@settings(max_examples=60, deadline=None)
@given(hidden=quant_layer_dims, n_classes=st.integers(1, 12), seed=st.integers(0, 2 ** 32 - 1),
       meta=st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8)), max_size=3))
def test_pack_unpack_round_trip_property(hidden, n_classes, seed, meta):
    rng = np.random.default_rng(seed)
    sizes = [784, *hidden, n_classes]
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(QuantLayer(
            weights=rng.integers(-127, 128, (n_out, n_in), dtype=np.int8),
            bias=rng.integers(-(1 << 20), 1 << 20, n_out, dtype=np.int32),
            multiplier=rng.integers(1 << 30, (1 << 31) - 1, n_out, dtype=np.int32),
            shift=rng.integers(20, 45, n_out, dtype=np.int32),
            scale=rng.uniform(1e-4, 1e-2, n_out).astype(np.float32),
            activation=ACT_LINEAR if k == len(sizes) - 2 else ACT_SIGMOID))
    blob = pack_model(layers, meta)
    back, meta_back = unpack_model(blob)
    assert meta_back == meta
    for a, b in zip(layers, back):
        for field in ("weights", "bias", "multiplier", "shift", "scale"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
        assert a.activation == b.activation
    model = edgedigits.Model(blob)
    assert model.layer_sizes == tuple(sizes) and model.meta == meta
    x = rng.integers(0, 256, (3, 784), dtype=np.uint8)
    np.testing.assert_array_equal(model.logits_q16(x), reference.forward(blob, x).logits)


def test_model_path_that_is_a_directory(tmp_path):
    with pytest.raises((FileNotFoundError, ModelFormatError)):
        edgedigits.load_model(tmp_path)
    assert os.path.isdir(tmp_path)


def conv_blob(conv=(3, 5, 4), hidden=(6,), seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    channels, k, stride, pool = (*conv, 1)[:4]
    sizes = [channels * (((28 - k) // stride + 1) // pool) ** 2, *hidden, 10]
    layers = [(rng.normal(0, 0.5, (channels, k * k)), rng.normal(0, 1, channels))]
    layers += [(rng.normal(0, 0.1, (o, i)), rng.normal(0, 1, o)) for i, o in zip(sizes, sizes[1:])]
    return quantize_mlp(layers, {"name": "hostile-conv"}, conv=conv)


def patched(blob: bytes, at: int, fmt: str, value: int) -> bytes:
    b = bytearray(blob[:-4])
    struct.pack_into(fmt, b, at, value)
    return with_crc(bytes(b))


def test_conv_model_loads_as_version_2():
    blob = conv_blob()
    assert struct.unpack_from("<H", blob, 4)[0] == 2
    assert struct.unpack_from("<H", small_blob(), 4)[0] == 1  # dense models keep version 1
    model = edgedigits.Model(blob)
    assert model.layers[0].conv == (3, 5, 4) and model.layer_sizes == (784, 108, 6, 10)


def _conv_entry(i: int) -> int:
    return HEADER.size + LAYER_ENTRY.size * i


@pytest.mark.parametrize("mutate, words", [
    (lambda b: patched(b, 4, "<H", 1), "activation"),  # a convolution in a version-1 file
    (lambda b: patched(b, _conv_entry(0) + 4, "<I", 107), "layer sizes"),  # n_out != C * side^2
    (lambda b: patched(b, _conv_entry(1) + 8, "<I", ACT_CONV_SIGMOID), "activation"),  # not first
    (lambda b: patched(b, _conv_entry(2) + 8, "<I", ACT_CONV_SIGMOID), "activation"),  # output layer
    (lambda b: patched(b, CONV_OFF(b), "<I", 0), "activation"),  # no channels
    (lambda b: patched(b, CONV_OFF(b), "<I", 0xFFFFFFFF), "activation"),
    (lambda b: patched(b, CONV_OFF(b) + 4, "<I", 0), "activation"),  # kernel 0
    (lambda b: patched(b, CONV_OFF(b) + 4, "<I", 29), "activation"),  # kernel larger than the image
    (lambda b: patched(b, CONV_OFF(b) + 8, "<I", 0), "activation"),  # stride 0
    (lambda b: patched(b, CONV_OFF(b) + 8, "<I", 1 << 31), "activation"),
    (lambda b: patched(b, CONV_OFF(b) + 12, "<I", 1), "activation"),  # pool 1 (no pooling is 0)
    (lambda b: patched(b, CONV_OFF(b) + 12, "<I", 7), "activation"),  # pool larger than 6 windows
    (lambda b: patched(b, CONV_OFF(b) + 12, "<I", 0xFFFFFFFF), "activation"),
    (lambda b: patched(b, CONV_OFF(b) + 12, "<I", 2), "layer sizes"),  # pooled: 3 x 3, not 6 x 6
    (lambda b: patched(b, CONV_OFF(b) + 8, "<I", 5), "layer sizes"),  # stride 5: 5 x 5 windows, not 6 x 6
    (lambda b: patched(b, CONV_OFF(b) + CONV_HEADER.size + 24, "<i", 0), "multiplier"),  # shift[0] = 0
    (lambda b: patched(b, _conv_entry(1) + 12, "<I", CONV_OFF(b) + 8), "overlapping"),
])
def test_corrupt_conv_models_are_refused_clearly(mutate, words):
    with pytest.raises(ModelFormatError, match=CLEAR) as info:
        edgedigits.Model(mutate(conv_blob()))
    assert words in str(info.value)


def CONV_OFF(blob: bytes) -> int:
    """Offset of the convolution's section (its geometry comes first)."""
    return LAYER_ENTRY.unpack_from(blob, _conv_entry(0))[3]


def test_every_truncation_of_a_conv_model_is_refused():
    blob = conv_blob(hidden=())
    for n in range(len(blob)):
        with pytest.raises(ModelFormatError, match=CLEAR):
            edgedigits.Model(blob[:n])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_conv_model_with_valid_crc(data):
    blob = bytearray(conv_blob(seed=data.draw(st.integers(0, 3))))
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, min(len(blob) - 5, data.draw(st.sampled_from([64, 160, len(blob) - 5])))))
        blob[at] = data.draw(st.integers(0, 255))
    assert_refused_or_sane(with_crc(bytes(blob[:-4])))


def test_conv_pack_unpack_round_trip():
    blob = conv_blob((5, 3, 3), (7, 4))
    layers, meta = unpack_model(blob)
    assert layers[0].conv == (5, 3, 3) and layers[0].weights.shape == (5, 9) and layers[0].n_out == 405
    assert pack_model(layers, meta) == blob


def test_pooled_conv_model_round_trips_and_loads():
    """Max-pooling is the geometry's fourth word (0: none); 9 x 9 windows pooled 2 x 2 give
    4 x 4 outputs (the last row and column of windows dropped)."""
    blob = conv_blob((5, 4, 3, 2), (7,))
    assert struct.unpack_from("<4I", blob, CONV_OFF(blob)) == (5, 4, 3, 2)
    assert struct.unpack_from("<I", conv_blob(), CONV_OFF(conv_blob()) + 12)[0] == 0
    layers, meta = unpack_model(blob)
    assert layers[0].conv == (5, 4, 3, 2) and layers[0].pool == 2 and layers[0].n_out == 80
    assert pack_model(layers, meta) == blob
    model = edgedigits.Model(blob)
    assert model.layers[0].conv == (5, 4, 3, 2) and model.layer_sizes == (784, 80, 7, 10)
