"""Stage 4: cut one text line into glyphs and decide which glyphs are digits.

1. Components of the line's ink mask; specks (area below SPECK_AREA x H^2) and marks outside
   the line's band are dropped. Long straight strokes (an underline, the side of a form box)
   running more than LONG_STROKE line heights are erased where they touch the writing.
2. Broken strokes of one digit are merged: a small piece (shorter than MERGE_SMALL_H x H) whose
   centre lies over another mark's middle (a 5's detached bar, the tip of a 4) joins it, if the
   result is still digit-shaped.
3. Separators are recognised from shape: short marks (- . , +), thin slanted strokes (/), tall
   curved thin strokes (( )). They are kept as separators (they split the digits into groups).
4. Touching digits: a glyph wider than SPLIT_MIN_W x H gets split hypotheses at the deepest
   valleys of its column ink profile (into 2, and 3 if wide enough). Every glyph and every piece
   of every hypothesis is classified in one batch; each glyph keeps the hypothesis with the best
   mean log-probability of its pieces, minus a penalty for digit shapes far too wide.
5. Low-confidence marks that are also small are rejected as not digits.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .classify import classify
from .normalize import normalize

# All sizes are in units of the line height H (median height of its digit-sized marks).
SPECK_AREA = 0.006          # x H^2: smaller components are specks
BAND_OVERLAP = 0.5          # a component must overlap the line's band by this much of its height
LONG_STROKE = 1.6           # straight runs longer than this x H are rules/underlines/box sides
MERGE_SMALL_H = 0.6         # only a piece shorter than this x H is merged into a neighbour
MERGE_CENTRE_IN = 0.15      # ... when its centre x is inside the other's box shrunk by this
MERGE_MAX_H = 1.35          # ... and the merged box is at most this tall
MERGE_MAX_W = 1.2           # ... and this wide
SEP_MAX_H = 0.5             # marks shorter than this are separators (- . , +)
SLASH_MAX_THIN = 0.22       # minor/major axis std ratio of a slash
SLASH_MIN_ANGLE = 22.0      # degrees from vertical
PAREN_MIN_H = 1.1           # parentheses stand taller than digits
PAREN_MAX_W = 0.5
PAREN_MIN_BOW = 0.07        # x-offset of the middle third from the ends' line, x H
SPLIT_MIN_W = 0.9           # glyphs wider than this may be two or three touching digits
SPLIT3_MIN_W = 1.7
SPLIT_MIN_PIECE_W = 0.18    # a piece of a split is at least this wide
SPLIT_CUTS = 4              # candidate cut columns tried per split point
WIDE_PENALTY = 2.0          # log-prob penalty per H of width beyond WIDE_FREE
WIDE_FREE = 1.0
SPLIT_PENALTY = 0.15        # per extra piece: prefer the whole glyph when scores tie
REJECT_P = 0.5              # a mark below this probability ...
REJECT_MAX_H = 0.7          # ... and shorter than this x H is not a digit


@dataclass
class Glyph:
    """A mark on the line. kind: 'digit' or a separator: '-', '.', '/', '(', ')'."""

    box: tuple[int, int, int, int]     # x, y, w, h in the line region's pixels
    kind: str
    logp: np.ndarray | None = None     # (10,) log-probabilities for digits
    patch: np.ndarray | None = None    # (28, 28) uint8 as classified


def _components(mask: np.ndarray):
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _strip_long_strokes(mask: np.ndarray, H: float) -> np.ndarray:
    """Erase straight horizontal/vertical runs longer than LONG_STROKE x H."""
    n = max(3, int(LONG_STROKE * H))
    hor = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    ver = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    long_ = cv2.dilate(hor | ver, np.ones((3, 3), np.uint8))
    return cv2.subtract(mask, long_)


def _shape_kind(m: np.ndarray, H: float) -> str:
    """'digit' or a separator kind, from the glyph's mask alone."""
    h, w = m.shape
    if h < SEP_MAX_H * H:
        return "-" if w > 1.5 * h else "."
    mo = cv2.moments(m, binaryImage=True)
    if mo["m00"] > 0:
        cov = np.array([[mo["mu20"], mo["mu11"]], [mo["mu11"], mo["mu02"]]]) / mo["m00"]
        ev, vec = np.linalg.eigh(cov)
        thin = np.sqrt(max(ev[0], 0) / max(ev[1], 1e-9))
        major = vec[:, 1]
        angle = np.degrees(np.arctan2(abs(major[0]), abs(major[1])))  # from vertical
        if thin < SLASH_MAX_THIN and angle > SLASH_MIN_ANGLE and major[0] * major[1] < 0:
            return "/"  # image y grows downwards: / has x and y of opposite sign
    if h > PAREN_MIN_H * H and w < PAREN_MAX_W * H:
        thirds = np.array_split(np.arange(h), 3)
        xs = np.arange(w)
        cx = [float((m[r].sum(0) * xs).sum() / max(m[r].sum(), 1)) for r in thirds]
        bow = cx[1] - (cx[0] + cx[2]) / 2
        if abs(bow) > PAREN_MIN_BOW * H:
            return "(" if bow < 0 else ")"
    return "digit"


