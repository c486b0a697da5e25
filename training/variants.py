"""Label-keeping variants of MNIST digits: the European ways of writing 1, 4 and 7.

MNIST's writers were American; most of this project's users write a 1 with a flag (an up-stroke
into the top of the stem) and sometimes a foot, a 7 crossed through its stem, a 4 open at the
top. A model trained on MNIST alone reads a flagged 1 as a 7. This module redraws MNIST training
digits in those styles on each digit's own geometry, so the variant looks written by the same
hand: the digit is drawn SCALE times larger, its stem is located from its ink, strokes are added
with its own stroke width (normalize.stroke_width of the upscaled mask) and ink level,
anti-aliased and softened like the upscaled scan, or ink is erased; then the reader's own stage 5
(normalize) makes the 28x28 patch. Each kind applies only to source digits it fits (an upright,
plain 1 for a flag; a 7 without a bar for a bar; a 4 closed at the top for opening); the others
are skipped, so a variant never changes what a person reads.

Kinds (KINDS: name -> the digit it keeps):
- one_flag: 1 + a flag from the stem's top, down-left, FLAG_LEN of the height, FLAG_ANGLE from
  the stem, sometimes slightly bowed;
- one_flag_foot: the same flag + a horizontal foot centred on the stem's base;
- seven_bar: 7 + a short horizontal bar through the stem at BAR_HEIGHT of the height, centred
  on the stem's x at that row as found from the ink;
- seven_serif: 7 + a short down-tick at the left end of its top bar;
- four_open: a 4 whose left stroke and vertical met at the top, with that join erased so the
  two strokes stand OPEN_GAP stroke widths apart.

HELD_OUT_KINDS are never trained on (make(kinds=None) leaves them out); they measure whether
what the model learnt from the others carries over to a form it has not seen.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgedigits.pipeline.normalize import normalize, stroke_width

KINDS = {
    "one_flag": 1,
    "one_flag_foot": 1,
    "seven_bar": 7,
    "seven_serif": 7,
    "four_open": 4,
}
KIND_NAMES = tuple(KINDS)
# one_flag_foot combines the trained flag with a foot never trained on: it measures whether the
# model reads a 1 by its stem whatever is added around it (a European 1 often has both), rather
# than by having memorised the one shape of 1 it was shown.
HELD_OUT_KINDS = ("one_flag_foot",)
TRAIN_KINDS = tuple(k for k in KIND_NAMES if k not in HELD_OUT_KINDS)

# Digits are drawn this many times larger (as training/negatives.py does).
SCALE = 3
# Ink above this (0..255, after upscaling) is the glyph mask, as the reader's threshold would.
MASK_LEVEL = 96
# Blank border (px at SCALE) around the upscaled digit, room for strokes that reach outside it.
PAD = 24
# Gaussian sigma (px at SCALE) softening drawn strokes to the edge ramp of an upscaled MNIST
# stroke (cv2.LINE_AA alone gives a ~1 px ramp; the cubic upscale of MNIST's ~1 px ramp, ~3 px).
SOFTEN_SIGMA = 1.0
# Percentile of the digit's ink (inside its mask) that added strokes are drawn at.
INK_PERCENTILE = 75

# A 1 takes a flag only if its stem is near upright (|dx/dy| of the fitted centre line), straight
# (RMS distance of row centres from that line, in stroke widths), and plain: no row wider than
# PLAIN_ROW_WIDTH times the median row (an existing flag, foot or hook would be).
MAX_ONE_SLANT = 0.35
MAX_ONE_BEND = 0.35
PLAIN_ROW_WIDTH = 1.7
# Flag length (share of the 1's height) and drop (degrees below horizontal). Flatter or longer
# flags read as a 7's top bar, more so on a stem leaning right; the flag is also kept at least
# FLAG_MIN_OPEN degrees from the stem. BOW: share of flags drawn curved, and their
# sagitta / length.
FLAG_LEN = (0.22, 0.38)
FLAG_DROP = (40.0, 65.0)
FLAG_MIN_OPEN = 25.0
FLAG_BOW_P = 0.4
FLAG_BOW = 0.12
# Foot half-length (share of the height) each side of the stem; shift of its centre (share of
# the half-length); tilt (degrees).
FOOT_HALF = (0.13, 0.22)
FOOT_SHIFT = 0.15
FOOT_TILT = 4.0

# Rows of a 7 from NO_BAR_ROWS[0] to [1] of its height must cross one stroke no wider than
# NO_BAR_RUN stroke widths (else it already has a bar, or is not a plain 7).
NO_BAR_ROWS = (0.38, 0.72)
NO_BAR_RUN = 2.4
# Bar: height of its centre (share of the 7's height from the top); length (share of the 7's
# width, at least BAR_MIN_SW stroke widths); shift of its centre from the stem (share of its
# length); tilt (degrees).
BAR_HEIGHT = (0.45, 0.6)
BAR_LEN = (0.35, 0.55)
BAR_MIN_SW = 3.0
BAR_SHIFT = 0.12
BAR_TILT = 5.0
# Serif: the top bar's left end must lie in the top TOP_ROWS of the 7 and the left half of its
# width, and not already turn down (ink below it in the end column no taller than SERIF_FREE
# stroke widths). Tick length (share of the height) and lean (degrees from vertical, + = left).
TOP_ROWS = 0.25
SERIF_FREE = 1.7
SERIF_LEN = (0.16, 0.26)
SERIF_LEAN = (-10.0, 20.0)

# A 4 is opened only if its mask has one hole (the closed top) of at least HOLE_MIN_AREA of the
# ink box, whose top lies in the upper HOLE_TOP of the 4. Its left stroke is erased and redrawn
# from its corner with the bar up to OPEN_TOP of the hole's height below the apex, ending
# OPEN_GAP stroke widths (between the strokes' edges) left of the vertical; it may lean left
# (top further left than the corner) by at most OPEN_MAX_LEAN (dx / dy).
HOLE_MIN_AREA = 0.03
HOLE_TOP = 0.6
OPEN_TOP = (0.0, 0.25)
OPEN_GAP = (0.8, 1.6)
OPEN_MAX_LEAN = 0.3
# ... if the hole's apex is within APEX_NEAR stroke widths of the vertical's edge, and the new
# left stroke is at least OPEN_MIN_LEN of the 4's height.
APEX_NEAR = 1.5
# A triangle's widest row is in its lower (1 - WIDEST_LOW) of the hole's height.
WIDEST_LOW = 0.6
OPEN_MIN_LEN = 0.3

@dataclass(frozen=True)
class Drawn:
    """One variant at SCALE, before normalisation: the padded, upscaled source and the variant,
    same shape and coordinates (uint8, ink bright on dark)."""

    source: np.ndarray
    ink: np.ndarray


@dataclass(frozen=True)
class _Glyph:
    big: np.ndarray  # padded, upscaled digit, uint8
    mask: np.ndarray  # big > MASK_LEVEL, 0/1 uint8
    y0: int
    y1: int
    x0: int
    x1: int
    sw: float  # stroke width, px at SCALE
    level: float  # ink level strokes are drawn at

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    @property
    def w(self) -> int:
        return self.x1 - self.x0


def _glyph(img: np.ndarray) -> _Glyph | None:
    big = cv2.resize(img, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=0)
    mask = (big > MASK_LEVEL).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    if ys.size < 20:
        return None
    level = float(np.percentile(big[mask > 0], INK_PERCENTILE))
    return _Glyph(big, mask, int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1,
                  stroke_width(mask), level)


def _row_runs(row: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of non-zero pixels in a 1-D 0/1 array."""
    d = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _rows(g: _Glyph):
    """Per row of the ink box: centre x, extent (px) of the ink; rows without ink give NaN, 0."""
    m = g.mask[g.y0:g.y1]
    cols = np.arange(m.shape[1], dtype=np.float64)
    count = m.sum(1)
    centre = np.where(count > 0, (m * cols).sum(1) / np.maximum(count, 1), np.nan)
    first = np.where(count > 0, m.argmax(1), 0)
    last = np.where(count > 0, m.shape[1] - 1 - m[:, ::-1].argmax(1), -1)
    return centre, (last - first + 1).astype(np.float64)


