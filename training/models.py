"""The notebook's two models in float: multiclass logistic regression and a sigmoid MLP.

One dataclass covers both: `Mlp` with zero hidden layers is multiclass logistic regression.
Semantics match the runtime's int8 export (edgedigits.quantize): x = pixel / 255 (784 values);
h = sigmoid(W h_prev + b) for each hidden layer; log q = W h + b for the last layer (the logits,
the notebook's unnormalised log-probabilities); log p = log q - log Z with log Z computed by the
log-sum-exp trick. W has shape (n_out, n_in), b shape (n_out,).

Optionally the first layer is a strided convolution (`Conv`): C kernels of k x k pixels applied
at stride s over the 28x28 image without padding, each followed by the sigmoid. It is a dense
layer whose rows share weights: row p*C + c (position p, channel c) holds kernel c at the pixels
of window p and zeros elsewhere. Training keeps the C kernels (weights[0] is (C, k*k), biases[0]
is (C,)) and sums each kernel's gradient over the positions. The int8 export stores the kernels
(edgedigits.quantize, `conv=`), and the C core runs the convolution itself; `Mlp.dense_layers()`
gives the dense expansion (tests check that both agree).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgedigits.classes import digit_log_proba
from edgedigits.modelfile import IMAGE_SIDE, conv_side, conv_windows, pooled_side

N_INPUTS = 784
N_CLASSES = 10  # digits only; 19-class models (edgedigits/classes.py) pass n_classes to init_mlp
# Hidden-layer init: N(0, (INIT_GAIN / sqrt(n_in))^2), so a hidden pre-activation starts with
# standard deviation ~INIT_GAIN * rms(input) whatever the width: sigmoids neither saturate nor
# sit exactly at 0.5 (where all units would learn alike). The output layer starts at zero: with
# random hidden layers, the hidden units already differ, and zero logits mean p = 1/10 at start.
INIT_GAIN = 1.0


@dataclass(frozen=True)
class Conv:
    """A first layer of `channels` kernels of kernel x kernel pixels at `stride`, no padding,
    optionally followed by max-pooling over `pool` x `pool` blocks of windows (pool 1: none)."""

    channels: int
    kernel: int
    stride: int
    pool: int = 1

    def __post_init__(self):
        if not (self.channels >= 1 and 1 <= self.kernel <= IMAGE_SIDE and self.stride >= 1
                and 1 <= self.pool <= conv_side(self.kernel, self.stride)):
            raise ValueError(f"bad convolution {self}: need channels >= 1, 1 <= kernel <= 28, stride >= 1, "
                             "1 <= pool <= windows per row")

    @property
    def windows(self) -> int:
        """Convolution windows per row (and per column), before pooling."""
        return conv_side(self.kernel, self.stride)

    @property
    def side(self) -> int:
        """Output positions per row (and per column), after pooling."""
        return pooled_side(self.kernel, self.stride, self.pool)

    @property
    def positions(self) -> int:
        return self.side * self.side

    @property
    def n_out(self) -> int:
        return self.positions * self.channels

    def as_list(self) -> list[int]:
        """[channels, kernel, stride], and pool when there is pooling (as the config writes it)."""
        return [self.channels, self.kernel, self.stride] + ([self.pool] if self.pool > 1 else [])


def im2col(conv: Conv, x: np.ndarray) -> np.ndarray:
    """The windows of images x (N, 784) as (N, windows^2, kernel*kernel), row-major."""
    return conv_windows(x, conv.kernel, conv.stride)


def conv_pre(conv: Conv, kernels: np.ndarray, bias: np.ndarray, cols: np.ndarray):
    """Pre-activations (N, positions * channels), index p*C + c, from im2col windows, and which
    window of each pooling block won (None without pooling; the first on ties, as argmax).
    Max-pooling the pre-activations is max-pooling the sigmoid outputs: the sigmoid increases."""
    full = cols @ kernels.T + bias
    if conv.pool == 1:
        return full.reshape(len(cols), conv.n_out), None
    blocks = _pool_offsets(conv, full)
    index = np.uint8 if len(blocks) <= 256 else np.uint16
    pre, win = blocks[0], np.zeros(blocks[0].shape, index)
    for i, b in enumerate(blocks[1:], 1):
        win = np.where(b > pre, index(i), win)
        pre = np.maximum(pre, b)
    return pre.reshape(len(cols), conv.n_out), win


def _pool_offsets(conv: Conv, full: np.ndarray) -> list[np.ndarray]:
    """(N, windows^2, C) -> pool^2 views (N, side, side, C): the window at offset (i, j) of each
    output's block, i-major (windows past the last whole block are dropped)."""
    n, w, s, p = len(full), conv.windows, conv.side, conv.pool
    x = full.reshape(n, w, w, conv.channels)
    return [x[:, i:s * p:p, j:s * p:p] for i in range(p) for j in range(p)]


