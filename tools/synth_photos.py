"""Synthetic photos of handwritten phone numbers, with labels, built from MNIST digits.

Each photo is a 1280x960 "phone camera" view of a page on which a phone number is written with
real MNIST digits (the TEST split by default: photos that measure the reader must never contain a
digit the model was trained on) and pen-drawn separators (- . / ( ) + and spaces). The page goes
through what a blind user's camera does to it: perspective and rotation, page tint and texture,
ruled lines, blue or black ink of varying pen thickness, per-digit rotation and baseline jitter,
a lighting gradient, vignetting, a cast shadow, blur, sensor noise and JPEG compression.
`hard=True` turns every knob further (smaller writing, touching digits, stronger shadows and
blur, a second smaller line of digits as a distractor, lower JPEG quality).

Same seed, same photos: all randomness flows from one np.random.default_rng(seed).

    python tools/synth_photos.py --out /tmp/photos --n 20 --seed 0 [--hard] [--split train]

writes 00000.jpg ... and labels.csv (file, digits, text, digit boxes as JSON).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training import mnist  # noqa: E402  (IDX parsing with header checks)

PHOTO_W, PHOTO_H = 1280, 960

# Phone-number layouts: 'd' is a digit, everything else is drawn as written. 7..13 digits.
FORMATS = (
    "ddd-dddd", "ddd dddd", "dddd-dddd", "ddd.ddd.dddd", "ddd-ddd-dddd", "(ddd) ddd-dddd",
    "dd dd dd dd dd", "dd.dd.dd.dd.dd", "dddd/dddddd", "ddddd/dddddd", "ddd ddd ddd",
    "dddddddddd", "dddd ddd dddd", "+dd d dd dd dd dd", "+dd ddd ddd dddd", "(dddd) dddddd",
    "ddd-ddd-ddd", "dd-dd-dd-dd-dd", "dddd dddd", "(ddd)ddd-dddd", "+ddd ddd dddddd",
    "+dd ddd ddd ddddd", "ddddd dddd dddd",
)

# Writing size: digit height (px, in the 1280x960 photo) drawn uniformly from these ranges.
DIGIT_H_NORMAL = (44, 84)
DIGIT_H_HARD = (34, 64)
# MNIST digits fill a 20 px box inside the 28 px field; scale so that box becomes the height.
MNIST_BOX = 20.0


@dataclass
class Photo:
    """One generated photo and its ground truth."""

    image: np.ndarray                  # (960, 1280, 3) uint8 BGR, after JPEG round trip
    jpeg: bytes                        # the encoded photo
    digits: str                        # the number's digits, in reading order
    text: str                          # as written, with separators
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # per digit x, y, w, h
    mnist_index: list[int] = field(default_factory=list)                  # per digit, into split


def mnist_dir() -> str:
    """The MNIST IDX folder: $EDGEDIGITS_DATA, else ../shared/data/mnist beside the repo."""
    env = os.environ.get("EDGEDIGITS_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "data", "mnist"))


# 'train-fit' is the first 50,000 training digits: the trainer's training part, leaving its
# validation digits (50,000..59,999) out of anything cut for training.
TRAIN_FIT = 50_000


@lru_cache(maxsize=2)
def load_mnist(split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8) of MNIST's 'train' or 'test' split
    ('train-fit': the first TRAIN_FIT training digits; 'valid': the rest, for tuning)."""
    if split == "train-fit":
        images, labels = load_mnist("train")
        return images[:TRAIN_FIT], labels[:TRAIN_FIT]
    if split == "valid":
        images, labels = load_mnist("train")
        return images[TRAIN_FIT:], labels[TRAIN_FIT:]
    part = {"test": "test", "train": "train"}[split]
    d = mnist_dir()
    images = mnist.read_images(mnist.find_file(d, mnist.FILES[f"{part}_images"]))
    labels = mnist.read_labels(mnist.find_file(d, mnist.FILES[f"{part}_labels"]))
    return images, labels


@lru_cache(maxsize=2)
def _by_class(split: str) -> tuple[np.ndarray, ...]:
    _, labels = load_mnist(split)
    return tuple(np.flatnonzero(labels == k) for k in range(10))