class _Pen:
    """Anti-aliased strokes on a float layer the size of the glyph, at the glyph's width."""

    SHIFT = 4  # cv2 fixed-point bits: sub-pixel end points

    def __init__(self, g: _Glyph):
        self.layer = np.zeros(g.big.shape, np.float32)
        self.t = max(1, int(round(g.sw)))

    def _pt(self, p) -> tuple[int, int]:
        return int(round(p[0] * (1 << self.SHIFT))), int(round(p[1] * (1 << self.SHIFT)))

    def line(self, a, b) -> None:
        cv2.line(self.layer, self._pt(a), self._pt(b), 1.0, self.t, cv2.LINE_AA, self.SHIFT)

    def curve(self, a, c, b, steps: int = 12) -> None:
        """Quadratic Bezier a -> b with control point c."""
        s = np.linspace(0.0, 1.0, steps)[:, None]
        pts = (1 - s) ** 2 * np.asarray(a) + 2 * s * (1 - s) * np.asarray(c) + s ** 2 * np.asarray(b)
        pts = np.round(pts * (1 << self.SHIFT)).astype(np.int32)
        cv2.polylines(self.layer, [pts], False, 1.0, self.t, cv2.LINE_AA, self.SHIFT)

    def onto(self, g: _Glyph) -> np.ndarray:
        soft = cv2.GaussianBlur(self.layer, (0, 0), SOFTEN_SIGMA)
        return np.maximum(g.big, np.minimum(soft * g.level, 255.0)).astype(np.uint8)


