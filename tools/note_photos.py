#!/usr/bin/env python3
"""Synthetic phone photos of handwritten phone numbers on notes: a second, independent renderer.

tools/synth_photos.py is the project's first photo renderer. This one was written separately,
without reference to it, with its own layouts, pens, paper, tables, lighting and camera code, so
that a choice made on photos of the first (a threshold, a model, a rule of the reader) can be
checked on photos of another. Several of the reader's rules, and the doubt threshold's rule
(tools/bench_risk.py), are now chosen on the validation photos of both renderers (docs/reader.md
names the sets); what no choice is made on is its test-digit photos and its held-out
handwriting font families (source="fonts"), which are reported beside every choice.

Each photo (1280x960, sometimes 960x1280) shows a note lying on a table, seen by a hand-held
phone: a phone number of 7 to 13 digits in a national or international grouping, written in
one pen, optionally after a handwritten label word ("Tel.", "mob", "Anna"...).

  digits      MNIST digits of one split (default the test set; "valid" = training images
              50,000..59,999; "train" = 0..49,999), or with source="fonts" the digits of the
              handwriting font families that training/fonts.json holds out from training.
              Each glyph is reduced to its centre line plus local stroke width and redrawn with
              the photo's pen, so digits, separators and the label share one pen.
  separators  "- . / ( ) +" drawn as pen strokes; spaces as gaps. Some neighbours touch.
  label       a word from a handwriting font of a TRAINING family, or of a held-out one with
              --label-fonts heldout (needs the fonts cache of tools/fetch_fonts.py; without
              it the label is left out and meta says why).
  paper       sticky note, grid paper, lined paper, torn notebook page, envelope, business
              card; fibre texture, creases, ruled lines near or through the writing.
  pens        ballpoint, felt-tip, pencil, gel pen; width and darkness vary along strokes.
  scene       wood, dark, light or cloth table; perspective tilt up to 25 degrees, rotation up
              to 15 (any angle with any_rotation=True); light gradient, a hard shadow edge,
              white balance, vignetting, defocus or motion blur, sensor noise, JPEG 60-95.
  hard        smaller writing, stronger shadows and blur, more pencil, more touching digits,
              lower JPEG quality (50-80), ruled lines through the digits more often.

All randomness comes from one np.random.default_rng(seed): the same arguments give the same
JPEG bytes.

    python tools/note_photos.py --out DIR --n 20 --seed 0 [--hard] [--split valid]
        [--source fonts] [--label 0.5] [--any-rotation]

writes DIR/00000.jpg ... and DIR/labels.csv (file, digits, text, label, boxes as JSON).
MNIST is read from $EDGEDIGITS_DATA (python tools/fetch_mnist.py); fonts from the fonts cache
(python tools/fetch_fonts.py). Needs numpy, OpenCV and Pillow.

    sys.path.insert(0, "tools"); import note_photos
    for ph in note_photos.make_photos(100, seed=1):   # ph.jpeg, ph.digits, ph.text, ph.boxes, ph.meta
        reading = edgedigits.read_number(ph.jpeg)
"""
from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import math
import os
import sys
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from training import mnist  # noqa: E402

SOURCES = ("mnist", "fonts")
SPLITS = ("test", "valid", "train")
FONT_SPLITS = ("train", "heldout")
FRAME = (1280, 960)  # landscape width, height
PORTRAIT_P = 0.25
FETCH_FONTS_HINT = "python tools/fetch_fonts.py"

# Phone number layouts: "d" any digit, "n" a digit 1-9, everything else written as is.
# "run" layouts are plain digit runs of the given length range.
LAYOUTS = (
    ("06 dd dd dd dd", 3.0),     # NL mobile in pairs
    ("06-dddddddd", 2.0),
    ("06dd-dddddd", 1.5),        # 0612-345678
    ("+31 6 dddd dddd", 2.0),
    ("+31 (0)6 dddddddd", 0.7),
    ("0nd-ddddddd", 1.5),        # 020-5551234
    ("(0nd) ddd dddd", 1.5),     # (020) 555 1234
    ("0nd/ddddddd", 1.2),        # 030/1234567
    ("0ndd ddd dddd", 1.2),      # 0171 234 5678
    ("0ndd-dddddd", 1.0),
    ("nnd-dddd", 1.5),           # 555-0199
    ("nnd dddd", 0.8),
    ("dd.dd.dd.dd.dd", 1.2),     # FR
    ("0n dd dd dd dd", 1.0),
    ("+33 n dd dd dd dd", 0.7),
    ("+49 ndd ddddddd", 0.8),
    ("+44 nddd dddddd", 0.8),
    ("+32 ndd dd dd dd", 0.7),
    ("(ndd) ddd-dddd", 1.0),     # US
    ("ndd.ddd.dddd", 0.6),
    ("0nd - ddd dd dd", 0.6),    # SE
    ("0dddd dddddd", 0.6),
    ("run:7-11", 2.5),           # plain runs
)
LABEL_WORDS = ("Tel.", "tel:", "Tel", "tel", "mob", "Mob.", "werk", "thuis", "Anna", "Dr. Smit",
               "Piet", "tandarts", "GSM", "Handy", "cell", "home", "work", "Oma", "Karin:",
               "garage", "Fax", "Jan", "Mw. Bakker", "kapper")

PAPERS = ("sticky", "grid", "lined", "torn", "envelope", "card")
PAPER_P = {False: (0.28, 0.15, 0.15, 0.14, 0.12, 0.16), True: (0.2, 0.25, 0.25, 0.12, 0.08, 0.1)}
PENS = ("ballpoint", "felt", "pencil", "gel")
PEN_P = {False: (0.45, 0.2, 0.12, 0.23), True: (0.4, 0.12, 0.3, 0.18)}
TABLES = ("wood", "dark", "light", "cloth")
TABLE_P = (0.4, 0.2, 0.2, 0.2)

# Pen ink as transmittance per RGB channel (multiplied into the paper), width as a share of the
# digit height, darkness range along strokes, width variation along strokes.
INKS = {
    "ballpoint": {"blue": (0.16, 0.22, 0.58), "black": (0.2, 0.2, 0.24), "darkblue": (0.12, 0.14, 0.38)},
    "felt": {"black": (0.07, 0.07, 0.08), "blue": (0.06, 0.16, 0.55), "red": (0.72, 0.1, 0.12),
             "green": (0.1, 0.42, 0.2)},
    "pencil": {"graphite": (0.42, 0.42, 0.45)},
    "gel": {"black": (0.08, 0.08, 0.1), "blue": (0.1, 0.16, 0.52), "purple": (0.32, 0.14, 0.46)},
}
INK_P = {"ballpoint": (0.55, 0.3, 0.15), "felt": (0.55, 0.25, 0.08, 0.12),
         "pencil": (1.0,), "gel": (0.5, 0.35, 0.15)}
PEN_WIDTH = {"ballpoint": (0.04, 0.065), "felt": (0.09, 0.15), "pencil": (0.04, 0.07),
             "gel": (0.05, 0.08)}
PEN_DARK = {"ballpoint": (0.55, 1.0), "felt": (0.88, 1.0), "pencil": (0.45, 0.8),
            "gel": (0.85, 1.0)}
PEN_PRESSURE = {"ballpoint": 0.25, "felt": 0.08, "pencil": 0.3, "gel": 0.12}
MIN_PEN_RADIUS = 0.75  # px

DIGIT_HEIGHT = {False: (38.0, 110.0), True: (35.0, 72.0)}  # px in the photo, log-uniform
WORK_HEIGHT = 80.0  # px: glyphs are reduced to centre lines at this height
SUB = 16  # cv2 drawing sub-pixel factor (shift=4)


class FontsUnavailable(RuntimeError):
    """The fonts cache (tools/fetch_fonts.py) is absent or incomplete."""


@dataclass
class NotePhoto:
    jpeg: bytes  # encoded photo
    digits: str  # ground-truth digits in reading order
    text: str  # the number as written, with separators
    label: str  # the label word written before it ("" if none)
    boxes: list = field(default_factory=list)  # per digit (x, y, w, h) in the photo
    meta: dict = field(default_factory=dict)  # paper, pen, source, rotation, ...


# ---------------------------------------------------------------- data sources

@functools.lru_cache(maxsize=4)
def _mnist_split(folder: str, split: str):
    """(images, labels, offset of the split's first image in its IDX file, per-label indices)."""
    if split == "test":
        s, offset = mnist.load_test(folder), 0
    else:
        m = mnist.load(folder)
        s, offset = (m.valid, mnist.N_TRAIN_ALL - mnist.N_VALID) if split == "valid" else (m.train, 0)
    by_label = tuple(np.flatnonzero(s.labels == d) for d in range(10))
    return s.images, s.labels, offset, by_label


