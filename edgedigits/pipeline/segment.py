"""Stage 4: cut one text line into glyphs and decide which glyphs are digits.

1. Components of the line's ink mask; specks (area below SPECK_AREA x H^2) and marks outside
   the line's band (following its slope) are dropped. Long straight strokes (an underline, a form box) running more
   than LONG_STROKE line heights are erased where they touch the writing, with the box's sides.
2. Broken strokes of one digit are merged: a small piece (shorter than MERGE_SMALL_H x H) whose
   centre lies over another mark's middle (a 5's detached bar, the tip of a 4) joins it, if the
   result is still digit-shaped; so does a flat cap just above a mark's top (a 5's bar, not a
   dash: dashes sit at mid-height), and two facing halves "(" ")" with almost no gap (a 0).
3. Separators are recognised from shape: short marks (- . , +), thin slanted strokes (/), tall
   curved thin strokes (( )). They are kept as separators (they split the digits into groups).
4. Touching digits: every glyph is classified whole in one batch; a confident glyph of usual
   shape stays whole. A glyph wider than SPLIT_MIN_W x H that is not is over-segmented at the
   deepest valleys of its ink profile taken along several slants (SPLIT_SLANTS: touching
   digits written slanted part along a slanted line); every run of pieces between two cuts
   that could be one digit is a candidate, classified in a second batch (in its own view,
   PIECE_VIEWS; the pieces kept are read again in every view), and the best path
   through the cuts is found by dynamic programming (any number of touching digits): summed
   log-probabilities of the pieces plus a shape prior (how often MNIST writes that digit that
   wide for its height), with penalties for ink cut, for a whole glyph far too wide and for
   pieces too short or too many (and a piece read as a 1 but much shorter than the line: a
   7's bar or a 9's tail, SHORT_ONE_*); it replaces the whole glyph when it scores better.
   Broken digits the merge rules miss: two neighbouring marks close enough to be one digit
   (JOIN_*) are also classified as one, which replaces them when it scores better.
   A mark whose shape says bracket is a digit when it has no partner ("(" ... ")") on the line;
   two marks curved like brackets by looser thresholds, "(" and ")" around a few digits, are a
   pair even when neither is sure alone (a felt pen's wide brackets).
5. Low-confidence marks that are also small, and slivers narrower than SLIVER_MAX_W x H that
   do not read as a 1, are rejected as not digits.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..classes import has_character_classes
from ..ensemble import Ensemble
from .classify import classify_with_other
from .normalize import normalize, stroke_width

# All sizes are in units of the line height H (median height of its digit-sized marks).
SPECK_AREA = 0.006          # x H^2: smaller components are specks
BAND_OVERLAP = 0.5          # a component must overlap the line's band by this much of its height
# The band follows the line's slope: a straight line through the centres of its digit-sized
# marks (at least BAND_DIGIT_H x H tall; marks further than BAND_OUTLIER x H from a first fit
# are left out of the second), BAND_HALF x H either side. Small writing beside a tilted line
# falls inside its bounding box but not inside this band.
BAND_DIGIT_H = 0.6
BAND_OUTLIER = 0.5
BAND_HALF = 0.75
BAND_MAX_SLOPE = 0.5
LONG_STROKE = 1.6           # straight runs longer than this x H are rules/underlines/box sides
BOX_SIDE = 0.9              # a vertical run this long (x H) at an end of a long horizontal run
BOX_CORNER = 0.3            # (within this x H of the end) is the side of a box
MERGE_SMALL_H = 0.6         # only a piece shorter than this x H is merged into a neighbour
MERGE_CENTRE_IN = 0.15      # ... when its centre x is inside the other's box shrunk by this
MERGE_X_OVERLAP = 0.3       # ... or when it overlaps the other's columns by this much of its width
MERGE_MIN_H = 0.2           # ... and is not a dot or a dash (shorter than this x H)
MERGE_MAX_H = 1.35          # ... and the merged box is at most this tall
MERGE_MAX_W = 1.3           # ... and this wide
# A flat cap lying just above a mark's top over its columns is that digit's detached top bar
# (a 5's), not a dash: a dash sits at mid-height between digits, a cap at the top of one.
CAP_MAX_H = 0.45            # x H: a cap is shorter than this
CAP_MIN_FLAT = 1.2          # ... and at least this much wider than tall
CAP_MAX_XGAP = 0.1          # x H: it overlaps the other's columns or ends this close to them
CAP_CENTRE_BELOW = 0.15     # x H: its centre is at most this far below the other's top
CAP_MAX_GAP = 0.3           # x H: from its bottom down to the other's top
CAP_BODY_MIN_H = 0.3        # x H: the other mark (a 5's body without its bar) is this tall
# Two narrow halves of one round digit (a thin-stroked 0 broken at top and bottom): a mark
# bowing left "(" and, HALF_MAX_GAP x H to its right, one bowing right ")", both narrower than
# HALF_MAX_W x H and bowing more than HALF_MIN_BOW, are merged when the union is no wider than
# HALF_MAX_UNION x H. Written brackets always enclose digits, never an empty gap.
HALF_MAX_W = 0.7
HALF_MAX_GAP = 0.25
HALF_MIN_BOW = 0.05
HALF_MAX_UNION = 1.1
HALF_V_OVERLAP = 0.6        # of the shorter half's height
SEP_MAX_H = 0.5             # marks shorter than this are separators (- . , =) if also
DOT_MAX = 0.35              # shorter than this, or flat (a dash), or narrower than
COMMA_MAX_W = 0.25          # this x H (a comma); else a small digit, for the classifier
DASH_MAX_STROKES = 2.5      # a flat mark taller than DOT_MAX and than this many stroke widths
                            # is a squat digit (a flat 2), not a dash: a dash is one stroke thick
# A slash is thin, slanted and taller than the digits (MNIST 1s slant up to 40 degrees too:
# 10% of them beyond 32, so slant alone cannot tell a 1 from a slash; height can).
SLASH_MAX_THIN = 0.25       # minor/major axis std ratio
SLASH_MIN_ANGLE = 20.0      # degrees from vertical
SLASH_MIN_H = 1.18
SLASH_LEAN_ANGLE = 30.0     # ... or leaning more than this (degrees) and taller than
SLASH_LEAN_MIN_H = 1.1      # this x H
# Brackets: narrow and curved: the rows' ink centres bulge from the line through the ends by
# PAREN_MIN_BOW of the height (a parabola fit; 95% of MNIST 1s bulge less than 0.094, 99%
# less than 0.154) and the mark stands taller than digits; or it bulges beyond doubt.
PAREN_MIN_H = 1.05
PAREN_MAX_W = 0.55
PAREN_MAX_THIN = 0.4
PAREN_MIN_BOW = 0.11
PAREN_SURE_BOW = 0.17
PAREN_SURE_MIN_H = 0.95     # ... but a small curved mark is a digit (a 6 with a tiny loop)
# A bracket's partner may be less clear: a curved mark bulging more than PAREN_MIN_BOW, at
# least PAREN_PARTNER_MIN_H x H tall and narrower than PAREN_PARTNER_MAX_W x H, is the other
# bracket of a sure one when it would close it (a ")" after an open "(") or open it.
PAREN_PARTNER_MIN_H = 0.95
PAREN_PARTNER_MAX_W = 0.7
PAREN_PAIR_MAX_INSIDE = 5    # two such marks with 1-5 digits between are a pair
# Brackets drawn as gentle arcs bow too little for the shape rules and read as sure 1s; in
# context they stand out: a pair encloses a few digits and is drawn taller than the digits. A 1
# that opens a group (the line's first digit, or one after a separator or a GROUP_GAP) and a 1
# 1 to PAREN_PAIR_MAX_INSIDE digits later, within the group or closing it (the ")" of "(0)6"
# touches the 6), both at least TALL_PAIR_H x the median height of the line's digits other
# than 1s, are "(" and ")". Chosen on the second renderer's validation photos (300, and 300
# with a word before the number in the training font families) and 200 hard ones of the first
# renderer: 1.05 to 1.15 read as many numbers; the middle is kept. Against the enclosed digits
# alone, a small 0 in "1061 ..." made its 1s brackets (docs/reader.md).
TALL_PAIR_H = 1.1
# Gaps wider than this x line height separate groups of digits.
GROUP_GAP = 0.55
# Slashes and plus signs are told from digits by their shape alone; each is still shown to the
# classifier, and its probability of being a digit after all is kept (Glyph.digit_p) for the
# reader's doubt (reader.MARK_DIGIT_P). Brackets are weighed against digits here
# (BRACKET_VETO_P), dots and dashes are too short to be a digit.
SHAPE_ONLY_MARKS = "/+"
BRACKET_VETO_P = 0.9        # a bracket-shaped mark read as a digit other than these with at
BRACKET_LOOKALIKES = (1, 7)  # least this probability is that digit (a thin 3, an open 6)
# Plus sign: both sides within these x H, at most this fraction of its ink in the corners.
PLUS_MIN = 0.25
PLUS_MAX = 0.8
PLUS_MAX_CORNERS = 0.08
SPLIT_MIN_W = 0.7           # glyphs wider than this may be touching digits (an 8 and a 1)
SPLIT_MIN_PIECE_W = 0.18    # a piece of a split is at least this wide
SPLIT_CUTS = 5              # at most this many candidate cuts per H of glyph width
# Cuts are straight lines at these slopes (dx per dy: about -19 to +19 degrees from vertical);
# a slanted cut costs SLANT_COST pixels of ink more than a vertical one through as much ink.
SPLIT_SLANTS = (0.0, -0.18, 0.18, -0.35, 0.35)
SLANT_COST = 2.0
SPLIT_MAX_PIECE_W = 1.3     # a piece wider than this x H is not one digit
CUT_INK_PENALTY = 1.0       # log-prob per stroke width of ink cut beyond one stroke,
CUT_INK_MAX = 0.5           # at most this much per cut: overlapping digits (a slanted 1 lying
                            # across a 9's tail) cross wherever they are parted, and the pieces'
                            # own scores say whether the cut was right (chosen on validation
                            # photos: hard digit errors 156 -> 140 against no cap, docs/reader.md)
WHOLE_SURE_P = 0.9          # a whole glyph this confident and at most WHOLE_SURE_W x H wide
WHOLE_SURE_W = 1.15         # is kept whole whatever its pieces score
SPLIT_MIN_PIECE_H = 0.55    # a piece shorter than this x H is unlikely to be a digit ...
SHORT_PIECE_PENALTY = 3.0   # ... and costs this much log-probability
WIDE_PENALTY = 2.0          # log-prob penalty per H of width beyond WIDE_FREE
WIDE_FREE = 1.0
SPLIT_PENALTY = 0.35        # per extra piece: prefer the whole glyph when scores are close
# A piece of a split read as a 1 but shorter than SHORT_ONE_H x H costs SHORT_ONE_PENALTY: a
# written 1 is as tall as its line; a short stroke cut off a digit is a bar or a tail (a 7's
# long bar, a 9's tail), not a 1.
SHORT_ONE_H = 0.75
SHORT_ONE_PENALTY = 1.0
SPLIT_SEP_MIN_Y = 0.3       # a separator piece of a split is centred below this x glyph height
# The views (classify.TTA_SHIFTS' pixel shifts) the pieces of a split are classified in for the
# lattice: their own view only, a fifth of the work of all five (most of a textured page's
# patches are pieces); the pieces kept are then read in every view (docs/reader.md, stage 4).
PIECE_VIEWS = ((0, 0),)
# log P(width/height bin | digit) / P(modal bin | digit) on MNIST's first 50,000 training digits
# (ink bounding box), bins split at ASPECT_EDGES. A "6" 1.3x as wide as tall is rare (e^-6.8):
# more likely two touching digits, whatever the classifier says of the whole.
ASPECT_EDGES = np.array([0.3, 0.45, 0.6, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5])
ASPECT_LOG_PRIOR = np.array([
    [-7.4, -6.7, -3.6, -1.2, -0.4, -0.4, 0.0, -1.2, -2.0, -4.6],
    [-0.9, 0.0, -0.7, -0.7, -1.6, -2.7, -3.2, -5.6, -6.1, -7.7],
    [-7.4, -6.7, -3.8, -1.3, -0.6, -0.6, 0.0, -1.2, -1.5, -3.2],
    [-7.3, -4.0, -2.2, -0.2, 0.0, -0.4, -0.4, -2.2, -3.1, -6.6],
    [-7.2, -5.0, -2.0, 0.0, -0.0, -0.4, -0.4, -2.1, -3.1, -7.2],
    [-7.1, -6.0, -2.6, -0.7, -0.4, -0.6, 0.0, -0.8, -0.8, -2.6],
    [-7.5, -4.0, -1.5, 0.0, -0.2, -0.9, -1.3, -3.4, -4.0, -6.8],
    [-7.4, -4.9, -1.9, -0.0, 0.0, -0.6, -0.7, -2.4, -3.2, -5.1],
    [-7.3, -4.2, -1.7, 0.0, -0.2, -0.6, -0.7, -2.5, -3.3, -5.7],
    [-7.8, -3.7, -1.4, 0.0, -0.6, -1.6, -2.2, -4.6, -5.4, -7.1]])
ASPECT_MODE = ASPECT_LOG_PRIOR.argmax(1)
ASPECT_WEIGHT = 0.2         # how much of it: writing slants wider than MNIST (0.5 split slanted
                            # 9s into 0 and 1; chosen on validation photos, docs/reader.md)
# Two neighbouring marks at most JOIN_MAX_GAP x H apart (or overlapping), together at most
# JOIN_MAX_W x H wide and MERGE_MAX_H x H tall, may be one digit broken in two (a 4 whose
# stroke broke, a 9's tail apart from its loop): they are also classified as one mark, which
# replaces the two when it scores better by JOIN_PENALTY (log-probability) than both apart.
JOIN_MAX_GAP = 0.1
JOIN_MAX_W = 1.0
JOIN_PENALTY = 0.5
SLIVER_MAX_W = 0.2          # a mark this narrow (x H) is a 1 or a broken-off fragment
REJECT_P = 0.25             # a mark below this probability ...
REJECT_MAX_H = 0.6          # ... and shorter than this x H is not a digit (MNIST has small digits)
# A sliver (narrower than SLIVER_MAX_W x H) read as a 1 below this probability and shorter than
# FRAGMENT_MAX_H x H is a fragment (a blot beside a stroke): a written 1 is as tall as its line.
FRAGMENT_P = 0.5
FRAGMENT_MAX_H = 0.7
# ... and one shorter than this x H is a fragment however sure the 1 (a tick beside a 9).
ONE_MIN_H = 0.5


@dataclass
class Glyph:
    """A mark on the line. kind: 'digit' or a separator: '-', '.', '/', '(', ')'."""

    box: tuple[int, int, int, int]     # x, y, w, h in the line region's pixels
    kind: str
    logp: np.ndarray | None = None     # (10,) log-probabilities for digits (a digit, or a
                                       # "/" or "+" shown to the classifier: SHAPE_ONLY_MARKS)
    patch: np.ndarray | None = None    # (28, 28) uint8 as classified
    other: float = 0.0                 # probability it is no digit (classify_with_other)
    digit_p: float | None = None       # a "/" or "+" cut by its shape: the classifier's
                                       # probability that it is a digit after all


def _aspect_prior(lp: np.ndarray, patch: np.ndarray) -> float:
    """log P(this width/height | the class read) relative to the class's usual shape, for
    shapes wider than usual only (narrow pieces come from cuts and pens as much as writers).
    Measured on the normalised patch, whose stroke width is MNIST's, as the table was."""
    k = int(lp.argmax())
    ink = patch > 0
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if rows.size == 0:
        return 0.0
    aspect = (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)
    b = int(np.searchsorted(ASPECT_EDGES, aspect, side="right"))
    return ASPECT_WEIGHT * float(ASPECT_LOG_PRIOR[k, b]) if b > ASPECT_MODE[k] else 0.0


