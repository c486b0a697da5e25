"""Contact sheets of training/drawn.py: what the 19-class model is shown as separators and junk.

Writes two PNGs to --out: separators.png (a row per separator class) and junk.png (a row per
junk kind), each patch as the classifier sees it (28x28, normalised), enlarged; with --raw also
separators_raw.png / junk_raw.png, the glyphs before normalisation (each fitted to its cell, so
relative size is lost but pen width, texture and wobble show).

    python tools/contact_sheet_drawn.py [--out DIR] [--per-row 24] [--seed 0] [--raw]

--out defaults to a "drawn" folder in the system temp directory; sheets are for looking at, not
for committing.

Needs MNIST (EDGEDIGITS_DATA) for the junk drawn over digits; only the training split is used.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from edgedigits.classes import SEPARATORS  # noqa: E402
from training import drawn, mnist  # noqa: E402

ZOOM = 3
LABEL_W = 110
GAP = 2


def _fit(ink: np.ndarray, side: int = 28) -> np.ndarray:
    """A raw glyph scaled to fit a side x side cell (aspect kept), centred."""
    h, w = ink.shape
    s = side / max(h, w)
    small = cv2.resize(ink, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((side, side), np.uint8)
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    out[y:y + small.shape[0], x:x + small.shape[1]] = small
    return out


def sheet(rows: list[tuple[str, list[np.ndarray]]]) -> np.ndarray:
    """Labelled rows of 28x28 patches -> one uint8 image, ink dark on light as on paper."""
    cell = 28 * ZOOM + GAP
    n = max(len(p) for _, p in rows)
    img = np.full((len(rows) * cell + GAP, LABEL_W + n * cell + GAP), 255, np.uint8)
    for r, (name, patches) in enumerate(rows):
        y = GAP + r * cell
        cv2.putText(img, name, (6, y + cell // 2 + 6), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 0, 1,
                    cv2.LINE_AA)
        for c, p in enumerate(patches):
            x = LABEL_W + GAP + c * cell
            img[y:y + 28 * ZOOM, x:x + 28 * ZOOM] = 255 - cv2.resize(
                p, (28 * ZOOM, 28 * ZOOM), interpolation=cv2.INTER_NEAREST)
    return img


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "drawn"))
    ap.add_argument("--per-row", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="MNIST folder (default: EDGEDIGITS_DATA)")
    ap.add_argument("--raw", action="store_true", help="also sheets of the glyphs before normalize")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    digits = mnist.load(args.data).train.images

    sep, sep_raw = [], []
    for ch in SEPARATORS:
        pats, raws = [], []
        while len(pats) < args.per_row:
            ink, mask = drawn.draw_separator(ch, rng)
            p = drawn._patch(ink, mask)
            if p is not None:
                pats.append(p)
                raws.append(_fit(ink * mask))
        sep.append((f"'{ch}'", pats))
        sep_raw.append((f"'{ch}'", raws))
    junk, junk_raw = [], []
    for kind in drawn.JUNK_KINDS:
        pats, raws = [], []
        while len(pats) < args.per_row:
            ink, mask, p = drawn.junk_drawn_and_patch(kind, rng, digits)
            pats.append(p)
            raws.append(_fit(ink * mask))
        junk.append((kind, pats))
        junk_raw.append((kind, raws))
    written = [("separators.png", sep), ("junk.png", junk)]
    if args.raw:
        written += [("separators_raw.png", sep_raw), ("junk_raw.png", junk_raw)]
    for name, rows in written:
        path = os.path.join(args.out, name)
        cv2.imwrite(path, sheet(rows))
        print(path)


if __name__ == "__main__":
    main()