def _font_files(split: str) -> list[tuple[str, str]]:
    """(family, .woff path) of every font of a fonts.json split; FontsUnavailable without the cache."""
    return list(_font_files_cached(split, os.environ.get("EDGEDIGITS_FONTS", "")))


@functools.lru_cache(maxsize=8)
def _font_files_cached(split: str, _env: str) -> tuple:
    from training import fonts
    out = []
    try:
        for fam in fonts.families(split):
            out += [(fam, p) for p in fonts.font_files(fam)]
    except (FileNotFoundError, fonts.FontCacheError) as exc:
        hint = "" if FETCH_FONTS_HINT in str(exc) else f"; run `{FETCH_FONTS_HINT}`"
        raise FontsUnavailable(f"fonts cache absent or incomplete: {exc}{hint}") from None
    if not out:
        raise FontsUnavailable(f"no {split} font files; run `{FETCH_FONTS_HINT}`")
    return tuple(out)


def fonts_available() -> tuple[bool, str]:
    """(True, "") when the held-out and training fonts are cached, else (False, why)."""
    try:
        _font_files("heldout")
        _font_files("train")
    except FontsUnavailable as exc:
        return False, str(exc)
    return True, ""


@functools.lru_cache(maxsize=256)
def _pil_font(path: str, size: int):
    from PIL import ImageFont
    with open(path, "rb") as f:
        return ImageFont.truetype(io.BytesIO(f.read()), size)


@functools.lru_cache(maxsize=4096)
def _font_has(path: str, ch: str) -> bool:
    """False where the font draws nothing for ch or its .notdef box."""
    if ch == " ":
        return True
    font = _pil_font(path, 64)
    m = font.getmask(ch)
    if m.size[0] == 0 or m.size[1] == 0 or not any(bytes(m)):
        return False
    n = font.getmask("\U0010fffd")
    return (m.size, bytes(m)) != (n.size, bytes(n))


@functools.lru_cache(maxsize=256)
def _eight_height(path: str) -> float:
    box = _pil_font(path, 100).getbbox("8", anchor="ls")
    return max(box[3] - box[1], 1) / 100.0


# ---------------------------------------------------------------- glyph shapes

def _thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel centre lines."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            c = img[1:-1, 1:-1]
            n = (img[:-2, 1:-1], img[:-2, 2:], img[1:-1, 2:], img[2:, 2:],
                 img[2:, 1:-1], img[2:, :-2], img[1:-1, :-2], img[:-2, :-2])
            b = sum(x.astype(np.int16) for x in n)
            a = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(np.int16) for i in range(8))
            if step == 0:
                m = ((n[0] & n[2] & n[4]) == 0) & ((n[2] & n[4] & n[6]) == 0)
            else:
                m = ((n[0] & n[2] & n[6]) == 0) & ((n[0] & n[4] & n[6]) == 0)
            rem = (c == 1) & (b >= 2) & (b <= 6) & (a == 1) & m
            if rem.any():
                c[rem] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)


@dataclass
class _Shape:
    """A glyph as centre-line points with local half stroke width, in work px."""
    pts: np.ndarray  # (N, 2) x, y
    half: np.ndarray  # (N,)
    med: float  # median half width
    base: float  # baseline y
    height: float  # reference height (digit height)


def _shape(gray: np.ndarray, base: float, height: float) -> _Shape:
    g = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 1.0)
    mask = g > 0.42
    if not mask.any():
        mask = gray > 0.2
    skel = _thin(mask)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.nonzero(skel)
    half = dist[ys, xs].astype(np.float32)
    pts = np.stack([xs, ys], 1).astype(np.float32)
    med = float(np.median(half)) if half.size else 1.0
    return _Shape(pts, half, med, float(base), float(height))


def _mnist_shape(img28: np.ndarray) -> _Shape:
    a = img28.astype(np.float32) / 255.0
    ys, xs = np.nonzero(a > 0.2)
    crop = a[max(ys.min() - 1, 0):ys.max() + 2, max(xs.min() - 1, 0):xs.max() + 2]
    up = cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    up = np.pad(np.clip(up, 0, 1), 3)
    rows = np.nonzero((up > 0.42).any(1))[0]
    top, bottom = (rows[0], rows[-1]) if rows.size else (0, up.shape[0] - 1)
    return _shape(up, base=bottom, height=max(bottom - top, 8))


def _font_shape(path: str, text: str) -> _Shape:
    from PIL import Image, ImageDraw
    size = max(8, int(round(WORK_HEIGHT / _eight_height(path))))
    font = _pil_font(path, size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    pad = 6
    img = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 0)
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, fill=255, font=font, anchor="ls")
    return _shape(np.asarray(img, np.float32) / 255.0, base=pad - y0, height=WORK_HEIGHT)


# ---------------------------------------------------------------- drawing with the pen

def _stamp(pts: np.ndarray, radii: np.ndarray):
    """Disks of the given radii at the points (px): float coverage, and the canvas origin (x, y)."""
    if len(pts) == 0:
        return np.zeros((1, 1), np.float32), (0.0, 0.0)
    r = np.maximum(radii, 0.4)
    x0 = math.floor(float((pts[:, 0] - r).min())) - 2
    y0 = math.floor(float((pts[:, 1] - r).min())) - 2
    x1 = math.ceil(float((pts[:, 0] + r).max())) + 2
    y1 = math.ceil(float((pts[:, 1] + r).max())) + 2
    canvas = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cx = np.round((pts[:, 0] - x0) * SUB).astype(np.int64)
    cy = np.round((pts[:, 1] - y0) * SUB).astype(np.int64)
    cr = np.round(r * SUB).astype(np.int64)
    for x, y, rr in zip(cx.tolist(), cy.tolist(), cr.tolist()):
        cv2.circle(canvas, (x, y), rr, 255, -1, cv2.LINE_AA, 4)
    return canvas.astype(np.float32) / 255.0, (float(x0), float(y0))


def _resample(poly: np.ndarray, step: float) -> np.ndarray:
    """Points every `step` px along a polyline."""
    seg = np.diff(poly, axis=0)
    lens = np.hypot(seg[:, 0], seg[:, 1])
    total = float(lens.sum())
    if total < 1e-6:
        return poly[:1].copy()
    t = np.linspace(0.0, total, max(2, int(total / step) + 1))
    cum = np.concatenate([[0.0], np.cumsum(lens)])
    x = np.interp(t, cum, poly[:, 0])
    y = np.interp(t, cum, poly[:, 1])
    return np.stack([x, y], 1)


@dataclass
class _Pen:
    kind: str
    ink: str
    colour: tuple
    radius: float  # px
    pressure: float  # relative width variation
    dark: tuple  # darkness range


def _pressure(pts: np.ndarray, amp: float, wave: float, ph: np.ndarray) -> np.ndarray:
    return 1.0 + amp * np.sin(pts[:, 0] / wave + ph[0]) * np.cos(pts[:, 1] / wave * 1.3 + ph[1])


def _draw_shape(shape: _Shape, g: dict, H: float, pen: _Pen) -> tuple[np.ndarray, float]:
    """Redraw a shape with the pen at digit height H (px) with the glyph's drawn parameters g."""
    s = H * g["size"] / shape.height
    p = shape.pts.copy()
    if len(p) == 0:
        return np.zeros((1, 1), np.float32), 0.0
    # smooth elastic displacement, in work px
    e = g["elastic"] * shape.height
    k = g["ek"] / shape.height
    p[:, 0] += e * np.sin(p[:, 1] * k[0] + g["eph"][0]) * np.cos(p[:, 0] * k[1] + g["eph"][1])
    p[:, 1] += e * np.sin(p[:, 0] * k[2] + g["eph"][2]) * np.cos(p[:, 1] * k[3] + g["eph"][3])
    x = p[:, 0] * s * g["sx"]
    y = (p[:, 1] - shape.base) * s
    x = x - g["slant"] * y  # y < 0 above the baseline: positive slant leans right
    c, sn = math.cos(g["rot"]), math.sin(g["rot"])
    xr, yr = c * x + sn * y, -sn * x + c * y
    pts = np.stack([xr, yr], 1)
    blob = np.maximum(shape.half - 1.3 * shape.med, 0.0) * s
    radii = pen.radius * _pressure(pts, pen.pressure, H * 0.25, g["pph"]) + blob
    cov, (x0, y0) = _stamp(pts, radii)
    return cov, -y0


