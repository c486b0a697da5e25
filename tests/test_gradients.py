"""Gradients of the log-likelihood (training/gradients.py) against central finite differences.

In float64 on small models with random parameters (0, 1 and 2 sigmoid hidden layers): both the
per-datapoint gradient (the notebook's derivation) and the vectorised minibatch gradient must
match the numerical derivative of the log-likelihood (and of the log-posterior with the Gaussian
prior) with relative error below 1e-6 for every parameter array, and match each other.
"""
from __future__ import annotations

import numpy as np
import pytest

from training.gradients import (
    datapoint_gradient,
    log_prior,
    minibatch_gradient,
    prior_gradient,
)
from training.models import Conv, Mlp, expand_conv, forward, init_mlp, log_proba, log_softmax, sigmoid

REL_TOL = 1e-6
EPS = 1e-5
SHAPES = [(6, (), 4), (6, (5,), 4), (7, (5, 3), 4)]  # n_in, hidden, n_classes


def random_model(n_in: int, hidden: tuple[int, ...], n_out: int, rng) -> Mlp:
    sizes = (n_in, *hidden, n_out)
    return Mlp([rng.normal(0, 1.0, (o, i)) for i, o in zip(sizes, sizes[1:])],
               [rng.normal(0, 0.5, o) for o in sizes[1:]])


def objective(model: Mlp, x: np.ndarray, t: np.ndarray, lam: float) -> float:
    h = x
    weights, biases = list(model.weights), list(model.biases)
    if model.conv:  # independently of im2col: the convolution as its dense layer, pooled by loops
        c = model.conv
        plain = Conv(c.channels, c.kernel, c.stride)
        w0, b0 = expand_conv(plain, weights.pop(0), biases.pop(0))
        pre = (x @ w0.T + b0).reshape(len(x), plain.side, plain.side, c.channels)
        p = c.pool
        pooled = [[pre[:, r * p:r * p + p, q * p:q * p + p].max(axis=(1, 2)) for q in range(c.side)]
                  for r in range(c.side)]
        h = sigmoid(np.array(pooled).transpose(2, 0, 1, 3).reshape(len(x), c.n_out))
    for w, b in zip(weights[:-1], biases[:-1]):
        h = sigmoid(h @ w.T + b)
    lp = log_softmax(h @ weights[-1].T + biases[-1])
    # label K (K classes) is "unsure" (training/negatives.py): L = mean over the digits j of
    # log p_j (every class of a model of up to 10; the first 10 of a character model's 19)
    digit = t < lp.shape[1]
    ll = lp[np.arange(len(t))[digit], t[digit]].sum() + lp[~digit, :10].mean(1).sum()
    return float(ll) + log_prior(model, lam)


def numerical_gradient(model: Mlp, x, t, lam: float) -> list[np.ndarray]:
    grads = []
    for p in model.params():
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + EPS
            up = objective(model, x, t, lam)
            p[idx] = old - EPS
            down = objective(model, x, t, lam)
            p[idx] = old
            g[idx] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def check(analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    for k, (a, n) in enumerate(zip(analytic, numeric)):
        name = f"{'Wb'[k % 2]}{k // 2}"
        err = rel_err(a, n)
        assert err < REL_TOL, f"{name}: relative error {err:.3g} >= {REL_TOL} (shape {a.shape})"
        # and elementwise, with an absolute floor for entries that are ~0
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("n_in,hidden,n_out", SHAPES)
@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_minibatch_gradient_matches_finite_differences(n_in, hidden, n_out, lam):
    rng = np.random.default_rng(1)
    model = random_model(n_in, hidden, n_out, rng)
    x, t = rng.random((5, n_in)), rng.integers(0, n_out, 5)
    grads, ll = minibatch_gradient(model, x, t)
    assert ll == pytest.approx(objective(model, x, t, 0.0), rel=1e-12)
    total = [g + p for g, p in zip(grads, prior_gradient(model, lam))]
    check(total, numerical_gradient(model, x, t, lam))


@pytest.mark.parametrize("n_in,hidden,n_out", SHAPES)
def test_datapoint_gradient_matches_finite_differences(n_in, hidden, n_out):
    rng = np.random.default_rng(2)
    model = random_model(n_in, hidden, n_out, rng)
    x, t = rng.random(n_in), int(rng.integers(0, n_out))
    grads, ll = datapoint_gradient(model, x, t)
    assert ll == pytest.approx(objective(model, x[None], np.array([t]), 0.0), rel=1e-12)
    check(grads, numerical_gradient(model, x[None], np.array([t]), 0.0))


@pytest.mark.parametrize("hidden", [(), (9,), (9, 6)])
def test_datapoint_and_minibatch_agree_on_mnist_sized_models(hidden):
    rng = np.random.default_rng(3)
    model = init_mlp(hidden, rng, np.float64)
    model.weights[-1][:] = rng.normal(0, 0.3, model.weights[-1].shape)  # not all-zero logits
    x, t = rng.random((8, 784)), rng.integers(0, 10, 8)
    batch, ll = minibatch_gradient(model, x, t)
    per = [datapoint_gradient(model, x[i], int(t[i])) for i in range(len(t))]
    assert ll == pytest.approx(sum(p[1] for p in per), rel=1e-12)
    for k, g in enumerate(batch):
        np.testing.assert_allclose(g, sum(p[0][k] for p in per), rtol=1e-10, atol=1e-12)


def test_logreg_gradient_is_the_notebook_formula():
    """Zero hidden layers: dL/db = delta_q = onehot(t) - p, dL/dW = delta_q x^T."""
    rng = np.random.default_rng(4)
    model = random_model(784, (), 10, rng)
    x, t = rng.random(784), 3
    (dw, db), _ = datapoint_gradient(model, x, t)
    p = np.exp(log_proba(model, x[None])[0])
    delta_q = -p
    delta_q[t] += 1
    np.testing.assert_allclose(db, delta_q, atol=1e-14)
    np.testing.assert_allclose(dw, np.outer(delta_q, x), atol=1e-14)


def test_log_softmax_is_stable_for_huge_logits():
    lp = log_softmax(np.array([[1000.0, 0.0, -1000.0], [-1e6, -1e6, -1e6]]))
    assert np.isfinite(lp).all()
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0)
    assert lp[0, 0] == 0.0


