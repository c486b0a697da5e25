"""Handwriting fonts as a second source of training glyphs: digits, separators and the letters
and words people write next to a phone number (the not-a-character class).

MNIST has digits only, written by one population of writers. Handwriting-style font families
(OFL-1.1 / Apache-2.0, fetched by `python tools/fetch_fonts.py` into a cache outside the repo
and pinned, file by file, by SHA-256 in training/fonts.json) add other hands, the separators
"-.,/()+=" and the letters. Each family is either "train" or "heldout": held-out families are
never trained on, only measured, so a score on them says how well the model reads a hand it
has not seen.

Per glyph, from the Generator passed in: a font file of one of the families, a character, an
ink height (GLYPH_HEIGHT px, as a camera sees a written digit), stroke thickening (Pillow's
stroke_width) or thinning (erosion), one affine warp (rotation, shear, scale jitter), a mild
elastic displacement, and pen texture (ink level varying along the stroke, small gaps, blur).
The glyph is then made a 28x28 patch by the reader's own stage 5,
edgedigits.pipeline.normalize.normalize, from its ink and a thresholded mask, exactly as the
reader would make it from a photo. The trainer adds its own per-epoch distortions
(training/augment.py), so these are kept moderate.

A glyph is skipped and drawn again when its ink is empty or when the font lacks the character
(FreeType then draws the font's .notdef glyph, which is compared against, per font file).

    python -m training.fonts --sheet sheet.png            # one row per family, for a person
    python -m training.fonts --sheet sheet.png --plain    # the same without random variation
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from edgedigits import classes

from .cache import user_cache
from edgedigits.pipeline.normalize import normalize, stroke_width

MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fonts.json")
ENV_VAR = "EDGEDIGITS_FONTS"
LICENCES = ("OFL-1.1", "Apache-2.0")
SPLITS = ("train", "heldout")
FONT_SUFFIX = ".woff"
FETCH_HINT = "python tools/fetch_fonts.py"

DIGITS = classes.DIGITS
SEPARATORS = classes.SEPARATORS
# Letters for the not-a-character class. Left out: every letter that, once the reader has
# scaled it to the 20 px box (which erases the difference between upper and lower case and
# between tall and short letters), a person could read as a digit or a separator in some hand:
#   0: O o D Q      1 or /: I i l j J      2: Z z      4: y      5: S s      6: b G
#   7 or +: T t      8: B      9: g q a      ( : C c
LETTERS = "AEFHKLMNPRUVWXYdefhkmnpruvwx"
# Short labels written before a number, each rendered whole as one not-a-character glyph.
WORDS = ("Tel", "tel.", "Tel:", "tel", "mob", "Mob.", "Fax", "ph", "Nr", "nr.", "Anna", "Piet",
         "werk", "thuis", "work", "home", "cell", "Handy", "Jan", "Mama", "Karin", "privé")

# Ink height of a digit of the font (the height of "8"), px at source resolution.
GLYPH_HEIGHT = (40, 120)
# Canvas margin around the text, as a share of the font size (room for rotation and strokes).
MARGIN = 0.5
# Pillow stroke_width (thickening) as a share of the glyph height, and how often.
THICKEN_P, THICKEN = 0.3, (0.01, 0.045)
# Erosion (thinning) with a 3x3 kernel, how often; only where strokes stay at least
# THIN_MIN_STROKE px wide afterwards.
THIN_P, THIN_MIN_STROKE = 0.25, 3.0
ROTATE_DEG = 8.0
SHEAR = 0.3
SCALE_X = (0.85, 1.15)  # width jitter relative to height
# Elastic displacement: a COARSE x COARSE grid of uniform noise, upsampled (cubic), times
# ELASTIC x glyph height px.
ELASTIC, COARSE = 0.025, 4
# Ink level: a smooth field in INK_LEVEL (multiplies the ink), per glyph.
INK_LEVEL = (0.55, 1.0)
# Gaps: how often, how many, and their width as a share of the glyph height.
GAP_P, GAPS, GAP_WIDTH = 0.25, (1, 3), (0.02, 0.05)
# Gaps only in glyphs whose ink extends over at least this share of the glyph height.
GAP_MIN_EXTENT = 0.5
# Gaussian blur sigma, px at source resolution.
BLUR_SIGMA = (0.0, 1.2)
# Ink above this (0..255) is the glyph mask, as the reader's threshold would make it
# (training/negatives.py uses the same level).
MASK_LEVEL = 96
# A glyph with fewer mask pixels than this is empty.
MIN_INK_PX = 12
# A character that no font has: its rendering is the font's .notdef glyph.
NOTDEF_PROBE = "\U0010fffd"
# Redraws allowed per requested glyph before render() gives up.
MAX_TRIES_PER_GLYPH = 20


class FontCacheError(RuntimeError):
    """A cached font file is not the one the manifest names (its SHA-256 differs)."""


# ---------------------------------------------------------------- manifest and cache

def load_manifest(path: str = MANIFEST) -> dict:
    """The manifest: {"families": {name: {package, version, license, split, tarball_sha256,
    files: {filename: sha256}}}}."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cache_dir(cache: str | None = None) -> str:
    """The fonts cache: `cache`, else $EDGEDIGITS_FONTS, else the per-user cache folder."""
    if cache:
        return cache
    return os.environ.get(ENV_VAR) or user_cache("fonts")


