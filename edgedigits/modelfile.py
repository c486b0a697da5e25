"""The model file format (docs/model-format.md): packing, unpacking, and writing files.

A model file is one little-endian byte blob that the C core reads in place:

    header (24 bytes)   magic "EDGD", u16 version, u16 n_layers, u32 total_len,
                        u32 meta_offset, u32 meta_len, u32 reserved (0)
    layer table         n_layers x (u32 n_in, u32 n_out, u32 activation, u32 data_offset)
    layer data          per layer, 4-aligned: i32 bias[n_out], i32 multiplier[n_out],
                        i32 shift[n_out], f32 scale[n_out], i8 weights[n_out][n_in], zero pad to 4;
                        a convolution (version 2, first layer): u32 channels, kernel, stride,
                        pool (0: none), then the same arrays per channel; weights tap-major,
                        [kernel^2][channels]
    metadata            UTF-8 JSON
    crc32               u32, zlib's CRC-32 of every byte before it

This module holds no arithmetic: quantize.py makes the integers, reference.py uses them.
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MAGIC = b"EDGD"
FORMAT_VERSION = 2  # written when a model has a convolution; dense-only models stay version 1
DENSE_FORMAT_VERSION = 1
HEADER = struct.Struct("<4sHHIIII")
LAYER_ENTRY = struct.Struct("<IIII")
ACT_LINEAR = 0
ACT_SIGMOID = 1
ACT_CONV_SIGMOID = 2  # first layer only: a strided convolution, then the sigmoid
CONV_HEADER = struct.Struct("<IIII")  # channels, kernel, stride, pool (0: none)
INPUT_SIZE = 784
IMAGE_SIDE = 28
MAX_LAYERS = 8
MAX_WIDTH = 4096
MAX_BIAS = 1 << 30
# A model file larger than this is refused before it is read (the largest valid model,
# 8 layers of 4096 x 4096, is about 128 MiB; real ones are under 1 MiB).
MAX_FILE_BYTES = 160 * 1024 * 1024


def conv_side(kernel: int, stride: int) -> int:
    """Windows per row (and per column) of a convolution: no padding, so (28 - kernel) // stride + 1."""
    return (IMAGE_SIDE - kernel) // stride + 1


def pooled_side(kernel: int, stride: int, pool: int) -> int:
    """Outputs per row of a convolution max-pooled over pool x pool blocks of windows (pool 1:
    none); windows past the last whole block are dropped."""
    return conv_side(kernel, stride) // max(pool, 1)


def conv_windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """The windows of images x (N, 784) in the format's output order: (N, side^2, kernel^2),
    windows row-major, each window's pixels row-major (a view where NumPy can, else a copy)."""
    win = sliding_window_view(x.reshape(-1, IMAGE_SIDE, IMAGE_SIDE), (kernel, kernel), axis=(1, 2))
    win = win[:, ::stride, ::stride]
    return win.reshape(len(win), -1, kernel * kernel)


class ModelFormatError(ValueError):
    """A model file or blob is not a valid edgedigits model."""


@dataclass(frozen=True)
class QuantLayer:
    """One int8 layer. Dense: weights int8 (n_out, n_in), the rest (n_out,). Convolution
    (activation ACT_CONV_SIGMOID, conv = (channels, kernel, stride), or (channels, kernel, stride,
    pool) when max-pooled over pool x pool windows): weights int8 (channels, kernel^2), the rest
    (channels,); output p * channels + c is channel c at output position p."""

    weights: np.ndarray
    bias: np.ndarray  # int32, accumulator units
    multiplier: np.ndarray  # int32 in [0, 2^31)
    shift: np.ndarray  # int32 in [1, 62]
    scale: np.ndarray  # float32, real weight = weights * scale (per row)
    activation: int  # ACT_SIGMOID for hidden layers, ACT_LINEAR for the output layer
    conv: tuple[int, ...] | None = None

    @property
    def pool(self) -> int:
        """A convolution's max-pooling block side (1: none)."""
        return self.conv[3] if len(self.conv) > 3 else 1

    @property
    def side(self) -> int:
        """Convolution outputs per row (and column), after pooling."""
        return pooled_side(self.conv[1], self.conv[2], self.pool)

    @property
    def n_out(self) -> int:
        if self.conv:
            return self.conv[0] * self.side ** 2
        return int(self.weights.shape[0])

    @property
    def n_in(self) -> int:
        return INPUT_SIZE if self.conv else int(self.weights.shape[1])


def _align4(n: int) -> int:
    return (n + 3) & ~3


