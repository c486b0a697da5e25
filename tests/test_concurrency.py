"""Predictions from 8 threads at once are identical to one thread's.

The C calls release the GIL (cffi API mode) and the core shares no mutable state: each call
gets its own scratch buffer, and a model is a read-only view. So threads really run in parallel
(tools/thread_speedup.py measures by how much; docs/reliability.md) and must not disturb one
another. Nothing here measures time.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import edgedigits
from edgedigits.quantize import quantize_mlp

N_THREADS = 8
ROUNDS = 4


def random_model(seed: int, hidden: list[int]) -> edgedigits.Model:
    rng = np.random.default_rng(seed)
    sizes = [784, *hidden, 10]
    return edgedigits.Model(quantize_mlp([(rng.normal(0, 0.05, (o, i)), rng.normal(0, 1, o))
                                          for i, o in zip(sizes, sizes[1:])]))


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 784), dtype=np.uint8)


def run_threads(job, n_threads: int = N_THREADS) -> list:
    """Run job(i) in n threads that start together (a barrier), return the results."""
    start = threading.Barrier(n_threads)

    def wrapped(i):
        start.wait()
        return [job(i) for _ in range(ROUNDS)]

    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(wrapped, range(n_threads)))


@pytest.mark.parametrize("which", ["default", "logreg", "mlp-300-100"])
def test_threads_match_one_thread(which):
    model = random_model(5, [300, 100]) if which == "mlp-300-100" else edgedigits.load_model(which)
    x = images(500)
    want_logp, want_digits = model.predict_log_proba(x), model.predict_digits(x)

    def job(i):
        order = np.random.default_rng(i).permutation(len(x))  # each thread its own order
        logp = np.empty_like(want_logp)
        logp[order] = model.predict_log_proba(x[order])
        return i, logp, np.array([model.predict_digit(x[k]) for k in range(i, len(x), 50)])

    for per_thread in run_threads(job):
        for i, logp, single in per_thread:
            np.testing.assert_array_equal(logp, want_logp)
            np.testing.assert_array_equal(single, want_digits[i::50])


def test_threads_match_one_thread_on_mnist(mnist_test):
    model = edgedigits.load_model()
    x = mnist_test[0][:2000]
    want = model.predict_log_proba(x)
    for per_thread in run_threads(lambda i: model.predict_log_proba(x)):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)


def test_different_models_in_parallel():
    models = [edgedigits.load_model(), edgedigits.load_model("logreg"), random_model(1, [64]),
              random_model(2, [40, 20])]
    x = images(300, seed=1)
    want = [m.predict_log_proba(x) for m in models]
    results = run_threads(lambda i: (i % len(models), models[i % len(models)].predict_log_proba(x)))
    for per_thread in results:
        for k, got in per_thread:
            np.testing.assert_array_equal(got, want[k])


def test_first_use_of_the_default_model_from_many_threads():
    x = images(50, seed=2)
    want = edgedigits.load_model().predict_digits(x)
    for per_thread in run_threads(lambda i: edgedigits.predict_digits(x)):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)