def _components(mask: np.ndarray):
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _strip_long_strokes(mask: np.ndarray, H: float) -> np.ndarray:
    """Erase straight horizontal/vertical runs longer than LONG_STROKE x H (underlines, rules,
    box sides), and the sides of a box: vertical runs of BOX_SIDE x H at either end of a long
    horizontal run (a form field drawn around the number)."""
    n = max(3, int(LONG_STROKE * H))
    hor = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    ver = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    long_ = hor | ver
    if hor.any():
        k = max(3, int(BOX_SIDE * H))
        sides = cv2.morphologyEx(mask, cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
        nh, _, hst, _ = _components(hor)
        ns, slab, sst, _ = _components(sides)
        reach = BOX_CORNER * H
        ends = np.concatenate([hst[1:, 0], hst[1:, 0] + hst[1:, 2]]) if nh > 1 else np.zeros(0)
        for j in range(1, ns):
            cx = sst[j, 0] + sst[j, 2] / 2
            if ends.size and np.abs(ends - cx).min() <= reach:
                long_ = long_ | (slab == j).astype(np.uint8)
    long_ = cv2.dilate(long_, np.ones((3, 3), np.uint8))
    return cv2.subtract(mask, long_)


def _is_plus(m: np.ndarray, H: float) -> bool:
    """A small cross: nearly all ink in the middle row band or the middle column band, each
    band's ink spanning most of the mark, the four corners empty."""
    h, w = m.shape
    if not (PLUS_MIN * H <= h <= PLUS_MAX * H and PLUS_MIN * H <= w <= PLUS_MAX * H):
        return False
    r0, r1, c0, c1 = int(0.3 * h), int(np.ceil(0.7 * h)), int(0.3 * w), int(np.ceil(0.7 * w))
    total = float(m.sum())
    middle = float(m[r0:r1].sum()) + float(m[:, c0:c1].sum()) - float(m[r0:r1, c0:c1].sum())
    corners = total - middle
    span_x = np.flatnonzero(m[r0:r1].any(0))
    span_y = np.flatnonzero(m[:, c0:c1].any(1))
    return bool(corners <= PLUS_MAX_CORNERS * total and span_x.size and span_y.size
                and np.ptp(span_x) >= 0.8 * (w - 1) and np.ptp(span_y) >= 0.8 * (h - 1))


def _axes(m: np.ndarray) -> tuple[float, np.ndarray]:
    """(minor/major standard deviation ratio, unit major axis (x, y)) of a mask's ink."""
    mo = cv2.moments(m, binaryImage=True)
    if mo["m00"] <= 0:
        return 1.0, np.array([0.0, 1.0])
    cov = np.array([[mo["mu20"], mo["mu11"]], [mo["mu11"], mo["mu02"]]]) / mo["m00"]
    ev, vec = np.linalg.eigh(cov)
    return float(np.sqrt(max(ev[0], 0) / max(ev[1], 1e-9))), vec[:, 1]


def _thinness(m: np.ndarray) -> float:
    return _axes(m)[0]


def _bow(m: np.ndarray) -> float:
    """How far the middle of a tall mark bulges from the line through its ends, in heights:
    a parabola x(y) fitted to the rows' ink centres; its vertex offset (+: bulges right)."""
    h, w = m.shape
    rows = np.flatnonzero(m.any(1))
    if rows.size < 5:
        return 0.0
    sums = m[rows].sum(1)
    cx = (m[rows] * np.arange(w)).sum(1) / sums
    c2 = np.polyfit((rows - h / 2) / h, cx / h, 2)[0]
    return float(-c2 * 0.25)


def _shape_kind(m: np.ndarray, H: float) -> str:
    """'digit' or a separator kind, from the glyph's mask alone."""
    h, w = m.shape
    if _is_plus(m, H):
        return "+"
    if h < SEP_MAX_H * H and (h < DOT_MAX * H or w > 1.5 * h or w < COMMA_MAX_W * H):
        flat_digit = h >= DOT_MAX * H and h > DASH_MAX_STROKES * stroke_width(m)
        if not flat_digit:
            return "-" if w > 1.5 * h else "."
    if h > SLASH_LEAN_MIN_H * H:
        thin, major = _axes(m)
        angle = np.degrees(np.arctan2(abs(major[0]), abs(major[1])))  # from vertical
        tall = h > SLASH_MIN_H * H or angle > SLASH_LEAN_ANGLE
        if tall and thin < SLASH_MAX_THIN and angle > SLASH_MIN_ANGLE and major[0] * major[1] < 0:
            return "/"  # image y grows downwards: / has x and y of opposite sign
    if w < PAREN_MAX_W * H and h > SEP_MAX_H * H and _thinness(m) < PAREN_MAX_THIN:
        bow = _bow(m)
        if (abs(bow) > PAREN_MIN_BOW and h > PAREN_MIN_H * H) or \
                (abs(bow) > PAREN_SURE_BOW and h > PAREN_SURE_MIN_H * H):
            return "(" if bow < 0 else ")"
    return "digit"


def _bracket_lean(m: np.ndarray, H: float) -> str:
    """'(' or ')' if the mark is curved like a bracket by the looser partner thresholds
    (PAREN_PARTNER_*), else ''."""
    h, w = m.shape
    if w >= PAREN_PARTNER_MAX_W * H or h < PAREN_PARTNER_MIN_H * H or \
            _thinness(m) >= PAREN_MAX_THIN:
        return ""
    bow = _bow(m)
    return "" if abs(bow) <= PAREN_MIN_BOW else ("(" if bow < 0 else ")")


def _partner_brackets(kinds: list[str], leans: list[str]) -> list[str]:
    """Kinds with the bracket-leaning digits that complete a sure bracket made brackets: a ")"
    closing a "(" still open before it (no sure ")" of its own after), a "(" opening a ")"
    that follows it (no "(" open before it, none between); then a leaning "(" and a leaning ")"
    with 1 to PAREN_PAIR_MAX_INSIDE digits and nothing else between them."""
    out = list(kinds)
    for i, lean in enumerate(leans):
        if out[i] != "digit" or not lean:
            continue
        before, after = out[:i], out[i + 1:]
        nxt = next((k for k in after if k in "()"), "")  # the next bracket after this mark
        if lean == ")":
            depth = 0
            for k in before:
                depth = depth + 1 if k == "(" else max(0, depth - 1) if k == ")" else depth
            if depth and nxt != ")" and before[-1] != "(":
                out[i] = ")"
        else:
            opened = before.count("(") > before.count(")")
            if nxt == ")" and not opened and after[0] != ")":
                out[i] = "("
    # Two leaning marks that enclose a few digits between them, "(" then ")", are a pair of
    # brackets too thick or wide to be sure alone (a felt pen's).
    for i, lean in enumerate(leans):
        if out[i] != "digit" or lean != "(":
            continue
        for j in range(i + 2, min(len(out), i + 2 + PAREN_PAIR_MAX_INSIDE)):
            if out[j] in "()" or (leans[j] == "(" and out[j] == "digit"):
                break
            if out[j] == "digit" and leans[j] == ")":
                if all(k == "digit" for k in out[i + 1:j]):
                    out[i], out[j] = "(", ")"
                break
    return out


def _is_cap(a, b, H: float) -> bool:
    """Is one of the boxes (x0, y0, x1, y1) a flat cap at the other's top (a 5's bar)?"""
    for (cx0, cy0, cx1, cy1), (ox0, oy0, ox1, oy1) in ((a, b), (b, a)):
        cw, ch = cx1 - cx0, cy1 - cy0
        if ch >= CAP_MAX_H * H or cw < CAP_MIN_FLAT * ch or oy1 - oy0 < CAP_BODY_MIN_H * H:
            continue
        x_ov = min(cx1, ox1) - max(cx0, ox0)
        if x_ov >= -CAP_MAX_XGAP * H and (cy0 + cy1) / 2 <= oy0 + CAP_CENTRE_BELOW * H \
                and oy0 - cy1 <= CAP_MAX_GAP * H:
            return True
    return False


def _merge_halves(groups: list, labels: np.ndarray, H: float) -> list:
    """Merge "(" ")"-shaped neighbours with almost no gap into one glyph (a broken 0)."""
    out: list = []
    for g in groups:
        if out:
            p = out[-1]
            px0, py0, px1, py1 = p[1:]
            gx0, gy0, gx1, gy1 = g[1:]
            v_ov = min(py1, gy1) - max(py0, gy0)
            if (px1 - px0 < HALF_MAX_W * H and gx1 - gx0 < HALF_MAX_W * H
                    and gx0 - px1 <= HALF_MAX_GAP * H and gx1 - px0 <= HALF_MAX_UNION * H
                    and v_ov >= HALF_V_OVERLAP * min(py1 - py0, gy1 - gy0)
                    and min(py1 - py0, gy1 - gy0) >= MERGE_SMALL_H * H):
                lb = _bow(np.isin(labels[py0:py1, px0:px1], p[0]).astype(np.uint8))
                rb = _bow(np.isin(labels[gy0:gy1, gx0:gx1], g[0]).astype(np.uint8))
                if lb < -HALF_MIN_BOW and rb > HALF_MIN_BOW:
                    out[-1] = [p[0] + g[0], min(px0, gx0), min(py0, gy0), max(px1, gx1),
                               max(py1, gy1)]
                    continue
        out.append(g)
    return out


def _in_sloped_band(x, y, w, h, keep: np.ndarray, H: float) -> np.ndarray:
    """Which components overlap the line's sloped band (see BAND_*) by BAND_OVERLAP."""
    cx, cy = x + w / 2.0, y + h / 2.0
    fit = keep & (h >= BAND_DIGIT_H * H)
    if fit.sum() < 2 or np.ptp(cx[fit]) <= 0:
        return np.ones_like(keep)
    for _ in range(2):
        slope = float(np.clip(np.polyfit(cx[fit], cy[fit], 1)[0], -BAND_MAX_SLOPE,
                              BAND_MAX_SLOPE))
        icpt = float(cy[fit].mean() - slope * cx[fit].mean())  # through the centroid
        near = fit & (np.abs(cy - (icpt + slope * cx)) <= BAND_OUTLIER * H)
        if near.sum() < 2 or np.ptp(cx[near]) <= 0:
            break
        fit = near
    centre = icpt + slope * cx
    ov = np.minimum(y + h, centre + BAND_HALF * H) - np.maximum(y, centre - BAND_HALF * H)
    return ov >= BAND_OVERLAP * h


def _cut_candidates(profile: np.ndarray, minw: int) -> list[int]:
    """Columns where touching digits may be cut: the deepest local minima of the column ink
    profile, at least `minw` from either end and from each other, at most SPLIT_CUTS per H."""
    n = len(profile)
    p = np.convolve(profile.astype(np.float32), [0.25, 0.5, 0.25], mode="same")
    inner = np.arange(max(1, minw), n - max(1, minw))
    if inner.size == 0:
        return []
    local = inner[(p[inner] <= p[inner - 1]) & (p[inner] <= p[inner + 1])]
    cuts: list[int] = []
    for c in local[np.argsort(p[local], kind="stable")]:
        if all(abs(int(c) - d) >= minw for d in cuts):
            cuts.append(int(c))
    return sorted(cuts)


def _not_a_digit(box, logp: np.ndarray, H: float) -> bool:
    """Is a mark cut as a digit (box x, y, w, h; its log-probabilities) a fragment or a speck:
    small and unsure (REJECT_*), or a sliver that is not a sure, full-height 1?"""
    p = float(np.exp(logp.max()))
    w, h = box[2], box[3]
    if p < REJECT_P and h < REJECT_MAX_H * H:
        return True
    if w < SLIVER_MAX_W * H:
        return int(logp.argmax()) != 1 or h < ONE_MIN_H * H or \
            (p < FRAGMENT_P and h < FRAGMENT_MAX_H * H)
    return False


def _paired_brackets(kinds: list[str]) -> set[int]:
    """Indices of the brackets that pair up, "(" before ")" with digits or marks between.
    A lone bracket (a ")" opening the line, a "(" that never closes) is a digit drawn round:
    a curved 1, an open 8. So is a "(" just before a ")": brackets enclose something, and
    written brackets do not nest, so that ")" closes an earlier "(" if there is one."""
    out, open_ = set(), []
    for i, k in enumerate(kinds):
        if k == "(":
            open_.append(i)
        elif k == ")":
            enclosing = [j for j in open_ if i - j > 1]
            if enclosing:
                open_.remove(enclosing[-1])
                out.update((i, enclosing[-1]))
    return out


def _slanted_cuts(gm: np.ndarray, minw: int, max_cuts: int) -> list:
    """Candidate cuts through a glyph: straight lines at the slopes SPLIT_SLANTS through the
    valleys of the ink profile taken along each slope (touching digits written slanted part
    along a slanted line). Returns [(x at mid-height, ink crossed, boundary x per row)], left
    to right, with the glyph's own left and right ends first and last (no ink crossed)."""
    gh, gw = gm.shape
    ym = (gh - 1) / 2.0
    rows = np.arange(gh) - ym
    found = []
    for t in SPLIT_SLANTS:
        pad = int(np.ceil(abs(t) * gh / 2)) + 1
        if t:
            m = np.array([[1.0, t, -pad - t * ym], [0.0, 1.0, 0.0]])
            sheared = cv2.warpAffine(gm, m, (gw + 2 * pad, gh), flags=cv2.INTER_NEAREST |
                                     cv2.WARP_INVERSE_MAP, borderValue=0)
            prof = sheared.sum(0)
        else:
            pad, prof = 0, gm.sum(0)
        inked = np.flatnonzero(prof)
        if inked.size == 0:
            continue
        for c in _cut_candidates(prof, minw):
            x = c - pad  # where the cut crosses mid-height, in glyph columns
            # a cut must leave ink on both sides (a slanted line may pass beside the glyph)
            if inked[0] + minw <= c <= inked[-1] - minw and minw <= x <= gw - minw:
                found.append((float(prof[c]) + SLANT_COST * abs(t), float(x), t, float(prof[c])))
    cuts: list = []
    for cost, x, t, ink in sorted(found):
        if len(cuts) < max_cuts and all(abs(x - c[0]) >= minw for c in cuts):
            cuts.append((x, ink, x + t * rows))
    cuts.sort(key=lambda c: c[0])
    ends = [(0.0, 0.0, np.full(gh, -1.0)), (float(gw), 0.0, np.full(gh, float(gw) + 1))]
    return [ends[0]] + cuts + [ends[1]]


def _tight(m: np.ndarray):
    """(y0, y1, x0, x1) of a 0/1 uint8 mask's ink, or None if it has none."""
    x, y, w, h = cv2.boundingRect(m)
    if w == 0:
        return None
    return y, y + h, x, x + w


def _split_option(gm: np.ndarray, gi: np.ndarray, gx0: int, gy0: int, gy1: int, H: float,
                  patches: list):
    """The split hypotheses of one wide glyph: (cut costs, pieces) for _best_split, or None.
    Over-segments at the valleys of the ink profile (along several slants); every run of pieces
    between two cuts that could be one digit is a candidate; their patches join `patches`."""
    gw = gm.shape[1]
    minw = max(2, int(SPLIT_MIN_PIECE_W * H))
    cuts = _slanted_cuts(gm, minw, int(SPLIT_CUTS * gw / H))
    X = np.arange(gw)[None, :]
    pieces = []
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            if (i, j) == (0, len(cuts) - 1):
                continue  # the whole glyph is option 0 already
            if cuts[j][0] - cuts[i][0] > SPLIT_MAX_PIECE_W * H:
                break
            pm = gm & (X >= cuts[i][2][:, None]) & (X < cuts[j][2][:, None])
            t = _tight(pm)
            if t is None:
                continue
            py0, py1, px0, px1 = t
            sl = (slice(py0, py1), slice(px0, px1))
            pb = (int(gx0 + px0), int(gy0 + py0), int(px1 - px0), int(py1 - py0))
            # A piece may be a separator touching a digit (a dash written into a 9).
            pk = _shape_kind(pm[sl], H)
            if pk in "-." and py0 + py1 < 2 * SPLIT_SEP_MIN_Y * (gy1 - gy0):
                continue  # a flat piece at the top is a digit's bar (a 5's), no dash
            if pk in ("digit", "(", ")"):
                # a bracket piece is classified too: if it finds no partner on the line it is a
                # digit drawn round after all (segment_line pairs brackets over the pieces)
                pieces.append((i, j, pb, len(patches), pk))
                patches.append(normalize(gi[sl], pm[sl]))
            else:
                pieces.append((i, j, pb, -1, pk))
    if pieces:
        # Touching digits join through about one stroke; cutting through more costs.
        sw = max(stroke_width(gm), 1.0)
        cost = [_cut_cost(ink, sw) for _, ink, _ in cuts]
        return cost, pieces
    return None


def _cut_cost(ink: float, sw: float) -> float:
    """What a cut through `ink` pixels of ink costs a split (log-probability), for strokes `sw`
    wide: CUT_INK_PENALTY per stroke beyond the one touching digits join by, at most
    CUT_INK_MAX."""
    return min(CUT_INK_MAX, CUT_INK_PENALTY * max(0.0, ink / sw - 1.0))


def character_log_p(other: np.ndarray, model) -> np.ndarray:
    """log P(each patch is one character), as the ensemble would say it: the mean over its
    members of log P(a character), where a member with the separator and not-a-character
    classes says log(1 - its non-digit mass) and a digits-only member cannot tell (0). From the
    members' mean non-digit mass `other` (classify_with_other): that share of the members times
    log(1 - other). A glyph cut as one but read as two digits or a letter by the members that
    know those classes scores lower as one digit, and its pieces can win the lattice."""
    return _character_share(model) * np.log(np.clip(1.0 - np.asarray(other, np.float64), 1e-6, 1.0))


def _character_share(model) -> float:
    """The share of the model's members that have the separator and not-a-character classes."""
    members = model.members if isinstance(model, Ensemble) else (model,)
    return sum(has_character_classes(m.n_classes) for m in members) / len(members)


def _is_sure(lp: np.ndarray, patch: np.ndarray, width: int, H: float) -> bool:
    """A confident digit of usual shape and width: kept whole, no split considered."""
    return bool(lp.max() >= np.log(WHOLE_SURE_P) and width <= WHOLE_SURE_W * H
                and _aspect_prior(lp, patch) > -1.0)


def _whole_score(width: int, H: float, lp: np.ndarray, patch: np.ndarray, arc_lp: float) -> float:
    """The score of a digit glyph read whole, against its splits: its arc's log-probability
    (`arc_lp`: its best digit's, plus character_log_p) and shape prior (from its digit
    log-probabilities `lp`), less WIDE_PENALTY per H of width beyond WIDE_FREE."""
    return -WIDE_PENALTY * max(0.0, width / H - WIDE_FREE) + arc_lp + _aspect_prior(lp, patch)


def _piece_score(piece, cost: list, best_lp: np.ndarray, logp: np.ndarray, patches: list,
                 H: float) -> float:
    """The score of one arc of a glyph's split lattice: the piece between cuts i and j, as a
    digit (its log-probability, shape prior and penalties) or a separator (penalties only)."""
    i, j, pb, k, kind = piece
    sc = -SPLIT_PENALTY - cost[j]
    if k >= 0 and kind == "digit":
        sc += best_lp[k] + _aspect_prior(logp[k], patches[k])
        sc -= SHORT_PIECE_PENALTY if pb[3] < SPLIT_MIN_PIECE_H * H else 0.0
        sc -= SHORT_ONE_PENALTY if pb[3] < SHORT_ONE_H * H and logp[k].argmax() == 1 else 0.0
    return float(sc)


def _best_split(option, best_lp: np.ndarray, logp: np.ndarray, patches: list, H: float):
    """The best way through the cut points (Viterbi): each piece scores its log-probability
    plus shape prior and penalties (a separator piece scores 0); returns (score, pieces)."""
    cost, pieces = option
    n_nodes = len(cost) - 1
    best = np.full(n_nodes + 1, -np.inf)
    best[0] = 0.0
    back: list = [None] * (n_nodes + 1)
    for piece in sorted(pieces, key=lambda t: t[1]):
        i, j, pb, k, kind = piece
        if not np.isfinite(best[i]):
            continue
        sc = _piece_score(piece, cost, best_lp, logp, patches, H)
        if best[i] + sc > best[j]:
            best[j] = best[i] + sc
            back[j] = (i, (pb, k, kind))
    if back[n_nodes] is None:
        return -np.inf, []
    out, node = [], n_nodes
    while node:
        node, piece = back[node]
        out.append(piece)
    # the first piece pays no split penalty: the whole glyph pays none either
    return float(best[n_nodes] + SPLIT_PENALTY), out[::-1]


def _join_candidates(groups: list, kinds: list[str], labels: np.ndarray, ink: np.ndarray, H: float,
                     patches: list) -> list[tuple[int, tuple[int, int, int, int], int]]:
    """Neighbouring digit marks that may be one broken digit (JOIN_*): [(index of the first,
    union box, index of the union's patch in `patches`)]; the union patches join `patches`."""
    out = []
    for i in range(len(groups) - 1):
        if kinds[i] != "digit" or kinds[i + 1] != "digit":
            continue
        a, b = groups[i], groups[i + 1]
        ux0, uy0, ux1, uy1 = min(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]), max(a[4], b[4])
        if b[1] - a[3] > JOIN_MAX_GAP * H or ux1 - ux0 > JOIN_MAX_W * H or \
                uy1 - uy0 > MERGE_MAX_H * H:
            continue
        um = np.isin(labels[uy0:uy1, ux0:ux1], a[0] + b[0]).astype(np.uint8)
        out.append((i, (int(ux0), int(uy0), int(ux1 - ux0), int(uy1 - uy0)), len(patches)))
        patches.append(normalize(ink[uy0:uy1, ux0:ux1], um))
    return out


