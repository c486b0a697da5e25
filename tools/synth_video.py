"""A generated phone-camera video of a handwritten number, for camera-mode tests and benchmarks.

Built from one photo of tools/synth_photos.py, or of tools/note_photos.py (the second renderer,
written independently: notes on tables, other pens, papers, shadows), MNIST TEST digits by
default, seen through a moving 640x480 "camera window":
    1. blank: the same page with the writing removed (inpainted), the phone wandering;
    2. approach: from far (writing small) to reading distance, strongly blurred by motion;
    3. steady: the number in view, with hand jitter (a small random walk in position, angle
       and zoom), slight defocus and sensor noise.
Written with cv2.VideoWriter as Motion-JPEG in an .avi (a codec that opencv-python-headless
always has). Same seed, same video.

    python tools/synth_video.py --out /tmp/cam.avi --seed 0 [--text "06 1234 5678"] [--line-fill 0.7]
                                [--renderer synth|note] [--split test|valid]

(--text applies to the first renderer; the second writes a number of its own, in one of its
layouts.)

prints the ground truth as JSON (digits, fps, frame count, first steady frame).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import note_photos  # noqa: E402  (sibling scripts, not a package)
import synth_photos  # noqa: E402

FRAME_W, FRAME_H = 640, 480
FPS = 15.0
BLANK_FRAMES = 12
APPROACH_FRAMES = 30
STEADY_FRAMES = 30
# At reading distance the written line fills this fraction of the frame width.
LINE_FILL = 0.70
# Approach: start this many times farther out (window this many times wider) ...
APPROACH_ZOOM = 2.6
# ... with motion blur this strong (Gaussian sigma, output px), easing to APPROACH_BLUR_END.
APPROACH_BLUR_START = 6.0
APPROACH_BLUR_END = 2.5
# Hand jitter while steady: random-walk step (output px), its bound, angle (deg), zoom.
JITTER_STEP_PX = 1.5
JITTER_MAX_PX = 6.0
JITTER_ANGLE_DEG = 0.6
JITTER_ZOOM = 0.01
STEADY_BLUR = (0.3, 0.8)
NOISE_SIGMA = 2.5
DEFAULT_TEXT = "06 1234 5678"
MJPG_QUALITY = 90
RENDERERS = ("synth", "note")


@dataclass(frozen=True)
class SynthVideo:
    """Ground truth of one generated video."""

    path: str
    digits: str
    text: str
    fps: float
    frames: int
    first_steady_frame: int
    seed: int
    renderer: str = "synth"


def _scene(seed: int, text: str, renderer: str, split: str):
    """(BGR page, digit boxes, digits, rng for the camera) of the video's photo."""
    rng = np.random.default_rng(seed)
    if renderer == "synth":
        photo = synth_photos.make_photo(rng, hard=False, split=split, text=text)
        return photo.image, photo.boxes, photo.digits, rng
    if renderer != "note":
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}")
    photo = next(note_photos.make_photos(1, seed=seed, split=split))
    image = cv2.imdecode(np.frombuffer(photo.jpeg, np.uint8), cv2.IMREAD_COLOR)
    return image, [tuple(int(v) for v in b) for b in photo.boxes], photo.digits, rng


