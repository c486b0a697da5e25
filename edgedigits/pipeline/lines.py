"""Stage 3: group ink components into text lines and rank them by prominence.

Components of "mark" size (taller than MIN_MARK_H, not long thin rules, not half the page) are
linked when they overlap vertically by at least LINK_V_OVERLAP of the shorter one, are at most
LINK_H_GAP line heights apart horizontally and have comparable heights; linked components form a
line (union-find). Lines are then taken in order of prominence, and each absorbs the smaller
marks (dots, dashes, commas, broken-off pieces) whose centre lies in its band, even those that
had formed lines of their own. A line's prominence is the sum of squared heights of its
digit-sized members: a few large
digits beat a long line of small print, and one big blot does not beat a number. A line broken
by a tilt (neighbours overlapping too little vertically) is joined again along its slope.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A mark shorter than this (px) is a speck or punctuation, never a line's backbone.
MIN_MARK_H = 6
# Smallest component area (px) considered at all; below this it is sensor noise or a speck.
MIN_AREA = 8
# Marks flatter than this (width / height) are rules or underlines, not writing.
MAX_MARK_ASPECT = 5.0
# ... unless at least this tall (px): digits joined by an underline or a box line.
FLAT_WRITING_MIN_H = 16
# Marks taller than this fraction of the image are not handwriting of a phone number (a page's
# edge, a shadow's) unless the image is a strip at least STRIP_ASPECT times as wide as it is
# tall: a scan or a tight crop of a line, which its characters fill.
MAX_MARK_H_FRAC = 0.95
STRIP_ASPECT = 2.5
# Linking: vertical overlap (of the shorter mark), horizontal gap (in heights of the taller),
# and height ratio.
LINK_V_OVERLAP = 0.45
LINK_H_GAP = 1.6
LINK_H_RATIO = 2.6
# A small mark joins a line when its centre is inside the band (line box grown by this much).
BAND_GROW = 0.25
# Members at least this fraction of the line's median height count as digit-sized.
DIGIT_SIZED = 0.6
# A tilted line breaks where neighbours overlap too little vertically; two lines are joined
# when the second starts at most JOIN_MAX_GAP heights after the first ends (their ink, small
# marks included: a dash or a broken 5's pieces bridge a wide gap), their heights differ
# by at most JOIN_H_RATIO, and the first's slope (its members' centres, at most JOIN_MAX_SLOPE)
# carried to the second's first mark misses its centre by at most JOIN_MAX_DY heights.
JOIN_MAX_GAP = 2.0
JOIN_H_RATIO = 1.6
JOIN_MAX_SLOPE = 0.5
JOIN_MAX_DY = 0.5


@dataclass(frozen=True)
class Line:
    """A text line: the component labels in it (left to right) and its geometry."""

    members: tuple[int, ...]      # component labels (indices into stats), sorted by x
    height: float                 # median height of its digit-sized marks (px)
    box: tuple[int, int, int, int]  # x, y, w, h of all members
    score: float                  # prominence


def _union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)])


def find_lines(stats: np.ndarray, image_shape: tuple[int, int]) -> list[Line]:
    """Lines from cv2.connectedComponentsWithStats stats (row 0 is background), best first."""
    x, y, w, h, area = (stats[1:, k].astype(np.float64) for k in range(5))
    labels = np.arange(1, len(stats))
    strip = image_shape[1] >= STRIP_ASPECT * image_shape[0]
    max_h = np.inf if strip else MAX_MARK_H_FRAC * image_shape[0]
    # Flat marks are rules or underlines, unless tall: then writing joined by an underline.
    big = (h >= MIN_MARK_H) & (area >= MIN_AREA) & \
        ((w <= MAX_MARK_ASPECT * h) | (h >= FLAT_WRITING_MIN_H)) & \
        (h <= max_h)
    idx = np.flatnonzero(big)
    if idx.size == 0:
        return []
    bx, by, bw, bh = x[idx], y[idx], w[idx], h[idx]
    top = np.maximum(by[:, None], by[None, :])
    bot = np.minimum((by + bh)[:, None], (by + bh)[None, :])
    v_ov = (bot - top) / np.minimum(bh[:, None], bh[None, :])
    gap = np.maximum(bx[:, None], bx[None, :]) - np.minimum((bx + bw)[:, None], (bx + bw)[None, :])
    hmax = np.maximum(bh[:, None], bh[None, :])
    ratio = hmax / np.minimum(bh[:, None], bh[None, :])
    link = (v_ov >= LINK_V_OVERLAP) & (gap <= LINK_H_GAP * hmax) & (ratio <= LINK_H_RATIO)
    ii, jj = np.nonzero(np.triu(link, 1))
    roots = _union_find(idx.size, np.stack([ii, jj], 1))
    candidates = (area >= MIN_AREA // 2) & (h <= max_h)
    cx, cy = x + w / 2, y + h / 2
    groups = []
    for r in np.unique(roots):
        mem = idx[roots == r]
        groups.append((float((h[mem][h[mem] >= DIGIT_SIZED * np.median(h[mem])] ** 2).sum()), mem))
    groups.sort(key=lambda g: -g[0])
    # The median mark height of each mark's own group (of two or more marks): a row of marks
    # far smaller than a line is writing at another scale, not that line's dots and dashes.
    own_h = np.full(len(x), np.inf)
    for _, mem in groups:
        if mem.size >= 2:
            own_h[mem] = np.median(h[mem])
    taken = np.zeros(len(x), bool)
    lines = []
    for _, mem in groups:
        mem = mem[~taken[mem]]
        if mem.size == 0:
            continue
        hs = h[mem]
        med = float(np.median(hs))
        lx0, ly0 = x[mem].min(), y[mem].min()
        lx1, ly1 = (x[mem] + w[mem]).max(), (y[mem] + h[mem]).max()
        # Smaller marks (dots, dashes, commas, pieces) whose centre lies in this line's band,
        # within its x-extent: they belong to it, even if they first formed lines of their own.
        g = BAND_GROW * med
        inside = candidates & ~taken & (cy >= ly0 - g) & (cy <= ly1 + g) & \
            (cx >= lx0 - med) & (cx <= lx1 + med) & (h <= 1.5 * med) & \
            (own_h * LINK_H_RATIO >= med)
        # ... and in the band of the line where it is (its nearest members), not merely in the
        # band of a long tilted line: a smaller line written just above stays out.
        cand = np.flatnonzero(inside)
        if cand.size:
            near = np.argsort(np.abs(cx[cand, None] - cx[None, mem]), axis=1)[:, :2]
            top = y[mem][near].min(1) - g
            bot = (y[mem] + h[mem])[near].max(1) + g
            inside[cand[(cy[cand] < top) | (cy[cand] > bot)]] = False
        inside[mem] = True
        allm = np.flatnonzero(inside)
        taken[allm] = True
        allm = allm[np.argsort(x[allm], kind="stable")]
        x0, y0 = x[allm].min(), y[allm].min()
        x1, y1 = (x[allm] + w[allm]).max(), (y[allm] + h[allm]).max()
        hs_all = h[allm]
        score = float((hs_all[hs_all >= DIGIT_SIZED * med] ** 2).sum())
        lines.append(Line(tuple(int(v) for v in labels[allm]), med,
                          (int(x0), int(y0), int(x1 - x0), int(y1 - y0)), score))
    lines = _join_tilted(lines, x, y, w, h, labels)
    lines.sort(key=lambda ln: -ln.score)
    return lines


def _slope(cx: np.ndarray, cy: np.ndarray) -> float:
    if cx.size < 2 or np.ptp(cx) <= 0:
        return 0.0
    return float(np.clip(np.polyfit(cx, cy, 1)[0], -JOIN_MAX_SLOPE, JOIN_MAX_SLOPE))


# What _join_tilted knows of a line, one row each: its height, whether it has digit-sized marks,
# its last such mark's right end and centre, its first such mark's left end and centre, the slope
# through them, and its box's x-extent.
(_HEIGHT, _HAS_BIG, _LAST_X1, _LAST_CX, _LAST_CY, _FIRST_X0, _FIRST_CX, _FIRST_CY, _SLOPE,
 _BOX_X0, _BOX_X1) = range(11)


def _join_tilted(lines: list[Line], x, y, w, h, labels) -> list[Line]:
    """Join lines that continue each other along a tilt (see JOIN_*): the first joinable pair in
    (a, b) order is joined, again until no pair is left. Which pairs can be joined is kept in a
    matrix, so a join recomputes one row and one column, not every pair (a textured table makes
    hundreds of lines)."""
    pos = {int(lab): i for i, lab in enumerate(labels)}
    cx, cy = x + w / 2, y + h / 2

    def ends(ln: Line) -> tuple:
        """What the pair test needs of a line, in the order of _HEIGHT ... _BOX_X1."""
        idx = np.array([pos[m] for m in ln.members])
        big = idx[h[idx] >= DIGIT_SIZED * ln.height]
        big = big[np.argsort(cx[big])]
        if big.size == 0:
            return (ln.height, False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        ra, lb = big[-1], big[0]
        return (ln.height, True, x[ra] + w[ra], cx[ra], cy[ra], x[lb], cx[lb], cy[lb],
                _slope(cx[big], cy[big]), ln.box[0], ln.box[0] + ln.box[2])

    def joinable(info: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(len(rows), len(cols)) bool: line rows[i] (A) is continued by line cols[j] (B)."""
        A, B = info[:, rows][:, :, None], info[:, cols][:, None, :]
        ha, hb = A[_HEIGHT], B[_HEIGHT]
        H = np.maximum(ha, hb)
        gap = B[_FIRST_X0] - A[_LAST_X1]  # B's first digit-sized mark after A's last
        ink_gap = np.minimum(gap, B[_BOX_X0] - A[_BOX_X1])  # small marks of either line bridge it
        dx = B[_FIRST_CX] - A[_LAST_CX]
        with np.errstate(invalid="ignore"):
            miss = np.minimum(np.abs(A[_LAST_CY] + A[_SLOPE] * dx - B[_FIRST_CY]),
                              np.abs(B[_FIRST_CY] - B[_SLOPE] * dx - A[_LAST_CY]))
        ok = (H <= JOIN_H_RATIO * np.minimum(ha, hb)) & (A[_HAS_BIG] > 0) & (B[_HAS_BIG] > 0) & \
            (-0.2 * H <= gap) & (ink_gap <= JOIN_MAX_GAP * H) & (dx > 0) & (miss <= JOIN_MAX_DY * H)
        ok &= rows[:, None] != cols[None, :]
        return ok

    if len(lines) < 2:
        return lines
    info = np.array([ends(ln) for ln in lines], np.float64).T  # (11, L)
    every = np.arange(len(lines))
    can = joinable(info, every, every)
    while can.any():
        a, b = np.unravel_index(int(np.argmax(can)), can.shape)  # the first pair, row-major
        A, B = lines[a], lines[b]
        mem = sorted(A.members + B.members, key=lambda m: x[pos[m]])
        x0, y0 = min(A.box[0], B.box[0]), min(A.box[1], B.box[1])
        x1 = max(A.box[0] + A.box[2], B.box[0] + B.box[2])
        y1 = max(A.box[1] + A.box[3], B.box[1] + B.box[3])
        hs = np.array([h[pos[m]] for m in mem])
        med = float(np.median(hs[hs >= DIGIT_SIZED * max(A.height, B.height)]))
        lines[a] = Line(tuple(mem), med, (int(x0), int(y0), int(x1 - x0), int(y1 - y0)),
                        A.score + B.score)
        info[:, a] = ends(lines[a])
        del lines[b]
        info = np.delete(info, b, axis=1)
        can = np.delete(np.delete(can, b, axis=0), b, axis=1)
        a -= a > b
        every = np.arange(len(lines))
        can[a, :] = joinable(info, np.array([a]), every)[0]
        can[:, a] = joinable(info, every, np.array([a]))[:, 0]
    return lines