def _apply_joins(joins, glyphs: list, chosen: list, scores: list, best_lp: np.ndarray,
                 logp: np.ndarray, patches: list, H: float):
    """Replace neighbouring glyphs (both read whole) by their union where the union scores
    better by JOIN_PENALTY; the best set of joins along the line (no glyph joined twice)."""
    if not joins:
        return glyphs, chosen
    n = len(glyphs)
    gain = np.zeros(n)
    for i, ubox, j in joins:
        if scores[i] is None or scores[i + 1] is None:
            continue
        united = best_lp[j] + _aspect_prior(logp[j], patches[j]) - JOIN_PENALTY
        gain[i] = max(0.0, united - scores[i] - scores[i + 1])
    if not gain.any():
        return glyphs, chosen
    # best non-overlapping pairs (i, i + 1): a chain's dynamic programme
    best = np.zeros(n + 1)
    take = np.zeros(n + 1, bool)
    for k in range(2, n + 1):
        best[k] = best[k - 1]
        if gain[k - 2] > 0 and best[k - 2] + gain[k - 2] > best[k]:
            best[k], take[k] = best[k - 2] + gain[k - 2], True
    joined, k = set(), n
    while k >= 2:
        if take[k]:
            joined.add(k - 2)
            k -= 2
        else:
            k -= 1
    by_first = {i: (ubox, j) for i, ubox, j in joins}
    new_glyphs, new_chosen, i = [], [], 0
    while i < n:
        if i in joined:
            ubox, j = by_first[i]
            new_glyphs.append(Glyph(ubox, "digit"))
            new_chosen.append([(ubox, j, "digit")])
            i += 2
        else:
            new_glyphs.append(glyphs[i])
            new_chosen.append(chosen[i])
            i += 1
    return new_glyphs, new_chosen


