"""The C core's integer arithmetic in NumPy, step for step (csrc/ed_forward.c).

Every integer intermediate is bit-exact with C: accumulators, requantised values, hidden
activations and int32 logits. Log-probabilities are computed in float64 here and float32 in C;
they agree within 1e-5. Tests compare the two; nothing in the runtime calls this module.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classes import N_DIGITS, has_character_classes
from .modelfile import ACT_CONV_SIGMOID, ACT_SIGMOID, QuantLayer, conv_side, conv_windows, unpack_model

SIGMOID_LUT_SIZE = 1024
SIGMOID_STEPS_PER_UNIT = 64
LOGIT_FRAC_BITS = 16
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def sigmoid_lut() -> np.ndarray:
    """lut[k] = floor(255 * sigmoid((k - 512) / 64) + 0.5), as csrc/ed_sigmoid_lut.h holds."""
    z = (np.arange(SIGMOID_LUT_SIZE) - SIGMOID_LUT_SIZE // 2) / SIGMOID_STEPS_PER_UNIT
    return np.floor(255.0 / (1.0 + np.exp(-z)) + 0.5).astype(np.uint8)


_LUT = sigmoid_lut()


def dense_acc(layer: QuantLayer, x: np.ndarray) -> np.ndarray:
    """acc[n, o] = bias[o] + sum_i w[o, i] * x[n, i] as int64 (fits int32 for valid models).

    The sum is done in float64, which is exact here: every partial sum is an integer of
    magnitude below 2^31 < 2^53, so BLAS gives the exact integer in any order.
    """
    acc = x.astype(np.float64) @ layer.weights.astype(np.float64).T
    return acc.astype(np.int64) + layer.bias.astype(np.int64)


def conv_acc(layer: QuantLayer, x: np.ndarray) -> np.ndarray:
    """acc[n, p * C + c] = bias[c] + sum over window p of kernel c times the pixels, int64; with
    pooling, the max of those sums over output p's pool x pool block of windows."""
    channels, k, stride = layer.conv[:3]
    cols = conv_windows(x, k, stride).astype(np.float64)  # exact, as in dense_acc
    acc = (cols @ layer.weights.astype(np.float64).T).astype(np.int64)
    p, s, w = layer.pool, layer.side, conv_side(k, stride)
    blocks = acc.reshape(len(x), w, w, channels)[:, :s * p, :s * p].reshape(len(x), s, p, s, p, channels)
    return (blocks.max(axis=(2, 4)) + layer.bias.astype(np.int64)).reshape(len(x), layer.n_out)


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """floor((acc * M + 2^(S-1)) / 2^S) in int64: round half up, as ed_requantize."""
    m = multiplier.astype(np.int64)
    s = shift.astype(np.int64)
    return (acc.astype(np.int64) * m + (np.int64(1) << (s - 1))) >> s


def sigmoid_u8(layer: QuantLayer, acc: np.ndarray) -> np.ndarray:
    reps = layer.n_out // len(layer.multiplier)  # a convolution's parameters are per channel
    q = requantize(acc, np.tile(layer.multiplier, reps), np.tile(layer.shift, reps))
    return _LUT[np.clip(q + SIGMOID_LUT_SIZE // 2, 0, SIGMOID_LUT_SIZE - 1)]


def logits_q16(layer: QuantLayer, acc: np.ndarray) -> np.ndarray:
    q = requantize(acc, layer.multiplier, layer.shift)
    return np.clip(q, INT32_MIN, INT32_MAX).astype(np.int32)


def log_softmax_q16(logits: np.ndarray) -> np.ndarray:
    """Log-softmax of Q16 logits with the log-sum-exp trick, in float64."""
    d = (logits.astype(np.int64) - logits.max(axis=-1, keepdims=True)) / float(1 << LOGIT_FRAC_BITS)
    return d - np.log(np.exp(d).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class Trace:
    """All intermediates of a forward pass over N images."""

    accumulators: list[np.ndarray]  # per layer, int64 (N, n_out), values within int32
    hidden: list[np.ndarray]  # per hidden layer, uint8 (N, n_out)
    logits: np.ndarray  # int32 (N, n_classes), Q16
    log_proba: np.ndarray  # float64 (N, n_classes)
    pred: np.ndarray  # int64 (N,), argmax of logits, first index on ties

    @property
    def digits(self) -> np.ndarray:
        """(N,) int64: what Model.predict_digits returns: for a model with the separator and
        not-a-character classes (classes.py), the likeliest of the ten digits; else pred."""
        if has_character_classes(self.logits.shape[1]):
            return self.logits[:, :N_DIGITS].argmax(axis=1).astype(np.int64)
        return self.pred


def forward(model: bytes | list[QuantLayer], x: np.ndarray) -> Trace:
    """Run the integer forward pass on uint8 images x of shape (N, 784)."""
    layers = unpack_model(model)[0] if isinstance(model, (bytes, bytearray)) else model
    x = np.asarray(x)
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != layers[0].n_in:
        raise ValueError(f"expected uint8 (N, {layers[0].n_in}), got {x.dtype} {x.shape}")
    accs, hidden = [], []
    h = x
    for layer in layers:
        acc = conv_acc(layer, h) if layer.activation == ACT_CONV_SIGMOID else dense_acc(layer, h)
        accs.append(acc)
        if layer.activation in (ACT_SIGMOID, ACT_CONV_SIGMOID):
            h = sigmoid_u8(layer, acc)
            hidden.append(h)
    logits = logits_q16(layers[-1], accs[-1])
    return Trace(accs, hidden, logits, log_softmax_q16(logits), np.argmax(logits, axis=1))