def _digit_alpha(img28: np.ndarray, height: float, pen: float, angle: float,
                 rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit redrawn as a pen stroke: float alpha in [0,1], `height` px per 20 MNIST px."""
    scale = height / MNIST_BOX
    ys, xs = np.nonzero(img28 > 30)
    crop = img28[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(np.float32) / 255.0
    crop = np.pad(crop, 2)
    big = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), max(scale * 0.5, 0.5))
    # MNIST strokes are ~2.5 px wide in the 20 px box; re-draw them `pen` times as wide.
    mask = (big > 0.45).astype(np.uint8)
    delta = int(round((pen - 1.0) * 1.25 * scale / 2))
    if delta > 0:
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * delta + 1,) * 2))
    elif delta < 0:
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (-2 * delta + 1,) * 2)
        eroded = cv2.erode(mask, k)
        mask = eroded if eroded.sum() > 0.3 * mask.sum() else mask
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.7)
    h, w = alpha.shape
    pad = int(0.25 * max(h, w))
    alpha = np.pad(alpha, pad)
    rot = cv2.getRotationMatrix2D((alpha.shape[1] / 2, alpha.shape[0] / 2), angle, 1.0)
    rot[0, 1] += rng.uniform(-0.15, 0.15)  # slant
    alpha = cv2.warpAffine(alpha, rot, (alpha.shape[1], alpha.shape[0]), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(alpha > 0.05)
    return alpha[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _separator_alpha(ch: str, height: float, pen_px: int, rng: np.random.Generator) -> np.ndarray:
    """A pen-drawn separator as float alpha; the array is `height` tall, ink placed as written."""
    # Brackets and slashes stand taller than the digits, as people write them.
    h = int(round(height * (rng.uniform(1.35, 1.6) if ch in "()/" else 1.0)))
    t = max(1, pen_px)
    if ch == "-":
        w = int(height * rng.uniform(0.3, 0.55)) + 2 * t
        img = np.zeros((h, w), np.float32)
        y = int(h * rng.uniform(0.45, 0.6))
        cv2.line(img, (t, y), (w - t, y + int(rng.integers(-2, 3))), 1.0, t, cv2.LINE_AA)
    elif ch in ".,":
        w = 3 * t + 4
        img = np.zeros((h, w), np.float32)
        cv2.circle(img, (w // 2, h - 2 * t), max(1, int(t * 0.8)), 1.0, -1, cv2.LINE_AA)
        if ch == ",":
            cv2.line(img, (w // 2, h - 2 * t), (w // 2 - t, h - 1), 1.0, t, cv2.LINE_AA)
    elif ch == "/":
        w = int(h * np.tan(np.deg2rad(rng.uniform(25, 40)))) + 2 * t
        img = np.zeros((h, w), np.float32)
        cv2.line(img, (t, h - t), (w - t, t), 1.0, t, cv2.LINE_AA)
    elif ch in "()":
        w = int(height * rng.uniform(0.28, 0.4)) + 2 * t
        img = np.zeros((h, w), np.float32)
        cx = w - t - 1 if ch == "(" else t
        start = 110 if ch == "(" else -70
        cv2.ellipse(img, (cx, h // 2), (w - 2 * t, h // 2 - t), 0, start, start + 140, 1.0, t,
                    cv2.LINE_AA)
    elif ch == "+":
        s = int(height * rng.uniform(0.4, 0.55))
        w = s + 2 * t
        img = np.zeros((h, w), np.float32)
        cy = h // 2
        cv2.line(img, (t, cy), (w - t, cy), 1.0, t, cv2.LINE_AA)
        cv2.line(img, (w // 2, cy - s // 2), (w // 2, cy + s // 2), 1.0, t, cv2.LINE_AA)
    else:
        raise ValueError(f"no drawing for separator {ch!r}")
    return img


def _render_line(text: str, height: float, hard: bool, split: str,
                 rng: np.random.Generator) -> tuple[np.ndarray, list, list]:
    """Alpha image of one written line, its digit boxes (x, y, w, h) and MNIST indices."""
    images, _ = load_mnist(split)
    by_class = _by_class(split)
    pen = rng.uniform(0.7, 1.6) if not hard else rng.uniform(0.6, 1.8)
    pen_px = max(1, int(round(0.12 * height * pen)))
    rot_sd = 8.0 if hard else 4.0
    jitter = (0.10 if hard else 0.05) * height
    canvas_h = int(height * 2.2)
    pieces = []  # (alpha, x, y, is_digit, mnist index)
    x = int(height * 0.3)
    base = int(height * 0.6)  # top of a digit-height band
    for ch in text:
        if ch == " ":
            x += int(height * rng.uniform(0.45, 0.9))
            continue
        if ch.isdigit():
            idx = int(rng.choice(by_class[int(ch)]))
            a = _digit_alpha(images[idx], height, pen, rng.normal(0, rot_sd), rng)
            y = base + int(rng.normal(0, jitter)) + int((height - a.shape[0]) * 0.5)
            pieces.append((a, x, y, True, idx))
        else:
            a = _separator_alpha(ch, height, pen_px, rng)
            y = base + int((height - a.shape[0]) * 0.5)
            pieces.append((a, x, y, False, -1))
        if hard:
            gap = rng.uniform(-0.12, 0.22) if rng.random() < 0.6 else rng.uniform(0.0, 0.3)
        else:
            gap = rng.uniform(0.06, 0.35) if rng.random() < 0.92 else rng.uniform(-0.04, 0.05)
        x += a.shape[1] + int(gap * height)
    width = x + int(height * 0.3)
    line = np.zeros((canvas_h, width), np.float32)
    boxes, idxs = [], []
    for a, px, py, is_digit, idx in pieces:
        py = int(np.clip(py, 0, canvas_h - a.shape[0]))
        px = max(px, 0)
        region = line[py: py + a.shape[0], px: px + a.shape[1]]
        np.maximum(region, a[: region.shape[0], : region.shape[1]], out=region)
        if is_digit:
            boxes.append((px, py, a.shape[1], a.shape[0]))
            idxs.append(idx)
    return line, boxes, idxs


def _random_text(rng: np.random.Generator) -> str:
    fmt = FORMATS[int(rng.integers(len(FORMATS)))]
    return "".join(str(int(rng.integers(10))) if c == "d" else c for c in fmt)


def _paper(rng: np.random.Generator, hard: bool) -> np.ndarray:
    """Page background, float32 BGR in [0,1]: tint plus low-frequency texture and grain."""
    tint = np.array([rng.uniform(0.78, 0.98), rng.uniform(0.82, 0.99), rng.uniform(0.85, 1.0)])
    if rng.random() < 0.3:  # yellowish / recycled paper
        tint = tint * np.array([0.82, 0.95, 1.0])
    page = np.ones((PHOTO_H, PHOTO_W, 3), np.float32) * tint.astype(np.float32)
    low = rng.normal(0, 1, (12, 16)).astype(np.float32)
    low = cv2.resize(low, (PHOTO_W, PHOTO_H), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 1, (PHOTO_H // 2, PHOTO_W // 2)).astype(np.float32)
    grain = cv2.resize(grain, (PHOTO_W, PHOTO_H), interpolation=cv2.INTER_LINEAR)
    tex = 1.0 + (0.02 if not hard else 0.04) * low + rng.uniform(0.0, 0.03) * grain
    return page * tex[..., None]


def _homography(rng: np.random.Generator, hard: bool) -> np.ndarray:
    """Maps photo pixels to page pixels: the page seen rotated and in perspective."""
    w, h = PHOTO_W, PHOTO_H
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = 0.10 if hard else 0.05
    src = dst + rng.uniform(0.0, j, (4, 2)).astype(np.float32) * np.float32([w, h]) * \
        np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    ang = np.deg2rad(rng.normal(0, 5.0 if hard else 2.5))
    c = np.float32([w / 2, h / 2])
    rot = np.float32([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    src = (src - c) @ rot.T + c
    return cv2.getPerspectiveTransform(dst, src.astype(np.float32))


def _lighting(rng: np.random.Generator, hard: bool) -> np.ndarray:
    """Multiplicative light: gradient x vignetting x one cast shadow, float32 (H, W)."""
    yy, xx = np.mgrid[0:PHOTO_H, 0:PHOTO_W].astype(np.float32)
    xn, yn = xx / PHOTO_W - 0.5, yy / PHOTO_H - 0.5
    g = 0.35 if hard else 0.25
    light = 1.0 + rng.uniform(-g, g) * xn * 2 + rng.uniform(-g, g) * yn * 2
    light *= 1.0 - rng.uniform(0.0, 0.5 if hard else 0.35) * (xn ** 2 + yn ** 2) * 2
    if rng.random() < (0.8 if hard else 0.5):
        # A shadow: the half-plane on one side of a random line, soft-edged.
        ang = rng.uniform(0, 2 * np.pi)
        off = rng.uniform(-0.3, 0.3)
        side = (np.cos(ang) * xn + np.sin(ang) * yn - off).astype(np.float32)
        soft = rng.uniform(0.01, 0.08)
        depth = rng.uniform(0.3, 0.6 if hard else 0.45)
        light *= 1.0 - depth / (1.0 + np.exp(-side / soft))
    return np.clip(light, 0.05, 1.5).astype(np.float32)


def make_photo(rng: np.random.Generator, hard: bool = False, split: str = "test",
               text: str | None = None) -> Photo:
    """One photo of a handwritten phone number (see the module docstring)."""
    text = text or _random_text(rng)
    lo, hi = DIGIT_H_HARD if hard else DIGIT_H_NORMAL
    height = rng.uniform(lo, hi)
    line, boxes, idxs = _render_line(text, height, hard, split, rng)
    # Keep the whole line inside the page with a margin; shrink very long lines to fit.
    max_w = PHOTO_W * 0.78
    if line.shape[1] > max_w:
        f = max_w / line.shape[1]
        line = cv2.resize(line, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        boxes = [tuple(int(round(v * f)) for v in b) for b in boxes]
    lh, lw = line.shape
    ox = int(rng.uniform(0.11 * PHOTO_W, PHOTO_W * 0.89 - lw))
    oy = int(rng.uniform(0.2 * PHOTO_H, 0.8 * PHOTO_H - lh))
    alpha = np.zeros((PHOTO_H, PHOTO_W), np.float32)
    alpha[oy: oy + lh, ox: ox + lw] = line
    if hard and rng.random() < 0.6:  # a smaller second line: the reader must pick the big one
        t2 = "".join(str(int(rng.integers(10))) for _ in range(int(rng.integers(3, 7))))
        l2, _, _ = _render_line(t2, height * rng.uniform(0.35, 0.5), hard, split, rng)
        space = int(0.3 * height)
        y2 = oy - l2.shape[0] - space if oy > PHOTO_H // 2 else oy + lh + space
        x2 = int(rng.uniform(0.12 * PHOTO_W, max(0.12 * PHOTO_W + 1, PHOTO_W * 0.88 - l2.shape[1])))
        if 0 <= y2 and y2 + l2.shape[0] <= PHOTO_H and x2 + l2.shape[1] <= PHOTO_W:
            region = alpha[y2: y2 + l2.shape[0], x2: x2 + l2.shape[1]]
            np.maximum(region, l2, out=region)
    page = _paper(rng, hard)
    if rng.random() < 0.4:  # ruled paper: faint lines under the writing
        gap = int(height * rng.uniform(1.1, 1.8))
        phase = int(rng.integers(gap))
        rule = np.array([rng.uniform(0.5, 0.8), rng.uniform(0.55, 0.8), rng.uniform(0.65, 0.9)],
                        np.float32)
        thick = int(rng.integers(1, 3))
        for y in range(phase, PHOTO_H, gap):
            cv2.line(page, (0, y), (PHOTO_W, y), rule.tolist(), thick, cv2.LINE_AA)
    if rng.random() < 0.5:
        ink = np.array([rng.uniform(0.35, 0.6), rng.uniform(0.1, 0.3), rng.uniform(0.0, 0.15)])
    else:
        ink = np.full(3, rng.uniform(0.05, 0.2))
    strength = rng.uniform(0.75, 1.0)
    a = (alpha * strength)[..., None]
    page = page * (1 - a) + ink.astype(np.float32) * a
    hom = _homography(rng, hard)
    photo = cv2.warpPerspective(page, hom, (PHOTO_W, PHOTO_H),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT)
    photo *= _lighting(rng, hard)[..., None]
    # Defocus relative to the writing's size: a person could still read every photo.
    sigma = rng.uniform(0.0, (0.032 if hard else 0.02) * height)
    if sigma > 0.3:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    photo = photo * 255.0 + rng.normal(0, rng.uniform(1.5, 8.0 if hard else 5.0), photo.shape)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    quality = int(rng.integers(40, 80) if hard else rng.integers(60, 95))
    ok, enc = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    jpeg = enc.tobytes()
    image = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    # Digit boxes from page to photo coordinates (the inverse of `hom`).
    inv = np.linalg.inv(hom)
    out_boxes = []
    for bx, by, bw, bh in boxes:
        pts = np.float32([[bx, by], [bx + bw, by], [bx + bw, by + bh], [bx, by + bh]]) + \
            np.float32([ox, oy])
        q = cv2.perspectiveTransform(pts[None], inv)[0]
        x0, y0 = np.floor(q.min(0)).astype(int)
        x1, y1 = np.ceil(q.max(0)).astype(int)
        out_boxes.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    digits = "".join(c for c in text if c.isdigit())
    return Photo(image, jpeg, digits, text, out_boxes, idxs)


def make_photos(n: int, seed: int = 0, hard: bool = False, split: str = "test"):
    """Yield `n` photos; the same (n, seed, hard, split) always gives the same photos."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield make_photo(rng, hard=hard, split=split)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hard", action="store_true", help="the harder mode")
    p.add_argument("--split", choices=("test", "train", "train-fit", "valid"), default="test",
                   help="MNIST split to draw digits from: test to measure, train (or train-fit, "
                        "its first 50,000) to make training patches")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "digits", "text", "boxes"])
        for i, ph in enumerate(make_photos(args.n, args.seed, args.hard, args.split)):
            name = f"{i:05d}.jpg"
            with open(os.path.join(args.out, name), "wb") as g:
                g.write(ph.jpeg)
            w.writerow([name, ph.digits, ph.text, json.dumps(ph.boxes)])
    print(f"wrote {args.n} photos to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
