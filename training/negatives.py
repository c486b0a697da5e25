"""Not-a-digit patches, trained towards the uniform distribution ("outlier exposure").

The reader asks the classifier about more than whole digits: when it weighs splitting a glyph
it classifies the pieces of every cut, and a fragment (the right half of a 0, the loop of a 9,
a 4's bar) is often read as a confident 1 or 0 by a model that has only ever seen digits. Such
confident fragments win splits they should lose. This module makes patches of what the reader
must NOT read confidently, from MNIST training digits, normalised by the reader's own stage 5:

- vertical fragments: the left or right FRAG_MIN..FRAG_MAX of a digit's ink width;
- horizontal fragments: its top or bottom FRAG_MIN..FRAG_MAX;
- pairs: two digits touching or overlapping side by side, taken as one glyph;
- overlaps: two digits written into each other, the second starting OVERLAP_DEPTH of the
  narrower one's width inside the first (a 1 drawn into a 3's curve), taken as one glyph.

They carry the label NOT_A_DIGIT; the trainer's target for it is 1/10 for every digit
(training/gradients.py), so the model learns to be unsure on them while reading digits as before.
A model with a not-a-character class (edgedigits/classes.py) learns pairs and overlaps as that class; the
fragments keep the unsure target, because many are digits to the eye (the top of a 7 is a 7,
half of a 0 a bracket), and as a class of their own they would take real digits with them.
"""
from __future__ import annotations

import cv2
import numpy as np

from edgedigits.pipeline.normalize import normalize

NOT_A_DIGIT = 10
# Digits are drawn this many times larger before cutting (a camera sees them at 40-100 px).
SCALE = 3
# Ink above this (0..255, after upscaling) is the glyph mask, as the reader's threshold would.
MASK_LEVEL = 96
# A fragment keeps this share of the digit's ink extent.
FRAG_MIN, FRAG_MAX = 0.25, 0.6
# Vertical cuts only of digits at least this wide for their height (a cut 1 is still a 1).
MIN_ASPECT_FOR_VCUT = 0.45
# Pairs overlap (negative) or stand apart by this share of the first digit's width.
PAIR_GAP = (-0.15, 0.05)
# Overlaps: the second digit starts this share of the narrower digit's width inside the first.
# Such glyphs read as one sure digit to a model that never saw them ("31" as a 3 at 0.999):
# the reader then keeps the glyph whole, and loses a digit without a doubt.
OVERLAP_DEPTH = (0.3, 1.0)
# ... and each digit keeps at least this share of its ink outside the other's.
OVERLAP_VISIBLE = 0.6
# A patch whose ink is narrower than this for its height is a 1 whatever it was cut from (a
# stroke of a 4, the side of a 0): not used, the model must keep reading such strokes as 1s.
MIN_PATCH_ASPECT = 0.4
# The default mix (fragments and pairs), every kind, and their shares. Overlaps come only when
# asked for, so a mix without them draws exactly the patches of KINDS alone.
KINDS = ("vertical", "horizontal", "pair")
ALL_KINDS = KINDS + ("overlap",)
KIND_P = (0.45, 0.25, 0.30, 0.30)


