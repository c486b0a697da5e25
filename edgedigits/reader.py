"""Read handwritten phone numbers from a photo: the pipeline's stages, end to end.

    load -> binarize (detection scale) -> lines -> for each chosen line: binarize the line's
    region at working scale -> segment -> normalize -> classify (batches) -> Reading

Lines are found on a copy no larger than DETECT_MAX_SIDE (cheap: a quarter of the pixels of a
1280x960 photo); the chosen line's region alone is then re-binarised at working resolution so
small writing keeps its detail. See docs/reader.md for the stages, thresholds and figures.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import cv2
import numpy as np

from .pipeline import binarize as _bin
from .pipeline.classify import classify_with_other, default_model
from .pipeline.lines import Line, find_lines, writing_angle
from .pipeline.paper import find_paper, on_paper
from .pipeline.load import ImageError, Loaded, load, percentiles_u8
from .pipeline.segment import GROUP_GAP, Glyph, character_log_p, segment_line
from .reading import (
    REASON_CUT_BOTTOM, REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_CUT_TOP, REASON_NO_DIGITS,
    REASON_NO_WRITING, REASON_TOO_BLURRY, REASON_TOO_BRIGHT, REASON_TOO_DARK, REASON_TOO_SMALL,
    REASON_TOO_FEW_DIGITS, REASON_TOO_MANY_DIGITS, REASON_WORD_LEFT_OUT, REASONS_CUT_OFF,
    REASON_MARK_MAY_BE_DIGIT, UNCERTAIN_BELOW, Reading,
)

__all__ = ["read_number", "read_numbers", "ImageError"]

# Lines are searched on a copy whose long side is at most this (px).
DETECT_MAX_SIDE = 640
# A line's region is its box grown by this many line heights on every side.
REGION_MARGIN = 0.35
# Rules inside a line's region: visible pieces from this x H long, hidden up to this x H.
REGION_RULE_SEGMENT = 0.15
REGION_RULE_GAP = 1.5
# Writing whose line height is below this (working px, or the input's px where the input was
# enlarged) is too small to read reliably.
MIN_DIGIT_PX = 12
# x H: in a line's region the paper is also estimated at full size by a closing this much wider
# than a stroke may be, so the note's edge against a darker table is no band of ink (a "1").
EDGE_STROKE_MAX = 0.3
# Lines less prominent than this fraction of the best one are not read (read_numbers), nor
# read instead of it when it holds no digits (read_number).
MIN_LINE_SCORE = 0.08
# Quality: the 99th brightness percentile below this is "too dark"; the 1st above, "too bright".
TOO_DARK_P99 = 40
TOO_BRIGHT_P1 = 250
# When nothing is found: "too blurry" if some ink contrast (0..255) reaches BLURRY_MIN_INK but
# the variance of the Laplacian of the detection image stays below BLURRY_LAPLACIAN_VAR.
BLURRY_MIN_INK = 12
BLURRY_LAPLACIAN_VAR = 4.0
# An image whose ink mask has at least NOISE_MIN_COMPONENTS components, NOISE_SPECK_SHARE of
# them (in the plain threshold mask) under NOISE_SPECK_AREA px (of the input where it was
# enlarged), is noise (sensor noise, a textured surface), not writing: generated photos have
# at most ~50 components; uniform noise has thousands, 75%+ specks.
NOISE_MIN_COMPONENTS = 150
NOISE_SPECK_AREA = 20
NOISE_SPECK_SHARE = 0.6
# A line touching the image border (within this many detection px) may be cut off: it is when
# its ink (contrast, summed) on the border's outermost pixels is at least TRUNC_RATIO of its ink
# TRUNC_DEPTH px further in (working px; the input's where it was enlarged): a stroke running
# on, not a rounded end fading to a point.
# On 300 validation photos cropped to the number's digits: 8 whole numbers said to be cut off
# (297 with "touches the border" alone), and as many cut numbers caught (295 of 300 with the
# last digit halved, 291 with a quarter of it left, 296 with the first halved).
EDGE_MARGIN = 2
TRUNC_DEPTH = 2
TRUNC_RATIO = 0.7
# Texture or noise (a patterned surface, a defocused page) is not a number: such a line is
# reported as REASON_NO_DIGITS rather than read out as a string of guesses when it has more than
# MAX_DIGITS digits, or from PLAUSIBLE_MIN_DIGITS digits on, when its digits' mean confidence is
# below MIN_MEAN_CONFIDENCE (blurred noise: 0.21-0.44; real numbers by other writers, scikit-
# learn's load_digits: 0.70 and up), or when it is longer than any phone number (E.164: 15
# digits) and more than MAX_UNCERTAIN_SHARE of it is uncertain (fine noise reads as long
# strings of fairly sure 1s). Uncertain digits alone do not make a line implausible: a real
# number written carelessly may have half its digits below UNCERTAIN_BELOW.
MAX_DIGITS = 24
MIN_MEAN_CONFIDENCE = 0.6
LONG_LINE = 15
MAX_UNCERTAIN_SHARE = 0.5
PLAUSIBLE_MIN_DIGITS = 4
# ... or when a 1 makes up REPEAT_SHARE of its digits, from REPEAT_MIN_DIGITS on: stripes, grain
# and weave are rows of strokes, read as 1s (of 614 such lines of 5 digits or more on 1,400
# validation photos of both renderers, 608 were 1s, 5 were 3s, 1 a real number of 5s). Runs of
# another digit are written ("80 000", "10.000", "0800 0000"): they are read. A "1111" is
# texture too (13 such readings on those photos, none right; without them one number more is
# read exactly and none less). docs/reader.md.
REPEAT_SHARE = 0.8
REPEAT_DIGITS = "1"
REPEAT_MIN_DIGITS = 4
# read_number reads up to CANDIDATE_LINES of the most prominent lines (those at least
# MIN_CANDIDATE_SCORE as prominent as the first) and keeps the one the classifier reads best.
# A wood grain or a cloth makes lines of its own: 8 rather than 6 reads 2 more of the second
# renderer's 300 validation photos, 12 no more, at a growing 90th percentile time (docs/reader.md).
CANDIDATE_LINES = 8
MIN_CANDIDATE_SCORE = 0.02
# The fewest digits of a phone number (a local number without its area code).
PHONE_MIN_DIGITS = 7
# The narrowest a written digit takes along the line, with its gap, in line heights (touching,
# narrow writing; MNIST digits with the synthetic photos' gaps take 0.8 and more).
MIN_DIGIT_PITCH = 0.5
# A page is read sideways too when a line of the quarter-turned page holds more digit-shaped
# marks (width/height and height relative to the line within these) than any upright line:
# on validation photos the upright/sideways axis was right for 549 of 549 of the first
# renderer's photos (turned or not) and 267 of 289 of the second's (textured tables).
DIGIT_SHAPED_ASPECT = (0.25, 1.5)
DIGIT_SHAPED_H = (0.6, 1.6)
# The page is not read other ways round when its first reading is whole with at most this
# share of its digits unsure. Read upside down, 99% of the first renderer's validation photos
# had more unsure (and 95% of the second's); read upright, 84% / 43% had no more.
UPRIGHT_UNSURE_SHARE = 0.1
# A note lying at an angle: when the marks line up (pipeline/lines.writing_angle) more than
# ROTATE_MIN_OFF degrees off every quarter turn, the page is also read rotated to lay that
# direction level (and upside down, unless that reads whole and sure), and the classifier
# decides as between turns. 8 degrees is set by hand, below the tilt at which a line's marks
# stop overlapping enough to be linked (lines.py). Second renderer's validation photos: notes
# at any angle 28.0% -> 34.7% exact, upright notes 33.3% -> 37.0%; docs/reader.md.
ROTATE_MIN_OFF = 8.0
# A page whose best line reads whole is not read upside down (nor a page laid level its other
# way up) when that line's digits read surer as they are than turned half round, by TURN_MARGIN
# (summed log-probabilities of the best digit and of being one character; 6, 9, 0, 1 and 8 read
# about as well either way and count little, an upside-down 4 or 7 is no character). Validation
# photos turned upside down, their best line read whole: first renderer -1.6 at the lowest (194
# pages), second renderer 1 of 116 below -2 (a note's 4-digit line, -2.5 without the character
# term too); of the upright pages 165 of 200 and 89 of 129 pass it (145 and 71 without the term).
TURN_MARGIN = 2.0
# A word before the number on its line ("Tel", "Anna", read as "744 06 1234 5678") is left
# out, with a reason, by the evidence of the classifier and of the space after it. Each digit's
# evidence of being a letter is a logistic model of the probability the character classes give
# it of being no digit (Reading.not_digit) and of its doubt: WORD_OTHER_WEIGHT x logit(not_digit)
# + WORD_DOUBT_WEIGHT x logit(1 - confidence) + WORD_BIAS, fitted on the 1,358 digits read
# from 300 photos of the second renderer with a word before every number (training font
# families, seed 51), a word's digits against the number's. The first k digits are left out
# for the k that maximises their summed evidence plus WORD_GAP_WEIGHT x (the gap after them
# less the median gap between the digits after it, less WORD_GAP_MIN; in line heights), when
# that is positive, that gap is wider than the median by at least WORD_GAP_MIN, and a whole
# phone number (PHONE_MIN_DIGITS) is left. The gap terms were chosen on the same photos, on
# 400 + 200 of the first renderer's validation photos and on 600 numbers of load_digits digits
# (no words: nothing may be left out there; other writers' digits are as unsure as letters,
# and only the space after a word tells them apart). Figures: docs/reader.md.
WORD_OTHER_WEIGHT = 0.29
WORD_DOUBT_WEIGHT = 0.53
WORD_BIAS = 1.47
WORD_GAP_WEIGHT = 4.0
WORD_GAP_MIN = 0.3
# What the reader's own choices (texture, the line, the turn) count as an
# unsure digit: one read below READ_UNSURE_P. Their constants were chosen with it; the doubt the
# user is told of (UNCERTAIN_BELOW, reading.py) moves by its own rule (tools/bench_risk.py)
# without changing what is read.
READ_UNSURE_P = 0.95
# Alternatives for uncertain digits: at most this many, each at least this probable.
MAX_ALTERNATIVES = 2
MIN_ALTERNATIVE_P = 0.02
# A "/" or "+" between two digits, cut as a separator by its shape, that the classifier reads as
# more likely a digit than not (segment.Glyph.digit_p) makes the reading say a digit may be
# missing (REASON_MARK_MAY_BE_DIGIT). The even odds are the rule, not a value fitted to photos;
# docs/reader.md gives its cost and gain at 0.3, 0.5 and 0.7 on both renderers.
MARK_DIGIT_P = 0.5


@dataclass
class _Page:
    loaded: object
    det: np.ndarray
    det_scale: float             # working px per detection px
    binarized: _bin.Binarized
    lines: list[Line]
    turns: int = 0               # quarter turns (counter-clockwise) from the input image
    stats: np.ndarray | None = None  # the components lines were found in
    paper: np.ndarray | None = None  # detection-size 0/1 mask: only the note's ink is read
    # a page rotated to lay its writing level: (2x3 affine from its working pixels to the
    # input's working pixels, the input's (H, W))
    back: tuple[np.ndarray, tuple[int, int]] | None = None


def _turned(loaded: Loaded, turns: int) -> Loaded:
    """The working image turned by `turns` quarter turns counter-clockwise."""
    if turns % 4 == 0:
        return loaded
    h, w = loaded.input_shape
    return Loaded(np.ascontiguousarray(np.rot90(loaded.gray, turns)), loaded.scale,
                  (h, w) if turns % 2 == 0 else (w, h))


def _rotated(loaded: Loaded, angle: float) -> tuple[Loaded, np.ndarray]:
    """The working image rotated by `angle` degrees (counter-clockwise on screen) onto a canvas
    that holds all of it (the border's pixels carried outwards), and the 2x3 affine from the
    rotated image's pixels back to the original's."""
    h, w = loaded.gray.shape
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    gray = cv2.warpAffine(loaded.gray, m, (nw, nh), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    s = loaded.scale
    return (Loaded(gray, s, (int(round(nh * s)), int(round(nw * s)))),
            cv2.invertAffineTransform(m))


def _box_back(box: tuple[int, int, int, int], turns: int, shape: tuple[int, int]
              ) -> tuple[int, int, int, int]:
    """A box (x, y, w, h) in the image turned by `turns` mapped back to the input (H, W)."""
    x, y, w, h = box
    H, W = shape
    turns %= 4
    if turns == 1:
        return W - y - h, x, h, w
    if turns == 2:
        return W - x - w, H - y - h, w, h
    if turns == 3:
        return y, H - x - w, h, w
    return box


def _analyse(image, turns: int = 0, paper_only: bool = False
             ) -> tuple[_Page | None, str | None]:
    """The page's ink, components and lines (the photo turned `turns` quarter turns); with
    paper_only, only the ink on the note (pipeline/paper.py), None when no note stands out."""
    loaded = _turned(image if isinstance(image, Loaded) else load(image), turns)
    gray = loaded.gray
    long_side = max(gray.shape)
    f = max(1.0, long_side / DETECT_MAX_SIDE)
    det = gray if f == 1.0 else cv2.resize(
        gray, (max(1, round(gray.shape[1] / f)), max(1, round(gray.shape[0] / f))),
        interpolation=cv2.INTER_AREA)
    det_scale = gray.shape[1] / det.shape[1]
    lo, hi = percentiles_u8(det[::2, ::2], (1, 99))
    if hi < TOO_DARK_P99:
        return None, REASON_TOO_DARK
    if lo > TOO_BRIGHT_P1:
        return None, REASON_TOO_BRIGHT
    if min(det.shape) < 8:
        return None, REASON_NO_WRITING
    b = _bin.binarize(det)
    paper = None
    if paper_only:
        paper = find_paper(det)
        if paper is None:
            return None, None
        b = replace(b, mask=on_paper(b.mask, paper))
    _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        b.mask, 8, cv2.CV_32S, cv2.CCL_GRANA)
    # Noise, not writing: hundreds of components, most of them a few pixels. The share of
    # specks is judged on the plain threshold mask: erasing "rules" found in noise (or not)
    # would move it.
    if stats.shape[0] - 1 >= NOISE_MIN_COMPONENTS:
        plain = (b.ink >= b.threshold).astype(np.uint8)
        if paper is not None:
            plain &= paper
        _, _, raw, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            plain, 8, cv2.CV_32S, cv2.CCL_GRANA)
        speck = NOISE_SPECK_AREA * _enlarged(loaded) ** 2  # the input's pixels
        if np.mean(raw[1:, cv2.CC_STAT_AREA] < speck) >= NOISE_SPECK_SHARE:
            return None, REASON_NO_WRITING
    lines = find_lines(stats, det.shape)
    page = _Page(loaded, det, det_scale, b, lines, turns % 4, stats, paper)
    if not lines:
        # Nothing marked: a blank page, or writing so defocused it never crossed the threshold
        # (some ink contrast is there, but no sharp edge anywhere).
        faint = np.percentile(b.ink, 99.9) >= BLURRY_MIN_INK
        lap = cv2.Laplacian(det, cv2.CV_32F).var()
        blurry = faint and lap < BLURRY_LAPLACIAN_VAR
        return page, REASON_TOO_BLURRY if blurry else REASON_NO_WRITING
    return page, None


def _edge_reason(line: Line, page: _Page, cut: "_Cut") -> str | None:
    """The border the line's writing is cut off at, if any: the line reaches the border and a
    stroke is truncated there (ink on the image's outermost pixels, as much of it as TRUNC_DEPTH
    px further in: a stroke that runs on; a whole digit's rounded end merely touching the
    border, in a tight crop, narrows to a point there). Any stroke of the line counts: a sliver
    left of a digit cut off reads as no digit at all, and would be a silent loss."""
    x, y, w, h = line.box
    det_h, det_w = page.det.shape
    img_h, img_w = page.loaded.gray.shape
    mask = np.where(cut.mask > 0, cut.ink, 0).astype(np.float64)
    bx0, by0, bx1, by1 = (int(round(v * page.det_scale)) for v in (x, y, x + w, y + h))
    rows = mask[max(0, by0 - cut.y0):max(0, by1 - cut.y0)]     # the line's band
    cols = mask[:, max(0, bx0 - cut.x0):max(0, bx1 - cut.x0)]  # the line's extent
    sides = (  # (reaches the border, reason, the strips from the border inwards)
        (x <= EDGE_MARGIN and cut.x0 == 0, REASON_CUT_LEFT, rows.T),
        (x + w >= det_w - EDGE_MARGIN and cut.x0 + mask.shape[1] == img_w, REASON_CUT_RIGHT,
         rows.T[::-1]),
        (y <= EDGE_MARGIN and cut.y0 == 0, REASON_CUT_TOP, cols),
        (y + h >= det_h - EDGE_MARGIN and cut.y0 + mask.shape[0] == img_h, REASON_CUT_BOTTOM,
         cols[::-1]),
    )
    d = int(round(TRUNC_DEPTH * _enlarged(page.loaded)))  # the input's pixels
    for near, reason, strips in sides:
        if near and strips.shape[0] > d and strips.shape[1]:
            at = float(strips[0].sum())
            if at > 0 and at >= TRUNC_RATIO * float(strips[d].sum()):
                return reason
    return None


class _Cut(NamedTuple):
    """A line's glyphs, the region's origin (working px), the line height, the region's mask."""
    glyphs: list
    x0: int
    y0: int
    height: float
    mask: np.ndarray
    ink: np.ndarray


def _line_glyphs(page: _Page, line: Line, model) -> _Cut:
    """The glyphs of one line, with the region's origin (working px), the line height and the
    region's ink mask."""
    gray = page.loaded.gray
    s = page.det_scale
    H = line.height * s
    x, y, w, h = (v * s for v in line.box)
    m = REGION_MARGIN * H
    rx0, ry0 = int(max(0, x - m)), int(max(0, y - m))
    rx1, ry1 = int(min(gray.shape[1], x + w + m)), int(min(gray.shape[0], y + h + m))
    stroke_max = int(round(EDGE_STROKE_MAX * H))
    c = 2 * stroke_max + 1
    ox0, oy0 = max(0, rx0 - c), max(0, ry0 - c)
    outer = gray[oy0:min(gray.shape[0], ry1 + c), ox0:min(gray.shape[1], rx1 + c)]
    if page.binarized.inverted:
        outer = cv2.bitwise_not(outer)
    ink, _ = _bin.ink_contrast(outer, stroke_max)
    ink = ink[ry0 - oy0:ry1 - oy0, rx0 - ox0:rx1 - ox0]
    # Rules found on the whole page, where they are long, carried into the region.
    rules = page.binarized.rules.astype(np.float64) * s - np.array([rx0, ry0, rx0, ry0])
    # Within a line of writing a rule shows only in short pieces between the digits. Tilted
    # rules were searched on the whole page (the region is too short to tell their tilt).
    mask, _ = _bin.hysteresis(ink, _bin.threshold(ink), np.round(rules),
                              int(round((_bin.RULE_MAX_THICK - 1) * s)),
                              rule_segment=max(6, int(REGION_RULE_SEGMENT * H)),
                              rule_gap=int(REGION_RULE_GAP * H), rule_tilted=False)
    if page.paper is not None:
        paper = cv2.resize(page.paper, (gray.shape[1], gray.shape[0]),
                           interpolation=cv2.INTER_NEAREST)
        mask = on_paper(mask, paper[ry0:ry1, rx0:rx1])
    band = (int(y - ry0), int(y + h - ry0))
    return _Cut(segment_line(ink, mask, band, H, model), rx0, ry0, H, mask, ink)


def _enlarged(loaded: Loaded) -> float:
    """How many times the working image enlarged the input (1 for an input shrunk or kept)."""
    return 1.0 / min(1.0, loaded.scale)


def _too_small(page: _Page, line: Line) -> bool:
    """Is the line's writing below MIN_DIGIT_PX (in the input's pixels if it was enlarged)?"""
    return line.height * page.det_scale < MIN_DIGIT_PX * _enlarged(page.loaded)


def _read_line(page: _Page, line: Line, model, patches: list | None = None) -> Reading:
    """The line's reading; `patches`, when a list, gets its digits' 28x28 patches."""
    if _too_small(page, line):
        return Reading.empty(REASON_TOO_SMALL)
    cut = _line_glyphs(page, line, model)
    reading = _build(cut.glyphs, cut.height, cut.x0, cut.y0, page.loaded.scale)
    if patches is not None and reading.digits:
        patches.extend(g.patch for g in cut.glyphs if g.kind == "digit")
    edge = _edge_reason(line, page, cut) if reading.digits else None
    if edge and reading.digits:
        return replace(reading, reason=edge)
    return reading


def digit_glyphs(image, *, model=None) -> list[tuple[tuple[int, int, int, int], np.ndarray]]:
    """For tools: the digit glyphs of the line read_number reads on the page as given (not
    turned), as the reader cuts them: (box x, y, w, h in the input image, 28x28 uint8 patch)
    pairs, left to right."""
    page, _ = _analyse(image)
    if page is None or not page.lines:
        return []
    model = model if model is not None else default_model()
    _, chosen, _ = _best_line(page, model)
    if chosen is None or not chosen.boxes:
        return []
    sc = page.loaded.scale
    for line in page.lines[:CANDIDATE_LINES]:
        if _too_small(page, line):
            continue
        glyphs, rx0, ry0 = _line_glyphs(page, line, model)[:3]
        out = [((int(round((g.box[0] + rx0) * sc)), int(round((g.box[1] + ry0) * sc)),
                 max(1, int(round(g.box[2] * sc))), max(1, int(round(g.box[3] * sc)))), g.patch)
               for g in glyphs if g.kind == "digit"]
        if tuple(b for b, _ in out) == chosen.boxes:
            return out
    return []


def _build(glyphs: list[Glyph], H: float, ox: int, oy: int, scale: float) -> Reading:
    digits, confs, boxes, groups, other, seps = [], [], [], [], [], []
    alts: dict[int, tuple[tuple[str, float], ...]] = {}
    current = ""
    between = ""  # separator marks since the last digit
    prev_end = None
    plus = False
    doubtful, pending = [], None  # pending: the digit a doubtful mark since the last digit reads as
    for g in glyphs:
        if g.kind == "+" and not digits:
            plus = True
        if g.kind != "digit":
            if digits and g.digit_p is not None and g.digit_p >= MARK_DIGIT_P:
                pending = str(int(g.logp.argmax()))
            if current:
                groups.append(current)
                current = ""
            between += g.kind
            prev_end = None
            continue
        gx, gy, gw, gh = g.box
        if prev_end is not None and gx - prev_end > GROUP_GAP * H and current:
            groups.append(current)
            current = ""
        if not current:
            seps.append(between)
        if pending is not None:
            doubtful.append((len(digits), pending))
            pending = None
        between = ""
        prev_end = gx + gw
        p = np.exp(g.logp)
        order = np.argsort(-p)
        d = str(int(order[0]))
        pos = len(digits)
        digits.append(d)
        current += d
        confs.append(float(p[order[0]]))
        other.append(g.other)
        if p[order[0]] < UNCERTAIN_BELOW:
            alts[pos] = tuple((str(int(k)), float(p[k])) for k in order[1:1 + MAX_ALTERNATIVES]
                              if p[k] >= MIN_ALTERNATIVE_P)
        boxes.append((int(round((gx + ox) * scale)), int(round((gy + oy) * scale)),
                      max(1, int(round(gw * scale))), max(1, int(round(gh * scale)))))
    if current:
        groups.append(current)
    if not digits:
        return Reading.empty(REASON_NO_DIGITS)
    uncertain = tuple(i for i, c in enumerate(confs) if c < UNCERTAIN_BELOW)
    unsure = sum(c < READ_UNSURE_P for c in confs)
    guesses = len(digits) >= PLAUSIBLE_MIN_DIGITS and (
        float(np.mean(confs)) < MIN_MEAN_CONFIDENCE
        or (len(digits) > LONG_LINE and unsure > MAX_UNCERTAIN_SHARE * len(digits)))
    # The grain of a table or a cloth's weave reads as a long run of sure 1s (REPEAT_DIGITS).
    repeated = len(digits) >= REPEAT_MIN_DIGITS and \
        max(digits.count(d) for d in REPEAT_DIGITS) >= REPEAT_SHARE * len(digits)
    if len(digits) > MAX_DIGITS or guesses or repeated:
        return Reading.empty(REASON_NO_DIGITS)
    return Reading("".join(digits), tuple(groups), tuple(confs), uncertain, alts, tuple(boxes),
                   None, tuple(other), plus, tuple(seps) + (between,), tuple(doubtful))


def read_numbers(image, *, model=None) -> list[Reading]:
    """Every line of digits in `image`, top to bottom (an empty list if there is none).

    image: a file path, encoded image bytes, or a NumPy image (gray, BGR or BGRA; uint8 or
    uint16). Raises ImageError (a ValueError) or TypeError for input that is not an image.
    The page is read the way round its most prominent number reads best (see read_number).
    """
    model = model if model is not None else default_model()
    page, _, _ = _choose(image, model)
    if page is None:
        return []
    best = page.lines[0].score
    chosen = [ln for ln in page.lines if ln.score >= MIN_LINE_SCORE * best]
    chosen.sort(key=lambda ln: ln.box[1])
    readings = [_read_line(page, ln, model) for ln in chosen]
    return [_checked(_turned_back(_word_left_out(r), page)) for r in readings if r.digits]


def read_number(image, *, model=None) -> Reading:
    """The phone number in `image`: the line the classifier reads best (see read_numbers for
    `image`), the page turned any way round.

    Returns an empty Reading with a reason when nothing could be read; a partial one with a
    reason when the number seems cut off at an edge of the photo.
    """
    model = model if model is not None else default_model()
    page, reading, reason = _choose(image, model)
    if page is None or reading is None:
        return Reading.empty(reason or REASON_NO_WRITING)
    return _checked(_turned_back(_word_left_out(reading), page))


def _whole(reading: Reading | None) -> bool:
    """A reading of a plausible number: digits, no reason, PLAUSIBLE_MIN_DIGITS to LONG_LINE."""
    return reading is not None and reading.reason is None and \
        PLAUSIBLE_MIN_DIGITS <= len(reading.digits) <= LONG_LINE


def _choose(image, model) -> tuple[_Page | None, Reading | None, str | None]:
    """The page (turned the way it reads best) and its best line's reading; or the reason
    nothing could be read. When the whole photo does not read as a plausible number (nor as
    noise-free writing), the note alone is read (pipeline/paper.py: a striped cloth or wood
    grain around it made lines, or specks, of their own); its reading replaces the first only
    if it is whole."""
    loaded = image if isinstance(image, Loaded) else load(image)
    page, reason = _analyse(loaded)
    reading = None
    if page is not None and page.lines:
        page, reading = _upright(page, model)
        if _whole(reading):
            return page, reading, None
    elif reason not in (None, REASON_NO_WRITING):
        return None, None, reason  # too dark, too bright, too blurry: not the table's fault
    on_paper, _ = _analyse(loaded, 0, paper_only=True)
    if on_paper is not None and on_paper.lines:
        on_paper, r = _upright(on_paper, model)
        if _whole(r):
            return on_paper, r, None
    if page is None or not page.lines:
        return None, None, reason
    return page, reading, None


def _word_left_out(reading: Reading) -> Reading:
    """A reading without the digits before the number that read as a word (see WORD_BIAS),
    said with a reason: a real first digit read that badly is left out too. It rests on the
    character classes' evidence (Reading.not_digit): with a digits-only model (not_digit all 0)
    a word is left out only before a very wide gap. Judged in the reading's own direction
    (before _turned_back)."""
    n = len(reading.digits)
    if reading.reason is not None or len(reading.not_digit) != n or n <= PHONE_MIN_DIGITS \
            or reading.plus:  # after a "+" come a country code's digits, not a word
        return reading
    other = np.clip(np.asarray(reading.not_digit, np.float64), 1e-4, 1 - 1e-4)
    doubt = np.clip(1.0 - np.asarray(reading.confidences, np.float64), 1e-4, 1 - 1e-4)
    evidence = np.cumsum(WORD_OTHER_WEIGHT * np.log(other / (1 - other))
                         + WORD_DOUBT_WEIGHT * np.log(doubt / (1 - doubt)) + WORD_BIAS)
    boxes = np.asarray(reading.boxes, np.float64)
    height = float(np.median(boxes[:, 3]))
    gaps = (boxes[1:, 0] - boxes[:-1, 0] - boxes[:-1, 2]) / height  # gaps[k - 1]: after digit k - 1
    k = np.arange(1, n - PHONE_MIN_DIGITS + 1)
    wider = np.array([gaps[i - 1] - np.median(gaps[i:]) for i in k])  # than the number's own
    score = np.where(wider >= WORD_GAP_MIN,
                     evidence[k - 1] + WORD_GAP_WEIGHT * (wider - WORD_GAP_MIN), -np.inf)
    # Digits in brackets are an area code, not a word: "(06) ..." is not left out.
    ends = np.cumsum([len(g) for g in reading.groups])
    for g_end, before, after in zip(ends, reading.separators, reading.separators[1:]):
        if "(" in before and after.startswith(")") and g_end <= k[-1]:
            score[g_end - 1] = -np.inf
    if score.max() <= 0:
        return reading
    drop = int(k[int(score.argmax())])
    groups, left = [], drop
    for g in reading.groups:
        groups.append(g[left:])
        left = max(0, left - len(g))
    kept = tuple(g for g in groups if g)
    seps = reading.separators[-(len(kept) + 1):] if reading.separators else ()
    return Reading(reading.digits[drop:], kept, reading.confidences[drop:],
                   tuple(i - drop for i in reading.uncertain if i >= drop),
                   {i - drop: a for i, a in reading.alternatives.items() if i >= drop},
                   reading.boxes[drop:], REASON_WORD_LEFT_OUT, reading.not_digit[drop:],
                   separators=seps,
                   doubtful_marks=tuple((i - drop, d) for i, d in reading.doubtful_marks if i > drop))


def _unsure(reading: Reading) -> list[int]:
    """Positions of the digits the reader's own choices count as unsure (READ_UNSURE_P)."""
    return [i for i, c in enumerate(reading.confidences) if c < READ_UNSURE_P]


def _checked(reading: Reading) -> Reading:
    """A reading with digits and no reason says what is wrong with it: fewer than
    PHONE_MIN_DIGITS or more than LONG_LINE digits (part of a number, or more than one thing),
    else a mark between them that may be a digit (MARK_DIGIT_P)."""
    n = len(reading.digits)
    if not n or reading.reason is not None:
        return reading
    if not PHONE_MIN_DIGITS <= n <= LONG_LINE:
        return replace(reading, reason=REASON_TOO_FEW_DIGITS if n < PHONE_MIN_DIGITS
                       else REASON_TOO_MANY_DIGITS)
    return replace(reading, reason=REASON_MARK_MAY_BE_DIGIT) if reading.doubtful_marks else reading


def _upright(page: _Page, model) -> tuple[_Page, Reading]:
    """The page turned the way its best line reads best, and that line's reading."""
    # Any way round. The upright page is read first; unless it reads as a whole, sure phone
    # number, or as a whole one whose digits turned half round read worse (TURN_MARGIN), the
    # page is read upside down too, and sideways both ways when its marks line up better
    # across (more digit-shaped marks in one line). The classifier decides: the turn whose best
    # line has the most sure digits net of its unsure ones wins; a tie keeps the first (upright
    # before upside down).
    turns = [0, 2]
    st = page.stats.copy()
    st[:, [0, 1, 2, 3]] = page.stats[:, [1, 0, 3, 2]]
    if _digit_shaped(find_lines(st, page.det.shape[::-1]), st) > \
            _digit_shaped(page.lines, page.stats):
        turns = [1, 3, 0, 2]
    best, upright = None, set()
    for t in turns:
        if (t + 2) % 4 in upright:
            continue  # the page read the other way up reads the right way up
        p = page if t == 0 else _analyse(page.loaded, t, page.paper is not None)[0]
        best, done, right = _better(best, p, model)
        if done:
            break
        if right:
            upright.add(t)
    # A note lying at an angle: also read with its writing laid level, either way up (a tilted
    # line may read whole and sure without its first digit).
    angle = writing_angle(page.stats, page.det.shape)
    if angle is not None and abs((angle + 45.0) % 90.0 - 45.0) > ROTATE_MIN_OFF:
        level, back = _rotated(page.loaded, angle if angle < 90.0 else angle - 180.0)
        for t in (0, 2):
            p = _analyse(level, t, page.paper is not None)[0]
            if p is not None:
                p.back = (back, page.loaded.gray.shape)
            best, done, right = _better(best, p, model)
            if done or right:
                break
    return best[2], best[1]


def _better(best, page: _Page | None, model) -> tuple[tuple | None, bool, bool]:
    """(net, reading, page, whole) of the better of `best` and the page's best line; whether
    that reading is a whole, (nearly) sure phone number, after which no other way round is
    read; and whether it is whole and reads the right way up (_right_way_up), after which the
    page upside down is not read."""
    if page is None or not page.lines:
        return best, False, False
    key, r, patches = _best_line(page, model)
    whole = key is not None and key[1]
    net = len(r.digits) - 2 * len(_unsure(r)) if key is not None else -1
    # another way round replaces the first only with a whole reading (4 to 15 digits, no
    # reason): a lone 6 read as a surer 9 upside down is no evidence the page is turned; on
    # equal evidence, a whole reading replaces one that is not (a table's stripes read
    # sideways, first, as a sure "111"; the note upright as 9 digits, 3 of them unsure)
    if best is None or (whole and (net > best[0] or (net == best[0] and not best[3]))):
        best = (net, r, page, whole)
    done = whole and (key[0] or len(_unsure(r)) <= UPRIGHT_UNSURE_SHARE * len(r.digits))
    return best, done, whole and not done and _right_way_up(r, patches, model)


def _right_way_up(reading: Reading, patches: list, model) -> bool:
    """Do the reading's digits read surer as they are than turned half round, by at least
    TURN_MARGIN (summed log-probabilities of the best digit and of being one character,
    segment.character_log_p: an upside-down 4 or 7 is no character)? Then the page upside
    down need not be read."""
    if len(patches) != len(reading.digits):
        return False
    turned, other = classify_with_other(np.stack([p[::-1, ::-1] for p in patches]), model)
    read_other = np.asarray(reading.not_digit if len(reading.not_digit) == len(patches)
                            else np.zeros(len(patches)), np.float64)
    as_turned = np.sum(turned.max(1) + character_log_p(other, model))
    as_read = np.sum(np.log(reading.confidences) + character_log_p(read_other, model))
    return float(as_turned - as_read) < -TURN_MARGIN


def _digit_shaped(lines: list[Line], stats: np.ndarray) -> int:
    """The most digit-shaped marks in one line: height within DIGIT_SHAPED_H of the line's,
    width/height within DIGIT_SHAPED_ASPECT (a texture's streaks and a turned line's 1s are not)."""
    most = 0
    for ln in lines:
        m = np.asarray(ln.members)
        w, h = stats[m, 2], stats[m, 3]
        ok = (w >= DIGIT_SHAPED_ASPECT[0] * h) & (w <= DIGIT_SHAPED_ASPECT[1] * h) & \
            (h >= DIGIT_SHAPED_H[0] * ln.height) & (h <= DIGIT_SHAPED_H[1] * ln.height)
        most = max(most, int(ok.sum()))
    return most


def _turned_back(reading: Reading, page: _Page) -> Reading:
    """A reading of a turned (or rotated) page with its boxes in the input image's coordinates."""
    if (page.turns == 0 and page.back is None) or not reading.boxes:
        return reading
    boxes = reading.boxes
    if page.turns:
        shape = page.loaded.input_shape if page.turns % 2 == 0 else page.loaded.input_shape[::-1]
        boxes = tuple(_box_back(b, page.turns, shape) for b in boxes)
    if page.back is not None:
        m, (h, w) = page.back
        s = page.loaded.scale
        out = []
        for x, y, bw, bh in boxes:  # the box round the rotated box's corners, in the input
            corners = np.array([[x, y], [x + bw, y], [x, y + bh], [x + bw, y + bh]], np.float64) / s
            xy = (corners @ m[:, :2].T + m[:, 2]) * s
            x0, y0 = np.clip(xy.min(0), 0, (w * s, h * s))
            x1, y1 = np.clip(xy.max(0), 0, (w * s, h * s))
            out.append((int(round(x0)), int(round(y0)), max(1, int(round(x1 - x0))),
                        max(1, int(round(y1 - y0)))))
        boxes = tuple(out)
    return replace(reading, boxes=boxes)


def _best_line(page: _Page, model) -> tuple[tuple | None, Reading, list]:
    """The line the classifier reads best, with its sort key (whole and sure first) and its
    digits' patches."""
    # The classifier chooses among the most prominent lines: the one with the most evidence of
    # digits (the sum of its digits' probabilities) is the number. The prominence bar is set by
    # the most prominent line clear of the image's border: a striped cloth or wood grain round
    # the note makes one line of the whole frame, prominent enough to put the note's number
    # below any bar it set.
    h, w = page.det.shape[:2]
    top = page.lines[:CANDIDATE_LINES]
    edges = [(ln.box[0] <= 0, ln.box[1] <= 0, ln.box[0] + ln.box[2] >= w,
              ln.box[1] + ln.box[3] >= h) for ln in top]
    best = max((ln.score for ln, e in zip(top, edges) if not any(e)), default=top[0].score)
    kept = [(ln, all(e)) for ln, e in zip(top, edges) if ln.score >= MIN_CANDIDATE_SCORE * best]
    lines = [ln for ln, _ in kept]
    # A line too tall for PHONE_MIN_DIGITS digits to fit across the image (a blotch of the
    # table, a shadow's edge, a close-up of a few digits), or spanning the whole frame (that
    # texture), is read last, and only when no other line reads whole: reading its large
    # region is slow, and it cannot hold a whole number.
    fits = page.det.shape[1] / (PHONE_MIN_DIGITS * MIN_DIGIT_PITCH)
    last = [ln.height > fits or frame_wide for ln, frame_wide in kept]
    order = sorted(range(len(lines)), key=lambda k: last[k])
    candidates, first = [], None
    for rank in order:
        line = lines[rank]
        if last[rank] and any(c[0][1] for c in candidates):
            break
        patches: list = []
        r = _read_line(page, line, model, patches)
        if r.digits:
            whole = r.reason is None and PLAUSIBLE_MIN_DIGITS <= len(r.digits) <= LONG_LINE
            sure = whole and not _unsure(r) and len(r.digits) >= PHONE_MIN_DIGITS
            key = (sure, whole, float(np.sum(r.confidences)), -rank)
            if sure:  # a whole, sure phone number: a less prominent line won't beat it
                return key, r, patches
            candidates.append((key, r, patches))
        elif rank == 0:
            first = r
    if not candidates:
        return None, first, []
    return max(candidates, key=lambda c: c[0])
