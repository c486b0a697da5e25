"""The many-hands training set: MNIST's American writers joined by other hands.

    python -m training.hands --seed 20 --out ~/.cache/edgedigits/hands.npz

One .npz of 28x28 patches (ink bright on dark, normalised as the reader normalises) with labels
in the classes of edgedigits/classes.py, from these sources (SOURCES; MIX says how many of each):

- handwriting fonts (training/fonts.py, the manifest's "train" families only): digits,
  separators, and letters and words as not-a-character;
- label-keeping variants of MNIST training digits 0..49,999 (training/variants.py: flagged 1s,
  crossed 7s, 7s with a serif, open 4s), its held-out kinds (a flagged 1 with a foot) left out;
- separators drawn as pen strokes, and not-a-character marks (training/drawn.py).

The trainer (`hands = ...` in a config, training/train.py) adds these to every epoch, distorted
afresh each epoch like the MNIST digits. The held-out font families and variant kinds never
appear here: they measure (tools/bench.py styles). Everything comes from one seed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from edgedigits.classes import DIGITS, JUNK, SEPARATORS

from . import drawn, fonts, mnist, variants

# Source names, in the order of the `source` array's indices.
SOURCES = ("font_digits", "font_separators", "font_junk", "variants", "drawn_separators", "drawn_junk")
# Variants per trained kind: flagged 1s (the commonest error on European writing: 1 read as 7)
# and crossed 7s most, about half again as many 1s and 7s as the fonts give each digit (more
# would shift the classes' balance towards 1 and 7); few open 4s, which come from the few MNIST
# 4s with a closed top (about 250 of the 50,000 digits), each drawn again with other strokes.
VARIANTS = {"one_flag": 3_000, "seven_bar": 2_500, "seven_serif": 1_000, "four_open": 1_000}
# Patches per source. About 63k against an epoch's 50k MNIST digits and 79k reader patches:
# every digit class gets about 3,000 font glyphs (60-70 per training family); the separators
# together about as many patches as one digit class gets from MNIST, the not-a-character marks
# as many again (the fragments and pairs of training/negatives.py come on top, per epoch).
MIX = {
    "font_digits": 30_000,
    "font_separators": 4_000,
    "font_junk": 6_000,
    "variants": sum(VARIANTS.values()),
    "drawn_separators": 10_000,
    "drawn_junk": 6_000,
}
# Not-a-character texts of the fonts: single letters that read as no digit, and short words.
JUNK_TEXTS = tuple(fonts.LETTERS) + tuple(fonts.WORDS)
# The trainer's validation digits (MNIST training digits 50,000..) are never a variant's source.
N_FIT = 50_000


def build(seed: int, data_folder: str | None = None, font_cache: str | None = None,
          mix: dict | None = None, log=print) -> dict[str, np.ndarray]:
    """images (N, 28, 28) uint8, labels (N,) uint8, source (N,) uint8 index into SOURCES."""
    mix = {**MIX, **(mix or {})}
    train = mnist.load(data_folder).train
    src_images, src_labels = train.images[:N_FIT], train.labels[:N_FIT]
    rng = np.random.default_rng(seed)
    train_families = fonts.families("train")
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []

    def add(name: str, images: np.ndarray, labels: np.ndarray, t0: float) -> None:
        parts.append((name, images, labels))
        log(f"{name}: {len(labels)} patches, {time.perf_counter() - t0:.0f} s")

    t0 = time.perf_counter()
    g = fonts.render(DIGITS, mix["font_digits"], rng, train_families, font_cache)
    add("font_digits", g.images, g.labels, t0)
    t0 = time.perf_counter()
    g = fonts.render(SEPARATORS, mix["font_separators"], rng, train_families, font_cache)
    add("font_separators", g.images, g.labels, t0)
    t0 = time.perf_counter()
    g = fonts.render(JUNK_TEXTS, mix["font_junk"], rng, train_families, font_cache)
    add("font_junk", g.images, g.labels, t0)
    t0 = time.perf_counter()
    if set(VARIANTS) != set(variants.TRAIN_KINDS):
        raise ValueError(f"VARIANTS names {sorted(VARIANTS)}, variants.py trains {sorted(variants.TRAIN_KINDS)}")
    share = mix["variants"] / sum(VARIANTS.values())
    made = [variants.make(src_images, src_labels, round(n * share), rng, kinds=[kind])[:2]
            for kind, n in VARIANTS.items()]
    add("variants", np.concatenate([m[0] for m in made]), np.concatenate([m[1] for m in made]), t0)
    t0 = time.perf_counter()
    images, labels = drawn.separators(mix["drawn_separators"], rng)
    add("drawn_separators", images, labels, t0)
    t0 = time.perf_counter()
    images = drawn.junk(mix["drawn_junk"], rng, src_images)
    add("drawn_junk", images, np.full(len(images), JUNK, np.int64), t0)
    source = np.concatenate([np.full(len(lab), SOURCES.index(name), np.uint8) for name, _, lab in parts])
    return {"images": np.concatenate([p[1] for p in parts]).astype(np.uint8),
            "labels": np.concatenate([p[2] for p in parts]).astype(np.uint8),
            "source": source}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.hands", description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--out", default=os.path.join("~", ".cache", "edgedigits", "hands.npz"))
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    ap.add_argument("--fonts", default=None, help="font cache (default: training/fonts.py's)")
    args = ap.parse_args(argv)
    try:
        arrays = build(args.seed, args.data, args.fonts,
                       log=lambda s: print(s, file=sys.stderr, flush=True))
    except (mnist.MnistError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = os.path.expanduser(args.out)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out)
    counts = np.bincount(arrays["labels"], minlength=19)
    print(f"{len(arrays['labels'])} patches -> {out}; per class {counts.tolist()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
