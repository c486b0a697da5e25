"""Input transforms a model file may declare: its metadata's "input" names one, and the model
is trained on, and must be given, its patches after that transform (edgedigits.Model applies it
before the C forward pass; a C user applies it before ed_forward_*).

"deskew" (Casey 1970; the deskewed k-NN and SVM rows of MNIST's results table): each 28x28
patch is sheared along x so that its ink's second-order moment mu11 is zero, about the centre
of mass's row: x_src = x + s * (y - cy), s = mu11 / mu02 clipped to +-MAX_SKEW, sampled
bilinearly with zero outside the field. A slanted writer's 1, 4 or 7 stands upright, so a
network spends none of its capacity on slant and errs on other digits than an unskewed one.
"""
from __future__ import annotations

import cv2
import numpy as np

MAX_SKEW = 1.0       # |shear| at most this (45 degrees): a flat mark is not rotated upright
MIN_MU02 = 1e-2      # a patch with less vertical spread than this (blank, one row) is kept
_REMAP_ROWS = 28_000  # cv2.remap takes fewer than 32,767 rows per call


def deskew(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 784) uint8 patches -> the same shape, each deskewed."""
    x = np.ascontiguousarray(images, np.uint8)
    shape = x.shape
    x = x.reshape(-1, 28, 28)
    n, h, w = x.shape
    if n == 0:
        return x.reshape(shape)
    f = x.astype(np.float32)  # sums of uint8 x column below 2^24: exact in float32
    ys, xs = np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64)
    rows = f.sum(2, dtype=np.float64)    # ink per row
    mass = rows.sum(1)
    cy = rows @ ys / np.where(mass > 0, mass, 1.0)
    dy = ys[None, :] - cy[:, None]
    row_x = (f @ xs.astype(np.float32)).astype(np.float64)  # sum of x * ink per row
    cx = row_x.sum(1) / np.where(mass > 0, mass, 1.0)
    mu02 = (rows * dy ** 2).sum(1)
    mu11 = ((row_x - cx[:, None] * rows) * dy).sum(1)
    s = np.where(mu02 > MIN_MU02, mu11 / np.maximum(mu02, MIN_MU02), 0.0)
    s = np.clip(s, -MAX_SKEW, MAX_SKEW)
    map_x = (xs[None, None, :] + (s[:, None] * dy)[:, :, None]).astype(np.float32).reshape(n * h, w)
    src = x.reshape(n * h, w)
    out = np.empty_like(src)
    for a in range(0, n * h, _REMAP_ROWS):
        b = min(a + _REMAP_ROWS, n * h)
        map_y = np.repeat(np.arange(b - a, dtype=np.float32)[:, None], w, axis=1)
        out[a:b] = cv2.remap(src[a:b], map_x[a:b], map_y, cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out.reshape(shape)


# meta["input"] -> the transform. A model naming another is refused at load (ModelFormatError).
INPUT_TRANSFORMS = {"deskew": deskew}
# Transforms that commute with whole-pixel shifts of the patch, up to ink that a shift or the
# shear moves across the field's edge (31 of 2,000 MNIST digits differ for the shift down): the
# deskew shears about the centre of mass's row, which moves with the patch. The reader's shifted
# views (pipeline/classify.py) take such a transform once per patch, not once per view.
SHIFT_COMMUTING = frozenset({"deskew"})