def _stem_line(g: _Glyph):
    """A 1's stem as x = a * y + b (big-image coordinates), or None if it is not a plain,
    near-upright stroke."""
    centre, extent = _rows(g)
    n = g.h
    lo, hi = int(0.1 * n), int(0.9 * n)
    ys = np.arange(lo, hi, dtype=np.float64)
    cs = centre[lo:hi]
    ok = ~np.isnan(cs)
    if ok.sum() < 0.7 * (hi - lo) or g.h < 3 * g.sw:
        return None
    a, b = np.polyfit(ys[ok] + g.y0, cs[ok], 1)
    if abs(a) > MAX_ONE_SLANT:
        return None
    resid = cs[ok] - (a * (ys[ok] + g.y0) + b)
    if np.sqrt(np.mean(resid ** 2)) > MAX_ONE_BEND * g.sw:
        return None
    med = np.median(extent[lo:hi][ok])
    if extent.max() > PLAIN_ROW_WIDTH * med or np.isnan(centre).any():
        return None
    return a, b


def _flag(g: _Glyph, pen: _Pen, a: float, b: float, rng: np.random.Generator) -> None:
    top_y = g.y0 + 0.5 * g.sw
    top = np.array([a * top_y + b, top_y])
    length = rng.uniform(*FLAG_LEN) * g.h
    alpha = np.degrees(np.arctan(a))  # stem angle from vertical, + = bottom to the right
    # flag angle from vertical, going down and to the left (negative)
    beta = min(-(90.0 - rng.uniform(*FLAG_DROP)), alpha - FLAG_MIN_OPEN)
    d = np.array([np.sin(np.radians(beta)), np.cos(np.radians(beta))])
    end = top + length * d
    if rng.random() < FLAG_BOW_P:
        normal = np.array([-d[1], d[0]])
        mid = (top + end) / 2 + rng.uniform(-FLAG_BOW, FLAG_BOW) * 2 * length * normal
        pen.curve(top, mid, end)
    else:
        pen.line(top, end)


def one_flag(g: _Glyph, rng: np.random.Generator, foot: bool = False) -> np.ndarray | None:
    stem = _stem_line(g)
    if stem is None:
        return None
    a, b = stem
    pen = _Pen(g)
    _flag(g, pen, a, b, rng)
    if foot:
        y = g.y1 - 0.5 * g.sw
        cx = a * y + b
        half = rng.uniform(*FOOT_HALF) * g.h
        cx += rng.uniform(-FOOT_SHIFT, FOOT_SHIFT) * half
        t = np.radians(rng.uniform(-FOOT_TILT, FOOT_TILT))
        dx, dy = half * np.cos(t), half * np.sin(t)
        pen.line((cx - dx, y - dy), (cx + dx, y + dy))
    return pen.onto(g)


