"""Stage 5: turn one glyph into a 28x28 patch exactly as MNIST's digits were made.

LeCun et al. size-normalised each NIST digit to fit a 20x20 box preserving its aspect ratio
(anti-aliasing produced grey levels), then placed it in a 28x28 field so that its centre of mass
is at the centre. We do the same, starting from the glyph's ink contrast (not its binary mask:
the grey edge keeps the anti-aliasing honest), with its contrast stretched so a stroke's core is
white (255) like MNIST's. Stroke width is matched too: a felt pen on a big digit scales down to
a much thicker stroke than MNIST's ~2.2 px, a ballpoint on a small one to a thinner one, so the
glyph is eroded or dilated at source resolution towards MNIST_STROKE_PX after scaling.
"""
from __future__ import annotations

import cv2
import numpy as np

FIELD = 28
BOX = 20
# Median stroke width of MNIST digits in the 28x28 field: 2 x area / boundary length of the
# pixels >= 128 (measured on the training digits: 2.14).
MNIST_STROKE_PX = 2.15
# Only correct stroke width when it is off by more than this factor.
STROKE_TOLERANCE = 1.35
# Ink contrast percentile (within the glyph mask) mapped to full white.
INK_LEVEL_PERCENTILE = 75
# A glyph whose strokes must grow by more than this many px per side (a thin mark hundreds of
# px tall: the edge of a note, a stripe of a tablecloth, a close-up digit) is max-pooled first
# so that they grow by at most this much: the same patch within a pixel of the pooling, where a
# dilation with a 100-px kernel took seconds a photo.
MAX_DILATE_PX = 6

_K3 = np.ones((3, 3), np.uint8)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width (px) of a 0/1 mask: 2 x area / boundary length."""
    area = cv2.countNonZero(mask)
    if area == 0:
        return 0.0
    edge = area - cv2.countNonZero(cv2.erode(mask, _K3, borderType=cv2.BORDER_CONSTANT,
                                             borderValue=0))
    return 2.0 * area / max(edge, 1)


def _center_of_mass(img: np.ndarray) -> tuple[float, float]:
    m = cv2.moments(img, binaryImage=False)
    if m["m00"] <= 0:
        return (img.shape[0] - 1) / 2, (img.shape[1] - 1) / 2
    return m["m01"] / m["m00"], m["m10"] / m["m00"]


def normalize(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A (h, w) glyph crop -> (28, 28) uint8 patch, ink bright on dark, MNIST-normalised.

    ink: uint8 ink contrast (0 paper .. 255 full ink); mask: 0/1 pixels belonging to the glyph.
    """
    if mask.ndim != 2 or mask.shape != ink.shape:
        return np.zeros((FIELD, FIELD), np.uint8)
    mask = np.ascontiguousarray(mask, np.uint8)
    x0, y0, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return np.zeros((FIELD, FIELD), np.uint8)
    y1, x1 = y0 + h, x0 + w
    m = np.ascontiguousarray(mask[y0:y1, x0:x1])
    # Keep the grey rim just outside the mask (anti-aliasing), nothing of other glyphs.
    mp = cv2.copyMakeBorder(m, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    near = cv2.dilate(mp, _K3)
    ip = cv2.copyMakeBorder(np.ascontiguousarray(ink[y0:y1, x0:x1]), 1, 1, 1, 1,
                            cv2.BORDER_CONSTANT, value=0)
    crop = ip.astype(np.float32) * near
    vals = ip[mp > 0]
    k = int(len(vals) * INK_LEVEL_PERCENTILE / 100)
    level = max(float(np.partition(vals, min(k, len(vals) - 1))[min(k, len(vals) - 1)]), 1.0)
    soft = np.minimum(crop * (1.0 / level), 1.0)
    h, w = m.shape
    s = BOX / max(h, w)
    sw_src = stroke_width(m)
    sw = sw_src * s
    if sw > MNIST_STROKE_PX * STROKE_TOLERANCE or sw < MNIST_STROKE_PX / STROKE_TOLERANCE:
        r = int(round((sw - MNIST_STROKE_PX) / (2 * s)))  # px per side at source resolution
        if r > 0:
            r = min(r, max(0, int((sw_src - 1.5) / 2)))
            if r > 0:
                k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
                thin = cv2.erode(soft, k)
                if np.count_nonzero(thin > 0.5) > 0.25 * np.count_nonzero(soft > 0.5):
                    soft = thin
        elif r < 0:
            r = -r
            if r > MAX_DILATE_PX:  # max-pool by k, then grow by r / k: a dilation's result, coarser
                k = -(-r // MAX_DILATE_PX)
                ph, pw = -soft.shape[0] % k, -soft.shape[1] % k
                soft = np.pad(soft, ((0, ph), (0, pw)))
                soft = soft.reshape(soft.shape[0] // k, k, soft.shape[1] // k, k).max(axis=(1, 3))
                r = max(1, round(r / k))
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
            soft = cv2.dilate(soft, k)
    # Re-crop to the soft ink (dilation grows it, the rim adds 1 px) and fit into the 20 px box.
    bx, by, bw, bh = cv2.boundingRect((soft > 0.1).astype(np.uint8))
    if bw == 0 or bh == 0:
        return np.zeros((FIELD, FIELD), np.uint8)
    soft = soft[by: by + bh, bx: bx + bw]
    h, w = soft.shape
    s = BOX / max(h, w)
    nw, nh = max(1, int(round(w * s))), max(1, int(round(h * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    small = cv2.resize(soft, (nw, nh), interpolation=interp)
    cy, cx = _center_of_mass(small)
    oy = min(max(round(FIELD / 2 - cy), 0), FIELD - nh)
    ox = min(max(round(FIELD / 2 - cx), 0), FIELD - nw)
    out = np.zeros((FIELD, FIELD), np.uint8)
    # small is in [0, 1] (a resize of values in [0, 1] with non-negative weights, up to
    # rounding), so this is the rounded, clipped 255 x small.
    out[oy: oy + nh, ox: ox + nw] = np.minimum(small * 255.0 + 0.5, 255.0)
    return out
