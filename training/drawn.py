"""Hand-drawn separators and "not a character" patches for the 19-class model (issue 20).

Two generators, both drawn as pen strokes and cut exactly as the reader cuts a glyph (ink crop,
mask = ink above a level, then `edgedigits.pipeline.normalize`):

- `separators(n, rng)`: the eight separators of edgedigits.classes.SEPARATORS, `- . , / ( ) + =`,
  in many hands and pens. Each is drawn at its real size for a digit height H of
  DIGIT_H px (a dash 0.3-0.7 H long, a dot 0.1-0.2 H across, a bracket or slash taller than a
  digit) with a pen PEN_H x H wide, from a thin ballpoint to a felt marker: normalize scales
  the longer side to 20 px, so what survives is the shape and the pen width relative to it.
  Every hand varies: wobble (a smooth random displacement of the path), slant, curvature,
  pressure along a stroke, ink level, pen texture, blur.
- `junk(n, rng, digits)`: patches of things on a note that are not characters, labelled JUNK
  (the JUNK_KINDS below): a digit crossed out or scribbled over, two or three digits squashed
  into one glyph with heavy overlap, a digit on a long box line or underline, zig-zags, loops
  and doodles, check marks, asterisks and stars, hash grids. training/negatives.py makes the
  other not-a-character kinds (digit fragments, side-by-side touching pairs): it is not
  repeated here; a trainer takes both.

The twin rule. A JUNK patch must not be, after normalisation, the twin of a separator or a
digit, or the model is taught to contradict itself. Never JUNK: a plain straight line (a dash,
a slash or a 1), a plain blob (a dot), a plain ring (a 0), a simple arc (a bracket), a single
stroke or two level strokes through a digit (a struck 7 is a European 7, a struck 0 a slashed
zero, a struck 1 a +), two strokes crossing square (a +), two stacked loops (an 8), a loop with
a tail (a 6 or 9), a zig-zag of two or three strokes (a V, an N, a Z that reads as a 2), two
digits overlapped so far that they make one digit's outline (often an 8), a scribble so dense
it fills in (a blob), a long flat coil (a textured dash), a lone upright line beside a small
digit (a 1). Hence the limits below: a crossing-out is an X at least 0.6 as wide as tall or
three or more parallel strokes; scribble and zig-zag legs stand LEG_SPACING_PEN pen widths
apart, and zig-zags have at least ZIGZAG_MIN_LEGS legs and run along the line (down the page
they read as a 3); coils have at least three loops and are at most COIL_MAX_ASPECT times as
long as tall; asterisks have at least three bars, a hash two each way; squashed digits are at
least SQUASH_MIN_ASPECT as wide as tall; box lines span LINE_MIN_EXTENT..LINE_MAX_EXTENT times
the digit they touch, run through it only if it is LINE_THROUGH_MIN_ASPECT wide (a 1 with a
line through it is a +), and an upright one always turns a box corner as long; any junk whose
mask fills more than MAX_FILL of its box, or whose patch fills MAX_PATCH_FILL, is dropped. The same holds for the
separators in reverse: a comma is drawn curved and tapering from a heavy head, never as a
straight thin tick (a short "/"); a slash leans at least 18 degrees off upright (steeper is a
1); a dot drawn as a tiny circle keeps a hole smaller than its pen (a ring with a big hole is
a 0); a short stroke's wobble is limited by its length (a wobbling dash is a "~").

All randomness comes from the `rng` passed in: the same seed gives the same patches.
"""
from __future__ import annotations

import cv2
import numpy as np

from edgedigits.classes import JUNK, SEPARATORS, class_index
from edgedigits.pipeline.normalize import normalize

# Digit height the separators are drawn against (px): a camera sees a digit at ~40-100 px.
DIGIT_H = (60.0, 100.0)
# Pen width as a share of the digit height, log-uniform: 0.025 is a fine ballpoint on a big
# digit, 0.16 a felt marker on a small one.
PEN_H = (0.025, 0.16)
# Strokes are rasterised this many times larger and area-averaged down (anti-aliasing that
# keeps fractional pen widths).
SUPERSAMPLE = 4
# Stroke wobble: amplitude of the smooth path displacement, x H, and at most this share of the
# stroke's length (a wobbling short dash turns into a "~").
WOBBLE_H = (0.0, 0.03)
WOBBLE_MAX_LEN = 0.04
# Italic slant: horizontal shear x = x - SLANT * y (y down), uniform in +-SLANT.
SLANT = 0.25
# Pressure along a stroke: the pen width is scaled by 1 +- this, smoothly.
PRESSURE = 0.3
# Ink contrast of the pen (0..255) and the mask level as a share of it (the reader's binariser
# keeps the stroke's core and part of its grey rim).
INK_CONTRAST = (90.0, 250.0)
MASK_SHARE = (0.3, 0.55)
# Pen texture: ink multiplied by 1 - TEXTURE x (smooth noise in 0..1); camera blur sigma (px).
TEXTURE = (0.0, 0.45)
BLUR_SIGMA = (0.0, 0.9)
SENSOR_NOISE = 4.0  # sd, on the 0..255 ink contrast