def seven_bar(g: _Glyph, rng: np.random.Generator) -> np.ndarray | None:
    lo = g.y0 + int(NO_BAR_ROWS[0] * g.h)
    hi = g.y0 + int(NO_BAR_ROWS[1] * g.h)
    centres = {}
    for y in range(lo, hi):
        runs = _row_runs(g.mask[y])
        if len(runs) != 1 or runs[0][1] - runs[0][0] > NO_BAR_RUN * g.sw:
            return None
        centres[y] = 0.5 * (runs[0][0] + runs[0][1] - 1)
    y = int(round(g.y0 + rng.uniform(*BAR_HEIGHT) * g.h))
    stem_x = centres[min(max(y, lo), hi - 1)]
    length = max(rng.uniform(*BAR_LEN) * g.w, BAR_MIN_SW * g.sw)
    cx = stem_x + rng.uniform(-BAR_SHIFT, BAR_SHIFT) * length
    t = np.radians(rng.uniform(-BAR_TILT, BAR_TILT))
    dx, dy = 0.5 * length * np.cos(t), 0.5 * length * np.sin(t)
    pen = _Pen(g)
    pen.line((cx - dx, y - dy), (cx + dx, y + dy))
    return pen.onto(g)


def seven_serif(g: _Glyph, rng: np.random.Generator) -> np.ndarray | None:
    top = g.mask[g.y0:g.y0 + int(TOP_ROWS * g.h)]
    cols = np.flatnonzero(top.any(0))
    xl = int(cols[0])
    if xl > g.x0 + 0.5 * g.w:
        return None
    band = g.mask[:, xl:xl + max(1, int(round(g.sw)))]
    ys = np.flatnonzero(band.any(1))
    # ink of the end column below the bar's end: an existing tick or the stem itself
    if ys.max() - ys.min() + 1 > SERIF_FREE * g.sw or ys.min() > g.y0 + TOP_ROWS * g.h:
        return None
    start = np.array([xl + 0.5 * g.sw, 0.5 * (ys.min() + ys.max())])
    length = rng.uniform(*SERIF_LEN) * g.h
    lean = np.radians(rng.uniform(*SERIF_LEAN))
    end = start + length * np.array([-np.sin(lean), np.cos(lean)])
    pen = _Pen(g)
    pen.line(start, end)
    return pen.onto(g)