def _big(img: np.ndarray) -> np.ndarray:
    return cv2.resize(img, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def _ink_box(big: np.ndarray):
    ys, xs = np.nonzero(big > MASK_LEVEL)
    if ys.size == 0:
        return None
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def fragment(img: np.ndarray, rng: np.random.Generator, vertical: bool) -> np.ndarray | None:
    """A normalised fragment of one 28x28 digit, or None if this digit gives none."""
    big = _big(img)
    box = _ink_box(big)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    if vertical and (x1 - x0) < MIN_ASPECT_FOR_VCUT * (y1 - y0):
        return None
    keep = rng.uniform(FRAG_MIN, FRAG_MAX)
    first = rng.random() < 0.5
    if vertical:
        c = int(round(x0 + keep * (x1 - x0))) if first else int(round(x1 - keep * (x1 - x0)))
        part = big[:, :c] if first else big[:, c:]
    else:
        c = int(round(y0 + keep * (y1 - y0))) if first else int(round(y1 - keep * (y1 - y0)))
        part = big[:c] if first else big[c:]
    mask = (part > MASK_LEVEL).astype(np.uint8)
    if mask.sum() < 4:
        return None
    return normalize(part, mask)


def pair(a: np.ndarray, b: np.ndarray, rng: np.random.Generator,
         into: bool = False) -> np.ndarray | None:
    """Two 28x28 digits side by side as one normalised glyph; into: the second written into
    the first (OVERLAP_DEPTH), else touching or apart (PAIR_GAP)."""
    ba, bb = _big(a), _big(b)
    ra, rb = _ink_box(ba), _ink_box(bb)
    if ra is None or rb is None:
        return None
    ba, bb = ba[:, ra[2]:ra[3]], bb[:, rb[2]:rb[3]]
    if into:
        gap = -int(round(rng.uniform(*OVERLAP_DEPTH) * min(ba.shape[1], bb.shape[1])))
    else:
        gap = int(round(rng.uniform(*PAIR_GAP) * ba.shape[1]))
    gap = max(gap, -ba.shape[1])
    w = ba.shape[1] + gap + bb.shape[1]
    canvas = np.zeros((ba.shape[0], max(w, ba.shape[1])), np.uint8)
    canvas[:, :ba.shape[1]] = ba
    x = ba.shape[1] + gap
    if into:  # each digit must stay visible: a 1 laid on a 4's stem is a 4, not two digits
        ma, mb = canvas > MASK_LEVEL, np.zeros_like(canvas, bool)
        mb[:, x:x + bb.shape[1]] = bb > MASK_LEVEL
        if (ma & ~mb).sum() < OVERLAP_VISIBLE * ma.sum() or \
                (mb & ~ma).sum() < OVERLAP_VISIBLE * mb.sum():
            return None
    canvas[:, x:x + bb.shape[1]] = np.maximum(canvas[:, x:x + bb.shape[1]], bb)
    return normalize(canvas, (canvas > MASK_LEVEL).astype(np.uint8))


def _aspect(patch: np.ndarray) -> float:
    ys, xs = np.nonzero(patch > 64)
    if ys.size == 0:
        return 0.0
    return (np.ptp(xs) + 1) / (np.ptp(ys) + 1)


def make(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 28, 28) uint8 not-a-digit patches made from `images` (MNIST training digits)."""
    return make_with_kinds(images, n, rng)[0]


def make_with_kinds(images: np.ndarray, n: int, rng: np.random.Generator,
                    kinds: tuple[str, ...] = KINDS) -> tuple[np.ndarray, np.ndarray]:
    """make's patches of the given kinds (of ALL_KINDS), and which of them are pairs or
    overlaps (n,) bool (the others are fragments)."""
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown or not kinds:
        raise ValueError(f"negative kinds must be a non-empty subset of {ALL_KINDS}, got {kinds}")
    made = ALL_KINDS if "overlap" in kinds else KINDS  # without overlaps: KINDS' draws
    shares = np.array([share if k in kinds else 0.0 for k, share in zip(made, KIND_P)])
    shares /= shares.sum()
    out, pairs = [], []
    while len(out) < n:
        kind = made[rng.choice(len(made), p=shares)]
        two = kind in ("pair", "overlap")
        i = int(rng.integers(len(images)))
        if two:
            p = pair(images[i], images[int(rng.integers(len(images)))], rng, into=kind == "overlap")
        else:
            p = fragment(images[i], rng, vertical=kind == "vertical")
        if p is not None and p.any() and _aspect(p) >= MIN_PATCH_ASPECT:
            out.append(p)
            pairs.append(two)
    if not out:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, bool)
    return np.stack(out), np.array(pairs, bool)