def _separator(ch: str, g: dict, H: float, pen: _Pen) -> tuple[np.ndarray, float]:
    """Pen strokes of a separator, baseline at y = 0, x from 0; each stroke a wobbly polyline."""
    w = g["w"]  # four numbers in [0, 1): this separator's own proportions
    strokes = []
    if ch == "-":
        ln, yc = H * (0.3 + 0.25 * w[0]), -H * (0.36 + 0.18 * w[1])
        xs = np.linspace(0, ln, 6)
        strokes.append(np.stack([xs, yc + xs * 0.16 * (w[2] - 0.5)
                                 + H * 0.05 * (w[3] - 0.5) * np.sin(xs / max(ln, 1) * np.pi)], 1))
    elif ch == ".":
        d = H * 0.04 * (0.5 + w[0])
        strokes.append(np.array([[0, -pen.radius * 1.2], [d, -pen.radius * 1.2 - d * (w[2] - 0.5)]]))
    elif ch == "/":
        strokes.append(np.array([[0, H * 0.06 * (0.5 + w[0])],
                                 [H * (0.25 + 0.35 * w[1]), -H * (1.0 + 0.12 * w[2])]]))
    elif ch in "()":
        t = np.linspace(-1.0, 1.0, 12)
        ry = H * (0.62 + 0.08 * w[1])
        rx = H * (0.18 + 0.12 * w[0])
        xs = rx * (1 - np.cos(t * 1.1)) if ch == "(" else rx * np.cos(t * 1.1)
        ys = -H * (0.43 + 0.06 * w[2]) + ry * np.sin(t * 1.1)
        strokes.append(np.stack([xs - xs.min(), ys], 1))
    elif ch == "+":
        a = H * (0.42 + 0.2 * w[0])
        yc = -H * (0.4 + 0.12 * w[1])
        tl = 0.08 * (w[2] - 0.5)
        strokes.append(np.array([[0, yc + a * tl], [a, yc - a * tl]]))
        strokes.append(np.array([[a * (0.5 + 0.1 * (w[3] - 0.5)), yc - a / 2], [a * 0.5, yc + a / 2]]))
    else:
        raise ValueError(f"no stroke for separator {ch!r}")
    pts = []
    for i, st in enumerate(strokes):
        q = _resample(st.astype(np.float64), 0.4)
        wob = g["wobble"][i % 2]
        q[:, 1] += H * 0.012 * np.sin(np.arange(len(q)) * 0.15 + wob)
        q[:, 0] += H * 0.010 * np.sin(np.arange(len(q)) * 0.11 + 2 * wob)
        pts.append(q)
    p = np.concatenate(pts).astype(np.float32)
    radii = pen.radius * _pressure(p, pen.pressure, H * 0.25, g["pph"]) * 1.05
    cov, (x0, y0) = _stamp(p, radii)
    return cov, -y0


# ---------------------------------------------------------------- number text

def _number(rng: np.random.Generator) -> tuple[str, str]:
    names = [l for l, _ in LAYOUTS]
    w = np.array([p for _, p in LAYOUTS])
    layout = names[int(rng.choice(len(names), p=w / w.sum()))]
    if layout.startswith("run:"):
        lo, hi = (int(v) for v in layout[4:].split("-"))
        k = int(rng.integers(lo, hi + 1))
        first = "0" if rng.random() < 0.6 else str(int(rng.integers(1, 10)))
        pattern = first + "d" * (k - 1)
    else:
        pattern = layout
    out = []
    for ch in pattern:
        if ch == "d":
            out.append(str(int(rng.integers(0, 10))))
        elif ch == "n":
            out.append(str(int(rng.integers(1, 10))))
        else:
            out.append(ch)
    return "".join(out), layout


# ---------------------------------------------------------------- noise helpers

