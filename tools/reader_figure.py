"""Draw the reader's stages on one generated photo, for docs/reader.md.

    python tools/reader_figure.py [--seed 2026] [--index 2] [--hard] --out docs/reader-stages.png

Rows: the photo (the line's region, with the reader's digit boxes), the ink contrast after
illumination normalisation, the cleaned ink mask, and the 28x28 patches sent to the model with
the digits read. Uses MNIST test digits (tools/synth_photos.py).
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import synth_photos  # noqa: E402

WIDTH = 900  # px of the figure


def figure(photo) -> np.ndarray:
    import edgedigits
    from edgedigits import reader
    from edgedigits.pipeline import binarize

    model = edgedigits.load_model()
    page, _ = reader._analyse(photo.image)
    line = page.lines[0]
    glyphs, rx0, ry0, H = reader._line_glyphs(page, line, model)[:4]
    r = edgedigits.read_number(photo.image)
    s = page.det_scale
    x, y, w, h = (int(v * s) for v in line.box)
    m = int(0.5 * H)
    x0, y0 = max(0, x - m), max(0, y - m)
    x1, y1 = min(photo.image.shape[1], x + w + m), min(photo.image.shape[0], y + h + m)
    crop = photo.image[y0:y1, x0:x1].copy()
    for bx, by, bw, bh in r.boxes:
        cv2.rectangle(crop, (bx - x0, by - y0), (bx - x0 + bw, by - y0 + bh), (0, 0, 255), 2)
    gray = page.loaded.gray[y0:y1, x0:x1]
    ink, _ = binarize.ink_contrast(gray)
    mask, _ = binarize.hysteresis(ink, binarize.threshold(ink))
    rows = [crop, cv2.cvtColor(255 - ink, cv2.COLOR_GRAY2BGR),
            cv2.cvtColor(255 - mask * 255, cv2.COLOR_GRAY2BGR)]
    f = WIDTH / crop.shape[1]
    rows = [cv2.resize(im, (WIDTH, int(im.shape[0] * f)), interpolation=cv2.INTER_AREA)
            for im in rows]
    patches = [g.patch for g in glyphs if g.kind == "digit"]
    size = min(WIDTH // max(len(patches), 1) - 6, 84)
    strip = np.full((size + 34, WIDTH, 3), 255, np.uint8)
    for i, (p, d) in enumerate(zip(patches, r.digits)):
        px = 3 + i * (size + 6)
        strip[3:3 + size, px:px + size] = cv2.cvtColor(
            cv2.resize(p, (size, size), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR)
        cv2.putText(strip, d, (px + size // 2 - 8, size + 28), cv2.FONT_HERSHEY_SIMPLEX, 0.9,
                    (0, 0, 0), 2, cv2.LINE_AA)
    sep = np.full((6, WIDTH, 3), 255, np.uint8)
    out = []
    for im in rows + [strip]:
        out += [im, sep]
    return np.vstack(out[:-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--index", type=int, default=2)
    p.add_argument("--hard", action="store_true")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    photos = list(synth_photos.make_photos(args.index + 1, seed=args.seed, hard=args.hard))
    img = figure(photos[args.index])
    cv2.imwrite(args.out, img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{args.out}: {photos[args.index].text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
