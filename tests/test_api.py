"""Public API: inputs checked with clear errors, model files validated, shipped models load."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import edgedigits
from edgedigits import ModelFormatError
from edgedigits.modelfile import HEADER, LAYER_ENTRY
from edgedigits.quantize import quantize_mlp


@pytest.fixture(scope="module")
def blob() -> bytes:
    rng = np.random.default_rng(5)
    return quantize_mlp([(rng.normal(0, 0.1, (16, 784)), rng.normal(0, 1, 16)),
                         (rng.normal(0, 0.5, (10, 16)), np.zeros(10))], meta={"name": "t"})


def recrc(data: bytes) -> bytes:
    """Fix the trailing CRC so that a structural change is what the loader sees."""
    return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))


def patch(data: bytes, offset: int, fmt: str, value) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return recrc(bytes(out))


def test_predict_shapes_and_types():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    d = edgedigits.predict_digit(img)
    assert isinstance(d, int) and 0 <= d <= 9
    assert edgedigits.predict_digit(img.reshape(784)) == d
    assert edgedigits.predict_digit(img / 255.0) == d
    batch = np.stack([img, 255 - img, np.zeros_like(img)])
    preds = edgedigits.predict_digits(batch)
    assert preds.shape == (3,) and preds.dtype == np.int64 and preds[0] == d
    np.testing.assert_array_equal(edgedigits.predict_digits(batch.reshape(3, 784)), preds)
    logp = edgedigits.predict_log_proba(batch)
    assert logp.shape == (3, 10)
    np.testing.assert_allclose(np.exp(logp).sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(np.argmax(logp, 1), preds)
    assert edgedigits.predict_log_proba(img).shape == (1, 10)
    assert edgedigits.predict_digits(np.zeros((0, 28, 28), np.uint8)).shape == (0,)


def test_non_contiguous_input_gives_same_answer():
    rng = np.random.default_rng(1)
    big = rng.integers(0, 256, (6, 56, 56), dtype=np.uint8)
    view = big[::2, ::2, ::2]  # (3, 28, 28), strided
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(edgedigits.predict_digits(view),
                                  edgedigits.predict_digits(np.ascontiguousarray(view)))
    fortran = np.asfortranarray(big[0, :28, :28])
    assert edgedigits.predict_digit(fortran) == edgedigits.predict_digit(big[0, :28, :28].copy())


@pytest.mark.parametrize("bad, exc, words", [
    (np.zeros((27, 28), np.uint8), ValueError, "(28, 28)"),
    (np.zeros((2, 785), np.uint8), ValueError, "(N, 784)"),
    (np.zeros((2, 3, 28, 28), np.uint8), ValueError, "shape"),
    (np.full((28, 28), np.nan), ValueError, "NaN"),
    (np.full((28, 28), np.inf), ValueError, "NaN or infinity"),
    (np.full((28, 28), 1.5), ValueError, "[0, 1]"),
    (np.full((28, 28), -0.1, np.float32), ValueError, "[0, 1]"),
    (np.zeros((28, 28), np.int64), TypeError, "uint8"),
    (np.zeros((28, 28), bool), TypeError, "uint8"),
    ("digit.png", TypeError, "NumPy array"),
    (None, TypeError, "NumPy array"),
    (np.array([["a"] * 28] * 28), TypeError, "uint8"),
])
def test_bad_inputs_raise_clear_errors(bad, exc, words):
    with pytest.raises(exc, match=None) as info:
        edgedigits.predict_log_proba(bad)
    assert words in str(info.value)


def test_predict_digit_wants_exactly_one_image():
    with pytest.raises(ValueError, match="one image"):
        edgedigits.predict_digit(np.zeros((2, 28, 28), np.uint8))


def test_model_metadata_and_sizes(blob):
    model = edgedigits.Model(blob)
    assert model.layer_sizes == (784, 16, 10)
    assert model.meta == {"name": "t"}
    assert [layer.activation for layer in model.layers] == ["sigmoid", "linear"]
    assert len(model.sha256) == 64


def test_shipped_models_load():
    default = edgedigits.load_model()
    assert default.path == edgedigits.default_model_path()
    assert default.layer_sizes[0] == 784 and default.layer_sizes[-1] in (10, 19)
    assert edgedigits.load_model("logreg").layer_sizes == (784, 10)
    with pytest.raises(FileNotFoundError, match="not found"):
        edgedigits.load_model("no-such-model.edm")
    with pytest.raises(TypeError, match="path"):
        edgedigits.load_model(42)


def layer_entry(i: int) -> int:
    return HEADER.size + LAYER_ENTRY.size * i


@pytest.mark.parametrize("mutate, words", [
    (lambda b: b"", "shorter"),
    (lambda b: b[:10], "shorter"),
    (lambda b: b[:-1], "length"),
    (lambda b: b[:len(b) // 2], "length"),
    (lambda b: b"XXXX" + b[4:], "magic"),
    (lambda b: patch(b, 4, "<H", 3), "version"),  # newer than this build reads
    (lambda b: patch(b, 4, "<H", 0), "version"),
    (lambda b: patch(b, 6, "<H", 0), "layer count"),
    (lambda b: patch(b, 6, "<H", 9), "layer count"),
    (lambda b: patch(b, 6, "<H", 60000), "layer count"),
    (lambda b: patch(b, layer_entry(0), "<I", 785), "layer sizes"),
    (lambda b: patch(b, layer_entry(0) + 4, "<I", 0xFFFFFFFF), "layer sizes"),
    (lambda b: patch(b, layer_entry(1), "<I", 17), "layer sizes"),
    (lambda b: patch(b, layer_entry(0) + 8, "<I", 0), "activation"),
    (lambda b: patch(b, layer_entry(1) + 8, "<I", 1), "activation"),
    (lambda b: patch(b, layer_entry(0) + 12, "<I", 2), "misaligned"),
    (lambda b: patch(b, layer_entry(1) + 12, "<I", 0x7FFFFFFC), "shorter"),
    (lambda b: patch(b, layer_entry(1) + 12, "<I", layer_entry(2)), "overlapping"),
    (lambda b: patch(b, 16, "<I", 0xFFFFFF), "outside"),
    (lambda b: patch(b, 20, "<I", 1), "outside"),
])
def test_corrupt_model_blobs_are_refused_clearly(blob, mutate, words):
    with pytest.raises(ModelFormatError) as info:
        edgedigits.Model(mutate(blob))
    assert words in str(info.value)


def test_every_single_bit_flip_is_caught(blob):
    rng = np.random.default_rng(2)
    for pos in rng.choice(len(blob) * 8, 300, replace=False):
        flipped = bytearray(blob)
        flipped[pos // 8] ^= 1 << (pos % 8)
        with pytest.raises(ModelFormatError):
            edgedigits.Model(bytes(flipped))


def test_bad_requantisation_parameters_are_refused(blob):
    first_data = struct.unpack_from("<I", blob, layer_entry(0) + 12)[0]
    shift_at = first_data + 8 * 16  # layer 0 has 16 rows: bias, multiplier, then shift
    for value in (0, 63, -1):
        with pytest.raises(ModelFormatError, match="multiplier, shift or bias"):
            edgedigits.Model(patch(blob, shift_at, "<i", value))
    with pytest.raises(ModelFormatError, match="multiplier, shift or bias"):
        edgedigits.Model(patch(blob, first_data, "<i", (1 << 30) + 1))


def test_model_files_on_disk(tmp_path, blob):
    from edgedigits.modelfile import write_model_file
    path = tmp_path / "m.edm"
    write_model_file(path, blob)
    assert edgedigits.load_model(path).sha256 == edgedigits.Model(blob).sha256
    (tmp_path / "empty.edm").write_bytes(b"")
    with pytest.raises(ModelFormatError, match="cannot load model"):
        edgedigits.load_model(tmp_path / "empty.edm")
    (tmp_path / "junk.edm").write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ModelFormatError, match="magic"):
        edgedigits.load_model(tmp_path / "junk.edm")
    with pytest.raises(TypeError, match="bytes"):
        edgedigits.Model("not bytes")


def test_c_header_embeds_the_blob(tmp_path, blob):
    import re
    from edgedigits.modelfile import write_c_header
    path = tmp_path / "ed_test_model.h"
    write_c_header(path, blob, "ed_test_model", "python make_it.py")
    text = path.read_text()
    assert text.startswith("/* GENERATED by `python make_it.py`")
    assert "#ifndef ED_TEST_MODEL_H" in text and f"ED_TEST_MODEL_LEN {len(blob)}u" in text
    assert f"0x{zlib.crc32(blob[:-4]):08x}" in text
    body = text.split("= {", 1)[1].split("};", 1)[0]
    assert bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", body)) == blob
    with pytest.raises(ValueError, match="identifier"):
        write_c_header(path, blob, "not-an-identifier", "x")
