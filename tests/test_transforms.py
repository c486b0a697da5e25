"""Input transforms a model file may declare (edgedigits/transforms.py), and a Model applying
its own: "deskew" shears each patch upright by its second-order moments."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import edgedigits
from edgedigits.classes import digit_log_proba
from edgedigits.modelfile import ModelFormatError
from edgedigits.quantize import quantize_mlp
from edgedigits.transforms import MAX_SKEW, deskew


def stroke(top, bottom, width=3):
    """A 28x28 patch with one straight stroke from `top` (x, y) to `bottom` (x, y)."""
    img = np.zeros((28, 28), np.uint8)
    cv2.line(img, top, bottom, 255, width, cv2.LINE_AA)
    return img


def row_slope(img):
    """dx/dy of the rows' ink centres: 0 for an upright stroke."""
    f = img.astype(np.float64)
    rows = np.flatnonzero(f.sum(1) > 0)
    cx = (f[rows] * np.arange(28)).sum(1) / f[rows].sum(1)
    return float(np.polyfit(rows, cx, 1)[0])


def reference(img):
    """The transform written per patch from OpenCV's moments and an affine warp."""
    m = cv2.moments(img)
    if m["mu02"] < 1e-2:
        return img.copy()
    s = float(np.clip(m["mu11"] / m["mu02"], -MAX_SKEW, MAX_SKEW))
    a = np.float32([[1, s, -s * m["m01"] / m["m00"]], [0, 1, 0]])
    return cv2.warpAffine(img, a, (28, 28), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR)


def test_deskew_stands_a_slanted_stroke_upright_and_keeps_an_upright_one():
    upright = stroke((14, 4), (14, 23))
    slanted = stroke((19, 4), (9, 23))       # leaning right, like a slanted 1
    back = stroke((8, 4), (18, 23))          # leaning left
    out = deskew(np.stack([upright, slanted, back]))
    np.testing.assert_array_equal(out[0], upright)
    assert abs(row_slope(slanted)) > 0.4 and abs(row_slope(back)) > 0.4
    assert abs(row_slope(out[1])) < 0.05 and abs(row_slope(out[2])) < 0.05
    # shearing moves ink along rows only: each row keeps (almost) its ink
    np.testing.assert_allclose(out[1].sum(1), slanted.sum(1), rtol=0.05, atol=300)


def test_deskew_matches_opencv_per_patch(mnist_test):
    images = mnist_test[0][:500]
    got = deskew(images)
    want = np.stack([reference(im) for im in images])
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_deskew_shapes_blank_and_flat_patches():
    x = np.zeros((3, 28, 28), np.uint8)
    x[1, 14, 5:20] = 255                      # one row of ink: no vertical spread, kept
    x[2] = stroke((19, 4), (9, 23))
    out = deskew(x)
    assert out.dtype == np.uint8 and out.shape == x.shape
    assert not out[0].any()
    np.testing.assert_array_equal(out[1], x[1])
    np.testing.assert_array_equal(deskew(x.reshape(3, 784)), out.reshape(3, 784))
    assert deskew(np.zeros((0, 28, 28), np.uint8)).shape == (0, 28, 28)
    # a near-flat diagonal (skew about 5) is sheared by MAX_SKEW only, not laid upright
    flat = stroke((25, 12), (2, 16), width=2)
    sheared = deskew(flat[None])[0]
    assert row_slope(flat) < -2.5
    assert row_slope(sheared) == pytest.approx(row_slope(flat) + MAX_SKEW, abs=0.3)
    many = np.repeat(x[2:3], 2500, axis=0)   # more rows than one cv2.remap call takes
    np.testing.assert_array_equal(deskew(many), np.repeat(out[2:3], 2500, axis=0))


def _models(rng):
    layers = [(rng.normal(0, 0.05, (32, 784)), rng.normal(0, 0.5, 32)),
              (rng.normal(0, 1.0, (10, 32)), rng.normal(0, 0.5, 10))]
    plain = edgedigits.Model.from_bytes(quantize_mlp(layers, {"name": "plain"}))
    skewed = edgedigits.Model.from_bytes(quantize_mlp(layers, {"name": "d", "input": "deskew"}))
    return plain, skewed


def test_model_applies_the_transform_its_file_names(mnist_test):
    plain, skewed = _models(np.random.default_rng(3))
    assert plain.input_transform is None and skewed.input_transform == "deskew"
    x = mnist_test[0][:64]
    d = deskew(x)
    assert (d != x).any()
    np.testing.assert_array_equal(skewed.predict_log_proba(x), plain.predict_log_proba(d))
    np.testing.assert_array_equal(skewed.logits_q16(x), plain.logits_q16(d))
    np.testing.assert_array_equal(skewed.predict_digits(x), plain.predict_digits(d))
    assert [skewed.predict_digit(im) for im in x[:16]] == \
        [plain.predict_digit(im) for im in d[:16]]
    # float input is checked and converted first, then transformed
    np.testing.assert_array_equal(skewed.predict_log_proba(x / 255.0), plain.predict_log_proba(d))
    assert (skewed.predict_log_proba(x) != plain.predict_log_proba(x)).any()


def test_unknown_input_transform_is_refused():
    rng = np.random.default_rng(0)
    blob = quantize_mlp([(rng.normal(0, 0.05, (10, 784)), np.zeros(10))], {"input": "sharpen"})
    with pytest.raises(ModelFormatError, match="sharpen"):
        edgedigits.Model.from_bytes(blob)


def test_reader_views_deskew_once_per_patch(mnist_test, monkeypatch):
    """classify's shifted views: the deskewing member gets its views shifted from patches
    deskewed once (one transform call on N patches, not on 5N views), and reads them as the
    views deskewed one by one would be read."""
    from edgedigits import transforms
    from edgedigits.pipeline import classify as C
    images, _ = mnist_test
    patches = images[:300]
    ensemble = edgedigits.load_ensemble()
    assert any(m.input_transform == "deskew" for m in ensemble.members)
    views = np.concatenate([C._shifted(patches, dy, dx) for dy, dx in C.TTA_SHIFTS])
    per_view = digit_log_proba(
        C._mean(ensemble.predict_class_log_proba(views), len(C.TTA_SHIFTS), len(patches)))
    sizes = []

    def counted(x):
        sizes.append(len(x))
        return deskew(x)
    monkeypatch.setitem(transforms.INPUT_TRANSFORMS, "deskew", counted)
    once = C.classify(patches, ensemble)
    assert sizes == [len(patches)]
    assert (once.argmax(1) == per_view.argmax(1)).mean() >= 0.995
    assert np.median(np.abs(once - per_view).max(1)) < 1e-6  # most patches: the same views
    # a plain model, or one whose transform is not known to commute, is given the views
    plain = edgedigits.load_model()
    sizes.clear()
    assert np.array_equal(C.classify(patches, plain), digit_log_proba(
        C._mean(plain.predict_class_log_proba(views), len(C.TTA_SHIFTS), len(patches))))
    assert sizes == []