def _cut_candidates(profile: np.ndarray, lo: int, hi: int) -> list[int]:
    """Up to SPLIT_CUTS columns in [lo, hi) with the least ink, local minima first."""
    if hi <= lo:
        return []
    p = np.convolve(profile.astype(np.float32), [0.25, 0.5, 0.25], mode="same")
    order = lo + np.argsort(p[lo:hi], kind="stable")
    cuts: list[int] = []
    for c in order:
        if all(abs(int(c) - d) >= 3 for d in cuts):
            cuts.append(int(c))
        if len(cuts) == SPLIT_CUTS:
            break
    return cuts


def _tight(m: np.ndarray):
    ys, xs = np.nonzero(m)
    if ys.size == 0:
        return None
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


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
            if small and a0 + inset <= c <= a1 - inset and uy1 - uy0 <= MERGE_MAX_H * H \
                    and ux1 - ux0 <= MERGE_MAX_W * H:
                g[0].append(i)
                g[1:] = [ux0, uy0, ux1, uy1]
                merged = True
                break
        if not merged:
            groups.append([[i], bx0, by0, bx1, by1])
    # Shapes, split hypotheses, and every patch to classify.
    glyphs: list[Glyph] = []
    patches: list[np.ndarray] = []
    hyps: list[list[tuple[float, list]]] = []  # per digit glyph: [(prior, [(box, patch idx)])]
    for labs, gx0, gy0, gx1, gy1 in groups:
        gm = np.isin(labels[gy0:gy1, gx0:gx1], labs).astype(np.uint8)
        gi = ink[gy0:gy1, gx0:gx1]
        kind = _shape_kind(gm, H)
        box = (int(gx0), int(gy0), int(gx1 - gx0), int(gy1 - gy0))
        glyphs.append(Glyph(box, kind))
        if kind != "digit":
            hyps.append([])
            continue
        gw = gx1 - gx0
        options = [(-WIDE_PENALTY * max(0.0, gw / H - WIDE_FREE), [(box, len(patches))])]
        patches.append(normalize(gi, gm))
        if gw > SPLIT_MIN_W * H:
            prof = gm.sum(0)
            minw = int(SPLIT_MIN_PIECE_W * H)
            cutsets = [[c] for c in _cut_candidates(prof, max(minw, int(0.2 * gw)),
                                                     min(gw - minw, int(0.8 * gw)))]
            if gw > SPLIT3_MIN_W * H:
                a = _cut_candidates(prof, max(minw, int(0.2 * gw)), int(0.45 * gw))[:2]
                b = _cut_candidates(prof, int(0.55 * gw), min(gw - minw, int(0.8 * gw)))[:2]
                cutsets += [[ca, cb] for ca in a for cb in b if cb - ca >= minw]
            for cuts in cutsets:
                edges = [0] + cuts + [gw]
                pieces = []
                for a0, a1 in zip(edges[:-1], edges[1:]):
                    t = _tight(gm[:, a0:a1])
                    if t is None or (t[3] - t[2]) < minw:
                        pieces = []
                        break
                    py0, py1, px0, px1 = t
                    sl = (slice(py0, py1), slice(a0 + px0, a0 + px1))
                    pb = (int(gx0 + a0 + px0), int(gy0 + py0), int(px1 - px0), int(py1 - py0))
                    pieces.append((pb, normalize(gi[sl], gm[sl])))
                if not pieces:
                    continue
                start = len(patches)
                patches.extend(pp for _, pp in pieces)
                options.append((-SPLIT_PENALTY * (len(pieces) - 1),
                                [(pb, start + j) for j, (pb, _) in enumerate(pieces)]))
        hyps.append(options)
    if not patches:
        return [g for g in glyphs]
    logp = classify(np.stack(patches), model)
    best_lp = logp.max(1)
    out: list[Glyph] = []
    for g, options in zip(glyphs, hyps):
        if g.kind != "digit":
            out.append(g)
            continue
        prior, pieces = max(options, key=lambda o: o[0] + np.mean([best_lp[j] for _, j in o[1]]))
        for pb, j in pieces:
            p = float(np.exp(best_lp[j]))
            if p < REJECT_P and pb[3] < REJECT_MAX_H * H:
                out.append(Glyph(pb, "-" if pb[2] > 1.5 * pb[3] else "."))
            else:
                out.append(Glyph(pb, "digit", logp[j], patches[j]))
    return out