def family_dir(family: str, entry: dict, cache: str | None = None) -> str:
    """Where a family's files live: <cache>/<family>/<version>/ (a new version, a new folder)."""
    return os.path.join(cache_dir(cache), family, entry["version"])


def families(split: str = "train", manifest: dict | None = None) -> list[str]:
    """The families of a split ("train", "heldout" or "all"), sorted."""
    if split not in SPLITS + ("all",):
        raise ValueError(f"split must be one of {', '.join(SPLITS + ('all',))}, got {split!r}")
    fams = (manifest or load_manifest())["families"]
    return sorted(n for n, e in fams.items() if split == "all" or e["split"] == split)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def verify_family(family: str, entry: dict, cache: str | None = None) -> list[str]:
    """Paths of all the family's kept files, each checked against the manifest's SHA-256.

    Raises FileNotFoundError (naming the fetch command) when a file is missing, FontCacheError
    naming the file when its content differs."""
    folder = family_dir(family, entry, cache)
    paths = []
    for name, expected in sorted(entry["files"].items()):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"font family {family!r}: {path} is missing; run `{FETCH_HINT}` "
                f"(cache folder: --cache, or ${ENV_VAR})")
        actual = sha256_file(path)
        if actual != expected:
            raise FontCacheError(
                f"{path}: SHA-256 {actual} differs from {expected} in training/fonts.json; "
                f"delete {folder} and run `{FETCH_HINT}` again")
        paths.append(path)
    return paths


def font_files(family: str, cache: str | None = None) -> list[str]:
    """The verified font files (.woff) of one family."""
    fams = load_manifest()["families"]
    if family not in fams:
        raise KeyError(f"unknown font family {family!r}: not in training/fonts.json")
    return [p for p in verify_family(family, fams[family], cache) if p.endswith(FONT_SUFFIX)]


# ---------------------------------------------------------------- rendering

@dataclass(frozen=True)
class Glyphs:
    """Rendered, normalised glyphs: images (N, 28, 28) uint8 ink bright on dark; labels (N,)
    int64 class index (edgedigits.classes); chars (N,) object array of the text drawn;
    family (N,) int64 index into names."""
    images: np.ndarray
    labels: np.ndarray
    chars: np.ndarray
    family: np.ndarray
    names: tuple


def label_of(text: str) -> int:
    """A digit's or a separator's class index; classes.JUNK for anything else."""
    if len(text) == 1 and text in classes.CLASS_NAMES[:classes.JUNK]:
        return classes.class_index(text)
    return classes.JUNK


@functools.lru_cache(maxsize=None)
def _font_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# Font sizes are drawn in steps of this many px so loaded fonts can be reused.
SIZE_STEP = 4


@functools.lru_cache(maxsize=1024)  # ~0.1 MB each: bounded memory, few reloads
def _font(path: str, size: int):
    # Pillow is imported here, not at the top, so the manifest and the cache checks work
    # without the `train` extra (CI installs only `test`).
    from io import BytesIO

    from PIL import ImageFont
    return ImageFont.truetype(BytesIO(_font_bytes(path)), size)


PROBE_SIZE = 64


def _mask_key(font, text: str) -> tuple:
    m = font.getmask(text)
    return m.size, bytes(m)


@functools.lru_cache(maxsize=None)
def _digit_height(path: str) -> float:
    """Height of "8" per px of font size (fonts differ widely in how big their digits are)."""
    box = _font(path, PROBE_SIZE).getbbox("8")
    return max(box[3] - box[1], 1) / PROBE_SIZE


