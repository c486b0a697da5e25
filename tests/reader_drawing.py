"""Drawing helpers for the reader tests: real MNIST test digits redrawn as pen strokes on paper.

The strokes come from tools/synth_photos.py (the same drawing the benchmark photos use), so a
crafted test image differs from a benchmark photo only in what the test wants to vary.
"""
from __future__ import annotations

import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))

import synth_photos  # noqa: E402

PAPER = 235.0
INK = 25.0


def glyph(item, height: float, pen: float, rng: np.random.Generator) -> np.ndarray:
    """Alpha (float 0..1) of one item: a 28x28 MNIST image, or a separator character."""
    if isinstance(item, str):
        return synth_photos._separator_alpha(item, height, max(1, int(round(0.12 * height * pen))),
                                             rng)
    return synth_photos._digit_alpha(item, height, pen, 0.0, rng)


def draw_line(items, height: float = 60, gap: float = 0.3, pen: float = 1.0, seed: int = 0,
              margin: int = 40) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Items drawn left to right, tops of digits aligned; returns (alpha, boxes of the items).

    gap: space between items in units of `height` (negative makes them overlap); one number,
    or one per pair of neighbours.
    """
    rng = np.random.default_rng(seed)
    alphas = [glyph(it, height, pen, rng) for it in items]
    gaps = [int(g * height) for g in (gap if np.ndim(gap) else [gap] * (len(alphas) - 1))] + [0]
    hmax = max(a.shape[0] for a in alphas)
    width = sum(a.shape[1] for a in alphas) + sum(gaps) + 2 * margin
    canvas = np.zeros((hmax + 2 * margin, max(width, 2 * margin + 1)), np.float32)
    x, boxes = margin, []
    for a, g in zip(alphas, gaps):
        y = margin + (hmax - a.shape[0]) // 2
        region = canvas[y:y + a.shape[0], x:x + a.shape[1]]
        np.maximum(region, a[:region.shape[0], :region.shape[1]], out=region)
        boxes.append((x, y, a.shape[1], a.shape[0]))
        x += a.shape[1] + g
    return canvas, boxes


def on_paper(alpha: np.ndarray, paper: float = PAPER, ink: float = INK) -> np.ndarray:
    """Alpha drawn dark on light: a uint8 gray image."""
    return np.clip(paper * (1 - alpha) + ink * alpha, 0, 255).astype(np.uint8)


def confident(images: np.ndarray, labels: np.ndarray, model, digit: int, k: int = 1,
              min_p: float = 0.98) -> list[np.ndarray]:
    """k MNIST images of `digit` that `model` reads right with probability >= min_p, in order."""
    idx = np.flatnonzero(labels == digit)[:400]
    p = np.exp(model.predict_log_proba(images[idx]))
    good = idx[(p.argmax(1) == digit) & (p.max(1) >= min_p)]
    assert len(good) >= k, f"fewer than {k} confident {digit}s"
    return [images[i] for i in good[:k]]


def leaning_one_line(pick, lean: float = 30, scale: float = 1.4) -> np.ndarray:
    """0623, then a 1 written taller than the digits (scale x) and leaning (degrees), then
    45897: a 1 the shape rules cut as a slash."""
    d = [pick(k)[0] for k in (0, 6, 2, 3, 4, 5, 8, 9, 7)]
    one = np.pad(cv2.resize(pick(1)[0], (28, int(28 * scale))), ((0, 0), (14, 14)))
    turn = cv2.getRotationMatrix2D((28, one.shape[0] / 2), -lean, 1.0)
    one = cv2.warpAffine(one, turn, (56, one.shape[0]))
    ys, xs = np.nonzero(one)
    one = one[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32) / 255
    h = int(60 * scale)
    one = cv2.resize(one, (max(3, one.shape[1] * h // one.shape[0]), h))
    left, right = (draw_line(part, height=60, gap=0.3, margin=0)[0] for part in (d[:4], d[4:]))
    canvas = np.zeros((h + 80, left.shape[1] + one.shape[1] + right.shape[1] + 116), np.float32)
    y = 40 + (h - left.shape[0]) // 2
    canvas[y:y + left.shape[0], 40:40 + left.shape[1]] = left
    x = 40 + left.shape[1] + 18
    canvas[40:40 + h, x:x + one.shape[1]] = one
    x += one.shape[1] + 18
    canvas[y:y + right.shape[0], x:x + right.shape[1]] = right
    return on_paper(canvas)
