"""Stage 2: normalise illumination, binarise, and remove ruled lines.

A phone photo of a note has shadows, a lighting gradient and vignetting, so no global threshold
separates ink from paper. We estimate the paper's brightness everywhere (a grey-level closing
on a 1/8-scale copy: ink strokes are thinner than the filter, so it sees paper, and shadow edges
stay where they are) and divide by
it; what remains is ink contrast in [0, 1], independent of how bright the paper is lit. The
threshold on that contrast is Otsu's, bounded below, with hysteresis so a faint part of a
stroke stays attached to its dark part.

Light writing on a dark surface (chalk, a screen) is detected from which side of the local
median the strong deviations fall on, and the image is inverted first.

Ruled lines are long, thin, nearly horizontal structures: pixels in vertical runs of at most
RULE_MAX_THICK px, bridged across the pen strokes that cross them, forming components at least
RULE_MIN_LEN_FRAC of the image wide (a probabilistic Hough transform on those runs). On a page
photographed at a tilt the rules are tilted too: the tilt is the strongest straight line of thin
ink (a Hough transform), and the search is repeated on the thin ink rotated level. A rule is
erased along its whole length, but only where its ink is thin: a pen stroke crossing it keeps
its pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Background (paper) estimate: computed at 1/BG_SCALE size with a BG_KERNEL closing there.
BG_SCALE = 8
BG_KERNEL = 7
# Noise suppression before thresholding (Gaussian sigma, px).
PRE_BLUR_SIGMA = 0.8
# Ink contrast (1 - pixel/paper, in 1/255) below which nothing counts as ink, whatever Otsu says.
MIN_INK_CONTRAST = 38
# ... and the threshold is never set above this (faint pens on a noisy page).
MAX_INK_THRESHOLD = 110
# Hysteresis: pixels down to this fraction of the threshold join a stroke that has strong pixels.
HYSTERESIS_LOW = 0.6
# Polarity (is_light_on_dark): thin structures are those an opening (closing) of POLARITY_KERNEL
# px removes, local deviations those from a median over POLARITY_MEDIAN px of a quarter-size
# copy; contrast beyond POLARITY_DELTA (of 255) counts; light-on-dark if, by both, the light mass
# is more than POLARITY_RATIO x the dark. Chosen on 750 validation photos of both renderers and
# their negatives (docs/reader.md, stage 2).
POLARITY_KERNEL = 9
POLARITY_MEDIAN = 15
# ... on a copy whose long side is at most this (the reader's detection size), where strokes have
# the widths the kernel was chosen for, whatever the size of the image asked about.
POLARITY_MAX_SIDE = 640
POLARITY_DELTA = 25
POLARITY_RATIO = 1.5
# Ruled lines: at most this thick (px) and at least this fraction of the image wide. Shorter
# straight runs of thin ink are table grain, a note's edge or the tops of digits in a row (a
# "77" in line with an envelope's flap), and erased across the page they cut every thin
# horizontal stroke on their line (a 7's bar). 0.3, not 0.2: on 1,250 validation photos of
# both renderers, 12 more of the second renderer's numbers and 7 more with a word before them
# read exactly, as many of the first renderer's; 0.35 and 0.5 read a few more of the second's
# but lose the first's (docs/reader.md, stage 2).
RULE_MAX_THICK = 4
RULE_MIN_LEN_FRAC = 0.3
RULE_SEGMENT = 25  # px: shortest horizontal run of thin ink that may be part of a rule
RULE_BRIDGE = 15  # px of horizontal closing that bridges a pen stroke crossing the line
RULE_MAX_GAP = 60  # px: a rule may be hidden this long behind writing
RULE_MAX_SLOPE = 0.15  # |dy/dx| of a rule found unrotated (about 8.5 degrees)
# A page photographed at a tilt has tilted rules, whose thin ink makes no long horizontal runs.
# Their tilt is the strongest straight line of thin ink within RULE_MAX_TILT degrees of
# horizontal (a Hough transform); tilted more than RULE_MIN_TILT, the search is repeated on the
# thin ink rotated by it, where a rule must lie within RULE_TILT_SLOPE of horizontal.
RULE_MAX_TILT = 18.0
RULE_MIN_TILT = 3.0
RULE_TILT_SLOPE = 0.06


@dataclass(frozen=True)
class Binarized:
    """Ink of a working image: `ink` is contrast 0..255 (ink bright), `mask` 0/1 after cleaning."""

    ink: np.ndarray        # (H, W) uint8, 255 * (1 - pixel / paper), clipped
    mask: np.ndarray       # (H, W) uint8 0/1, ink pixels, ruled lines removed
    inverted: bool         # the input was light writing on a dark surface
    threshold: int         # the ink-contrast threshold used (0..255)
    paper_level: float     # median paper brightness (0..255) before normalisation
    rules: np.ndarray      # (K, 4) int32 ruled-line segments found and erased: x0, y0, x1, y1


def _small(gray: np.ndarray, scale: int) -> np.ndarray:
    h, w = gray.shape
    size = (max(1, w // scale), max(1, h // scale))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def is_light_on_dark(gray: np.ndarray) -> bool:
    """True when the writing is light on a dark surface: both its thin structures and its strong
    local deviations are brighter than their surroundings.

    Thin structures: strokes narrower than POLARITY_KERNEL px; a white top-hat finds the light
    ones, a black-hat the dark ones. Structures wider than that (a white note on a dark table,
    a shadow, the edge of the page) are in neither, whatever their brightness; a texture (cloth,
    wood grain) is in both about equally. Strokes wider than the kernel (a thick pen filling a
    close-up) are not thin, and the paper between them is: the deviations from a local median
    over POLARITY_MEDIAN px of a quarter-size copy must agree.
    """
    f = max(gray.shape) / POLARITY_MAX_SIDE
    if f > 1:
        gray = cv2.resize(gray, (max(1, round(gray.shape[1] / f)), max(1, round(gray.shape[0] / f))),
                          interpolation=cv2.INTER_AREA)
    if min(gray.shape) < POLARITY_KERNEL:
        return False
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (POLARITY_KERNEL, POLARITY_KERNEL))
    light = cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, k)
    dark = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, k)
    if _mass(light) <= POLARITY_RATIO * _mass(dark):
        return False
    small = _small(gray, 4)
    if min(small.shape) < 5:
        small = gray
    km = min(POLARITY_MEDIAN, (min(small.shape) // 2) * 2 - 1)
    if km < 3:
        return False
    med = cv2.medianBlur(small, km)
    return _mass(cv2.subtract(small, med)) > POLARITY_RATIO * _mass(cv2.subtract(med, small))


def _mass(deviation: np.ndarray) -> float:
    """The summed contrast (0..255) beyond POLARITY_DELTA."""
    return float(cv2.subtract(deviation, POLARITY_DELTA).sum(dtype=np.float64))


def ink_contrast(gray: np.ndarray, stroke_max: int = 0) -> tuple[np.ndarray, float]:
    """255 * (1 - gray / paper), uint8; and the median paper level. With `stroke_max` (px),
    the paper is also estimated at full size by a closing just wider than that, and the darker
    estimate counts: the edge of the note against a darker table stays a step, not a stroke."""
    scale = max(1, min(BG_SCALE, min(gray.shape) // 8))
    small = _small(gray, scale)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BG_KERNEL, BG_KERNEL))
    # Closing, not just a max filter: the max removes ink, the min that follows puts the edge
    # of a cast shadow back where it was (a max alone would shift it into the dark side).
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, k)
    bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    g = cv2.GaussianBlur(gray, (0, 0), PRE_BLUR_SIGMA)
    if stroke_max > 0:
        side = 2 * int(stroke_max) + 1
        square = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
        fine = cv2.morphologyEx(g, cv2.MORPH_CLOSE, square)
        bg = cv2.min(bg, fine)
    bg = cv2.max(bg, 1)
    norm = cv2.divide(g, bg, scale=255)          # paper -> ~255, ink darker
    return cv2.subtract(255, norm), float(np.median(small))


def threshold(ink: np.ndarray) -> int:
    """Otsu on the ink contrast, clamped to [MIN_INK_CONTRAST, MAX_INK_THRESHOLD]."""
    t, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(np.clip(t, MIN_INK_CONTRAST, MAX_INK_THRESHOLD))


def hysteresis(ink: np.ndarray, t: int, rules: np.ndarray | None = None,
               rule_thickness: int = RULE_MAX_THICK - 1, rule_segment: int = RULE_SEGMENT,
               rule_gap: int = RULE_MAX_GAP, rule_tilted: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    """0/1 mask: pixels >= t, plus pixels >= HYSTERESIS_LOW * t connected to them; and rules.

    Ruled lines are found (and erased) in the weak mask first, where they are whole and long;
    otherwise a faint rule touching a digit would be grown into the digit's component. `rules`
    adds segments already found elsewhere (e.g. on the whole page), as (K, 4) x0, y0, x1, y1;
    they are erased `rule_thickness` px thick. `rule_segment`, `rule_gap` and `rule_tilted` are
    find_rules' `segment`, `max_gap` and `tilted`.
    """
    weak = (ink >= int(t * HYSTERESIS_LOW)).astype(np.uint8)
    found = find_rules(weak, rule_segment, rule_gap, rule_tilted)
    if rules is not None and len(rules):
        found = np.concatenate([found, rules.astype(np.int32).reshape(-1, 4)])
    weak = erase_rules(weak, found, rule_thickness)
    n, labels = cv2.connectedComponentsWithAlgorithm(weak, 8, cv2.CV_32S, cv2.CCL_GRANA)
    if n <= 1:
        return weak, found
    strong = ink >= t
    keep = np.zeros(n, np.uint8)
    keep[labels[strong]] = 1
    keep[0] = 0
    return np.take(keep, labels), found


def find_rules(mask: np.ndarray, segment: int = RULE_SEGMENT, max_gap: int = RULE_MAX_GAP,
               tilted: bool = True) -> np.ndarray:
    """Long thin nearly horizontal lines in a 0/1 mask: (K, 4) int32 segments x0, y0, x1, y1.

    segment: shortest visible piece of a rule (px); max_gap: longest stretch hidden by writing;
    tilted: also look for rules tilted beyond RULE_MIN_TILT (see RULE_MAX_TILT).
    """
    none = np.zeros((0, 4), np.int32)
    h, w = mask.shape
    min_len = max(20, int(RULE_MIN_LEN_FRAC * w))
    if w < min_len:
        return none
    vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, RULE_MAX_THICK + 1))
    thick = cv2.morphologyEx(mask, cv2.MORPH_OPEN, vk)
    thin = cv2.subtract(mask, thick)
    if not thin.any():
        return none
    found = [_horizontal_rules(thin, segment, max_gap, min_len, RULE_MAX_SLOPE)]
    tilt = _rule_tilt(thin, min_len) if tilted else 0.0
    if abs(tilt) > RULE_MIN_TILT:
        # Rotated onto a canvas that holds all of it: rules in the corners stay whole.
        cos_t, sin_t = abs(np.cos(np.deg2rad(tilt))), abs(np.sin(np.deg2rad(tilt)))
        tw, th = int(np.ceil(w * cos_t + h * sin_t)), int(np.ceil(h * cos_t + w * sin_t))
        rot = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), tilt, 1.0)
        rot[:, 2] += ((tw - w) / 2.0, (th - h) / 2.0)
        turned = cv2.warpAffine(thin, rot, (tw, th), flags=cv2.INTER_NEAREST)
        segs = _horizontal_rules(turned, segment, max_gap, min_len, RULE_TILT_SLOPE)
        if len(segs):
            back = cv2.invertAffineTransform(rot)
            pts = cv2.transform(segs.reshape(-1, 1, 2).astype(np.float64), back)
            found.append(np.round(pts.reshape(-1, 4)).astype(np.int32))
    return np.concatenate(found)


def _rule_tilt(thin: np.ndarray, min_len: int) -> float:
    """Tilt (degrees, positive where a rule goes down to the right) of the strongest straight
    line of thin ink within RULE_MAX_TILT of horizontal, or 0.0 if there is none."""
    band = np.deg2rad(RULE_MAX_TILT)
    lines = cv2.HoughLines(thin, 1, np.pi / 360, threshold=max(10, min_len // 2),
                           min_theta=np.pi / 2 - band, max_theta=np.pi / 2 + band)
    if lines is None or len(lines) == 0:  # OpenCV before 5.1 gives None, 5.1 an empty array
        return 0.0
    return float(np.rad2deg(lines[0, 0, 1]) - 90.0)


def _horizontal_rules(thin: np.ndarray, segment: int, max_gap: int, min_len: int,
                      max_slope: float) -> np.ndarray:
    """Rules within max_slope of horizontal in a mask of thin ink (see find_rules)."""
    none = np.zeros((0, 4), np.int32)
    # Horizontal runs of thin ink: short enough a kernel to follow a slightly tilted line.
    # Closed first, so a faint rule that binarised as dashes still makes long runs.
    bridge = cv2.getStructuringElement(cv2.MORPH_RECT, (RULE_BRIDGE, 1))
    runs = cv2.morphologyEx(cv2.morphologyEx(thin, cv2.MORPH_CLOSE, bridge), cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (segment, 1)))
    if not runs.any():
        return none
    # Straight, nearly horizontal, long: a probabilistic Hough transform bridges the gaps where
    # pen strokes cross the rule and follows its tilt.
    segs = cv2.HoughLinesP(runs, 1, np.pi / 360, threshold=max(10, min_len // 3),
                           minLineLength=min_len, maxLineGap=max_gap)
    if segs is None or len(segs) == 0:
        return none
    segs = segs.reshape(-1, 4).astype(np.int32)
    dx, dy = np.abs(segs[:, 2] - segs[:, 0]), np.abs(segs[:, 3] - segs[:, 1])
    return segs[dy <= max_slope * dx]


def erase_rules(mask: np.ndarray, segs: np.ndarray, thickness: int) -> np.ndarray:
    """Erase ruled lines: pixels near a rule segment whose vertical ink run is at most the
    rules' measured thickness + 1 px (and at most `thickness` + 1). Where a pen stroke crosses
    or runs along the rule the run is longer, so the stroke keeps its pixels and is not cut."""
    if len(segs) == 0:
        return mask
    drawn = np.zeros_like(mask)
    w = mask.shape[1]
    band = max(3, 2 * int(thickness) + 1)  # rule position is known to a pixel or two
    for x0, y0, x1, y1 in segs.astype(np.float64):
        # A ruled line crosses the whole page: extend the visible segment to both edges, so
        # the stretches hidden among the digits (longer than any Hough gap) go too.
        slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
        ya, yb = y0 - slope * x0, y0 + slope * (w - 1 - x0)
        cv2.line(drawn, (0, int(round(ya))), (w - 1, int(round(yb))), 1, band)
    t = _rule_thickness(mask, drawn, int(thickness))
    thin = cv2.subtract(mask, _runs_at_least(mask, t + 2))
    return cv2.subtract(mask, drawn & thin)


def _runs_at_least(mask: np.ndarray, k: int) -> np.ndarray:
    """The pixels of `mask` in vertical runs of at least k px (a morphological opening that is
    exact for even k too: the dilation's anchor mirrors the erosion's)."""
    vk = np.ones((k, 1), np.uint8)
    return cv2.dilate(cv2.erode(mask, vk, anchor=(0, 0)), vk, anchor=(0, k - 1))


def _rule_thickness(mask: np.ndarray, drawn: np.ndarray, limit: int) -> int:
    """The commonest vertical run length (px, at most `limit`) of the ink along the rules: the
    rules' own thickness. Strokes along a rule are thicker than a rule drawn with a ruler
    (they would be erased with it if every run up to `limit` were), crossing strokes longer."""
    along = mask & drawn
    total = int(along.sum())
    if total == 0:
        return limit
    # pixels[k - 1]: ink pixels along the rules in vertical runs of at least k px
    pixels = [total]
    for k in range(2, limit + 2):
        pixels.append(int((_runs_at_least(mask, k) & drawn).sum()))
    runs = [(pixels[k - 1] - pixels[k]) / k for k in range(1, limit + 1)]  # runs of exactly k
    return int(np.argmax(runs)) + 1 if max(runs) > 0 else limit


def binarize(gray: np.ndarray) -> Binarized:
    """Stage entry point: gray uint8 working image -> ink contrast and clean ink mask."""
    inverted = is_light_on_dark(gray)
    if inverted:
        gray = cv2.bitwise_not(gray)
    ink, paper = ink_contrast(gray)
    t = threshold(ink)
    mask, rules = hysteresis(ink, t)
    return Binarized(ink, mask, inverted, t, paper, rules)