@pytest.mark.parametrize("hidden", [(), (5,), (5, 3)])
def test_not_a_digit_label_has_the_uniform_target(hidden):
    """Label K (training/negatives.py's NOT_A_DIGIT for K = 10 classes): L = mean_j log p_j."""
    rng = np.random.default_rng(3)
    model = random_model(6, hidden, 4, rng)
    x = rng.normal(0, 1, (5, 6))
    t = np.array([0, 4, 2, 4, 3])  # 4 = not a digit with 4 classes
    numeric = numerical_gradient(model, x, t, 0.0)
    grads, ll = minibatch_gradient(model, x, t)
    check(grads, numeric)
    assert ll == pytest.approx(objective(model, x, t, 0.0), rel=1e-12)
    per_point = [datapoint_gradient(model, x[i], int(t[i])) for i in range(5)]
    check([sum(g[k] for g, _ in per_point) for k in range(len(grads))], numeric)
    assert sum(v for _, v in per_point) == pytest.approx(ll, rel=1e-12)


def test_unsure_label_of_a_character_model_has_the_uniform_target_over_the_digits():
    """Label 19 of a 19-class model (digit fragments): L = mean over the ten digits of log p;
    the separator and not-a-character classes are pushed down, not up."""
    rng = np.random.default_rng(5)
    model = random_model(6, (5,), 19, rng)
    x = rng.normal(0, 1, (4, 6))
    t = np.array([0, 19, 18, 19])
    numeric = numerical_gradient(model, x, t, 0.0)
    grads, ll = minibatch_gradient(model, x, t)
    check(grads, numeric)
    assert ll == pytest.approx(objective(model, x, t, 0.0), rel=1e-12)
    per_point = [datapoint_gradient(model, x[i], int(t[i])) for i in range(4)]
    check([sum(g[k] for g, _ in per_point) for k in range(len(grads))], numeric)
    db = datapoint_gradient(model, x[1], 19)[0][-1]
    assert (db[10:] < 0).all() and db[:10].sum() == pytest.approx(-db[10:].sum())


CONVS = [Conv(2, 5, 4), Conv(3, 28, 1), Conv(1, 3, 7),
         Conv(2, 5, 3, 2), Conv(1, 3, 5, 3), Conv(2, 4, 2, 13)]  # max-pooled: 8 -> 4, 6 -> 2, 13 -> 1


def conv_model(conv: Conv, hidden: tuple[int, ...], rng) -> Mlp:
    model = init_mlp(hidden, rng, np.float64, conv=conv)
    model.weights[-1][:] = rng.normal(0, 0.5, model.weights[-1].shape)
    model.biases[0][:] = rng.normal(0, 0.5, conv.channels)
    return model


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("hidden", [(), (4,)])
def test_conv_gradients_match_finite_differences(conv, hidden):
    """Kernel and bias gradients (summed over the windows that share them; with max-pooling,
    over the windows that won their blocks) against finite differences of the dense expansion,
    with a not-a-digit label in the batch."""
    rng = np.random.default_rng(11)
    model = conv_model(conv, hidden, rng)
    x, t = rng.random((3, 784)), np.array([2, 10, 7])
    grads, ll = minibatch_gradient(model, x, t)
    assert ll == pytest.approx(objective(model, x, t, 0.0), rel=1e-12)
    check(grads, numerical_gradient(model, x, t, 0.0))
    per = [datapoint_gradient(model, x[i], int(t[i])) for i in range(len(t))]
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, sum(p[0][k] for p in per), rtol=1e-10, atol=1e-12)


def test_conv_forward_is_its_dense_expansion():
    rng = np.random.default_rng(12)
    conv = Conv(16, 5, 2)
    model = conv_model(conv, (9,), rng)
    dense = Mlp(*map(list, zip(*model.dense_layers())))
    assert dense.sizes == model.sizes == (784, 2304, 9, 10)
    x = rng.random((5, 784))
    np.testing.assert_allclose(forward(model, x)[1], forward(dense, x)[1], rtol=1e-12, atol=1e-12)
    # row p * C + c is kernel c at window p = (r, q): pixels (2r..2r+4, 2q..2q+4)
    w = dense.weights[0].reshape(144, 16, 28, 28)
    np.testing.assert_array_equal(w[13, 5, 2:7, 2:7].reshape(-1), model.weights[0][5])
    assert np.count_nonzero(w[13, 5]) == np.count_nonzero(model.weights[0][5])
