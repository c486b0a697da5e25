"""Hand-drawn separators and not-a-character patches (training/drawn.py)."""
from __future__ import annotations

import numpy as np
import pytest

from edgedigits.classes import JUNK, SEPARATOR_CLASSES, SEPARATORS, class_index
from training import drawn


def _ink_box(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1


def test_separators_shapes_labels_and_every_class():
    img, lab = drawn.separators(80, np.random.default_rng(0))
    assert img.shape == (80, 28, 28) and img.dtype == np.uint8
    assert lab.shape == (80,) and lab.dtype == np.int64
    assert set(lab.tolist()) == set(SEPARATOR_CLASSES)
    assert np.bincount(lab - min(SEPARATOR_CLASSES)).tolist() == [10] * len(SEPARATORS)
    assert min(p.max() for p in img) >= 200  # normalised: a stroke core near full ink


def test_separators_reproducible_from_seed():
    a = drawn.separators(24, np.random.default_rng(7))
    b = drawn.separators(24, np.random.default_rng(7))
    c = drawn.separators(24, np.random.default_rng(8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_dash_is_wide_and_dot_is_round_before_normalisation():
    rng = np.random.default_rng(1)
    for _ in range(40):
        w, h = _ink_box(drawn.draw_separator("-", rng)[1])
        assert w > 1.5 * h, (w, h)
        w, h = _ink_box(drawn.draw_separator(".", rng)[1])
        assert max(w, h) < 1.8 * min(w, h), (w, h)


def test_slash_leans_right_and_brackets_open_the_right_way():
    rng = np.random.default_rng(2)
    for _ in range(40):
        ys, xs = np.nonzero(drawn.draw_separator("/", rng)[1])
        # ink higher up lies further right: x falls as y (down) grows
        assert np.polyfit(ys, xs, 1)[0] < -0.25
        w, h = _ink_box(drawn.draw_separator("/", rng)[1])
        assert h > w
        for ch, sign in (("(", 1), (")", -1)):
            m = drawn.draw_separator(ch, rng)[1]
            ys, xs = np.nonzero(m)
            mid = np.abs(ys - ys.mean()) < 0.15 * np.ptp(ys)
            ends = np.abs(ys - ys.mean()) > 0.35 * np.ptp(ys)
            # "(" bulges left: its middle lies left of its ends; ")" the other way
            assert sign * (xs[ends].mean() - xs[mid].mean()) > 0


def test_unknown_separator_is_rejected():
    with pytest.raises(ValueError, match="separator"):
        drawn.draw_separator("x", np.random.default_rng(0))


def test_separator_labels_name_the_drawn_character():
    img, lab = drawn.separators(16, np.random.default_rng(3))
    names = [SEPARATORS[k - class_index(SEPARATORS[0])] for k in lab]
    assert sorted(set(names)) == sorted(SEPARATORS)


def test_junk_shapes_label_and_not_empty(mnist_train):
    images, _ = mnist_train
    digits = images[:2000]
    rng = np.random.default_rng(4)
    j = drawn.junk(90, rng, digits)
    assert j.shape == (90, 28, 28) and j.dtype == np.uint8
    assert all(p.any() for p in j)
    # no junk patch is a blob: its ink leaves a good share of its box empty
    for p in j:
        m = p > 128
        w, h = _ink_box(m)
        assert m.sum() <= drawn.MAX_PATCH_FILL * w * h
    lab = drawn.junk_labels(90)
    assert lab.dtype == np.int64 and (lab == JUNK).all()
    again = drawn.junk(90, np.random.default_rng(4), digits)
    np.testing.assert_array_equal(j, again)


def test_every_junk_kind_draws(mnist_train):
    images, _ = mnist_train
    rng = np.random.default_rng(5)
    for kind in drawn.JUNK_KINDS:
        p = drawn.junk_patch(kind, rng, images[:500])
        assert p.shape == (28, 28) and p.any(), kind
    with pytest.raises(ValueError, match="junk kind"):
        drawn.draw_junk("letter", rng, images[:10])


def test_junk_line_runs_well_beyond_the_digit(mnist_train):
    images, _ = mnist_train
    rng = np.random.default_rng(6)
    for _ in range(20):
        got = drawn.draw_junk("lined", rng, images[:500])
        assert got is not None
        w, h = _ink_box(got[1])
        # an MNIST digit is 20 px tall (x SOURCE_SCALE here); its line runs well past it
        assert max(w, h) > 1.4 * 20 * drawn.SOURCE_SCALE


def test_junk_rejects_bad_digits():
    with pytest.raises(ValueError, match="28, 28"):
        drawn.junk(3, np.random.default_rng(0), np.zeros((0, 28, 28), np.uint8))