def _blank_page(image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The photo with its writing painted over by the surrounding paper."""
    mask = np.zeros(image.shape[:2], np.uint8)
    for x, y, w, h in boxes:
        cv2.rectangle(mask, (x, y), (x + w, y + h), 255, -1)
    # Separators are not in `boxes`: cover the whole band of the line.
    ys, xs = np.nonzero(mask)
    pad = int(0.4 * (ys.max() - ys.min() + 1))
    cv2.rectangle(mask, (max(0, xs.min() - pad), max(0, ys.min() - pad)),
                  (xs.max() + pad, ys.max() + pad), 255, -1)
    half = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    half_mask = cv2.resize(mask, (half.shape[1], half.shape[0]), interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(half, half_mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.where(mask[..., None] > 0, filled, image)


def _view(scene: np.ndarray, cx: float, cy: float, width: float, angle_deg: float) -> np.ndarray:
    """The 640x480 frame of a camera window centred at (cx, cy), `width` scene px wide."""
    scale = FRAME_W / width
    m = cv2.getRotationMatrix2D((cx, cy), angle_deg, scale)
    m[0, 2] += FRAME_W / 2 - cx
    m[1, 2] += FRAME_H / 2 - cy
    return cv2.warpAffine(scene, m, (FRAME_W, FRAME_H), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _finish(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma > 0.25:
        frame = cv2.GaussianBlur(frame, (0, 0), sigma)
    noisy = frame.astype(np.float32) + rng.normal(0, NOISE_SIGMA, frame.shape).astype(np.float32)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def make_frames(seed: int = 0, text: str = DEFAULT_TEXT, line_fill: float = LINE_FILL,
                renderer: str = "synth", split: str = "test"):
    """(frames list of BGR uint8, digits, first steady frame index); deterministic in seed.
    line_fill: the share of the frame's width the written line fills at reading distance (the
    phone held farther away: smaller); renderer: "synth" (tools/synth_photos.py, writing
    `text`) or "note" (tools/note_photos.py); split: the MNIST split of the digits ("test", or
    "valid" for choices made on videos)."""
    if not 0.05 <= line_fill <= 1.0:
        raise ValueError(f"expected line_fill in [0.05, 1], got {line_fill}")
    scene, boxes, digits, rng = _scene(seed, text, renderer, split)
    x0 = min(b[0] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y0 = min(b[1] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    tx, ty = (x0 + x1) / 2, (y0 + y1) / 2
    target_w = (x1 - x0) / line_fill
    blank = _blank_page(scene, boxes)
    frames = []
    # 1. blank page, the phone wandering at reading distance
    # (the window stays on the page: its centre at least half a window from each page edge)
    half = np.array([target_w / 2, target_w * FRAME_H / FRAME_W / 2])
    lo, hi = half, np.array([scene.shape[1], scene.shape[0]]) - half
    start = np.array([tx, ty]) + rng.uniform(-0.5, 0.5, 2) * target_w
    for _ in range(BLANK_FRAMES):
        cx, cy = np.clip(start + rng.normal(0, 3.0, 2), lo, np.maximum(lo, hi))
        frames.append(_finish(_view(blank, cx, cy, target_w, rng.normal(0, 1.0)), 1.0, rng))
    # 2. approach: from far and off-centre, blurred, easing in to the number
    offset = np.array([rng.uniform(-0.15, 0.15) * target_w, rng.uniform(-0.1, 0.1) * target_w])
    for i in range(APPROACH_FRAMES):
        a = (i + 1) / APPROACH_FRAMES
        ease = 1 - (1 - a) ** 2
        width = target_w * (APPROACH_ZOOM + (1 - APPROACH_ZOOM) * ease)
        cx, cy = np.array([tx, ty]) + offset * (1 - ease)
        sigma = APPROACH_BLUR_START + (APPROACH_BLUR_END - APPROACH_BLUR_START) * a
        frames.append(_finish(_view(scene, cx, cy, width, rng.normal(0, 2.0)), sigma, rng))
    first_steady = len(frames)
    # 3. steady, with hand jitter
    pos = np.zeros(2)
    for _ in range(STEADY_FRAMES):
        pos = np.clip(pos + rng.normal(0, JITTER_STEP_PX, 2), -JITTER_MAX_PX, JITTER_MAX_PX)
        scale_px = target_w / FRAME_W  # scene px per output px
        cx, cy = tx + pos[0] * scale_px, ty + pos[1] * scale_px
        width = target_w * (1 + rng.normal(0, JITTER_ZOOM))
        sigma = rng.uniform(*STEADY_BLUR)
        frames.append(_finish(_view(scene, cx, cy, width, rng.normal(0, JITTER_ANGLE_DEG)), sigma, rng))
    return frames, digits, first_steady


def write_video(path: str, seed: int = 0, text: str = DEFAULT_TEXT,
                line_fill: float = LINE_FILL, renderer: str = "synth",
                split: str = "test") -> SynthVideo:
    """Write the video (Motion-JPEG .avi) and return its ground truth."""
    frames, digits, first_steady = make_frames(seed, text, line_fill, renderer, split)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), FPS, (FRAME_W, FRAME_H))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}: OpenCV has no MJPG encoder here")
    try:
        writer.set(cv2.VIDEOWRITER_PROP_QUALITY, MJPG_QUALITY)
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return SynthVideo(path=path, digits=digits, text=text, fps=FPS, frames=len(frames),
                      first_steady_frame=first_steady, seed=seed, renderer=renderer)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output video file (.avi)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--text", default=DEFAULT_TEXT, help="the number as written")
    p.add_argument("--line-fill", type=float, default=LINE_FILL,
                   help="share of the frame's width the line fills when steady (smaller: farther)")
    p.add_argument("--renderer", default="synth", choices=RENDERERS,
                   help="the photo renderer: synth (tools/synth_photos.py) or note (tools/note_photos.py)")
    p.add_argument("--split", default="test", choices=("test", "valid"),
                   help="MNIST split of the digits (default test: for measuring)")
    args = p.parse_args(argv)
    print(json.dumps(asdict(write_video(args.out, args.seed, args.text, args.line_fill,
                                        args.renderer, args.split))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
