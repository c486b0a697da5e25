"""The notebook's two models in float: multiclass logistic regression and a sigmoid MLP.

One dataclass covers both: `Mlp` with zero hidden layers is multiclass logistic regression.
Semantics match the runtime's int8 export (edgedigits.quantize): x = pixel / 255 (784 values);
h = sigmoid(W h_prev + b) for each hidden layer; log q = W h + b for the last layer (the logits,
the notebook's unnormalised log-probabilities); log p = log q - log Z with log Z computed by the
log-sum-exp trick. W has shape (n_out, n_in), b shape (n_out,).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_INPUTS = 784
N_CLASSES = 10
# Hidden-layer init: N(0, (INIT_GAIN / sqrt(n_in))^2), so a hidden pre-activation starts with
# standard deviation ~INIT_GAIN * rms(input) whatever the width: sigmoids neither saturate nor
# sit exactly at 0.5 (where all units would learn alike). The output layer starts at zero: with
# random hidden layers, the hidden units already differ, and zero logits mean p = 1/10 at start.
INIT_GAIN = 1.0


@dataclass
class Mlp:
    """Weights [(n_out, n_in), ...] and biases [(n_out,), ...], input layer first."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @property
    def sizes(self) -> tuple[int, ...]:
        """(784, hidden..., 10)."""
        return (self.weights[0].shape[1],) + tuple(w.shape[0] for w in self.weights)

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.sizes[1:-1]

    @property
    def dtype(self) -> np.dtype:
        return self.weights[0].dtype

    def params(self) -> list[np.ndarray]:
        """All parameter arrays: W1, b1, W2, b2, ... (views, not copies)."""
        return [p for wb in zip(self.weights, self.biases) for p in wb]

    def copy(self) -> Mlp:
        return Mlp([w.copy() for w in self.weights], [b.copy() for b in self.biases])

    def astype(self, dtype) -> Mlp:
        return Mlp([w.astype(dtype) for w in self.weights], [b.astype(dtype) for b in self.biases])

    def layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(W, b), ...] as edgedigits.quantize.quantize_mlp takes them."""
        return list(zip(self.weights, self.biases))

    def macs(self) -> int:
        """Multiply-accumulates of one forward pass."""
        return int(sum(w.size for w in self.weights))


def init_mlp(hidden: tuple[int, ...] | list[int], rng: np.random.Generator,
             dtype=np.float32, gain: float = INIT_GAIN) -> Mlp:
    """Random hidden layers scaled to the layer width (see INIT_GAIN), zero output layer."""
    sizes = (N_INPUTS, *hidden, N_CLASSES)
    weights, biases = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        w = np.zeros((n_out, n_in)) if last else rng.normal(0.0, gain / np.sqrt(n_in), (n_out, n_in))
        weights.append(w.astype(dtype))
        biases.append(np.zeros(n_out, dtype))
    return Mlp(weights, biases)


def sigmoid(a: np.ndarray) -> np.ndarray:
    """sigma(a) = 1 / (1 + exp(-a)), computed as (1 + tanh(a/2)) / 2: no overflow for any a."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def log_softmax(log_q: np.ndarray) -> np.ndarray:
    """log p = log q - log Z, log Z = a + log sum exp(log q - a) with a = max log q (per row)."""
    a = log_q.max(axis=-1, keepdims=True)
    return log_q - (a + np.log(np.exp(log_q - a).sum(axis=-1, keepdims=True)))


def forward(model: Mlp, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Hidden activations [h1, ...] and logits log q for x of shape (784,) or (N, 784)."""
    hs = []
    h = x
    for w, b in zip(model.weights[:-1], model.biases[:-1]):
        h = sigmoid(h @ w.T + b)
        hs.append(h)
    return hs, h @ model.weights[-1].T + model.biases[-1]


def log_proba(model: Mlp, x: np.ndarray, batch: int = 10_000) -> np.ndarray:
    """log p(t = j | x) for x (N, 784), in batches to bound memory."""
    x = np.atleast_2d(x)
    out = np.empty((x.shape[0], N_CLASSES), model.dtype)
    for i in range(0, x.shape[0], batch):
        out[i:i + batch] = log_softmax(forward(model, x[i:i + batch].astype(model.dtype, copy=False))[1])
    return out


def evaluate(model: Mlp, x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """(mean log-likelihood of the true labels, error rate) on inputs x (N, 784)."""
    lp = log_proba(model, x)
    ll = float(lp[np.arange(len(t)), t].astype(np.float64).mean())
    return ll, float((lp.argmax(axis=1) != t).mean())


def to_npz_dict(model: Mlp) -> dict[str, np.ndarray]:
    """Arrays W0, b0, W1, b1, ... for np.savez."""
    d = {}
    for i, (w, b) in enumerate(model.layers()):
        d[f"W{i}"], d[f"b{i}"] = w, b
    return d


def from_npz_dict(d) -> Mlp:
    """Inverse of to_npz_dict (accepts an NpzFile)."""
    n = sum(1 for k in d if k.startswith("W") and k[1:].isdigit())
    if n == 0:
        raise ValueError("no layers W0, b0, ... in the archive")
    return Mlp([np.array(d[f"W{i}"]) for i in range(n)], [np.array(d[f"b{i}"]) for i in range(n)])