# Separator geometry, x H unless said otherwise.
DASH_LEN = (0.3, 0.7)
DASH_TILT_DEG = 15.0          # at most; most dashes are near level
DASH_BOW = 0.08               # x its length
DOT_D = (0.1, 0.2)
COMMA_LEN = (0.15, 0.32)
COMMA_ANGLE_DEG = (50.0, 75.0)  # from the horizontal, tail down to the left (upright: a ")")
COMMA_BOW = (0.1, 0.25)       # x its length, bulging right near the head
COMMA_HEAD = (1.4, 2.0)       # pen width x this at the head, and at least COMMA_HEAD_LEN x
COMMA_HEAD_LEN = 0.22         # its length (a thin tick without a head is a small ")" or "/")
COMMA_TAIL = (0.25, 0.45)     # the tail's end x the head's width
SLASH_H = (0.9, 1.5)
SLASH_ANGLE_DEG = (48.0, 72.0)  # from the horizontal: from ~45 degrees to steep (steeper is a 1)
BRACKET_H = (1.0, 1.5)
BRACKET_SPAN_DEG = (80.0, 160.0)  # arc of an ellipse: a gentle arc .. a tight C
BRACKET_ROUND = (0.5, 1.0)     # ellipse x semi-axis / y semi-axis
BRACKET_TILT_DEG = 6.0
BRACKET_SKEW = 0.12           # the arc's two ends differ in length by up to this share
PLUS_ARM = (0.35, 0.65)
PLUS_RATIO = (0.75, 1.35)     # vertical / horizontal arm
PLUS_CROSS = (0.35, 0.65)     # where along each arm the other crosses it
EQUALS_LEN = (0.3, 0.6)
EQUALS_RATIO = (0.7, 1.25)    # second bar / first
EQUALS_GAP = (0.12, 0.3)

# Junk geometry.
SOURCE_SCALE = 3              # MNIST digits are drawn 3x larger (as in training/negatives.py)
SOURCE_MASK = 96              # ... and their ink above this is theirs
JUNK_SIZE = (0.5, 1.2)        # drawn junk (zig-zags, doodles, ...) x H
ZIGZAG_MIN_LEGS = 5
# Scribble and zig-zag legs stand at least this many pen widths apart (closer, they fill in to a
# solid blob: a dot).
LEG_SPACING_PEN = 2.5
# Share of the narrower digit's width two digits overlap by (more, and a 1 vanishes into the
# other digit's strokes: a 4 with one more stroke is still a 4).
SQUASH_OVERLAP = (0.3, 0.6)
SQUASH_MIN_ASPECT = 0.85
# Any junk whose mask fills more than MAX_FILL of its box is left out, and any whose normalised
# patch (ink above half) fills more than MAX_PATCH_FILL of its box: it reads as a dot.
MAX_FILL = 0.55
MAX_PATCH_FILL = 0.7      # a squashed pair narrower than this is left out (reads as one)
COIL_MAX_ASPECT = 2.5
LINE_MIN_EXTENT = 1.8         # a box line spans at least this x the digit's extent along it
LINE_MAX_EXTENT = 3.5
LINE_THROUGH_MIN_ASPECT = 0.5  # a line runs through a digit only this wide for its height
# Kinds of junk and their shares.
JUNK_KINDS = ("crossed", "scribbled", "squashed", "lined", "zigzag", "loops", "tick", "star",
              "hash")
JUNK_P = (0.14, 0.12, 0.14, 0.14, 0.1, 0.12, 0.08, 0.08, 0.08)

_SEP_LABELS = np.array([class_index(c) for c in SEPARATORS], np.int64)


# -- pen and paper -----------------------------------------------------------------------------

class _Hand:
    """One writer's pen and habits: digit height H (px), pen width (px), wobble, slant."""

    def __init__(self, rng: np.random.Generator, H: float | None = None, pen: float | None = None):
        self.rng = rng
        self.H = float(rng.uniform(*DIGIT_H)) if H is None else float(H)
        self.pen = (self.H * float(np.exp(rng.uniform(*np.log(PEN_H))))) if pen is None \
            else float(pen)
        self.wobble = self.H * float(rng.uniform(*WOBBLE_H))
        self.slant = float(rng.uniform(-SLANT, SLANT))


def _resample(p: np.ndarray, step: float) -> np.ndarray:
    """A polyline resampled at about `step` px along its length (at least 2 points)."""
    d = np.r_[0.0, np.cumsum(np.hypot(*np.diff(p, axis=0).T))]
    k = int(np.clip(d[-1] / max(step, 1e-6), 1, 200)) + 1
    s = np.linspace(0.0, d[-1], k)
    return np.stack([np.interp(s, d, p[:, 0]), np.interp(s, d, p[:, 1])], axis=1)


def _smooth_noise(k: int, rng: np.random.Generator, terms: int = 3) -> np.ndarray:
    """k samples in about [-1, 1] of a smooth random function of arc position."""
    t = np.linspace(0.0, 1.0, k)
    out = np.zeros(k)
    for j in range(1, terms + 1):
        out += rng.normal() / j * np.sin(np.pi * (j * t + rng.uniform(0, 2)))
    return out / 1.5


def _wobbled(p: np.ndarray, hand: _Hand) -> np.ndarray:
    """The path with slant, then a smooth random displacement."""
    p = p.copy()
    p[:, 0] -= hand.slant * p[:, 1]
    length = float(np.hypot(*np.diff(p, axis=0).T).sum())
    p = _resample(p, max(1.5, hand.pen / 2))
    amp = min(hand.wobble, WOBBLE_MAX_LEN * length)
    if amp > 0:
        for ax in (0, 1):
            p[:, ax] += amp * _smooth_noise(len(p), hand.rng)
    return p