def four_open(g: _Glyph, rng: np.random.Generator) -> np.ndarray | None:
    contours, hier = cv2.findContours(g.mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hier is None:
        return None
    holes = [c for c, h in zip(contours, hier[0]) if h[3] >= 0]
    if len(holes) != 1:
        return None
    hole = np.zeros_like(g.mask)
    cv2.drawContours(hole, holes, -1, 1, thickness=-1)
    hole &= 1 - g.mask  # the hole's own pixels, not its rim
    hys, hxs = np.nonzero(hole)
    if hys.size < HOLE_MIN_AREA * g.h * g.w or hys.min() > g.y0 + HOLE_TOP * g.h:
        return None
    hy0, hy1 = int(hys.min()), int(hys.max()) + 1
    if hy1 - hy0 < 2 * g.sw:
        return None
    # The vertical stroke's left edge is the hole's right boundary: fit x = ka * y + kb to it,
    # to continue it above the apex.
    yy = np.arange(hy0, hy1)
    rx = np.array([np.flatnonzero(hole[y]).max() for y in yy], np.float64)
    ka, kb = np.polyfit(yy, rx + 1.0, 1)
    if abs(ka) > 0.5:
        return None
    # A 4's closed top is a triangle whose apex is on the vertical; a round loop (a 4 written
    # like a 9) has its top mid-loop, and opened it reads as a y: not opened.
    apex_x = float(hxs[hys == hy0].mean())
    if ka * hy0 + kb - apex_x > APEX_NEAR * g.sw:
        return None
    # ... and is widest near the bar, where a loop is widest mid-height
    widths = hole[hy0:hy1].sum(1)
    if np.argmax(widths) < WIDEST_LOW * (hy1 - hy0):
        return None
    # The corner where the left stroke meets the bar: the hole's lowest pixel of its left half,
    # moved half a stroke down and left into the ink.
    left = hxs < np.median(hxs)
    if not left.any():
        return None
    k = np.argmax(hys[left] - 0.3 * hxs[left])
    cy, cx = float(hys[left][k]), float(hxs[left][k])
    corner = np.array([cx - 0.35 * g.sw, cy + 0.35 * g.sw])
    # Erase the left stroke: every pixel left of the vertical's edge above the corner.
    erase = np.zeros(g.big.shape, np.float32)
    for y in range(g.y0, int(cy) + 1):
        erase[y, :max(0, int(np.floor(ka * y + kb)) - 1)] = 1.0
    # A left stroke that was most of the 4's ink above the bar was not one stroke of a closed
    # top (a scribble, a 4 made of loops): leave the digit alone.
    above = g.mask[g.y0:int(cy) + 1]
    if (above * erase[g.y0:int(cy) + 1]).sum() > 0.7 * above.sum():
        return None
    # Redraw it from the corner up to OPEN_TOP of the hole's height below the apex, ending
    # OPEN_GAP stroke widths left of the vertical, so the two strokes do not meet.
    ty = hy0 + rng.uniform(*OPEN_TOP) * (hy1 - hy0)
    tx = ka * ty + kb - (rng.uniform(*OPEN_GAP) + 0.5) * g.sw
    tx = max(tx, corner[0] - OPEN_MAX_LEAN * (corner[1] - ty))
    if corner[1] - ty < OPEN_MIN_LEN * g.h:
        return None  # the left stroke would be a stub beside the bar: a + more than a 4
    soft = cv2.GaussianBlur(erase, (0, 0), SOFTEN_SIGMA)
    g2 = _Glyph((g.big * (1.0 - soft)).astype(np.uint8), g.mask, g.y0, g.y1, g.x0, g.x1, g.sw,
                g.level)
    pen = _Pen(g2)
    pen.line(corner, (tx, ty))
    return pen.onto(g2)


_DRAW = {
    "one_flag": lambda g, rng: one_flag(g, rng, foot=False),
    "one_flag_foot": lambda g, rng: one_flag(g, rng, foot=True),
    "seven_bar": seven_bar,
    "seven_serif": seven_serif,
    "four_open": four_open,
}


def draw(img: np.ndarray, label: int, kind: str, rng: np.random.Generator) -> Drawn | None:
    """The variant `kind` of one 28x28 digit at SCALE, or None if the kind does not fit it (a
    digit of another class, or one whose shape the kind does not apply to)."""
    if kind not in KINDS:
        raise ValueError(f"unknown variant kind {kind!r}; expected one of {', '.join(KIND_NAMES)}")
    if int(label) != KINDS[kind]:
        return None
    g = _glyph(img)
    if g is None:
        return None
    ink = _DRAW[kind](g, rng)
    if ink is None:
        return None
    return Drawn(g.big, ink)


def variant(img: np.ndarray, label: int, kind: str, rng: np.random.Generator) -> np.ndarray | None:
    """The variant `kind` of one 28x28 digit, normalised as the reader does, or None."""
    d = draw(img, label, kind, rng)
    if d is None:
        return None
    return normalize(d.ink, (d.ink > MASK_LEVEL).astype(np.uint8))


def make(images: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator,
         kinds: tuple[str, ...] | list[str] | None = None):
    """n variants of digits drawn from `images` (MNIST TRAINING digits), kinds in equal shares.

    kinds: the kinds to make; None means TRAIN_KINDS (every kind but HELD_OUT_KINDS).
    Returns images (n, 28, 28) uint8, labels (n,) int64 (the kind's digit, which is the source
    digit's label) and kind (n,) int64, an index into KIND_NAMES.
    """
    kinds = TRAIN_KINDS if kinds is None else tuple(kinds)
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"unknown variant kind {k!r}; expected one of {', '.join(KIND_NAMES)}")
    labels = np.asarray(labels)
    # Source digits per kind; one found not to fit is dropped (whether a kind fits a digit does
    # not depend on the random draw), so a kind that fits few digits costs one look at each.
    pools = {k: list(np.flatnonzero(labels == KINDS[k])) for k in kinds}
    out = np.zeros((n, 28, 28), np.uint8)
    kind_idx = np.zeros(n, np.int64)
    order = np.resize(np.arange(len(kinds)), n)  # equal shares, within one
    rng.shuffle(order)
    for i in range(n):
        k = kinds[order[i]]
        pool = pools[k]
        # draw source digits until one fits the kind, so every kind keeps its share
        while True:
            if not pool:
                raise ValueError(f"variants: kind {k!r} fits none of the digits {KINDS[k]} given")
            r = int(rng.integers(len(pool)))
            j = int(pool[r])
            v = variant(images[j], int(labels[j]), k, rng)
            if v is not None and v.any():
                break
            pool[r] = pool[-1]
            pool.pop()
        out[i] = v
        kind_idx[i] = KIND_NAMES.index(k)
    return out, np.array([KINDS[KIND_NAMES[k]] for k in kind_idx], np.int64), kind_idx
