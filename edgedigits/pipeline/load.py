"""Stage 1: decode the input and bound the work.

Accepts a file path, encoded bytes (JPEG, PNG, ...), or a NumPy image (gray (H, W), BGR
(H, W, 3) or BGRA (H, W, 4); uint8 or uint16). Returns a uint8 gray image of WORK_MAX_SIDE
on its long side (a smaller input enlarged at most WORK_MAX_UPSCALE times), and the factor
that maps its pixels back to the input's.

Huge photos are shrunk as early as possible: JPEGs are decoded at 1/2, 1/4 or 1/8 scale by
libjpeg itself (cv2.IMREAD_REDUCED_GRAYSCALE_*, which skips most of the IDCT work), arrays are
strided before any colour conversion. A 108 MP JPEG then costs under 0.1 s of CPU and a
few MB beyond a normal photo (tools/bench_reader.py measures it), not seconds and gigabytes.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import cv2
import numpy as np

# Long side of the image the reader works on (px). Handwriting in a phone photo of a note is
# 30..150 px tall at this size; more resolution costs time without helping the 28x28 classifier.
WORK_MAX_SIDE = 1280
# A smaller image (a 640x480 camera frame, a webcam still, a crop) is enlarged towards that
# size, at most this many times: the reader's pixel-sized steps (background, rules, specks,
# the hysteresis) were set on writing of that size. The second renderer's validation photos
# shrunk to 30 / 40 px digits read 22% / 30% exact as they are, 42% / 45% enlarged (46% at
# their full size): docs/reader.md, stage 1.
WORK_MAX_UPSCALE = 2.0
# Inputs larger than this many pixels (after header inspection) are refused outright.
MAX_INPUT_PIXELS = 400_000_000
# Encoded inputs larger than this are refused before decoding (bytes).
MAX_INPUT_BYTES = 200 * 1024 * 1024

_REDUCED = {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8}


class ImageError(ValueError):
    """The input is not an image the reader can use; the message says what was expected."""


@dataclass(frozen=True)
class Loaded:
    """A gray working image and how it maps to the input."""

    gray: np.ndarray      # (H, W) uint8
    scale: float          # input pixels per working pixel (below 1 for an enlarged image)
    input_shape: tuple[int, int]  # (H, W) of the input image


def _peek_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG or PNG header without decoding, else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        n = len(data)
        while i + 9 < n:
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            seg = struct.unpack(">H", data[i + 2: i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                          0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5: i + 9])
                return int(w), int(h)
            i += 2 + seg
    return None


def _working_size(gray: np.ndarray) -> np.ndarray:
    """The working image: shrunk to WORK_MAX_SIDE, or a smaller one enlarged towards it (at
    most WORK_MAX_UPSCALE times)."""
    long_side = max(gray.shape)
    if long_side == WORK_MAX_SIDE:
        return gray
    f = min(WORK_MAX_SIDE / long_side, WORK_MAX_UPSCALE)
    size = (max(1, round(gray.shape[1] * f)), max(1, round(gray.shape[0] * f)))
    if size == (gray.shape[1], gray.shape[0]):
        return gray
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def decode_bytes(data: bytes) -> Loaded:
    """Decode an encoded image to a bounded gray working image."""
    if len(data) == 0:
        raise ImageError("empty input: expected an encoded image (JPEG, PNG, ...)")
    if len(data) > MAX_INPUT_BYTES:
        raise ImageError(f"encoded image of {len(data)} bytes: expected at most {MAX_INPUT_BYTES} bytes")
    size = _peek_size(data)
    factor = 1
    if size is not None:
        w, h = size
        if w <= 0 or h <= 0 or w * h > MAX_INPUT_PIXELS:
            raise ImageError(f"image header says {w}x{h} pixels: expected 1 to {MAX_INPUT_PIXELS:,} pixels")
        while factor < 8 and max(w, h) / (factor * 2) >= WORK_MAX_SIDE:
            factor *= 2
    buf = np.frombuffer(data, np.uint8)
    gray = cv2.imdecode(buf, _REDUCED[factor])
    if gray is None:
        raise ImageError("could not decode the bytes as an image: expected JPEG, PNG, BMP, "
                         "TIFF or WebP data")
    if gray.dtype != np.uint8:
        gray = (gray.astype(np.float32) / 257.0).astype(np.uint8)
    full = (size[1], size[0]) if size else gray.shape[:2]
    work = _working_size(gray)
    return Loaded(work, full[1] / work.shape[1], (int(full[0]), int(full[1])))


def from_array(image: np.ndarray) -> Loaded:
    """A gray/BGR/BGRA uint8 or uint16 array to a bounded gray working image."""
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ImageError(f"expected an image array of shape (H, W), (H, W, 3) or (H, W, 4); "
                         f"got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"empty image array of shape {image.shape}: expected at least 1x1 pixels")
    if image.dtype == np.uint16:
        pass
    elif image.dtype == np.uint8:
        pass
    elif image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ImageError("image array contains NaN or infinity: expected finite values")
        if image.size and (image.min() < 0 or image.max() > 1):
            raise ImageError("expected float image values in [0, 1]; "
                             "pass uint8 or uint16 for 0..255 / 0..65535")
        image = (image * 255.0 + 0.5).astype(np.uint8)
    else:
        raise ImageError(f"expected a uint8 or uint16 image array, got dtype {image.dtype}")
    h, w = image.shape[:2]
    step = max(1, int(max(h, w) // (2 * WORK_MAX_SIDE)))
    if step > 1:  # stride first: colour conversion and resizing then touch few pixels
        image = image[::step, ::step]
    if image.ndim == 3:
        if image.shape[2] == 1:
            image = image[..., 0]
        else:
            code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
            image = cv2.cvtColor(np.ascontiguousarray(image), code)
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) * (1.0 / 257.0) + 0.5).astype(np.uint8)
    work = _working_size(np.ascontiguousarray(image))
    return Loaded(work, w / work.shape[1], (h, w))


def load(image) -> Loaded:
    """Stage entry point: path (str or os.PathLike), bytes, or a NumPy array."""
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        try:
            with open(path, "rb") as f:
                data = f.read(MAX_INPUT_BYTES + 1)
        except OSError as e:
            raise ImageError(f"cannot read image file {path!r}: {e.strerror or e}") from e
        try:
            return decode_bytes(data)
        except ImageError as e:
            raise ImageError(f"{path!r}: {e}") from None
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_bytes(bytes(image))
    if isinstance(image, np.ndarray):
        return from_array(image)
    raise TypeError(f"expected a file path, encoded image bytes or a NumPy image array; "
                    f"got {type(image).__name__}")


def percentiles_u8(image: np.ndarray, qs) -> tuple[float, ...]:
    """np.percentile(image, qs) (linear interpolation) of a uint8 image, from its histogram:
    a tenth of the time of sorting a working image's pixels (about 0.8 ms)."""
    hist = cv2.calcHist([np.ascontiguousarray(image)], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    n = int(cum[-1])
    out = []
    for q in qs:
        pos = (q / 100.0) * (n - 1)
        i = int(np.floor(pos))
        a, b = np.searchsorted(cum, [i, min(i + 1, n - 1)], side="right")
        t = pos - i
        # the two-sided form of numpy's linear interpolation, so the floats are equal too
        out.append(float(a + (b - a) * t) if t < 0.5 else float(b - (b - a) * (1 - t)))
    return tuple(out)
