"""Float MLP -> int8 model blob.

Float semantics reproduced (the training side's contract): x = pixel / 255;
h = sigmoid(W h_prev + b) for hidden layers; logits = W h + b for the last layer; W is
(n_out, n_in). Every layer input is uint8 with real value u / 255 (pixels, and sigmoid outputs
with 255 == 1.0), so one rule quantises every layer:

    scale[o]      = max_i |W[o, i]| / 127            (symmetric per-row int8)
    weights[o, i] = round(W[o, i] / scale[o])         in [-127, 127]
    bias[o]       = round(b[o] * 255 / scale[o])      accumulator units
    real pre-activation z[o] = acc[o] * scale[o] / 255
    multiplier, shift: M * 2^-S ~= scale[o] / 255 * K, M in [2^30, 2^31), 1 <= S <= 62,
        K = 64 for hidden layers (sigmoid table step 1/64), 2^16 for logits (Q16).

A convolutional first layer (`conv=(channels, kernel, stride)`, or `(channels, kernel, stride,
pool)` with max-pooling) is quantised by the same rule with one row per channel: its kernels
(channels, kernel^2) and biases (channels,). Multipliers are never negative, so the integer
path may pool accumulators: requantisation and the sigmoid table keep their order.
"""
from __future__ import annotations

import math

import numpy as np

import dataclasses

from .modelfile import (ACT_CONV_SIGMOID, ACT_LINEAR, ACT_SIGMOID, IMAGE_SIDE, INPUT_SIZE, MAX_BIAS,
                        MAX_WIDTH, QuantLayer, conv_side, pack_model)

SIGMOID_STEPS_PER_UNIT = 64  # must match ED_SIGMOID_STEPS_PER_UNIT in csrc/edgedigits.h
LOGIT_FRAC_BITS = 16  # must match ED_LOGIT_FRAC_BITS
WEIGHT_MAX = 127


def fixed_point_multiplier(real: float) -> tuple[int, int]:
    """(M, S) with M * 2^-S ~= real, M in [2^30, 2^31) where possible, 1 <= S <= 62."""
    if not (real >= 0.0 and math.isfinite(real)):
        raise ValueError(f"expected a finite non-negative multiplier, got {real}")
    if real == 0.0:
        return 0, 1
    mant, exp = math.frexp(real)  # real = mant * 2^exp, mant in [0.5, 1)
    m = int(round(mant * (1 << 31)))
    if m == 1 << 31:
        m, exp = 1 << 30, exp + 1
    s = 31 - exp
    if s > 62:  # tiny multiplier: lose precision rather than range
        m, s = int(round(real * 2.0 ** 62)), 62
    if s < 1:
        raise ValueError(f"multiplier {real} too large for the fixed-point format")
    return m, s


def quantize_layer(w: np.ndarray, b: np.ndarray, activation: int) -> QuantLayer:
    w = np.asarray(w, np.float64)
    b = np.asarray(b, np.float64).reshape(-1)
    if w.ndim != 2 or b.shape != (w.shape[0],):
        raise ValueError(f"expected W (n_out, n_in) and b (n_out,), got {w.shape} and {b.shape}")
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        raise ValueError("weights and biases must be finite")
    if not (1 <= w.shape[0] <= MAX_WIDTH and 1 <= w.shape[1] <= MAX_WIDTH):
        raise ValueError(f"layer sizes must be within 1..{MAX_WIDTH}, got {w.shape}")
    scale = np.abs(w).max(axis=1) / WEIGHT_MAX
    scale[scale == 0] = 1.0  # all-zero row: any scale represents it
    wq = np.clip(np.rint(w / scale[:, None]), -WEIGHT_MAX, WEIGHT_MAX).astype(np.int8)
    bq = np.clip(np.rint(b * 255.0 / scale), -MAX_BIAS, MAX_BIAS).astype(np.int32)
    k = float(SIGMOID_STEPS_PER_UNIT) if activation == ACT_SIGMOID else float(1 << LOGIT_FRAC_BITS)
    ms = [fixed_point_multiplier(float(s) / 255.0 * k) for s in scale]
    return QuantLayer(
        weights=wq,
        bias=bq,
        multiplier=np.array([m for m, _ in ms], np.int32),
        shift=np.array([s for _, s in ms], np.int32),
        scale=scale.astype(np.float32),
        activation=activation,
    )


def quantize_mlp(layers: list[tuple[np.ndarray, np.ndarray]], meta: dict | None = None,
                 conv: tuple[int, ...] | None = None) -> bytes:
    """Quantise a float MLP [(W1, b1), ..., (Wk, bk)] into a model blob.

    All but the last layer are sigmoid hidden layers; the last gives the logits. The first
    layer must take 784 inputs (28x28 pixels / 255), or with `conv` = (channels, kernel, stride)
    or (channels, kernel, stride, pool) be that convolution: W1 (channels, kernel^2), b1 (channels,), followed by at least one layer.
    """
    if not layers:
        raise ValueError("expected at least one (W, b) layer")
    if conv is None and np.shape(layers[0][0])[-1] != INPUT_SIZE:
        raise ValueError(f"the first layer must take {INPUT_SIZE} inputs, got {np.shape(layers[0][0])}")
    q = [quantize_layer(w, b, ACT_SIGMOID if i + 1 < len(layers) else ACT_LINEAR)
         for i, (w, b) in enumerate(layers)]
    if conv is not None:
        if len(conv) not in (3, 4):
            raise ValueError(f"expected conv=(channels, kernel, stride[, pool]), got {conv}")
        channels, kernel, stride, pool = (*(int(v) for v in conv), 1)[:4]
        if len(layers) < 2 or not (1 <= kernel <= IMAGE_SIDE and 1 <= stride <= IMAGE_SIDE
                                   and 1 <= pool <= conv_side(kernel, stride)):
            raise ValueError(f"bad convolution {conv}: need kernel and stride in 1..{IMAGE_SIDE}, "
                             "pool from 1 to the windows per row, and a layer after it")
        if np.shape(layers[0][0]) != (channels, kernel * kernel):
            raise ValueError(f"convolution {conv} needs kernels of shape {(channels, kernel * kernel)}, "
                             f"got {np.shape(layers[0][0])}")
        q[0] = dataclasses.replace(q[0], activation=ACT_CONV_SIGMOID,
                                   conv=(channels, kernel, stride) + ((pool,) if pool > 1 else ()))
        if q[0].n_out > MAX_WIDTH:
            raise ValueError(f"convolution {conv} has {q[0].n_out} outputs, more than {MAX_WIDTH}")
    for prev, cur in zip(q, q[1:]):
        if cur.n_in != prev.n_out:
            raise ValueError(f"layer sizes do not chain: {prev.n_out} outputs into {cur.n_in} inputs")
    return pack_model(q, meta)