# The writing's direction (writing_angle): pairs of marks of similar size (at most
# ANGLE_SIZE_RATIO apart, side by side within ANGLE_NEAR times the larger's size) vote, weighted
# by the smaller's size squared, for the directions along which the line through their centres
# passes within ANGLE_ACROSS of the smaller's size of both (fully for their own direction,
# tapering to nothing at that tolerance); directions every ANGLE_STEP degrees.
ANGLE_SIZE_RATIO = 2.0
ANGLE_NEAR = 2.5
ANGLE_ACROSS = 0.3
ANGLE_STEP = 2.0


def writing_angle(stats: np.ndarray, image_shape: tuple[int, int]) -> float | None:
    """The direction (degrees in [0, 180), image coordinates: x right, y down) along which the
    most similar-sized marks line up, from cv2.connectedComponentsWithStats stats (row 0 is
    background); None with fewer than three such pairs. A note lying at an angle has its number
    along this direction; 0 is level, 90 sideways."""
    st = stats[1:]
    w, h, area = (st[:, k].astype(np.float64) for k in (2, 3, 4))
    size = np.maximum(w, h)
    keep = (area >= MIN_AREA) & (size >= MIN_MARK_H) & (size < 0.3 * min(image_shape))
    if keep.sum() < 3:
        return None
    c = st[keep, :2] + st[keep, 2:4] / 2.0
    size = size[keep]
    d = c[None, :, :] - c[:, None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    small, large = np.minimum.outer(size, size), np.maximum.outer(size, size)
    i, j = np.nonzero(np.triu((dist > 0) & (dist <= ANGLE_NEAR * large)
                              & (large <= ANGLE_SIZE_RATIO * small)))
    if len(i) < 3:
        return None
    direction = np.degrees(np.arctan2(d[i, j, 1], d[i, j, 0])) % 180.0
    tolerance = np.degrees(np.arctan2(ANGLE_ACROSS * small[i, j], dist[i, j]))
    thetas = np.arange(0.0, 180.0, ANGLE_STEP)
    off = np.abs((direction[None, :] - thetas[:, None] + 90.0) % 180.0 - 90.0)
    votes = (np.clip(1.0 - off / tolerance[None, :], 0.0, None) * small[i, j][None, :] ** 2).sum(axis=1)
    return float(thetas[int(votes.argmax())])
