"""The note on the table: the largest smooth region of the photo, for reading a page whose
surroundings are textured (a striped cloth, wood grain) when the whole photo does not read.

Paper is smooth: its brightness varies little within a few pixels, except on the writing.
A table's weave or grain is not. The smooth pixels (local standard deviation below
SMOOTH_MAX_STD grey levels in a SMOOTH_WINDOW px window of the detection image) are closed
over the writing, opened to cut thin smooth bridges to the table, and the largest region,
taken with its convex hull (the writing inside it and at its edge) less a rim of EDGE_PX, is
the note. It counts
only when it is a note on something else: between PAPER_MIN_FRAC and PAPER_MAX_FRAC of the
photo. A table smooth in places (soft wood grain, a defocused weave) joins the note into one
region of most of the photo; then only the smooth pixels brighter than the photo's Otsu split
of light and dark count (paper is lighter than the table it lies on).
"""
from __future__ import annotations

import cv2
import numpy as np

# All in detection px (the reader's copy of the photo, long side at most 640).
SMOOTH_WINDOW = 9
SMOOTH_MAX_STD = 6.0
CLOSE_PX = 31      # bridges the strokes of the writing
OPEN_PX = 15       # cuts smooth streaks of the table off the note
EDGE_PX = 5        # the note's own edge (its shadow, the table's first dark streak) is left out
RIM_PX = 3         # ... and ink touching the rim this wide inside it (a torn edge's notches)
PAPER_MIN_FRAC = 0.05
PAPER_MAX_FRAC = 0.9


def _disk(px: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (px, px))


def _box(px: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (px, px))


def find_paper(gray: np.ndarray) -> np.ndarray | None:
    """uint8 0/1 mask of the note in a grey detection image, or None when there is no smooth
    region of a note's size (a page filling the photo, or no smooth region at all)."""
    if min(gray.shape) < 2 * CLOSE_PX:
        return None
    f = gray.astype(np.float32)
    mean = cv2.blur(f, (SMOOTH_WINDOW, SMOOTH_WINDOW))
    var = cv2.blur(f * f, (SMOOTH_WINDOW, SMOOTH_WINDOW)) - mean * mean
    smooth = (var < SMOOTH_MAX_STD ** 2).astype(np.uint8)
    note = _note(smooth)
    if note is None:
        light, _ = cv2.threshold(cv2.GaussianBlur(gray, (0, 0), 3), 0, 255,
                                 cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        note = _note(smooth & (mean > light).astype(np.uint8))
    return note


def _note(smooth: np.ndarray) -> np.ndarray | None:
    """The note in a 0/1 mask of smooth pixels: its largest region, closed over the writing,
    opened off the table, as its convex hull less the edge; None unless of a note's size."""
    smooth = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, _box(CLOSE_PX))
    smooth = cv2.morphologyEx(smooth, cv2.MORPH_OPEN, _box(OPEN_PX))
    contours, _ = cv2.findContours(smooth, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    hull = np.zeros_like(smooth)
    cv2.fillConvexPoly(hull, cv2.convexHull(largest), 1)
    hull = cv2.erode(hull, _disk(2 * EDGE_PX + 1))
    frac = float(hull.mean())
    if not PAPER_MIN_FRAC <= frac <= PAPER_MAX_FRAC:
        return None
    return hull


def on_paper(mask: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """The ink of a 0/1 mask on the note: inside it, and not touching its rim (RIM_PX): the
    shadow of a torn edge's notch, the table showing through, are not writing."""
    ink = mask & paper
    rim = paper - cv2.erode(paper, _disk(2 * RIM_PX + 1))
    n, labels = cv2.connectedComponentsWithAlgorithm(ink, 8, cv2.CV_32S, cv2.CCL_GRANA)
    if n <= 1:
        return ink
    keep = np.ones(n, np.uint8)
    keep[np.unique(labels[rim > 0])] = 0
    keep[0] = 0
    return np.take(keep, labels)