def segment_line(ink: np.ndarray, mask: np.ndarray, band: tuple[int, int], H: float,
                 model) -> list[Glyph]:
    """Glyphs of one line, left to right. ink/mask: the line's region; band: its rows (y0, y1)."""
    n, labels, stats, _ = _components(mask)
    x, y, w, h, area = (stats[:, k] for k in range(5))
    ov = np.minimum(y + h, band[1]) - np.maximum(y, band[0])
    keep = (area >= max(3, SPECK_AREA * H * H)) & (ov >= BAND_OVERLAP * h)
    keep[0] = False
    if keep.any() and ((w[keep] > LONG_STROKE * H).any() or (h[keep] > LONG_STROKE * H).any()):
        sel = keep.astype(np.uint8)[labels]
        mask = _strip_long_strokes(mask & sel, H)
        n, labels, stats, _ = _components(mask)
        x, y, w, h, area = (stats[:, k] for k in range(5))
        ov = np.minimum(y + h, band[1]) - np.maximum(y, band[0])
        keep = (area >= max(3, SPECK_AREA * H * H)) & (ov >= BAND_OVERLAP * h)
        keep[0] = False
    keep &= _in_sloped_band(x, y, w, h, keep, H)
    comps = [int(i) for i in np.flatnonzero(keep)]
    comps.sort(key=lambda i: x[i])
    # Merge broken strokes: groups of labels with their union box.
    groups: list[list] = []  # [labels, x0, y0, x1, y1]
    for i in comps:
        bx0, by0, bx1, by1 = x[i], y[i], x[i] + w[i], y[i] + h[i]
        merged = False
        for g in groups[-3:]:
            gx0, gy0, gx1, gy1 = g[1:]
            small = min(by1 - by0, gy1 - gy0) < MERGE_SMALL_H * H
            # centre of the smaller piece inside the bigger one's shrunk x-range
            if (by1 - by0) <= (gy1 - gy0):
                c, a0, a1 = (bx0 + bx1) / 2, gx0, gx1
            else:
                c, a0, a1 = (gx0 + gx1) / 2, bx0, bx1
            inset = MERGE_CENTRE_IN * (a1 - a0)
            ux0, uy0, ux1, uy1 = min(gx0, bx0), min(gy0, by0), max(gx1, bx1), max(gy1, by1)
            # or: a piece (not a dot or dash) lying partly over the other's columns
            pw = min(bx1 - bx0, gx1 - gx0)
            x_ov = min(bx1, gx1) - max(bx0, gx0)
            over = min(by1 - by0, gy1 - gy0) >= MERGE_MIN_H * H and x_ov >= MERGE_X_OVERLAP * pw
            cap = _is_cap((bx0, by0, bx1, by1), (gx0, gy0, gx1, gy1), H)
            if small and (a0 + inset <= c <= a1 - inset or over or cap) \
                    and uy1 - uy0 <= MERGE_MAX_H * H and ux1 - ux0 <= MERGE_MAX_W * H:
                g[0].append(i)
                g[1:] = [ux0, uy0, ux1, uy1]
                merged = True
                break
        if not merged:
            groups.append([[i], bx0, by0, bx1, by1])
    groups = _merge_halves(groups, labels, H)
    # Shapes, split hypotheses, and every patch to classify.
    glyphs: list[Glyph] = []
    patches: list[np.ndarray] = []
    # per glyph: [its pieces read whole: [(box, patch index or -1 for a separator, kind)],
    # then a wide digit glyph's split option (_split_option)]; none for a separator
    hyps: list[list] = []
    wide: list = []  # glyphs wide enough to be touching digits: (hyps index, mask, ink, ...)
    asked: dict = {}  # a SHAPE_ONLY_MARKS mark's box -> its patch's index
    ask = _character_share(model) > 0  # a digits-only model cannot say a mark is no digit
    masks = [np.isin(labels[gy0:gy1, gx0:gx1], labs).astype(np.uint8)
             for labs, gx0, gy0, gx1, gy1 in groups]
    kinds = [_shape_kind(gm, H) for gm in masks]
    leans = [_bracket_lean(gm, H) if k == "digit" else "" for gm, k in zip(masks, kinds)]
    if "(" in kinds or ")" in kinds or ("(" in leans and ")" in leans):
        kinds = _partner_brackets(kinds, leans)
    for (labs, gx0, gy0, gx1, gy1), gm, kind in zip(groups, masks, kinds):
        gi = ink[gy0:gy1, gx0:gx1]
        box = (int(gx0), int(gy0), int(gx1 - gx0), int(gy1 - gy0))
        glyphs.append(Glyph(box, kind))
        if kind in "()":
            # a bracket by shape; the classifier may still insist it is a digit (a thin 3)
            hyps.append([[(box, len(patches), kind)]])
            patches.append(normalize(gi, gm))
            continue
        if kind != "digit":
            if ask and kind in SHAPE_ONLY_MARKS:
                asked[box] = len(patches)
                patches.append(normalize(gi, gm))
            hyps.append([])
            continue
        gw = gx1 - gx0
        options = [[(box, len(patches), kind)]]
        patches.append(normalize(gi, gm))
        if gw > SPLIT_MIN_W * H:
            wide.append((len(hyps), gm, gi, gx0, gy0, gy1))
        hyps.append(options)
    joins = _join_candidates(groups, kinds, labels, ink, H, patches)
    if not patches:
        return [g for g in glyphs]
    logp, other = classify_with_other(np.stack(patches), model)
    # Split hypotheses only for wide glyphs that are not already sure as a whole (a digit and a
    # character): a second batch, for the few that need it (most glyphs are one confident digit).
    first = len(patches)
    char_lp = character_log_p(other, model)
    for k, gm, gi, gx0, gy0, gy1 in wide:
        (_, j, _), = hyps[k][0]
        box_w = gm.shape[1]
        if not _is_sure(logp[j] + char_lp[j], patches[j], box_w, H):
            opt = _split_option(gm, gi, gx0, gy0, gy1, H, patches)
            if opt is not None:
                hyps[k].append(opt)
    if len(patches) > first:
        more, more_other = classify_with_other(np.stack(patches[first:]), model, PIECE_VIEWS)
        logp, other = np.concatenate([logp, more]), np.concatenate([other, more_other])
        char_lp = np.concatenate([char_lp, character_log_p(more_other, model)])
    # An arc of the lattice (a glyph whole, a piece, a join) scores its best digit and its
    # being one character.
    digit_lp = logp.max(1)
    best_lp = digit_lp + char_lp
    # Each glyph's pieces: a digit glyph whole or split, a bracket or separator as it is.
    chosen: list[list] = []
    scores: list[float | None] = []  # a digit glyph read whole: its score, else None
    for g, options in zip(glyphs, hyps):
        if g.kind != "digit":
            chosen.append(options[0] if options else [(g.box, -1, g.kind)])
            scores.append(None)
            continue
        whole_j = options[0][0][1]
        whole_score = _whole_score(g.box[2], H, logp[whole_j], patches[whole_j], best_lp[whole_j])
        pieces, score = options[0], whole_score
        if len(options) > 1:  # (only glyphs not sure as a whole have a split option)
            split_score, split = _best_split(options[1], best_lp, logp, patches, H)
            if split_score > whole_score:
                pieces, score = split, None
        chosen.append(pieces)
        scores.append(score)
    glyphs, chosen = _apply_joins(joins, glyphs, chosen, scores, best_lp, logp, patches, H)
    # The pieces kept are read again in every view, as whole glyphs are: what is said of them
    # (the digit, its probability, the bracket veto) does not rest on one view.
    kept = sorted({j for pieces in chosen for _, j, _ in pieces if j >= first})
    if kept:
        logp[kept], other[kept] = classify_with_other(np.stack([patches[j] for j in kept]), model)
        digit_lp = logp.max(1)
    # Brackets pair up over the marks as cut: a ")" split off the digit it touches still
    # closes the "(" before it, and one that closes nothing is a digit (the 7 of a "27").
    paired = _paired_brackets([kind for pieces in chosen for _, _, kind in pieces])
    out: list[Glyph] = []
    end = 0  # pieces along the line so far (a glyph's pieces: start..end)
    for g, pieces in zip(glyphs, chosen):
        start, end = end, end + len(pieces)
        if g.kind != "digit" and g.kind not in "()":
            j = asked.get(g.box)
            out.append(g if j is None else replace(g, logp=logp[j], digit_p=1.0 - float(other[j])))
            continue
        for n_piece, (pb, j, kind) in enumerate(pieces, start):
            if kind in "()":
                k = int(logp[j].argmax())
                if n_piece not in paired or (k not in BRACKET_LOOKALIKES
                                             and digit_lp[j] >= np.log(BRACKET_VETO_P)):
                    out.append(Glyph(pb, "digit", logp[j], patches[j], float(other[j])))
                else:
                    out.append(Glyph(pb, kind))
                continue
            if j < 0:
                out.append(Glyph(pb, kind))
                continue
            if _not_a_digit(pb, logp[j], H):
                out.append(Glyph(pb, "-" if pb[2] > 1.5 * pb[3] else "."))
            else:
                out.append(Glyph(pb, "digit", logp[j], patches[j], float(other[j])))
    return _tall_pairs(out, H)