@functools.lru_cache(maxsize=None)
def _has_char(path: str, ch: str) -> bool:
    """False where the font draws nothing for ch or draws its .notdef glyph."""
    font = _font(path, PROBE_SIZE)
    key = _mask_key(font, ch)
    if key[0][0] == 0 or key[0][1] == 0 or not any(key[1]):
        return ch.isspace()
    return key != _mask_key(font, NOTDEF_PROBE)


def _has_text(path: str, text: str) -> bool:
    return all(_has_char(path, ch) for ch in text)


def _draw(path: str, text: str, height: float, stroke: int) -> np.ndarray:
    """The text drawn white on black, its "8" about `height` px tall; uint8 (h, w)."""
    from PIL import Image, ImageDraw
    size = max(SIZE_STEP, int(round(height / _digit_height(path) / SIZE_STEP)) * SIZE_STEP)
    font = _font(path, size)
    x0, y0, x1, y1 = font.getbbox(text, stroke_width=stroke)
    pad = int(MARGIN * size) + stroke
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, fill=255, font=font,
                             stroke_width=stroke, stroke_fill=255)
    return np.asarray(img)


def _warp(ink: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """One resampling: rotation, shear, width jitter about the centre, plus a mild elastic
    displacement (a coarse noise grid upsampled, so the field is smooth)."""
    h, w = ink.shape
    a = np.deg2rad(rng.uniform(-ROTATE_DEG, ROTATE_DEG))
    sh = rng.uniform(-SHEAR, SHEAR)
    sx = rng.uniform(*SCALE_X)
    # output -> source: inverse of  R(a) @ Shear(sh) @ diag(sx, 1)
    fwd = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ \
        np.array([[1.0, -sh], [0.0, 1.0]]) @ np.diag([sx, 1.0])
    inv = np.linalg.inv(fwd)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    alpha = ELASTIC * height
    ex = cv2.resize(rng.uniform(-1, 1, (COARSE, COARSE)).astype(np.float32), (w, h),
                    interpolation=cv2.INTER_CUBIC) * alpha
    ey = cv2.resize(rng.uniform(-1, 1, (COARSE, COARSE)).astype(np.float32), (w, h),
                    interpolation=cv2.INTER_CUBIC) * alpha
    map_x = (inv[0, 0] * dx + inv[0, 1] * dy + cx + ex).astype(np.float32)
    map_y = (inv[1, 0] * dx + inv[1, 1] * dy + cy + ey).astype(np.float32)
    return cv2.remap(ink, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=0)


def _pen(ink: np.ndarray, height: float, rng: np.random.Generator) -> np.ndarray:
    """Pen texture: ink level varying smoothly along the stroke, small gaps, blur."""
    h, w = ink.shape
    out = ink.astype(np.float32)
    lo = rng.uniform(INK_LEVEL[0], 1.0)
    level = cv2.resize(rng.uniform(lo, INK_LEVEL[1], (COARSE, COARSE)).astype(np.float32),
                       (w, h), interpolation=cv2.INTER_LINEAR)
    out *= level
    ys, xs = np.nonzero(ink > MASK_LEVEL)
    small = ys.size == 0 or max(np.ptp(ys), np.ptp(xs)) < GAP_MIN_EXTENT * height
    if rng.random() < GAP_P and not small:  # a gap would cut a dot or a comma in two
        gaps = np.ones((h, w), np.float32)
        for _ in range(int(rng.integers(GAPS[0], GAPS[1] + 1))):
            x, y = rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h
            t = rng.uniform(0, np.pi)
            r = 0.3 * height
            p0 = (int(x - r * np.cos(t)), int(y - r * np.sin(t)))
            p1 = (int(x + r * np.cos(t)), int(y + r * np.sin(t)))
            cv2.line(gaps, p0, p1, 0.0, max(1, int(round(rng.uniform(*GAP_WIDTH) * height))))
        out *= gaps
    sigma = rng.uniform(*BLUR_SIGMA)
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


_K3 = np.ones((3, 3), np.uint8)


def render_one(path: str, text: str, rng: np.random.Generator, vary: bool = True
               ) -> np.ndarray | None:
    """One normalised 28x28 patch of `text` in the font at `path`, or None when the font lacks
    a character or the ink comes out empty."""
    if not _has_text(path, text):
        return None
    height = rng.uniform(*GLYPH_HEIGHT) if vary else float(np.mean(GLYPH_HEIGHT))
    stroke = 0
    if vary and rng.random() < THICKEN_P:
        stroke = int(round(rng.uniform(*THICKEN) * height))
    ink = _draw(path, text, height, stroke)
    if vary:
        if stroke == 0 and rng.random() < THIN_P:
            if stroke_width((ink > MASK_LEVEL).astype(np.uint8)) - 2 >= THIN_MIN_STROKE:
                ink = cv2.erode(ink, _K3)
        ink = _warp(ink, height, rng)
        ink = _pen(ink, height, rng)
    mask = (ink > MASK_LEVEL).astype(np.uint8)
    if cv2.countNonZero(mask) < MIN_INK_PX:
        return None
    patch = normalize(ink, mask)
    return patch if patch.any() else None


def render(chars: str | Sequence[str], n: int, rng: np.random.Generator,
           families: Sequence[str], cache: str | None = None) -> Glyphs:
    """n glyphs: each a text drawn uniformly from `chars` (a string of characters, or a
    sequence of characters and words) in a font file drawn uniformly from all the files of
    `families`. Digits and separators get their class index, everything else classes.JUNK."""
    texts = list(chars)
    if not texts:
        raise ValueError("no characters to render")
    names = tuple(families)
    if not names:
        raise ValueError("no font families given")
    files = [(i, p) for i, fam in enumerate(names) for p in font_files(fam, cache)]
    images = np.zeros((n, 28, 28), np.uint8)
    labels = np.zeros(n, np.int64)
    drawn = np.empty(n, object)
    fam_idx = np.zeros(n, np.int64)
    k = tries = 0
    while k < n:
        tries += 1
        if tries > MAX_TRIES_PER_GLYPH * max(n, 1):
            raise RuntimeError(f"rendered only {k} of {n} glyphs: the fonts lack most of {texts!r}")
        text = texts[int(rng.integers(len(texts)))]
        fi, path = files[int(rng.integers(len(files)))]
        patch = render_one(path, text, rng)
        if patch is None:
            continue
        images[k], labels[k], drawn[k], fam_idx[k] = patch, label_of(text), text, fi
        k += 1
    return Glyphs(images=images, labels=labels, chars=drawn, family=fam_idx, names=names)


# ---------------------------------------------------------------- contact sheet

SHEET_LETTERS = "AEhkmx"
SHEET_WORDS = ("Tel", "mob", "Anna")


def contact_sheet(names: Sequence[str], rng: np.random.Generator, cache: str | None = None,
                  vary: bool = True, scale: int = 2) -> np.ndarray:
    """A uint8 image: one row per family, its name then a patch per digit, separator and a few
    letters and words (blank where the font lacks one), dark ink on white for reading."""
    from PIL import Image, ImageDraw
    cols = list(DIGITS) + list(SEPARATORS) + list(SHEET_LETTERS) + list(SHEET_WORDS)
    cell, label_w = 28 * scale + 4, 170
    sheet = Image.new("L", (label_w + cell * len(cols), cell * len(names)), 255)
    draw = ImageDraw.Draw(sheet)
    for r, fam in enumerate(names):
        files = font_files(fam, cache)
        draw.text((4, r * cell + cell // 2 - 6), fam, fill=0)
        for c, text in enumerate(cols):
            path = files[int(rng.integers(len(files)))] if vary else files[0]
            patch = None
            for _ in range(5):
                patch = render_one(path, text, rng, vary=vary)
                if patch is not None:
                    break
            if patch is None:
                continue
            tile = Image.fromarray(255 - patch).resize((28 * scale, 28 * scale), Image.NEAREST)
            sheet.paste(tile, (label_w + c * cell + 2, r * cell + 2))
    return np.asarray(sheet)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheet", required=True, help="PNG to write")
    ap.add_argument("--split", default="all", choices=SPLITS + ("all",))
    ap.add_argument("--families", help="comma-separated families (default: those of --split)")
    ap.add_argument("--plain", action="store_true", help="no random variation")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--cache", help=f"fonts cache folder (default ${ENV_VAR} or the user cache)")
    args = ap.parse_args(argv)
    names = args.families.split(",") if args.families else families(args.split)
    img = contact_sheet(names, np.random.default_rng(args.seed), args.cache,
                        vary=not args.plain, scale=args.scale)
    cv2.imwrite(args.sheet, img)
    print(f"{args.sheet}: {len(names)} families", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
