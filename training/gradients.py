"""Gradients of the log-likelihood, as docs/math.md derives them.

Two implementations of the same equations:

- `datapoint_gradient`: one datapoint at a time, in the notebook's order: log q -> Z -> log p ->
  delta_q -> delta_h (per hidden layer, output to input) -> parameter gradients. This is the
  fidelity path (the notebook's SGD) and the readable statement of the maths.
- `minibatch_gradient`: the same equations with the datapoint index as a matrix dimension; the
  sum over the batch becomes a matrix product. Exact, and hundreds of times faster.

Both return gradients of the log-likelihood (to be *ascended*), summed over the datapoints, in the
order of Mlp.params(): dW1, db1, dW2, db2, ... The MAP term of a Gaussian prior N(0, 1/lambda)
on every weight is `prior_gradient`: -lambda * W (biases have a flat prior).

With a convolutional first layer (training/models.py `Conv`) the first layer's gradient is taken
per dense row as usual and summed over the positions that share a kernel (`conv_grad`).
"""
from __future__ import annotations

import numpy as np

from edgedigits.classes import N_DIGITS

from .models import Mlp, conv_grad, log_softmax, sigmoid


def datapoint_gradient(model: Mlp, x: np.ndarray, t: int) -> tuple[list[np.ndarray], float]:
    """Gradient of L = log p(t | x) for one datapoint x (784,), and L itself."""
    # Forward: keep every layer's input (x, h1, h2, ...).
    inputs = [x]
    pre, cache = model.first_pre(x[None, :])
    for i, (w, b) in enumerate(zip(model.weights[:-1], model.biases[:-1])):
        inputs.append(sigmoid(pre[0] if i == 0 else w @ inputs[-1] + b))
    log_q = pre[0] if len(model.weights) == 1 else model.weights[-1] @ inputs[-1] + model.biases[-1]
    log_p = log_softmax(log_q)
    # delta_q_j = dL/d log q_j = [j == t] - q_j / Z = [j == t] - p_j
    delta = -np.exp(log_p)
    n_dig = min(len(log_p), N_DIGITS)
    if t < len(log_p):
        delta[t] += 1.0
    else:  # unsure (t >= K): uniform target over the digits, L = mean over digits j of log p_j
        delta[:n_dig] += 1.0 / n_dig
    grads: list[np.ndarray] = []
    for layer in range(len(model.weights) - 1, -1, -1):
        # delta = dL/d(pre-activation of this layer): dW = delta h_prev^T, db = delta.
        if layer == 0 and model.conv:
            grads[:0] = list(conv_grad(model.conv, delta[None, :], cache))
            break
        grads[:0] = [np.outer(delta, inputs[layer]), delta.copy()]
        if layer:
            delta_h = model.weights[layer].T @ delta  # dL/dh for the layer below
            h = inputs[layer]
            delta = delta_h * h * (1.0 - h)  # sigma'(z) = sigma(z) (1 - sigma(z)), applied once
    return grads, float(log_p[t] if t < len(log_p) else log_p[:n_dig].mean())


def minibatch_gradient(model: Mlp, x: np.ndarray, t: np.ndarray) -> tuple[list[np.ndarray], float]:
    """Sum over the batch of the per-datapoint gradients, and the summed log-likelihood.

    x: (B, 784); t: (B,) int labels. Row i of every delta matrix is datapoint i's delta vector.
    """
    inputs = [x]
    pre, cache = model.first_pre(x)
    for i, (w, b) in enumerate(zip(model.weights[:-1], model.biases[:-1])):
        inputs.append(sigmoid(pre if i == 0 else inputs[-1] @ w.T + b))
    log_p = log_softmax(pre if len(model.weights) == 1 else inputs[-1] @ model.weights[-1].T + model.biases[-1])
    rows = np.arange(len(t))
    delta = -np.exp(log_p)
    digit = t < log_p.shape[1]
    delta[rows[digit], t[digit]] += 1.0
    # t >= K (training/negatives.py's fragments): unsure; the target is uniform over the digits
    # (all K classes of a digits-only model), L = mean over digits j of log p_j,
    # dL/d log q_j = [j a digit]/10 - p_j.
    n_dig = min(log_p.shape[1], N_DIGITS)
    delta[~digit, :n_dig] += 1.0 / n_dig
    grads: list[np.ndarray] = []
    for layer in range(len(model.weights) - 1, -1, -1):
        if layer == 0 and model.conv:
            grads[:0] = list(conv_grad(model.conv, delta, cache))
            break
        grads[:0] = [delta.T @ inputs[layer], delta.sum(axis=0)]
        if layer:
            h = inputs[layer]
            delta = (delta @ model.weights[layer]) * h * (1.0 - h)
    ll = log_p[rows[digit], t[digit]].sum(dtype=np.float64) + \
        log_p[~digit, :n_dig].mean(1).sum(dtype=np.float64)
    return grads, float(ll)


def prior_gradient(model: Mlp, lam: float) -> list[np.ndarray]:
    """Gradient of the log of a Gaussian prior N(0, 1/lambda) on each weight: -lambda * W.

    log N(w; 0, 1/lambda) = -lambda w^2 / 2 + const, whose derivative is -lambda w. Biases: 0.
    """
    return [g for w, b in model.layers() for g in (-lam * w, np.zeros_like(b))]


def log_prior(model: Mlp, lam: float) -> float:
    """sum over weights of -lambda w^2 / 2 (up to a constant)."""
    return float(-0.5 * lam * sum(float(np.sum(w.astype(np.float64) ** 2)) for w in model.weights))