def conv_grad(conv: Conv, delta: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray]:
    """Kernel and bias gradients from the pre-activation deltas (N, positions * channels) and
    first_pre's cache: each kernel's gradient is the sum over windows of what a dense row's
    gradient would be; with pooling, only the window that won its block gets the delta."""
    cols, win = cache
    if conv.pool > 1:
        full = np.zeros((len(delta), conv.windows ** 2, conv.channels), delta.dtype)
        d = delta.reshape(win.shape)
        for i, view in enumerate(_pool_offsets(conv, full)):
            np.multiply(d, win == i, out=view)
        delta = full
    d = delta.reshape(-1, conv.channels)
    return d.T @ cols.reshape(-1, conv.kernel * conv.kernel), d.sum(axis=0)


def expand_conv(conv: Conv, kernels: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The convolution as a dense layer: W (positions * channels, 784) and b (positions * channels,).
    Only without pooling (a max is not linear)."""
    if conv.pool > 1:
        raise ValueError(f"{conv}: a pooled convolution has no dense expansion")
    k, s, c = conv.kernel, conv.stride, conv.channels
    w = np.zeros((conv.positions, c, IMAGE_SIDE, IMAGE_SIDE), kernels.dtype)
    ker = kernels.reshape(c, k, k)
    for p in range(conv.positions):
        r, q = divmod(p, conv.side)
        w[p, :, r * s:r * s + k, q * s:q * s + k] = ker
    return w.reshape(conv.n_out, N_INPUTS), np.tile(bias, conv.positions)


@dataclass
class Mlp:
    """Weights [(n_out, n_in), ...] and biases [(n_out,), ...], input layer first; with `conv`,
    weights[0] is (channels, kernel*kernel) and biases[0] is (channels,)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    conv: Conv | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        """(784, hidden..., 10), the convolution's outputs counted as a hidden layer."""
        first = self.conv.n_out if self.conv else self.weights[0].shape[0]
        return (N_INPUTS if self.conv else self.weights[0].shape[1], first) + tuple(
            w.shape[0] for w in self.weights[1:])

    @property
    def hidden(self) -> tuple[int, ...]:
        """The dense hidden layers (after the convolution, if there is one)."""
        return self.sizes[2:-1] if self.conv else self.sizes[1:-1]

    def first_pre(self, x: np.ndarray) -> tuple[np.ndarray, tuple | None]:
        """The first layer's pre-activations for x (N, 784), and what conv_grad needs (conv only):
        the im2col windows and the pooling's winners."""
        if self.conv is None:
            return x @ self.weights[0].T + self.biases[0], None
        cols = im2col(self.conv, x)
        pre, win = conv_pre(self.conv, self.weights[0], self.biases[0], cols)
        return pre, (cols, win)

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def params(self) -> list[np.ndarray]:
        """All parameter arrays: W1, b1, W2, b2, ... (views, not copies)."""
        return [p for wb in zip(self.weights, self.biases) for p in wb]

    def copy(self) -> Mlp:
        return Mlp([w.copy() for w in self.weights], [b.copy() for b in self.biases], self.conv)

    def astype(self, dtype) -> Mlp:
        return Mlp([w.astype(dtype) for w in self.weights], [b.astype(dtype) for b in self.biases], self.conv)

    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W, b), ...] as edgedigits.quantize.quantize_mlp takes them (with conv=self.conv_spec)."""
        return list(zip(self.weights, self.biases))

    @property
    def conv_spec(self) -> tuple[int, ...] | None:
        """(channels, kernel, stride[, pool]) for edgedigits.quantize.quantize_mlp, or None."""
        return tuple(self.conv.as_list()) if self.conv else None

    def dense_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W, b), ...] with a convolution expanded into its dense layer."""
        pairs = self.layers()
        if self.conv:
            pairs[0] = expand_conv(self.conv, *pairs[0])
        return pairs

    def macs(self) -> int:
        """Multiply-accumulates of one forward pass (a convolution: each kernel at each window)."""
        first = self.conv.windows ** 2 * self.weights[0].size if self.conv else self.weights[0].size
        return int(first + sum(w.size for w in self.weights[1:]))