def _tall_pairs(glyphs: list[Glyph], H: float) -> list[Glyph]:
    """The glyphs with each pair of 1s that reads as brackets in context (TALL_PAIR_H) made "("
    and ")"."""
    def is_one(i):
        return glyphs[i].kind == "digit" and int(glyphs[i].logp.argmax()) == 1

    def apart(i, j):  # glyphs i < j: a separator or a group's gap lies between them
        return glyphs[i].kind != "digit" or glyphs[j].kind != "digit" or \
            glyphs[j].box[0] - (glyphs[i].box[0] + glyphs[i].box[2]) > GROUP_GAP * H

    n = len(glyphs)
    others = [g.box[3] for i, g in enumerate(glyphs) if g.kind == "digit" and not is_one(i)]
    if len(others) < 2:
        return glyphs
    tall = TALL_PAIR_H * float(np.median(others))
    out = list(glyphs)
    a = 0
    while a < n:
        if not (is_one(a) and (a == 0 or apart(a - 1, a))):
            a += 1
            continue
        for b in range(a + 2, min(n, a + PAREN_PAIR_MAX_INSIDE + 2)):
            if glyphs[b - 1].kind != "digit":
                break
            closes = b == n - 1 or apart(b, b + 1)
            if is_one(b) and (closes or glyphs[b].box[3] >= tall):
                if min(glyphs[a].box[3], glyphs[b].box[3]) >= tall:
                    out[a], out[b] = Glyph(glyphs[a].box, "("), Glyph(glyphs[b].box, ")")
                    a = b
            if closes:
                break
        a += 1
    return out