def _smooth(rng, h: int, w: int, cy: int, cx: int) -> np.ndarray:
    g = rng.standard_normal((max(cy, 2), max(cx, 2)), dtype=np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def _fine(rng, h: int, w: int, sigma: float = 0.0) -> np.ndarray:
    n = rng.standard_normal((h, w), dtype=np.float32)
    return cv2.GaussianBlur(n, (0, 0), sigma) if sigma > 0 else n


def _rot_field(field_: np.ndarray, angle: float, w: int, h: int, scale: float) -> np.ndarray:
    """Rotate a square field about its centre onto a (h, w) frame, scaled up by `scale`."""
    side = field_.shape[0]
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
    m[0, 2] += w / 2 - side / 2
    m[1, 2] += h / 2 - side / 2
    return cv2.warpAffine(field_, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


# ---------------------------------------------------------------- tables

def _table(rng, w: int, h: int, kind: str) -> np.ndarray:
    side = int(math.hypot(w, h) / 2) + 8
    ang = float(rng.uniform(0, 180))
    if kind == "wood":
        woods = [((0.74, 0.56, 0.37), (0.58, 0.40, 0.24)), ((0.38, 0.25, 0.16), (0.24, 0.15, 0.09)),
                 ((0.86, 0.71, 0.51), (0.74, 0.57, 0.37)), ((0.62, 0.58, 0.53), (0.47, 0.44, 0.40)),
                 ((0.55, 0.33, 0.20), (0.40, 0.22, 0.13))]
        light, dark = (np.array(c, np.float32) for c in woods[int(rng.integers(len(woods)))])
        ys = np.arange(side, dtype=np.float32)[:, None]
        warp = _smooth(rng, side, side, 5, 5) * float(rng.uniform(6, 20))
        period = float(rng.uniform(4, 12))
        rings = np.sin(2 * np.pi * (ys + warp) / period)
        streak = cv2.resize(rng.standard_normal((side // 2, 12), dtype=np.float32), (side, side),
                            interpolation=cv2.INTER_LINEAR)
        t = 0.5 + 0.22 * rings + 0.25 * streak
        plank = float(rng.uniform(250, 900))  # half-res px: boards 10-20 cm wide
        seam = np.abs(((ys + warp * 0.2) % plank) - plank / 2) > plank / 2 - 0.8
        t = np.where(seam, -0.6, t)
        t = _rot_field(np.clip(t, -0.8, 1.2).astype(np.float32), ang, w, h, 2.0)
        img = dark + (light - dark) * t[..., None]
    elif kind == "dark":
        tint = np.array([1, rng.uniform(0.95, 1.05), rng.uniform(0.95, 1.15)])
        base = np.array(rng.uniform(0.06, 0.2) * tint, np.float32)
        img = base * (1 + 0.15 * _smooth(rng, h, w, 3, 4)[..., None])
        img = img + (rng.uniform(0.0, 0.12) * np.exp(-_blob(rng, w, h)))[..., None]
    elif kind == "light":
        tones = [(0.9, 0.9, 0.88), (0.84, 0.83, 0.8), (0.86, 0.8, 0.7), (0.78, 0.8, 0.82)]
        base = np.array(tones[int(rng.integers(len(tones)))], np.float32) * float(rng.uniform(0.9, 1.03))
        img = base * (1 + 0.03 * _smooth(rng, h, w, 4, 5))[..., None]
        if rng.random() < 0.5:  # speckled laminate / stone
            sp = _fine(rng, h, w, 0.8)
            img = img * (1 - 0.25 * np.clip(sp - 1.6, 0, 1))[..., None]
    else:  # cloth
        palette = [(0.75, 0.12, 0.12), (0.12, 0.25, 0.6), (0.15, 0.45, 0.2), (0.85, 0.6, 0.1),
                   (0.4, 0.15, 0.4)]
        col = np.array(palette[int(rng.integers(len(palette)))], np.float32)
        white = np.array((0.93, 0.92, 0.88), np.float32)
        ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
        pattern = int(rng.integers(4))
        per = float(rng.uniform(8, 24))
        if pattern == 0:  # gingham
            sx = (np.sin(2 * np.pi * xs / per) > 0).astype(np.float32)
            sy = (np.sin(2 * np.pi * ys / per) > 0).astype(np.float32)
            t = 0.45 * (sx + sy)
        elif pattern == 1:  # stripes
            t = (np.sin(2 * np.pi * ys / per) > 0.3).astype(np.float32) * 0.9
        elif pattern == 2:  # dots
            t = ((((xs % per) - per / 2) ** 2 + ((ys % per) - per / 2) ** 2) < (per * 0.25) ** 2
                 ).astype(np.float32)
        else:  # blotchy print
            t = np.clip((_smooth(rng, side, side, side // 20, side // 20) - 0.3) * 3, 0, 1)
        t = cv2.GaussianBlur(t, (0, 0), 0.7)
        t = _rot_field(t, ang, w, h, 2.0)
        img = white + (col - white) * t[..., None]
        weave = 1 + 0.05 * np.sin(np.arange(w, dtype=np.float32) * 2.1)[None, :] * \
            np.sin(np.arange(h, dtype=np.float32) * 2.1)[:, None]
        img = img * weave[..., None]
    img = img * (1 + 0.02 * _fine(rng, h, w))[..., None]
    return np.clip(img, 0, 1).astype(np.float32)


def _blob(rng, w: int, h: int) -> np.ndarray:
    """Squared distance from a random point, in units of a random radius (for reflections)."""
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(0.2, 0.6) * max(w, h)
    xs = (np.arange(w, dtype=np.float32) - cx) / r
    ys = (np.arange(h, dtype=np.float32) - cy) / r
    return ys[:, None] ** 2 + xs[None, :] ** 2


# ---------------------------------------------------------------- paper

def _paper_colour(rng, paper: str) -> tuple[np.ndarray, str]:
    if paper == "sticky":
        cols = {"yellow": (1.0, 0.93, 0.52), "pink": (1.0, 0.74, 0.82), "blue": (0.67, 0.85, 0.98),
                "green": (0.78, 0.95, 0.6), "orange": (1.0, 0.8, 0.55)}
        names = list(cols)
        name = names[int(rng.choice(len(names), p=(0.45, 0.18, 0.14, 0.13, 0.1)))]
        base = np.array(cols[name], np.float32)
        base = np.clip(base * rng.uniform(0.94, 1.02) + rng.normal(0, 0.015, 3), 0, 1)
        return base.astype(np.float32), name
    if paper == "envelope" and rng.random() < 0.25:
        return np.array((0.84, 0.71, 0.52), np.float32) * float(rng.uniform(0.92, 1.04)), "kraft"
    tone = rng.uniform(0.93, 0.99)
    tint = rng.normal(0, 0.01, 3) + (0, 0, -rng.uniform(0, 0.04))
    return np.clip(tone + tint, 0, 1).astype(np.float32), "white"


def _note(rng, Wn: int, Hn: int, paper: str, base_y: float, text_x: tuple, H: float,
          hard: bool, info: dict) -> tuple[np.ndarray, np.ndarray]:
    """The blank note (RGB float, h x w) and its alpha, ruled relative to the writing's baseline."""
    colour, cname = _paper_colour(rng, paper)
    info["paper_colour"] = cname
    tex = 1 + 0.018 * _smooth(rng, Hn, Wn, 5, 5) + 0.01 * _fine(rng, Hn, Wn, 0.7)
    fib = np.zeros((Hn, Wn), np.float32)
    for _ in range(int(Wn * Hn / 2500)):
        x, y = rng.uniform(0, Wn), rng.uniform(0, Hn)
        a, ln = rng.uniform(0, np.pi), rng.uniform(3, 18)
        cv2.line(fib, (int(x), int(y)), (int(x + ln * np.cos(a)), int(y + ln * np.sin(a))),
                 float(rng.choice((-1.0, 1.0)) * rng.uniform(0.006, 0.02)), 1)
    tex += fib
    ys = np.arange(Hn, dtype=np.float32)[:, None]
    xs = np.arange(Wn, dtype=np.float32)[None, :]
    creases = int(rng.choice(3, p=(0.6, 0.3, 0.1))) if paper != "card" else 0
    for _ in range(creases):
        a = rng.uniform(0, np.pi)
        px, py = rng.uniform(0.2, 0.8) * Wn, rng.uniform(0.2, 0.8) * Hn
        d = (xs - px) * np.sin(a) - (ys - py) * np.cos(a)
        wdt = rng.uniform(6, 30)
        amp = rng.uniform(0.02, 0.07)
        tex += amp * np.tanh(d / wdt) * np.exp(-np.abs(d) / (3 * wdt)) - 0.04 * np.exp(-(d / 1.2) ** 2)
    info["creases"] = creases
    img = colour[None, None, :] * tex[..., None]
    alpha = np.ones((Hn, Wn), np.float32)

    ruling = "none"
    if paper in ("grid", "lined") or (paper == "torn" and rng.random() < 0.75):
        ruling = paper if paper != "torn" else ("lined" if rng.random() < 0.5 else "grid")
    if ruling != "none":
        rule_col = np.array((0.5, 0.66, 0.9) if rng.random() < 0.7 else (0.6, 0.6, 0.62), np.float32)
        contrast = rng.uniform(0.2, 0.45) if not hard else rng.uniform(0.3, 0.55)
        thick = 1 if rng.random() < (0.7 if not hard else 0.4) else 2
        rules = np.zeros((Hn, Wn), np.float32)
        if ruling == "lined":
            through = rng.random() < (0.2 if not hard else 0.5)
            sp = H * (rng.uniform(1.1, 1.7) if not through else rng.uniform(0.8, 1.25))
            off = -H * rng.uniform(0.25, 0.75) if through else H * rng.uniform(-0.08, 0.15)
            y = base_y + off
            y -= sp * math.floor(y / sp)
            while y < Hn:
                cv2.line(rules, (0, int(round(y * SUB))), (Wn * SUB, int(round(y * SUB))), 1.0, thick,
                         cv2.LINE_AA, 4)
                y += sp
            if rng.random() < 0.5:  # red margin line
                mx = rng.uniform(0.06, 0.14) * Wn
                if mx < text_x[0] - 0.2 * H or rng.random() < 0.3:
                    red = np.zeros((Hn, Wn), np.float32)
                    cv2.line(red, (int(mx * SUB), 0), (int(mx * SUB), Hn * SUB), 1.0, thick, cv2.LINE_AA, 4)
                    img *= (1 - 0.45 * red[..., None] * (1 - np.array((0.95, 0.4, 0.45), np.float32)))
            info["rule_spacing_px"] = round(float(sp), 1)
            info["rules_through_digits"] = bool(through)
        else:
            pitch = H * (rng.uniform(0.5, 1.0) if not hard else rng.uniform(0.42, 0.8))
            ox, oy = rng.uniform(0, pitch), rng.uniform(0, pitch)
            for k in range(int(Wn / pitch) + 2):
                x = ox + k * pitch
                cv2.line(rules, (int(x * SUB), 0), (int(x * SUB), Hn * SUB), 1.0, thick, cv2.LINE_AA, 4)
            for k in range(int(Hn / pitch) + 2):
                y = oy + k * pitch
                cv2.line(rules, (0, int(y * SUB)), (Wn * SUB, int(y * SUB)), 1.0, thick, cv2.LINE_AA, 4)
            info["grid_pitch_px"] = round(float(pitch), 1)
        img *= (1 - contrast * rules[..., None] * (1 - rule_col))
    info["ruling"] = ruling

    if paper == "torn":
        side = int(rng.integers(4))
        along = Wn if side in (0, 2) else Hn
        walk = np.cumsum(rng.normal(0, 1.0, along))
        walk -= np.linspace(walk[0], walk[-1], along)
        depth = rng.uniform(4, 14) + walk * rng.uniform(0.3, 0.8) + rng.uniform(0, 3, along)
        depth = np.clip(depth, 1, 40).astype(np.float32)
        if side == 0:
            d = np.broadcast_to(ys, (Hn, Wn)) - depth[None, :]
        elif side == 2:
            d = (Hn - 1 - np.broadcast_to(ys, (Hn, Wn))) - depth[None, :]
        elif side == 1:
            d = np.broadcast_to(xs, (Hn, Wn)) - depth[:, None]
        else:
            d = (Wn - 1 - np.broadcast_to(xs, (Hn, Wn))) - depth[:, None]
        alpha = np.clip(d + 0.5, 0, 1).astype(np.float32)
        fringe = np.clip(1 - np.abs(d - 2) / 3, 0, 1) * 0.12
        img = img + fringe[..., None] * (1 - img)
        info["torn_side"] = ("top", "left", "bottom", "right")[side]
    elif paper == "envelope" and rng.random() < 0.6:  # the back flap's edges
        apex = (Wn / 2 + rng.normal(0, 0.03 * Wn), Hn * rng.uniform(0.45, 0.62))
        flap = np.zeros((Hn, Wn), np.float32)
        for cx in (0, Wn):
            cv2.line(flap, (int(cx * SUB), 0), (int(apex[0] * SUB), int(apex[1] * SUB)), 1.0, 2,
                     cv2.LINE_AA, 4)
        flap = cv2.GaussianBlur(flap, (0, 0), 1.5)
        img *= (1 - 0.25 * flap)[..., None]
    elif paper == "card":
        r = int(rng.uniform(0, 0.04) * min(Wn, Hn))
        if r > 1:
            for cx, cy in ((r, r), (Wn - 1 - r, r), (r, Hn - 1 - r), (Wn - 1 - r, Hn - 1 - r)):
                qx = slice(0, r) if cx == r else slice(Wn - r, Wn)
                qy = slice(0, r) if cy == r else slice(Hn - r, Hn)
                dd = np.hypot(xs[:, qx] - cx, ys[qy, :] - cy)
                alpha[qy, qx] = np.clip(r - dd + 0.5, 0, 1)
    elif paper == "sticky" and rng.random() < 0.5:  # the free end curls: a little darker
        curl = np.clip((ys / Hn - 0.8) / 0.2, 0, 1) ** 2 * rng.uniform(0.03, 0.1)
        img *= (1 - curl)[..., None]
    return np.clip(img, 0, 1).astype(np.float32), alpha


def _card_print(rng, img: np.ndarray, band: tuple[int, int]) -> None:
    """Printed letters (no digits) in a band of a business card, in place."""
    words = ["Bakkerij de Vries", "J. Jansen", "Atelier Noord", "Consultancy", "Fietsenmaker",
             "M. van Dijk", "Garage Ruiters", "Studio Lamp"]
    Hn, Wn = img.shape[:2]
    txt = words[int(rng.integers(len(words)))]
    scale = (band[1] - band[0]) / 90.0
    ink8 = np.zeros((Hn, Wn), np.uint8)
    y = int(band[0] + (band[1] - band[0]) * 0.55)
    cv2.putText(ink8, txt, (int(0.08 * Wn), y), cv2.FONT_HERSHEY_DUPLEX, max(scale, 0.3), 255,
                max(1, int(scale * 1.5)), cv2.LINE_AA)
    ink = ink8.astype(np.float32) / 255.0
    col = np.array((0.3, 0.3, 0.32) if rng.random() < 0.6 else (0.15, 0.3, 0.6), np.float32)
    img *= (1 - ink[..., None] * (1 - col))


# ---------------------------------------------------------------- camera

def _rodrigues(axis, angle: float) -> np.ndarray:
    r, _ = cv2.Rodrigues(np.asarray(axis, np.float64).reshape(3, 1) * angle)
    return r


def _homography(Wn, Hn, fw, fh, f, tilt, azim, roll, zoom, u0, v0) -> np.ndarray:
    """Note px -> photo px for a flat note seen by a pinhole camera (focal length f px)."""
    rz = np.array([[math.cos(roll), math.sin(roll), 0], [-math.sin(roll), math.cos(roll), 0],
                   [0, 0, 1]])
    rt = _rodrigues((math.cos(azim), math.sin(azim), 0.0), tilt)
    R = rz @ rt
    D = f / zoom
    T = np.array([(u0 - fw / 2) * D / f, (v0 - fh / 2) * D / f, D])
    src = np.array([[0, 0], [Wn, 0], [Wn, Hn], [0, Hn]], np.float32)
    dst = []
    for x, y in src:
        P = R @ np.array([x - Wn / 2, y - Hn / 2, 0.0]) + T
        dst.append((f * P[0] / P[2] + fw / 2, f * P[1] / P[2] + fh / 2))
    return cv2.getPerspectiveTransform(src, np.array(dst, np.float32))


def _map(Hm: np.ndarray, pts) -> np.ndarray:
    p = np.asarray(pts, np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(p, Hm).reshape(-1, 2)


def _note_fraction(Hm, Wn, Hn, fw, fh) -> float:
    q = _map(Hm, [[0, 0], [Wn, 0], [Wn, Hn], [0, Hn]]) / 8.0
    m = np.zeros((fh // 8, fw // 8), np.uint8)
    cv2.fillConvexPoly(m, np.round(q * 16).astype(np.int32), 1, cv2.LINE_8, 4)
    return float(m.mean())


def _similar(scale: float, cx: float, cy: float, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    return np.array([[scale, 0, cx - scale * cx + dx], [0, scale, cy - scale * cy + dy], [0, 0, 1]])


# ---------------------------------------------------------------- lighting and camera effects

def _shadow_mask(rng, fw, fh, target: tuple[float, float]) -> tuple[np.ndarray, str]:
    """Where a shadow falls (0..1): a straight or gently curved edge, a phone, or a hand."""
    xs = np.arange(fw, dtype=np.float32)[None, :]
    ys = np.arange(fh, dtype=np.float32)[:, None]
    kind = str(rng.choice(("edge", "phone", "hand"), p=(0.5, 0.3, 0.2)))
    soft = float(rng.uniform(1.0, 6.0) if rng.random() < 0.6 else rng.uniform(6, 18))
    if kind == "edge":
        a = rng.uniform(0, 2 * np.pi)
        nx, ny = math.cos(a), math.sin(a)
        k = rng.uniform(-1, 1) / max(fw, fh)
        dx, dy = xs - target[0], ys - target[1]
        d = dx * nx + dy * ny + k * (dx * -ny + dy * nx) ** 2 * 0.5
        return (0.5 * (1 - np.tanh(d / soft))).astype(np.float32), kind
    m = np.zeros((fh // 4, fw // 4), np.float32)
    if kind == "phone":
        a = rng.uniform(0, 180)
        wid, ln = rng.uniform(0.25, 0.45) * fw, 2.5 * max(fw, fh)
        c = np.array(target) + rng.normal(0, 1, 2) * wid * 0.3
        # the rectangle's near edge passes through the target; it extends off the frame
        ang = math.radians(a)
        u = np.array([math.cos(ang), math.sin(ang)])
        centre = c + u * (ln / 2)
        box = cv2.boxPoints(((float(centre[0]), float(centre[1])), (ln, wid), a)) / 4
        cv2.fillConvexPoly(m, np.round(box * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
    else:  # a hand: forearm from off the frame, palm, four fingers reaching towards the target
        a = math.radians(rng.uniform(0, 360))
        u = np.array([math.cos(a), math.sin(a)])  # from the target towards the wrist
        palm_w = rng.uniform(0.25, 0.4) * min(fw, fh)
        tips = np.array(target) + rng.normal(0, 1, 2) * 0.1 * palm_w
        finger = palm_w * rng.uniform(0.7, 0.95)
        palm_c = tips + u * (finger + palm_w * 0.45)
        wrist = palm_c + u * 3.0 * max(fw, fh)
        q = 16 / 4  # quarter resolution, 4 bits of sub-pixel

        def pt(p):
            return int(p[0] * q), int(p[1] * q)
        cv2.line(m, pt(palm_c), pt(wrist), 1.0, max(1, int(palm_w * 0.8 / 4)), cv2.LINE_AA, 4)
        cv2.ellipse(m, pt(palm_c), (int(palm_w * 0.55 * q), int(palm_w * 0.5 * q)),
                    math.degrees(a), 0, 360, 1.0, -1, cv2.LINE_AA, 4)
        side = np.array([-u[1], u[0]])
        spread = rng.uniform(0.0, 0.12)
        for j in range(4):
            off = (j - 1.5) * 0.24 * palm_w
            base = palm_c - u * palm_w * 0.3 + side * off
            d = -u + side * (j - 1.5) * spread
            d = d / np.hypot(*d)
            tip = base + d * finger * (1.0 - 0.12 * abs(j - 1.2))
            cv2.line(m, pt(base), pt(tip), 1.0, max(1, int(palm_w * 0.19 / 4)), cv2.LINE_AA, 4)
    m = cv2.GaussianBlur(m, (0, 0), max(soft / 4, 0.5))
    return cv2.resize(m, (fw, fh), interpolation=cv2.INTER_LINEAR), kind


def _blur_kernel(rng, hard: bool, digit_px: float) -> tuple[np.ndarray | None, dict]:
    """Motion (a short shake) or defocus (a disk), both kept small enough relative to the digit
    height that a person can still read the number."""
    if rng.random() < (0.2 if not hard else 0.4):
        ln = float(rng.uniform(2, 8) if not hard else rng.uniform(3, 11))
        ln = min(ln, (0.12 if not hard else 0.17) * digit_px)
        a = rng.uniform(0, np.pi)
        size = int(math.ceil(ln)) + 3
        big = np.zeros((size * 4, size * 4), np.float32)
        c = size * 2
        p0 = (int((c - 2 * ln * math.cos(a)) * SUB), int((c - 2 * ln * math.sin(a)) * SUB))
        p1 = (int((c + 2 * ln * math.cos(a)) * SUB), int((c + 2 * ln * math.sin(a)) * SUB))
        cv2.line(big, p0, p1, 1.0, 2, cv2.LINE_8, 4)
        k = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)
        return k / k.sum(), {"kind": "motion", "length_px": round(ln, 1)}
    r = float(rng.uniform(0, 0.9) if rng.random() < 0.6 else rng.uniform(0.9, 2.2))
    if hard:
        r = float(rng.uniform(0.8, 3.0))
    r = min(r, (0.04 if not hard else 0.06) * digit_px)
    if r < 0.4:
        return None, {"kind": "none"}
    size = 2 * int(math.ceil(r)) + 3
    k = np.zeros((size * 4, size * 4), np.float32)
    cv2.circle(k, (size * 2, size * 2), int(r * 4), 1.0, -1, cv2.LINE_AA)
    k = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA)
    return k / k.sum(), {"kind": "defocus", "radius_px": round(r, 2)}


# ---------------------------------------------------------------- one photo

class _Ctx:
    def __init__(self, hard, split, source, label_p, any_rotation, folder, label_fonts="train"):
        self.hard, self.split, self.source = hard, split, source
        self.label_p, self.any_rotation = label_p, any_rotation
        self.mnist = _mnist_split(folder, split) if source == "mnist" else None
        self.heldout = _font_files("heldout") if source == "fonts" else None
        self.label_fonts = None
        self.label_split = label_fonts
        self.label_reason = ""
        if label_p > 0:
            try:
                self.label_fonts = _font_files(label_fonts)
            except FontsUnavailable as exc:
                self.label_reason = str(exc)


def _glyph_params(rng, photo: dict) -> dict:
    return {
        "size": float(np.clip(rng.normal(1.0, photo["size_jit"]), 0.8, 1.22)),
        "sx": float(np.clip(rng.normal(photo["width"], 0.06), 0.7, 1.3)),
        "slant": float(photo["slant"] + rng.normal(0, 0.05)),
        "rot": float(np.radians(rng.normal(0, 3.0))),
        "elastic": float(photo["elastic"] * rng.uniform(0.5, 1.0)),
        "ek": rng.uniform(2.0, 5.0, 4),
        "eph": rng.uniform(0, 2 * np.pi, 4),
        "pph": rng.uniform(0, 2 * np.pi, 2),
        "dy": float(rng.normal(0, photo["base_jit"])),
        "w": rng.uniform(0, 1, 4),
        "wobble": rng.uniform(0, 2 * np.pi, 2),
    }


def _line(items: list, H: float, pen: _Pen, photo: dict):
    """Place the items (label, digits, separators) along a gently drifting baseline.

    Spacing is measured ink to ink, row by row, so round digits nest as handwriting does; a
    negative gap makes neighbours touch. Returns the coverage, the baseline y at x = 0 and the
    ink boxes of all items (canvas coordinates)."""
    drawn = []
    for it in items:
        if it["kind"] == "sep":
            cov, base = _separator(it["char"], it["g"], H, pen)
        else:
            cov, base = _draw_shape(it["shape"], it["g"], H * it.get("scale", 1.0), pen)
        drawn.append((cov, base))
    span = sum(c.shape[1] for c, _ in drawn) * 2 + 10 * H
    off = int(4 * H + abs(photo["slope"]) * span + 2 * H * photo["bow"] + 50)
    right = np.full(2 * off, -np.inf)
    placed = []
    x_cur = 0.0
    prev_right = None
    for it, (cov, base) in zip(items, drawn):
        ink = cov > 0.3
        rows = np.nonzero(ink.any(1))[0]
        if rows.size == 0:
            continue
        left_g = np.where(ink.any(1), ink.argmax(1), np.inf).astype(np.float64)
        right_g = np.where(ink.any(1), ink.shape[1] - 1 - ink[:, ::-1].argmax(1), -np.inf).astype(np.float64)
        yb = photo["slope"] * x_cur + photo["bow"] * H * math.sin(x_cur / photo["bow_period"]
                                                                 + photo["bow_phase"])
        y_top = int(round(yb + it["g"]["dy"] * H - base)) + off
        y_top = min(max(y_top, 0), 2 * off - cov.shape[0])
        gap = it["gap"] * H
        if prev_right is None:
            x = 0.0
        else:
            seg = right[y_top:y_top + cov.shape[0]]
            both = np.isfinite(seg) & np.isfinite(left_g)
            if both.any():
                x = float((seg[both] - left_g[both]).max()) + gap
            else:
                x = prev_right + gap - float(left_g[rows].min())
            lmin = float(left_g[rows].min())
            if it["gap"] > 0:  # no deep tucking under the previous item
                x = max(x, prev_right - 0.15 * H - lmin)
            # never over the previous item's left part, however the profiles interlock
            x = max(x, prev_left + 0.6 * (prev_right - prev_left) - lmin)
        seg = right[y_top:y_top + cov.shape[0]]
        right[y_top:y_top + cov.shape[0]] = np.maximum(seg, x + right_g)
        xi = int(round(x))
        placed.append((it, cov, xi, y_top))
        prev_right = float(xi + right_g[rows].max())
        prev_left = float(xi + left_g[rows].min())
        x_cur = prev_right
    x0 = min(xi for _, _, xi, _ in placed)
    y0 = min(yt for _, _, _, yt in placed)
    x1 = max(xi + c.shape[1] for _, c, xi, _ in placed)
    y1 = max(yt + c.shape[0] for _, c, _, yt in placed)
    canvas = np.zeros((y1 - y0, x1 - x0), np.float32)
    boxes = []
    for it, cov, xi, yt in placed:
        sl = canvas[yt - y0:yt - y0 + cov.shape[0], xi - x0:xi - x0 + cov.shape[1]]
        np.maximum(sl, cov, out=sl)
        ys, xs = np.nonzero(cov > 0.3)
        boxes.append((it, (xi - x0 + xs.min(), yt - y0 + ys.min(), xs.max() - xs.min() + 1,
                           ys.max() - ys.min() + 1)))
    return canvas, off - y0, boxes


def _ink_texture(rng, cov: np.ndarray, pen: _Pen, H: float) -> np.ndarray:
    h, w = cov.shape
    lo, hi = pen.dark
    field_ = np.clip(0.5 + 0.5 * _smooth(rng, h, w, max(2, int(h / H * 2)), max(2, int(w / H * 2))), 0, 1)
    out = cov * (lo + (hi - lo) * field_)
    if pen.kind == "ballpoint":
        skip = _fine(rng, h, w, max(pen.radius, 0.8))
        out *= 1 - 0.7 * np.clip((skip - 0.55) * 4, 0, 1)
    elif pen.kind == "pencil":
        grain = _fine(rng, h, w, 0.6)
        out *= np.clip(0.7 + 0.9 * grain, 0.15, 1)
    elif pen.kind == "felt":
        out = np.clip(cv2.GaussianBlur(out, (0, 0), 0.6) * 1.25, 0, 1)
    return out.astype(np.float32)


def _one(rng: np.random.Generator, ctx: _Ctx) -> NotePhoto:
    hard = ctx.hard
    meta: dict = {"source": ctx.source, "hard": hard}
    fw, fh = FRAME if rng.random() >= PORTRAIT_P else FRAME[::-1]
    meta["frame"] = [fw, fh]

    text, layout = _number(rng)
    meta["layout"] = layout
    digits = "".join(ch for ch in text if ch.isdigit())

    pen_kind = PENS[int(rng.choice(len(PENS), p=PEN_P[hard]))]
    inks = list(INKS[pen_kind])
    ink = inks[int(rng.choice(len(inks), p=INK_P[pen_kind]))]
    H = float(np.exp(rng.uniform(*np.log(DIGIT_HEIGHT[hard]))))
    pen_frac = float(rng.uniform(*PEN_WIDTH[pen_kind]))
    photo = {
        "size_jit": rng.uniform(0.03, 0.08), "width": rng.uniform(0.85, 1.1),
        "slant": float(np.clip(rng.normal(0.08, 0.12), -0.2, 0.4)),
        "elastic": rng.uniform(0.01, 0.03), "base_jit": rng.uniform(0.01, 0.05),
        "slope": float(np.clip(rng.normal(0, 0.02), -0.05, 0.05)), "bow": rng.uniform(0, 0.12),
        "bow_period": rng.uniform(4, 12) * H, "bow_phase": rng.uniform(0, 2 * np.pi),
    }
    gap_digit = rng.uniform(0.06, 0.3)
    gap_group = rng.uniform(0.45, 1.0)
    p_touch = rng.uniform(0.03, 0.15) if not hard else rng.uniform(0.2, 0.45)

    # glyph sources
    font_path = None
    if ctx.source == "fonts":
        fam, font_path = ctx.heldout[int(rng.integers(len(ctx.heldout)))]
        meta["font_family"], meta["font_file"] = fam, os.path.basename(font_path)
        photo["elastic"] *= 1.5
    items = []
    mnist_idx = []
    label = ""
    label_pos = ""
    if ctx.label_p > 0 and rng.random() < ctx.label_p:
        if ctx.label_fonts is None:
            meta["label_skipped"] = ctx.label_reason or f"no {ctx.label_split} fonts"
        else:
            word = LABEL_WORDS[int(rng.integers(len(LABEL_WORDS)))]
            for _ in range(20):
                lfam, lpath = ctx.label_fonts[int(rng.integers(len(ctx.label_fonts)))]
                if all(_font_has(lpath, ch) for ch in word):
                    break
            else:
                lpath = None
            if lpath is None:
                meta["label_skipped"] = f"no {ctx.label_split} font has all of {word!r}"
            else:
                label = word
                label_pos = "before" if rng.random() < 0.75 else "above"
                meta["label_font"] = lfam
                g = _glyph_params(rng, photo)
                g["elastic"] *= 0.5
                lscale = float(rng.uniform(0.75, 1.05))
                if label_pos == "before":
                    items.append({"kind": "label", "char": word, "shape": _font_shape(lpath, word),
                                  "g": g, "gap": 0.0, "scale": lscale})
    meta["label_position"] = label_pos

    prev = "start"
    n_touch = 0
    pending_gap = 0.0
    for ch in text:
        if ch == " ":
            pending_gap += gap_group * rng.uniform(0.75, 1.3)
            continue
        g = _glyph_params(rng, photo)
        if prev == "start":
            gap = rng.uniform(0.6, 1.3) if items else 0.0  # after a label word
        elif ch.isdigit() and prev == "digit" and pending_gap == 0.0:
            if rng.random() < p_touch:
                gap = -rng.uniform(0.0, 0.5) * pen_frac  # strokes just meet (up to half a stroke)
                n_touch += 1
            else:
                gap = gap_digit * rng.uniform(0.6, 1.4)
        else:  # next to a separator
            gap = rng.uniform(0.12, 0.35)
        gap += pending_gap
        pending_gap = 0.0
        if ch.isdigit():
            if ctx.source == "mnist":
                images, labels, offset, by_label = ctx.mnist
                i = int(by_label[int(ch)][int(rng.integers(len(by_label[int(ch)])))])
                shape = _mnist_shape(images[i])
                mnist_idx.append(offset + i)
                items.append({"kind": "digit", "char": ch, "shape": shape, "g": g, "gap": gap,
                              "index": offset + i})
            else:
                items.append({"kind": "digit", "char": ch, "shape": _font_shape(font_path, ch),
                              "g": g, "gap": gap})
            prev = "digit"
        else:
            items.append({"kind": "sep", "char": ch, "g": g, "gap": gap})
            prev = "sep"
    meta["touching_pairs"] = n_touch

    # rotation and the space the writing may take in the frame
    if ctx.any_rotation:
        if rng.random() < 0.5:
            roll = float(rng.choice((0, 90, 180, 270)) + rng.normal(0, 4))
        else:
            roll = float(rng.uniform(0, 360))
    else:
        roll = float(rng.uniform(-15, 15))
    tilt = float(np.radians(rng.uniform(0, 25) if rng.random() < 0.8 else rng.uniform(0, 8)))
    azim = float(rng.uniform(0, 2 * np.pi))
    r = math.radians(roll)
    c, s = abs(math.cos(r)), abs(math.sin(r))
    allowed = min(0.7 * fw / max(c, 1e-3), 0.7 * fh / max(s, 1e-3))

    pen = _Pen(pen_kind, ink, INKS[pen_kind][ink], max(MIN_PEN_RADIUS, pen_frac * H / 2),
               PEN_PRESSURE[pen_kind], PEN_DARK[pen_kind])
    line, base_y, boxes = _line(items, H, pen, photo)
    if line.shape[1] > allowed:
        H *= allowed / line.shape[1]
        pen.radius = max(MIN_PEN_RADIUS, pen_frac * H / 2)
        line, base_y, boxes = _line(items, H, pen, photo)
    if label_pos == "above":
        lit = {"kind": "label", "char": label, "shape": _font_shape(lpath, label),
               "g": _glyph_params(rng, photo), "gap": 0.0, "scale": lscale}
        lcov, lbase, _ = _line([lit], H, pen, photo)
        lx = int(rng.uniform(0, max(1, 0.3 * line.shape[1])))
        rise = int(H * rng.uniform(1.5, 2.0))
        top = min(0, base_y - rise - lbase)
        new_h = max(line.shape[0] - top, base_y - rise - lbase - top + lcov.shape[0])
        new_w = max(line.shape[1], lx + lcov.shape[1])
        merged = np.zeros((new_h, new_w), np.float32)
        merged[-top:-top + line.shape[0], :line.shape[1]] = line
        ly = base_y - rise - lbase - top
        sl = merged[ly:ly + lcov.shape[0], lx:lx + lcov.shape[1]]
        np.maximum(sl, lcov, out=sl)
        boxes = [(it, (bx, by - top, bw, bh)) for it, (bx, by, bw, bh) in boxes]
        line, base_y = merged, base_y - top
    line = _ink_texture(rng, line, pen, H)
    meta.update(pen=pen_kind, ink=ink, pen_width_px=round(2 * pen.radius, 2))

    # the note
    paper = PAPERS[int(rng.choice(len(PAPERS), p=PAPER_P[hard]))]
    meta["paper"] = paper
    aspect = {"sticky": float(rng.choice((1.0, 1.0, 1.5))), "grid": rng.uniform(0.7, 1.45),
              "lined": rng.uniform(0.7, 1.45), "torn": rng.uniform(0.6, 1.6),
              "envelope": rng.uniform(1.6, 2.2), "card": rng.uniform(1.55, 1.75)}[paper]
    if paper == "sticky" and line.shape[1] > 8 * H:
        aspect = 1.5
    tf_min = {"sticky": 0.55, "card": 0.6, "envelope": 0.35}.get(paper, 0.35)
    Tw, Th = line.shape[1], line.shape[0]
    area = rng.uniform(0.25, 0.85) * fw * fh
    Wn = float(np.clip(math.sqrt(area * aspect), Tw / 0.92, Tw / tf_min))
    Hn = Wn / aspect
    printed = paper == "card" and rng.random() < 0.4
    need_h = Th / (0.55 if printed else 0.8)
    if Hn < need_h:
        Hn = need_h
        Wn = max(Wn, Hn * aspect * 0.8)
    Wn, Hn = int(Wn), int(Hn)
    tx = int(rng.uniform(0.04 * Wn, max(0.04 * Wn + 1, Wn - Tw - 0.04 * Wn)))
    lo_y = (0.42 if printed else 0.1) * Hn
    ty = int(rng.uniform(lo_y, max(lo_y + 1, 0.9 * Hn - Th)))
    ty = min(ty, Hn - Th)
    tx = min(tx, Wn - Tw)
    note, alpha = _note(rng, Wn, Hn, paper, ty + base_y, (tx, tx + Tw), H, hard, meta)
    if printed:
        _card_print(rng, note, (int(0.06 * Hn), int(0.3 * Hn)))
    meta["card_print"] = printed
    sub = note[ty:ty + Th, tx:tx + Tw]
    sub *= 1 - line[..., None] * (1 - np.array(pen.colour, np.float32))

    # camera
    f = max(fw, fh) * rng.uniform(0.72, 0.95)
    zoom = 1.0
    u0 = fw / 2 + rng.normal(0, 0.08) * fw
    v0 = fh / 2 + rng.normal(0, 0.08) * fh
    Hm = _homography(Wn, Hn, fw, fh, f, tilt, azim, math.radians(roll), zoom, u0, v0)
    digit_boxes = [(it, b) for it, b in boxes if it["kind"] == "digit"]
    text_quad = np.array([[tx, ty], [tx + Tw, ty], [tx + Tw, ty + Th], [tx, ty + Th]], np.float64)
    margin = 0.03 * min(fw, fh)
    for _ in range(30):
        q = _map(Hm, text_quad)
        qx0, qy0 = q.min(0)
        qx1, qy1 = q.max(0)
        frac = _note_fraction(Hm, Wn, Hn, fw, fh)
        if qx1 - qx0 > fw - 2 * margin or qy1 - qy0 > fh - 2 * margin or frac > 0.92:
            Hm = _similar(0.93, fw / 2, fh / 2) @ Hm
            continue
        dx = max(0.0, margin - qx0) - max(0.0, qx1 - (fw - margin))
        dy = max(0.0, margin - qy0) - max(0.0, qy1 - (fh - margin))
        if dx or dy:
            Hm = _similar(1.0, 0, 0, dx, dy) @ Hm
            continue
        if frac < 0.22 and (qx1 - qx0) < 0.8 * fw and (qy1 - qy0) < 0.8 * fh:
            Hm = _similar(1.06, (qx0 + qx1) / 2, (qy0 + qy1) / 2) @ Hm
            continue
        break
    meta["note_fraction"] = round(_note_fraction(Hm, Wn, Hn, fw, fh), 3)
    meta["tilt"] = round(math.degrees(tilt), 1)
    b0 = _map(Hm, [[tx, ty + base_y], [tx + Tw, ty + base_y]])
    meta["rotation"] = round(math.degrees(math.atan2(-(b0[1, 1] - b0[0, 1]), b0[1, 0] - b0[0, 0])), 1)

    out_boxes = []
    for it, (bx, by, bw, bh) in digit_boxes:
        q = _map(Hm, [[tx + bx, ty + by], [tx + bx + bw, ty + by], [tx + bx + bw, ty + by + bh],
                      [tx + bx, ty + by + bh]])
        x0, y0 = np.floor(q.min(0)).astype(int)
        x1, y1 = np.ceil(q.max(0)).astype(int)
        out_boxes.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    heights = [min(b[2], b[3]) if ctx.any_rotation else b[3] for b in out_boxes]
    meta["digit_height_px"] = round(float(np.median(heights)), 1)

    # the scene
    table = TABLES[int(rng.choice(len(TABLES), p=TABLE_P))]
    meta["table"] = table
    img = _table(rng, fw, fh, table)
    nw = cv2.warpPerspective(note, Hm, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    aw = cv2.warpPerspective(alpha, Hm, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # a flat note casts only a faint contact shadow; a curled one a little more
    sh = cv2.GaussianBlur(aw, (0, 0), rng.uniform(1.5, 5))
    sh = cv2.warpAffine(sh, np.float32([[1, 0, rng.uniform(-4, 4)], [0, 1, rng.uniform(-4, 4)]]), (fw, fh))
    img *= (1 - rng.uniform(0.05, 0.25) * sh)[..., None]
    img = img * (1 - aw[..., None]) + nw * aw[..., None]

    # light: a gradient, sometimes a lamp's hot spot, a hard shadow, white balance, vignetting
    ys = np.linspace(-0.5, 0.5, fh, dtype=np.float32)[:, None]
    xs = np.linspace(-0.5, 0.5, fw, dtype=np.float32)[None, :] * (fw / fh)
    ga = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.45 if not hard else 0.7) * (xs * math.cos(ga) + ys * math.sin(ga))
    if rng.random() < 0.3:
        light = light + rng.uniform(0.05, 0.25) * np.exp(-_blob(rng, fw, fh) * 2)
    if rng.random() < (0.3 if not hard else 0.6):
        centre = _map(Hm, [[tx + Tw * rng.uniform(0.1, 0.9), ty + Th * rng.uniform(0, 1)]])[0] \
            if rng.random() < 0.6 else _map(Hm, [[rng.uniform(0, Wn), rng.uniform(0, Hn)]])[0]
        mask, kind = _shadow_mask(rng, fw, fh, (float(centre[0]), float(centre[1])))
        depth = rng.uniform(0.25, 0.55) if not hard else rng.uniform(0.4, 0.7)
        light = light * (1 - depth * mask)
        meta["shadow"] = {"kind": kind, "depth": round(float(depth), 2)}
    else:
        meta["shadow"] = None
    img *= np.clip(light, 0.05, 2)[..., None]
    if meta["shadow"]:
        img *= np.array((0.97, 1.0, 1.04), np.float32)  # skylight fills shadows a little blue
    wb = float(rng.uniform(-0.12, 0.12))
    img *= np.array((1 + wb, 1 + wb * 0.1, 1 - wb), np.float32)
    vig = rng.uniform(0, 0.4)
    img *= (1 - vig * (xs ** 2 + ys ** 2) / 0.6)[..., None]
    # auto exposure on the bright part of the scene
    lum = img[::4, ::4].mean(2)
    ref = float(np.percentile(lum, 97))
    gain = float(np.clip(rng.uniform(0.8, 0.97) / max(ref, 1e-3), 0.6, 2.5))
    if hard:
        gain *= rng.uniform(0.75, 1.1)
    img *= gain
    meta["white_balance"] = round(wb, 3)

    kernel, blur = _blur_kernel(rng, hard, meta["digit_height_px"])
    if kernel is not None:
        img = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
    meta["blur"] = blur
    img = np.clip(img, 0, 1)
    k = rng.uniform(0.5, 1.5) * (1.8 if hard else 1.0)
    sigma = np.sqrt(0.00004 + 0.0006 * img.mean(2, keepdims=True)) * k
    noise = rng.standard_normal((fh, fw, 1), dtype=np.float32)
    chroma = cv2.resize(rng.standard_normal((fh // 2, fw // 2, 3), dtype=np.float32), (fw, fh)) * 0.4
    img = img + sigma * (noise + chroma)
    amount = rng.uniform(0, 0.6)
    if amount > 0.1:  # the phone's sharpening
        img = img + amount * (img - cv2.GaussianBlur(img, (0, 0), 1.2))
    q = int(rng.integers(60, 96) if not hard else rng.integers(50, 81))
    meta["jpeg_quality"] = q
    bgr = np.clip(img[..., ::-1] * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    meta["roll"] = round(roll, 1)
    meta["split"] = ctx.split if ctx.source == "mnist" else None
    meta["mnist_index"] = mnist_idx
    return NotePhoto(jpeg=buf.tobytes(), digits=digits, text=text, label=label, boxes=out_boxes,
                     meta=meta)


# ---------------------------------------------------------------- public API

def make_photos(n: int, seed: int = 0, hard: bool = False, split: str = "test",
                source: str = "mnist", label: float = 0.0, any_rotation: bool = False,
                label_fonts: str = "train") -> Iterator[NotePhoto]:
    """n photos of handwritten phone numbers on notes, from np.random.default_rng(seed).

    split: MNIST split the digits come from ("test", "valid" = training images 50,000..59,999,
    "train" = 0..49,999); source: "mnist" or "fonts" (the held-out handwriting font families);
    label: probability (0..1, or True) of a handwritten word before the number, in a font of
    the `label_fonts` families ("train", or "heldout" to check a choice made on the training
    families' words); any_rotation: the note at any angle instead of within +-15 degrees. Arguments are checked here (ValueError);
    MNIST (EDGEDIGITS_DATA) and the fonts cache (FontsUnavailable) are loaded here too."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if label_fonts not in FONT_SPLITS:
        raise ValueError(f"label_fonts must be one of {', '.join(FONT_SPLITS)}, got {label_fonts!r}")
    label = float(label) if isinstance(label, (bool, int, float, np.floating)) else label
    if not isinstance(label, float) or not 0.0 <= label <= 1.0:
        raise ValueError(f"label must be a probability in [0, 1] (or True/False), got {label!r}")
    folder = mnist.data_dir() if source == "mnist" else None
    ctx = _Ctx(bool(hard), split, source, label, bool(any_rotation), folder, label_fonts)
    rng = np.random.default_rng(seed)

    def gen():
        for _ in range(int(n)):
            yield _one(rng, ctx)
    return gen()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="folder for the photos and labels.csv")
    ap.add_argument("--n", type=int, default=20, help="number of photos (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hard", action="store_true", help="smaller writing, stronger shadows and blur")
    ap.add_argument("--split", default="test", choices=SPLITS, help="MNIST split (default test)")
    ap.add_argument("--source", default="mnist", choices=SOURCES,
                    help="mnist digits, or the held-out handwriting fonts")
    ap.add_argument("--label", type=float, default=0.0,
                    help="probability of a handwritten label word before the number (0..1)")
    ap.add_argument("--label-fonts", default="train", choices=FONT_SPLITS,
                    help="font families of the label words (default train)")
    ap.add_argument("--any-rotation", action="store_true", help="the note at any angle")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error(f"--n must be >= 0, got {args.n}")
    if not 0.0 <= args.label <= 1.0:
        ap.error(f"--label must be in [0, 1], got {args.label}")
    try:
        photos = make_photos(args.n, seed=args.seed, hard=args.hard, split=args.split,
                             source=args.source, label=args.label, any_rotation=args.any_rotation,
                             label_fonts=args.label_fonts)
    except (mnist.MnistError, FontsUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "digits", "text", "label", "boxes"])
        for i, ph in enumerate(photos):
            name = f"{i:05d}.jpg"
            with open(os.path.join(args.out, name), "wb") as g:
                g.write(ph.jpeg)
            w.writerow([name, ph.digits, ph.text, ph.label, json.dumps([list(b) for b in ph.boxes])])
    print(f"{args.out}: {args.n} photos", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