def init_mlp(hidden: tuple[int, ...] | list[int], rng: np.random.Generator,
             dtype=np.float32, gain: float = INIT_GAIN, conv: Conv | None = None,
             n_classes: int = N_CLASSES) -> Mlp:
    """Random hidden layers scaled to the layer width (see INIT_GAIN), zero output layer of
    n_classes logits. With `conv`, the first layer is the convolution, its kernels scaled to
    the window size."""
    sizes = (conv.n_out if conv else N_INPUTS, *hidden, n_classes)
    weights, biases = [], []
    if conv:
        n_in = conv.kernel * conv.kernel
        weights.append(rng.normal(0.0, gain / np.sqrt(n_in), (conv.channels, n_in)).astype(dtype))
        biases.append(np.zeros(conv.channels, dtype))
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        w = np.zeros((n_out, n_in)) if last else rng.normal(0.0, gain / np.sqrt(n_in), (n_out, n_in))
        weights.append(w.astype(dtype))
        biases.append(np.zeros(n_out, dtype))
    return Mlp(weights, biases, conv)


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + exp(-a)), computed as (1 + tanh(a/2)) / 2: no overflow for any a."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def log_softmax(log_q: np.ndarray) -> np.ndarray:
    """log p = log q - log Z, log Z = a + log sum exp(log q - a) with a = max log q (per row)."""
    a = log_q.max(axis=-1, keepdims=True)
    return log_q - (a + np.log(np.exp(log_q - a).sum(axis=-1, keepdims=True)))


def forward(model: Mlp, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Hidden activations [h1, ...] and logits log q for x of shape (784,) or (N, 784)."""
    x2 = np.atleast_2d(x)
    hs = [sigmoid(model.first_pre(x2)[0])] if len(model.weights) > 1 else []
    h = hs[0] if hs else x2
    for w, b in zip(model.weights[1:-1], model.biases[1:-1]):
        h = sigmoid(h @ w.T + b)
        hs.append(h)
    log_q = h @ model.weights[-1].T + model.biases[-1] if hs else model.first_pre(x2)[0]
    if x.ndim == 1:
        return [v[0] for v in hs], log_q[0]
    return hs, log_q


def log_proba(model: Mlp, x: np.ndarray, batch: int = 10_000) -> np.ndarray:
    """log p(t = j | x) for x (N, 784), in batches to bound memory."""
    x = np.atleast_2d(x)
    out = np.empty((x.shape[0], model.sizes[-1]), model.dtype)
    for i in range(0, x.shape[0], batch):
        out[i:i + batch] = log_softmax(forward(model, x[i:i + batch].astype(model.dtype, copy=False))[1])
    return out


def evaluate(model: Mlp, x: np.ndarray, t: np.ndarray, digits: bool = False) -> tuple[float, float]:
    """(mean log-likelihood of the true labels, error rate) on inputs x (N, 784): the most
    likely of all the model's classes against the label, or with `digits` (labels 0..9) the
    most likely digit as the public digit API reads it (edgedigits/classes.py digit_log_proba)."""
    lp = log_proba(model, x)
    ll = float(lp[np.arange(len(t)), t].astype(np.float64).mean())
    pred = (digit_log_proba(lp) if digits else lp).argmax(axis=1)
    return ll, float((pred != t).mean())


def digit_error(model: Mlp, x: np.ndarray, t: np.ndarray) -> float:
    """Error rate on digits (labels 0..9) as the public digit API reads them."""
    return evaluate(model, x, t, digits=True)[1]


def to_npz_dict(model: Mlp) -> dict[str, np.ndarray]:
    """Arrays W0, b0, W1, b1, ... for np.savez."""
    d = {}
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        d[f"W{i}"], d[f"b{i}"] = w, b
    if model.conv:
        d["conv"] = np.array(model.conv.as_list(), np.int64)
    return d


def from_npz_dict(d) -> Mlp:
    """Inverse of to_npz_dict (accepts an NpzFile)."""
    n = sum(1 for k in d if k.startswith("W") and k[1:].isdigit())
    if n == 0:
        raise ValueError("no layers W0, b0, ... in the archive")
    conv = Conv(*(int(v) for v in d["conv"])) if "conv" in d else None
    return Mlp([np.array(d[f"W{i}"]) for i in range(n)], [np.array(d[f"b{i}"]) for i in range(n)], conv)
