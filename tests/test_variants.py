"""Label-keeping variants of MNIST training digits (training/variants.py)."""
from __future__ import annotations

import numpy as np
import pytest

from training import variants


@pytest.fixture(scope="module")
def train(mnist_train):
    images, labels = mnist_train
    # the first 50,000 training digits only (closed-top 4s are rare: ~1 in 200 4s fits
    # four_open, so the tests look through all of them)
    return images[:50_000], labels[:50_000].astype(np.int64)


def _drawn(train, kind, count, seed=0):
    images, labels = train
    rng = np.random.default_rng(seed)
    out = []
    for j in np.flatnonzero(labels == variants.KINDS[kind]):
        d = variants.draw(images[j], int(labels[j]), kind, rng)
        if d is not None:
            out.append(d)
        if len(out) == count:
            break
    assert len(out) == count, f"{kind}: only {len(out)} source digits fit"
    return out


def _box(mask):
    ys, xs = np.nonzero(mask)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def test_make_shapes_labels_and_seed(train):
    images, labels = train
    x, y, k = variants.make(images, labels, 200, np.random.default_rng(0))
    assert x.shape == (200, 28, 28) and x.dtype == np.uint8
    assert y.shape == (200,) and y.dtype == np.int64 and k.shape == (200,)
    assert all(p.any() for p in x)
    # every variant keeps the label of its kind's digit
    np.testing.assert_array_equal(y, [variants.KINDS[variants.KIND_NAMES[i]] for i in k])
    # kinds=None makes every trained kind, in equal shares, and never a held-out one
    made = {variants.KIND_NAMES[i] for i in k}
    assert made == set(variants.TRAIN_KINDS)
    assert not made & set(variants.HELD_OUT_KINDS)
    assert np.ptp(np.bincount(k, minlength=len(variants.KIND_NAMES))[
        [variants.KIND_NAMES.index(n) for n in variants.TRAIN_KINDS]]) <= 1
    x2, y2, k2 = variants.make(images, labels, 200, np.random.default_rng(0))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(k, k2)
    x3, _, _ = variants.make(images, labels, 200, np.random.default_rng(1))
    assert not np.array_equal(x, x3)


def test_held_out_kinds_only_when_asked(train):
    images, labels = train
    assert variants.HELD_OUT_KINDS and set(variants.HELD_OUT_KINDS) <= set(variants.KIND_NAMES)
    x, y, k = variants.make(images, labels, 20, np.random.default_rng(0),
                            kinds=variants.HELD_OUT_KINDS)
    assert {variants.KIND_NAMES[i] for i in k} == set(variants.HELD_OUT_KINDS)
    with pytest.raises(ValueError):
        variants.make(images, labels, 1, np.random.default_rng(0), kinds=["one_swirl"])


def test_never_applied_to_another_digit(train):
    images, labels = train
    rng = np.random.default_rng(0)
    for kind, digit in variants.KINDS.items():
        for j in np.flatnonzero(labels != digit)[:30]:
            assert variants.draw(images[j], int(labels[j]), kind, rng) is None
            # a digit passed with the wrong label is refused too, whatever its shape
            assert variants.variant(images[j], int(labels[j]), kind, rng) is None


def test_one_flag_adds_ink_at_the_top_left_only(train):
    for d in _drawn(train, "one_flag", 40):
        src = d.source > variants.MASK_LEVEL
        added = (d.ink > variants.MASK_LEVEL) & ~src
        y0, y1, x0, x1 = _box(src)
        h = y1 - y0
        ys, xs = np.nonzero(added)
        assert ys.size > 0
        # above the 1's middle, starting at its top, not below the top half
        assert ys.min() <= y0 + 0.1 * h and ys.max() <= y0 + 0.5 * h
        # to the left: its end is left of the stem's top, and nothing is far right of that
        top = np.nonzero(src[y0])[0]
        assert xs.min() < top.min() and xs.max() <= top.max() + 0.2 * h  # + the pen's width
        # a flag, not a 7's top bar: its ink (length plus the pen's width) well under the 1's
        # height
        assert np.hypot(np.ptp(ys), np.ptp(xs)) < 0.6 * h


def test_one_flag_skips_ones_that_already_have_a_flag(train):
    images, labels = train
    rng = np.random.default_rng(0)
    d = _drawn(train, "one_flag", 1)[0]
    # a flagged 1, shrunk back to 28x28 as MNIST stores digits, is not flagged again
    import cv2
    small = cv2.resize(d.ink, None, fx=1 / variants.SCALE, fy=1 / variants.SCALE,
                       interpolation=cv2.INTER_AREA)
    assert variants.draw(small, 1, "one_flag", rng) is None


def test_seven_bar_crosses_the_stem_around_mid_height(train):
    for d in _drawn(train, "seven_bar", 40):
        src = d.source > variants.MASK_LEVEL
        added = (d.ink > variants.MASK_LEVEL) & ~src
        y0, y1, _, _ = _box(src)
        h = y1 - y0
        ys, xs = np.nonzero(added)
        assert ys.size > 0
        yc = int(round(ys.mean()))
        assert y0 + 0.38 * h <= yc <= y0 + 0.67 * h
        # the stem's ink in that row lies between the bar's two ends: ink added on both sides
        stem = np.nonzero(src[yc])[0]
        assert stem.size > 0
        assert xs.min() < stem.min() and xs.max() > stem.max()


def test_four_open_separates_the_strokes_at_the_top(train):
    import cv2
    for d in _drawn(train, "four_open", 10):
        src = (d.source > variants.MASK_LEVEL).astype(np.uint8)
        out = (d.ink > variants.MASK_LEVEL).astype(np.uint8)
        # the source's closed top is a hole; the variant has none, and keeps most of its ink
        _, h_src = cv2.findContours(src, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        _, h_out = cv2.findContours(out, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        assert (h_src[0][:, 3] >= 0).sum() == 1
        assert h_out is None or (h_out[0][:, 3] >= 0).sum() == 0
        assert 0.6 * src.sum() < out.sum() < 1.3 * src.sum()