class _Stroke:
    """A pen stroke: points (k, 2) px, y down, and a width per point (px)."""

    def __init__(self, pts: np.ndarray, width: np.ndarray):
        self.pts, self.width = pts, width


def _stroke(p, hand: _Hand, taper: tuple[float, float] = (1.0, 1.0), wobble: bool = True,
            width: float | None = None) -> _Stroke:
    """A stroke along the path p (x H units, y down) in `hand`'s pen; taper scales the pen
    width from start to end (a comma's tail thins out)."""
    p = np.asarray(p, np.float64) * hand.H
    if wobble:
        p = _wobbled(p, hand)
    else:
        p = _resample(p - np.c_[hand.slant * p[:, 1], np.zeros(len(p))], max(1.5, hand.pen / 2))
    w0 = hand.pen if width is None else width
    press = 1.0 + PRESSURE * np.clip(_smooth_noise(len(p), hand.rng, 2), -1, 1)
    w = w0 * press * np.linspace(taper[0], taper[1], len(p))
    return _Stroke(p, np.maximum(w, 1.0))


def _render(strokes: list[_Stroke], fills: list[np.ndarray] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Strokes (and filled polygons, px) -> (alpha float32 0..1, offset (x, y) of its origin)."""
    allp = np.concatenate([s.pts for s in strokes] + list(fills))
    pad = max([float(s.width.max()) for s in strokes] + [1.0]) / 2 + 3
    lo = allp.min(0) - pad
    hi = allp.max(0) + pad
    w, h = (int(np.ceil(v)) for v in hi - lo)
    S = SUPERSAMPLE
    big = np.zeros((h * S, w * S), np.uint8)
    for poly in fills:
        q = np.round((poly - lo) * S).astype(np.int32)
        cv2.fillPoly(big, [q], 255, cv2.LINE_AA)
    for s in strokes:
        q = np.round((s.pts - lo) * S).astype(np.int32)
        # pressure: constant width over runs of a few segments (one polyline call per run)
        run = 6
        for i in range(0, len(q) - 1, run):
            seg = q[i:i + run + 1]
            t = max(1, int(round(float(s.width[i:i + run + 1].mean()) * S)))
            cv2.polylines(big, [seg], False, 255, t, cv2.LINE_AA)
    alpha = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return alpha, lo


def _ink(alpha: np.ndarray, rng: np.random.Generator,
         texture: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Pen alpha -> (ink contrast uint8, glyph mask 0/1) as the reader's binariser gives them."""
    h, w = alpha.shape
    a = alpha
    if texture:
        amt = rng.uniform(*TEXTURE)
        if amt > 0:
            g = int(rng.integers(3, 9))  # noise grain (px)
            n = rng.random((h // g + 2, w // g + 2)).astype(np.float32)
            n = cv2.resize(n, (w + 2 * g, h + 2 * g), interpolation=cv2.INTER_CUBIC)[g:g + h, g:g + w]
            a = a * (1.0 - amt * np.clip(n, 0, 1))
    sigma = rng.uniform(*BLUR_SIGMA)
    if sigma > 0.3:
        a = cv2.GaussianBlur(a, (0, 0), sigma)
    c = rng.uniform(*INK_CONTRAST)
    ink = a * c + rng.normal(0, SENSOR_NOISE, a.shape).astype(np.float32)
    ink = np.clip(ink, 0, 255).astype(np.uint8)
    mask = (ink > rng.uniform(*MASK_SHARE) * c).astype(np.uint8)
    return ink, mask


def _patch(ink: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    if mask.sum() < 4:
        return None
    p = normalize(ink, mask)
    return p if p.any() else None


# -- separators --------------------------------------------------------------------------------

def _rot(p, deg: float) -> np.ndarray:
    a = np.deg2rad(deg)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.asarray(p, np.float64) @ r.T


def _bar(length: float, bow: float, tilt_deg: float, k: int = 16) -> np.ndarray:
    """A near-straight bar centred at 0: x along it, bowed by `bow` (x H, + is down)."""
    x = np.linspace(-length / 2, length / 2, k)
    y = bow * (1 - (2 * x / length) ** 2)
    return _rot(np.c_[x, y], tilt_deg)


def _blob(d: float, hand: _Hand) -> tuple[list[_Stroke], list[np.ndarray]]:
    """A filled, slightly irregular dot d x H across: its outline as a polygon plus a pen ring."""
    rng = hand.rng
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    r = d / 2 * (1 + 0.12 * _smooth_noise(24, rng)) * hand.H
    e = rng.uniform(0.8, 1.2)
    poly = np.c_[r * np.cos(t) * e, r * np.sin(t) / e]
    ring = _Stroke(np.r_[poly, poly[:1]] * 0.9, np.full(25, max(1.0, min(hand.pen, d * hand.H / 3))))
    return [ring], [poly]


def _draw_dash(hand: _Hand):
    rng = hand.rng
    L = rng.uniform(*DASH_LEN)
    tilt = rng.uniform(-DASH_TILT_DEG, DASH_TILT_DEG) if rng.random() < 0.3 else \
        float(np.clip(rng.normal(0, 4), -DASH_TILT_DEG, DASH_TILT_DEG))
    bow = rng.uniform(-DASH_BOW, DASH_BOW) * L if rng.random() < 0.5 else 0.0
    hand.slant = 0.0  # a shear would only tilt the dash further
    return [_stroke(_bar(L, bow, tilt), hand, taper=(rng.uniform(0.9, 1.2), rng.uniform(0.7, 1.1)))], []


def _draw_dot(hand: _Hand):
    rng = hand.rng
    d = max(rng.uniform(*DOT_D), hand.pen / hand.H)
    style = rng.choice(3, p=(0.55, 0.2, 0.25))
    if style == 0 or hand.pen >= 0.6 * d * hand.H:
        if hand.pen >= 0.6 * d * hand.H:
            # the pen is as wide as the dot: one touch, a short drag at most
            a = rng.uniform(0, np.pi)
            s = max(0.0, d - hand.pen / hand.H) / 2
            p = np.array([[-s * np.cos(a), -s * np.sin(a)], [s * np.cos(a), s * np.sin(a)]])
            return [_stroke(p, hand, wobble=False, width=max(hand.pen, d * hand.H * 0.8))], []
        return _blob(d, hand)
    if style == 1:
        # a tiny circle drawn with a pen nearly half its width: its hole closes up (a ring
        # with a hole is a 0, and normalize's thinning opens even a small one)
        pen = max(hand.pen, 0.46 * d * hand.H)
        r = (d * hand.H - pen) / 2 / hand.H
        t = np.linspace(0, 2 * np.pi * rng.uniform(1.0, 1.2), 20) + rng.uniform(0, 2 * np.pi)
        return [_stroke(np.c_[r * np.cos(t), r * np.sin(t)], hand, wobble=False, width=pen)], []
    # a short tick: at most 1.35 times as long as wide (normalize thins a longer one to a dash)
    pen = max(hand.pen, 0.75 * d * hand.H)
    s = (d - pen / hand.H) / 2
    a = rng.uniform(-np.pi / 3, np.pi / 3) + (np.pi / 2 if rng.random() < 0.5 else 0)
    p = np.array([[-s * np.cos(a), -s * np.sin(a)], [s * np.cos(a), s * np.sin(a)]])
    return [_stroke(p, hand, wobble=False, width=pen)], []


def _draw_comma(hand: _Hand):
    rng = hand.rng
    L = rng.uniform(*COMMA_LEN)
    ang = np.deg2rad(rng.uniform(*COMMA_ANGLE_DEG))
    bow = rng.uniform(*COMMA_BOW) * L
    t = np.linspace(0, 1, 14)
    # from the top (0, 0) down-left to (-L cos, L sin), bulging to the right nearer the head
    b = bow * np.sin(np.pi * t ** 0.7)
    x = -L * np.cos(ang) * t + b * np.sin(ang)
    y = L * np.sin(ang) * t + b * np.cos(ang) * 0.5
    strokes, fills = [], []
    if rng.random() < 0.5:
        # a tick: heavy at the top, thinning along the tail
        head = max(rng.uniform(*COMMA_HEAD), COMMA_HEAD_LEN * L * hand.H / hand.pen)
        strokes.append(_stroke(np.c_[x, y], hand, taper=(head, head * rng.uniform(*COMMA_TAIL))))
    else:
        # a dot with a tail hanging from its right side
        d = max(rng.uniform(0.07, 0.13), 1.3 * hand.pen / hand.H)
        s, f = _blob(d, hand)
        strokes += s
        fills += f
        tail = np.c_[x + d * 0.3, y + d * 0.1]
        head = min(1.3, d * hand.H / hand.pen)
        strokes.append(_stroke(tail, hand, taper=(head, head * rng.uniform(*COMMA_TAIL))))
    return strokes, fills


def _draw_slash(hand: _Hand):
    rng = hand.rng
    h = rng.uniform(*SLASH_H)
    ang = rng.uniform(*SLASH_ANGLE_DEG)
    L = h / np.sin(np.deg2rad(ang))
    hand.slant = abs(hand.slant) * 0.3  # the lean is set by the angle; slant only adds to it
    p = _bar(L, rng.uniform(-0.04, 0.04) * L, -ang)  # tilted up to the right (y down)
    return [_stroke(p, hand, taper=(rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.1)))], []


def _draw_bracket(hand: _Hand, opening: str):
    rng = hand.rng
    h = rng.uniform(*BRACKET_H)
    span = np.deg2rad(rng.uniform(*BRACKET_SPAN_DEG))
    b = h / (2 * np.sin(span / 2))
    a = b * rng.uniform(*BRACKET_ROUND)
    hand.slant *= 0.5  # a sheared arc turns into a hook
    sk = 1 + rng.uniform(-BRACKET_SKEW, BRACKET_SKEW, 2)
    t = np.linspace(-span / 2 * sk[0], span / 2 * sk[1], 24)
    x = a * (1 - np.cos(t))  # bulging left, the ends to the right: "("
    y = b * np.sin(t)
    if opening == ")":
        x = -x
    p = _rot(np.c_[x, y], rng.uniform(-BRACKET_TILT_DEG, BRACKET_TILT_DEG))
    if rng.random() < 0.5:
        p = p[::-1]
    return [_stroke(p, hand, taper=(rng.uniform(0.8, 1.2), rng.uniform(0.6, 1.1)))], []


def _draw_plus(hand: _Hand):
    rng = hand.rng
    lh = rng.uniform(*PLUS_ARM)
    lv = lh * rng.uniform(*PLUS_RATIO)
    cx, cy = rng.uniform(*PLUS_CROSS), rng.uniform(*PLUS_CROSS)
    hz = _bar(lh, rng.uniform(-0.03, 0.03), rng.normal(0, 5)) + [(0.5 - cx) * lh, 0]
    vt = _bar(lv, rng.uniform(-0.03, 0.03), 90 + rng.normal(0, 5)) + [0, (0.5 - cy) * lv]
    strokes = [_stroke(hz, hand), _stroke(vt, hand)]
    if rng.random() < 0.15:
        # the pen lifted where the strokes cross: the vertical arm in two pieces
        g = 0.5 * hand.pen / hand.H  # the gap just shows either side of the level arm
        v = vt[np.argsort(vt[:, 1])]
        top, bot = v[v[:, 1] < -g], v[v[:, 1] > g]
        if len(top) >= 2 and len(bot) >= 2:
            strokes = [_stroke(hz, hand), _stroke(top, hand), _stroke(bot, hand)]
    return strokes, []


def _draw_equals(hand: _Hand):
    rng = hand.rng
    l1 = rng.uniform(*EQUALS_LEN)
    l2 = l1 * rng.uniform(*EQUALS_RATIO)
    gap = max(rng.uniform(*EQUALS_GAP), 2.5 * hand.pen / hand.H)
    tilt = rng.uniform(-8, 8)
    top = _bar(l1, rng.uniform(-0.02, 0.02), tilt + rng.normal(0, 3))
    bot = _bar(l2, rng.uniform(-0.02, 0.02), tilt + rng.normal(0, 3)) \
        + [rng.uniform(-0.15, 0.15) * l1, gap]
    return [_stroke(top, hand), _stroke(bot, hand)], []


_SEP_DRAW = {
    "-": _draw_dash, ".": _draw_dot, ",": _draw_comma, "/": _draw_slash,
    "(": lambda hd: _draw_bracket(hd, "("), ")": lambda hd: _draw_bracket(hd, ")"),
    "+": _draw_plus, "=": _draw_equals,
}


def draw_separator(ch: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One separator as the reader would cut it from a photo, before normalisation:
    (ink contrast uint8 (h, w), mask 0/1 (h, w)), y down, at real size for a digit of
    DIGIT_H px."""
    if ch not in _SEP_DRAW:
        raise ValueError(f"no drawing for separator {ch!r}; expected one of {SEPARATORS}")
    hand = _Hand(rng)
    strokes, fills = _SEP_DRAW[ch](hand)
    alpha, _ = _render(strokes, fills)
    return _ink(alpha, rng)


def separators(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n normalised separator patches ((n, 28, 28) uint8) and their class indices ((n,) int64),
    the eight classes in equal shares (as near as n allows), in random order."""
    cls = rng.permutation(np.arange(n) % len(SEPARATORS))
    out = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(cls):
        p = None
        while p is None:
            p = _patch(*draw_separator(SEPARATORS[c], rng))
        out[i] = p
    return out, _SEP_LABELS[cls]


# -- junk ------------------------------------------------------------------------------------

def _source(img: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """An MNIST digit drawn SOURCE_SCALE x larger and cropped to its ink: (alpha, height px,
    stroke width px), or None if it has no ink."""
    big = cv2.resize(img, None, fx=SOURCE_SCALE, fy=SOURCE_SCALE, interpolation=cv2.INTER_CUBIC)
    ys, xs = np.nonzero(big > SOURCE_MASK)
    if ys.size == 0:
        return None
    a = big[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32) / 255.0
    m = a > SOURCE_MASK / 255.0
    edge = m.sum() - cv2.erode(m.astype(np.uint8), np.ones((3, 3), np.uint8)).sum()
    return a, float(a.shape[0]), float(2.0 * m.sum() / max(edge, 1))


def _compose(digit: np.ndarray, strokes: list[_Stroke], extra: list[tuple[np.ndarray, float, float]] = ()
             ) -> np.ndarray:
    """Alpha of a digit (origin at its top-left) with pen strokes over it (px, same frame)."""
    items = [(digit, 0.0, 0.0)] + list(extra)
    if strokes:
        sa, lo = _render(strokes)
        items.append((sa, lo[0], lo[1]))
    x0 = min(x for _, x, _ in items)
    y0 = min(y for _, _, y in items)
    x1 = max(x + a.shape[1] for a, x, _ in items)
    y1 = max(y + a.shape[0] for a, _, y in items)
    out = np.zeros((int(np.ceil(y1 - y0)) + 1, int(np.ceil(x1 - x0)) + 1), np.float32)
    for a, x, y in items:
        ox, oy = int(round(x - x0)), int(round(y - y0))
        r = out[oy: oy + a.shape[0], ox: ox + a.shape[1]]
        np.maximum(r, a[: r.shape[0], : r.shape[1]], out=r)
    return out


def _digit_hand(rng: np.random.Generator, H: float, sw: float) -> _Hand:
    """The pen that crossed out or lined a digit: a stroke near the digit's own width."""
    hand = _Hand(rng, H=H, pen=max(1.5, sw * rng.uniform(0.7, 1.4)))
    hand.slant = 0.0
    return hand


def _pick(digits: np.ndarray, rng: np.random.Generator):
    return _source(digits[int(rng.integers(len(digits)))])


def _junk_crossed(rng, digits):
    src = _pick(digits, rng)
    if src is None:
        return None
    a, H, sw = src
    h, w = a.shape
    hand = _digit_hand(rng, H, sw)
    ext = lambda: rng.uniform(0.0, 0.25)  # noqa: E731  (overshoot beyond the digit, x its size)
    if rng.random() < 0.5:
        # an X over it, at least 0.6 as wide as tall (a narrow X over a 1 is an hourglass)
        xw = max(w, 0.6 * h)
        xl, xr = w / 2 - xw / 2, w / 2 + xw / 2
        lines = [((xl - ext() * xw, -ext() * h), (xr + ext() * xw, h * (1 + ext()))),
                 ((xr + ext() * xw, -ext() * h), (xl - ext() * xw, h * (1 + ext())))]
    else:
        # hatching: three to five parallel strokes across it (two level ones over a 7 are its
        # top bar and a European crossbar)
        k = int(rng.integers(3, 6))
        ang = np.deg2rad(rng.uniform(-25, 25) if rng.random() < 0.3 else
                         rng.choice([-1, 1]) * rng.uniform(30, 60))
        span = max(w, h) * rng.uniform(1.1, 1.5)
        offs = np.linspace(-0.35, 0.35, k) * h + rng.normal(0, 0.04 * h, k)
        c = np.array([w / 2, h / 2])
        d = np.array([np.cos(ang), -np.sin(ang)])
        nrm = np.array([np.sin(ang), np.cos(ang)])
        lines = [tuple(c + o * nrm + s * d * span / 2 for s in (-1, 1)) for o in offs]
    strokes = [_stroke(np.array(ln) / H, hand) for ln in lines]
    return _compose(a, strokes)


def _scribble_path(rng, w: float, h: float, legs: int) -> np.ndarray:
    """A scribbling-out zig-zag over a w x h box (px): `legs` strokes up and down, moving on."""
    xs = np.linspace(0, w, legs + 1) + rng.normal(0, 0.05 * w, legs + 1)
    ys = np.where(np.arange(legs + 1) % 2 == 0, 0.0, h) + rng.normal(0, 0.08 * h, legs + 1)
    return np.c_[xs, ys]


def _junk_scribbled(rng, digits):
    src = _pick(digits, rng)
    if src is None:
        return None
    a, H, sw = src
    h, w = a.shape
    # MNIST strokes are thick for the digit's size: the scribble is a finer pen, or its legs
    # would fill in
    hand = _Hand(rng, H=H, pen=max(1.5, sw * rng.uniform(0.35, 0.8)))
    hand.slant = 0.0
    cover = rng.uniform(0.6, 1.0)
    bw, bh = max(w, 0.5 * h) * rng.uniform(0.9, 1.3), h * cover
    x0, y0 = rng.uniform(-0.1, 0.1) * w, rng.uniform(0, 1 - cover) * h
    max_legs = int(bw / (LEG_SPACING_PEN * hand.pen))
    if max_legs < 5:
        return None
    if rng.random() < 0.6:
        legs = int(rng.integers(5, min(12, max_legs) + 1))
        p = _scribble_path(rng, bw, bh, legs)
        if rng.random() < 0.4:
            p = p[:, ::-1] * [bw / bh, bh / bw]  # scribbled sideways
    else:
        # loops rolling across it
        k = rng.uniform(3, max(3.0, min(6.0, max_legs / 2)))
        t = np.linspace(0, 2 * np.pi * k, int(40 * k))
        r = 0.5 * bh
        p = np.c_[bw * t / t[-1] + 0.35 * bw / k * np.cos(t), r + r * np.sin(t)]
    return _compose(a, [_stroke((p + [x0, y0]) / H, hand)])


def _junk_squashed(rng, digits):
    k = 2 if rng.random() < 0.7 else 3
    srcs = [_pick(digits, rng) for _ in range(k)]
    if any(s is None for s in srcs):
        return None
    a0, H, _ = srcs[0]
    items, x = [], 0.0
    for a, _, _ in srcs:
        s = H / a.shape[0] * rng.uniform(0.85, 1.1)  # about one height
        a = cv2.resize(a, (max(1, int(a.shape[1] * s)), max(1, int(a.shape[0] * s))))
        if items:
            prev = items[-1][0]
            x += prev.shape[1] - rng.uniform(*SQUASH_OVERLAP) * min(prev.shape[1], a.shape[1])
        items.append((a, x, rng.uniform(-0.1, 0.1) * H))
    out = _compose(items[0][0], [], [(a, x, y) for a, x, y in items[1:]])
    ys, xs = np.nonzero(out > SOURCE_MASK / 255.0)
    if np.ptp(xs) + 1 < SQUASH_MIN_ASPECT * (np.ptp(ys) + 1):
        return None
    return out


def _junk_lined(rng, digits):
    src = _pick(digits, rng)
    if src is None:
        return None
    a, H, sw = src
    h, w = a.shape
    hand = _digit_hand(rng, H, sw)
    kind = rng.choice(3, p=(0.5, 0.38, 0.12))
    tilt = np.deg2rad(rng.normal(0, 1.5))
    if kind == 2:
        # the side of a box, touching or through the digit
        L = h * rng.uniform(LINE_MIN_EXTENT, LINE_MAX_EXTENT)
        xc = rng.choice([rng.uniform(-0.05, 0.1), rng.uniform(0.3, 0.7), rng.uniform(0.9, 1.05)]) * w
        y0 = -rng.uniform(0, 1) * (L - h)
        lines = [np.array([[xc, y0], [xc + L * np.sin(tilt), y0 + L]])]
        # always with the box's top or bottom at one end (a lone upright line by a small
        # digit reads as a 1)
        # (as long as an underline: a short one makes a "]" or an "L")
        e = lines[0][0 if rng.random() < 0.5 else 1]
        arm = max(w, 0.8 * h) * rng.uniform(LINE_MIN_EXTENT, LINE_MAX_EXTENT)
        lines.append(np.array([e, e + [rng.choice([-1, 1]) * arm, 0]]))
    else:
        # (the extent is taken at least 0.8 of the height: a short line through a 1 is a +)
        L = max(w, 0.8 * h) * rng.uniform(LINE_MIN_EXTENT, LINE_MAX_EXTENT)
        # through it (a box's top or a rule behind the writing) or just under it, touching
        # (never through a narrow digit: a 1 with a level line through it is a +)
        through = kind == 0 and w >= LINE_THROUGH_MIN_ASPECT * h
        yc = rng.uniform(0.2, 0.8) * h if through else h * rng.uniform(0.9, 1.0)
        x0 = -rng.uniform(0, 1) * (L - w)
        lines = [np.array([[x0, yc], [x0 + L, yc + L * np.sin(tilt)]])]
        if rng.random() < 0.3:
            # a box corner: the box's side running up or down from one end
            e = lines[0][0 if rng.random() < 0.5 else 1]
            dy = rng.choice([-1, 1]) * h * rng.uniform(0.6, 1.2)
            lines.append(np.array([e, e + [0, dy]]))
    strokes = [_stroke(ln / H, hand, wobble=False) for ln in lines]
    return _compose(a, strokes)


def _drawn_junk(rng, path_fn):
    """Junk drawn by hand: path_fn(rng, size) -> list of paths (x H units)."""
    hand = _Hand(rng)
    paths = path_fn(rng, rng.uniform(*JUNK_SIZE), hand.pen / hand.H)
    if paths is None:
        return None
    strokes = [_stroke(p, hand) for p in paths]
    alpha, _ = _render(strokes)
    return alpha


def _zigzag_paths(rng, s, pen):
    # always along the line: running down the page, five legs read as a 3
    w = s * rng.uniform(1.0, 2.0)
    max_legs = int(w / (LEG_SPACING_PEN * pen))
    if max_legs < ZIGZAG_MIN_LEGS:
        return None
    legs = int(rng.integers(ZIGZAG_MIN_LEGS, min(10, max_legs) + 1))
    h = max(s * rng.uniform(0.3, 0.9), 0.3 * w, 4 * pen)  # low or thick, it is a wavy dash
    return [_rot(_scribble_path(rng, w, h, legs), rng.uniform(-20, 20))]


def _loops_paths(rng, s, pen):
    kind = rng.choice(3)
    if kind == 0:
        # a coil: three to five loops along a line, at most COIL_MAX_ASPECT times as long as
        # tall (a long flat coil is a textured dash)
        k = rng.uniform(3, 5)
        t = np.linspace(0, 2 * np.pi * k, int(36 * k))
        r = s * rng.uniform(0.2, 0.35)
        if r < 4 * pen:  # a thick pen fills the loops in: a textured blob or dash
            return None
        adv = r * rng.uniform(0.5, 1.0) / np.pi
        adv = min(adv, (COIL_MAX_ASPECT * 2 * r - 2 * r) / t[-1])
        if 2 * np.pi * adv < 3.5 * pen:  # loops closer than this fill in
            return None
        p = np.c_[adv * t + r * np.cos(t + np.pi), r * np.sin(t) * rng.uniform(0.85, 1.3)]
    elif kind == 1:
        # a spiral of two to two and a half turns (more fill in at 28 x 28; fewer read as a 6)
        turns = min(rng.uniform(2.0, 2.5), 0.85 * s / 2 / (2.5 * pen))  # rings 2.5 pens apart
        if turns < 2.0:
            return None
        t = np.linspace(0, 2 * np.pi * turns, int(40 * turns))
        r = s / 2 * (0.15 + 0.85 * t / t[-1])
        p = np.c_[r * np.cos(t), r * np.sin(t) * rng.uniform(0.75, 1.25)]
    else:
        # a knot: a closed Lissajous figure of crossing lobes (1:2 is an 8, and 2:3 too often
        # looks like one; five lobes fill in at 28 x 28)
        fa, fb = [(3, 4), (4, 3)][int(rng.integers(2))]
        if s / max(fa, fb) < 2.5 * pen:
            return None
        t = np.linspace(0, 2 * np.pi, 120)
        ph = rng.uniform(0.2, 1.3)
        p = np.c_[np.sin(fa * t + ph), np.sin(fb * t)] * s / 2 * [rng.uniform(0.8, 1.2), 1]
    return [_rot(p, rng.uniform(-30, 30))]


def _tick_paths(rng, s, pen):
    long_leg = s * rng.uniform(0.7, 1.1)
    short = long_leg * rng.uniform(0.25, 0.5)
    a1 = np.deg2rad(rng.uniform(35, 65))   # the short leg, down to the right
    a2 = np.deg2rad(rng.uniform(40, 62))   # the long leg, up to the right (steeper: a J)
    p0 = np.array([0.0, 0.0])
    p1 = p0 + short * np.array([np.cos(a1), np.sin(a1)])
    p2 = p1 + long_leg * np.array([np.cos(a2), -np.sin(a2)])
    t = np.linspace(0, 1, 8)[:, None]
    p = np.r_[p0 + t * (p1 - p0), p1 + t[1:] * (p2 - p1)]
    p[len(t):, 0] += np.sin(np.pi * t[1:, 0]) * rng.uniform(-0.05, 0.05) * long_leg
    return [p]


def _star_paths(rng, s, pen):
    if rng.random() < 0.35:
        # a five-pointed star in one stroke
        ang = -np.pi / 2 + np.arange(6) * 4 * np.pi / 5 + rng.uniform(-0.2, 0.2)
        r = s / 2 * (1 + rng.normal(0, 0.08, 6))
        p = np.c_[r * np.cos(ang), r * np.sin(ang)]
        return [_rot(_resample(p, s / 20), rng.uniform(-10, 10))]
    # an asterisk: three or four bars through about the same point
    k = int(rng.integers(3, 5))
    base = rng.uniform(0, 180)
    out = []
    for j in range(k):
        ang = base + j * 180 / k + rng.normal(0, 6)
        L = s * rng.uniform(0.6, 1.0)
        out.append(_bar(L, 0.0, ang, k=8) + rng.normal(0, 0.04 * s, 2))
    return out


def _hash_paths(rng, s, pen):
    k = 2 if rng.random() < 0.75 else 3
    gap = s * rng.uniform(0.25, 0.4)
    L = gap * (k - 1) + s * rng.uniform(0.35, 0.6)
    slant = rng.uniform(0, 25)
    out = []
    for j in range(k):
        o = (j - (k - 1) / 2) * gap
        out.append(_bar(L * rng.uniform(0.85, 1.1), 0.0, rng.normal(0, 4), k=8) + [0, o])
        out.append(_bar(L * rng.uniform(0.85, 1.1), 0.0, 90 - slant + rng.normal(0, 4), k=8) + [o, 0])
    return [_rot(p, rng.uniform(-10, 10)) for p in out]


_JUNK_DRAW = {
    "crossed": _junk_crossed,
    "scribbled": _junk_scribbled,
    "squashed": _junk_squashed,
    "lined": _junk_lined,
    "zigzag": lambda rng, d: _drawn_junk(rng, _zigzag_paths),
    "loops": lambda rng, d: _drawn_junk(rng, _loops_paths),
    "tick": lambda rng, d: _drawn_junk(rng, _tick_paths),
    "star": lambda rng, d: _drawn_junk(rng, _star_paths),
    "hash": lambda rng, d: _drawn_junk(rng, _hash_paths),
}


def draw_junk(kind: str, rng: np.random.Generator, digits: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray] | None:
    """One not-a-character glyph of `kind` (JUNK_KINDS) before normalisation: (ink, mask) as
    draw_separator gives them, or None when this draw is rejected (try again)."""
    if kind not in _JUNK_DRAW:
        raise ValueError(f"unknown junk kind {kind!r}; expected one of {' '.join(JUNK_KINDS)}")
    alpha = _JUNK_DRAW[kind](rng, digits)
    if alpha is None:
        return None
    ink, mask = _ink(alpha, rng, texture=kind not in ("crossed", "scribbled", "squashed", "lined"))
    ys, xs = np.nonzero(mask)
    if ys.size < 4 or ys.size > MAX_FILL * (np.ptp(ys) + 1) * (np.ptp(xs) + 1):
        return None
    return ink, mask


def _filled(patch: np.ndarray) -> bool:
    ys, xs = np.nonzero(patch > 128)
    return ys.size > MAX_PATCH_FILL * (np.ptp(ys) + 1) * (np.ptp(xs) + 1) if ys.size else True


def junk_drawn_and_patch(kind: str, rng: np.random.Generator, digits: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One glyph of `kind` that passes every check: (ink, mask, normalised patch)."""
    while True:
        got = draw_junk(kind, rng, digits)
        p = None if got is None else _patch(*got)
        if p is not None and not _filled(p):
            return got[0], got[1], p


def junk_patch(kind: str, rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """One normalised (28, 28) uint8 patch of `kind`."""
    return junk_drawn_and_patch(kind, rng, digits)[2]


def junk(n: int, rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 not-a-character patches (label edgedigits.classes.JUNK), of the
    JUNK_KINDS in shares JUNK_P, drawn over or from `digits` (MNIST training digits, (N, 28, 28)
    ink bright on dark)."""
    digits = np.asarray(digits)
    if digits.ndim != 3 or digits.shape[1:] != (28, 28) or len(digits) == 0:
        raise ValueError(f"expected (N >= 1, 28, 28) digits, got shape {digits.shape}")
    kinds = rng.choice(len(JUNK_KINDS), size=n, p=JUNK_P)
    out = np.zeros((n, 28, 28), np.uint8)
    for i, k in enumerate(kinds):
        out[i] = junk_patch(JUNK_KINDS[k], rng, digits)
    return out


def junk_labels(n: int) -> np.ndarray:
    """The labels of n junk patches: JUNK, as int64."""
    return np.full(n, JUNK, np.int64)
