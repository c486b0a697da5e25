"""Contact sheets of the label-keeping variants (training/variants.py): one PNG per kind.

    python tools/contact_sheet_variants.py --out /tmp/variants [--pairs 100] [--seed 0] [--zoom 2]
    python tools/contact_sheet_variants.py --summary docs/figures/variants.png   # 8 pairs per kind

Each sheet is a grid of pairs, the normalised source digit (left, grey frame) beside its variant
(right), both 28x28 as the model sees them, so a reviewer can check that every variant still reads
as its digit. Uses MNIST TRAINING digits 0..49,999 only (EDGEDIGITS_DATA).
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from edgedigits.pipeline.normalize import normalize  # noqa: E402
from training import mnist, variants  # noqa: E402

COLS = 10  # pairs per row
GAP = 4  # px between pairs (at zoom 1)
FRAME = 70  # grey level of the frame around the source digit


def pairs(images, labels, kind: str, n: int, rng: np.random.Generator):
    """n (source, variant) pairs of 28x28 patches of one kind."""
    pool = np.flatnonzero(labels == variants.KINDS[kind])
    out = []
    while len(out) < n:
        j = int(pool[rng.integers(pool.size)])
        d = variants.draw(images[j], int(labels[j]), kind, rng)
        if d is None:
            continue
        src = normalize(d.source, (d.source > variants.MASK_LEVEL).astype(np.uint8))
        var = normalize(d.ink, (d.ink > variants.MASK_LEVEL).astype(np.uint8))
        out.append((src, var))
    return out


def sheet(prs, cols: int = COLS, zoom: int = 2) -> np.ndarray:
    rows = (len(prs) + cols - 1) // cols
    cw, ch = 2 * 28 + 2 + GAP, 28 + GAP
    img = np.zeros((rows * ch + GAP, cols * cw + GAP), np.uint8)
    for i, (src, var) in enumerate(prs):
        y, x = GAP + (i // cols) * ch, GAP + (i % cols) * cw
        s = src.copy()
        s[0, :] = s[-1, :] = np.maximum(s[0, :], FRAME)
        s[:, 0] = s[:, -1] = np.maximum(s[:, 0], FRAME)
        img[y:y + 28, x:x + 28] = s
        img[y:y + 28, x + 30:x + 58] = var
    return cv2.resize(img, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="folder for one PNG per kind")
    ap.add_argument("--summary", help="one small PNG: a row of pairs per kind, labelled")
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--zoom", type=int, default=2)
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    args = ap.parse_args(argv)
    if not args.out and not args.summary:
        ap.error("give --out and/or --summary")
    train = mnist.load(args.data).train  # training digits only, never the test split
    rng = np.random.default_rng(args.seed)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for kind in variants.KIND_NAMES:
            path = os.path.join(args.out, f"{kind}.png")
            cv2.imwrite(path, sheet(pairs(train.images, train.labels, kind, args.pairs, rng),
                                    zoom=args.zoom))
            print(path)
    if args.summary:
        rows = []
        for kind in variants.KIND_NAMES:
            s = sheet(pairs(train.images, train.labels, kind, 6, rng), cols=6, zoom=2)
            label = np.zeros((s.shape[0], 150), np.uint8)
            held = " (held out)" if kind in variants.HELD_OUT_KINDS else ""
            cv2.putText(label, kind, (4, s.shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 255, 1,
                        cv2.LINE_AA)
            if held:
                cv2.putText(label, held.strip(), (4, s.shape[0] // 2 + 16), cv2.FONT_HERSHEY_SIMPLEX,
                            0.4, 180, 1, cv2.LINE_AA)
            rows.append(np.hstack([label, s]))
        cv2.imwrite(args.summary, np.vstack(rows), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(args.summary, os.path.getsize(args.summary), "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