def pack_model(layers: list[QuantLayer], meta: dict | None = None) -> bytes:
    """Serialise quantised layers (and JSON metadata) into a model blob with its CRC-32."""
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFormatError(f"expected 1..{MAX_LAYERS} layers, got {len(layers)}")
    meta_bytes = json.dumps(meta or {}, sort_keys=True, separators=(",", ":")).encode("utf-8")
    offset = HEADER.size + LAYER_ENTRY.size * len(layers)
    table, sections = [], []
    for layer in layers:
        table.append(LAYER_ENTRY.pack(layer.n_in, layer.n_out, layer.activation, offset))
        body = b"".join([
            CONV_HEADER.pack(*layer.conv[:3], layer.pool if layer.pool > 1 else 0) if layer.conv else b"",
            np.asarray(layer.bias, "<i4").tobytes(),
            np.asarray(layer.multiplier, "<i4").tobytes(),
            np.asarray(layer.shift, "<i4").tobytes(),
            np.asarray(layer.scale, "<f4").tobytes(),
            # a convolution's kernels tap-major, [kernel^2][channels], as the C loop reads them
            np.ascontiguousarray(layer.weights.T if layer.conv else layer.weights, np.int8).tobytes(),
        ])
        body += b"\0" * (_align4(len(body)) - len(body))
        sections.append(body)
        offset += len(body)
    meta_offset = offset
    total = meta_offset + len(meta_bytes) + 4
    version = FORMAT_VERSION if any(layer.conv for layer in layers) else DENSE_FORMAT_VERSION
    head = HEADER.pack(MAGIC, version, len(layers), total, meta_offset, len(meta_bytes), 0)
    blob = head + b"".join(table) + b"".join(sections) + meta_bytes
    return blob + struct.pack("<I", zlib.crc32(blob))


def unpack_model(blob: bytes) -> tuple[list[QuantLayer], dict]:
    """Parse a blob that the C loader has accepted (use edgedigits.Model to validate)."""
    magic, version, n_layers, total, meta_off, meta_len, _ = HEADER.unpack_from(blob, 0)
    if magic != MAGIC or not 1 <= version <= FORMAT_VERSION or total != len(blob):
        raise ModelFormatError("not a valid edgedigits model blob")
    layers = []
    for i in range(n_layers):
        n_in, n_out, act, off = LAYER_ENTRY.unpack_from(blob, HEADER.size + LAYER_ENTRY.size * i)
        conv = None
        if act == ACT_CONV_SIGMOID:
            channels, kernel, stride, pool = CONV_HEADER.unpack_from(blob, off)
            conv = (channels, kernel, stride) + ((pool,) if pool > 1 else ())
            off += CONV_HEADER.size
            rows, row_len = conv[0], conv[1] * conv[1]
        else:
            rows, row_len = n_out, n_in

        def arr(dtype: str, k: int) -> np.ndarray:
            return np.frombuffer(blob, dtype, rows, off + 4 * rows * k).copy()

        weights = np.frombuffer(blob, np.int8, rows * row_len, off + 16 * rows)
        weights = weights.reshape(row_len, rows).T if conv else weights.reshape(rows, row_len)
        layers.append(QuantLayer(weights.copy(), arr("<i4", 0), arr("<i4", 1),
                                 arr("<i4", 2), arr("<f4", 3), act, conv))
    meta = json.loads(blob[meta_off:meta_off + meta_len].decode("utf-8")) if meta_len else {}
    return layers, meta


def _atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_model_file(path: str | os.PathLike, blob: bytes) -> None:
    """Write a model blob atomically."""
    _atomic_write(path, blob)


def c_byte_array(data: bytes, per_line: int = 16) -> str:
    """The bytes as the body of a C array initialiser, `per_line` per line."""
    lines = []
    for i in range(0, len(data), per_line):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + per_line]) + ",")
    return "\n".join(lines)


def c_header_text(blob: bytes, name: str, command: str) -> str:
    """A C header embedding `blob` as `static const uint8_t <name>[]`, with banner and guard."""
    if not name.isidentifier() or not name.startswith("ed_"):
        raise ValueError(f"expected a C identifier starting with 'ed_', got {name!r}")
    guard = name.upper() + "_H"
    crc = struct.unpack_from("<I", blob, len(blob) - 4)[0]
    return (
        f"/* GENERATED by `{command}`; do not edit.\n"
        f" * edgedigits model blob ({len(blob)} bytes, CRC-32 0x{crc:08x}); load it with\n"
        f" * ed_model_load(&model, {name}, {name.upper()}_LEN). Format: docs/model-format.md */\n"
        f"#ifndef {guard}\n#define {guard}\n\n#include <stdint.h>\n\n"
        f"#define {name.upper()}_LEN {len(blob)}u\n"
        f"#define {name.upper()}_CRC32 0x{crc:08x}u\n\n"
        f"static const uint8_t {name}[{len(blob)}] = {{\n{c_byte_array(blob)}\n}};\n\n"
        f"#endif /* {guard} */\n"
    )


def write_c_header(path: str | os.PathLike, blob: bytes, name: str, command: str) -> None:
    """Write the C header for `blob` atomically (see c_header_text)."""
    _atomic_write(path, c_header_text(blob, name, command).encode("ascii"))
