"""The reader's ensemble (edgedigits/ensemble.py): the renormalised mean of its members'
log-probabilities, the shipped members, and the reader using it by default."""
from __future__ import annotations

import os

import numpy as np
import pytest

import edgedigits
from edgedigits.ensemble import (SHIPPED_ENSEMBLE, Ensemble, load_ensemble, load_reader_model,
                                 mean_log_proba)
from edgedigits.pipeline import classify

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "example-1.jpg")


@pytest.fixture(scope="module")
def shipped():
    return load_ensemble()


MAX_ENSEMBLE_ERROR = 0.006  # the shipped ensemble on the 10,000 MNIST test digits (issue 20)

def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28), dtype=np.uint8)


def test_mean_log_proba_is_the_normalised_geometric_mean_of_the_distributions():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(10), size=(3, 7))          # 3 models, 7 images
    got = np.exp(mean_log_proba(np.log(p)))
    want = np.prod(p, axis=0) ** (1 / 3)
    np.testing.assert_allclose(got, want / want.sum(1, keepdims=True), rtol=1e-12)


def test_ensemble_of_one_model_is_that_model(shipped):
    one = Ensemble([shipped.members[0]])
    x = _images(20)
    np.testing.assert_allclose(one.predict_log_proba(x), shipped.members[0].predict_log_proba(x),
                               atol=1e-6)
    np.testing.assert_array_equal(one.predict_digits(x), shipped.members[0].predict_digits(x))


def test_ensemble_combines_its_members(shipped):
    x = _images(50, seed=2)
    logps = [m.predict_log_proba(x) for m in shipped.members]
    got = shipped.predict_log_proba(x)
    np.testing.assert_allclose(got, mean_log_proba(logps), atol=1e-12)
    np.testing.assert_allclose(np.exp(got).sum(1), 1.0, atol=1e-9)
    assert shipped.predict_digit(x[3]) == int(got[3].argmax())
    np.testing.assert_array_equal(shipped.predict_digits(x), got.argmax(1))


def test_shipped_ensemble_members_are_the_shipped_files_and_differ(shipped):
    assert len(shipped) == len(SHIPPED_ENSEMBLE) >= 2
    for name, m in zip(SHIPPED_ENSEMBLE, shipped.members):
        assert m.sha256 == edgedigits.load_model(name).sha256
    assert len({m.sha256 for m in shipped.members}) == len(shipped)
    assert shipped.members[0].sha256 == edgedigits.load_model().sha256  # the C header's model


def test_ensemble_is_better_on_mnist_than_its_members(shipped, mnist_test):
    images, labels = mnist_test
    errors = [float((m.predict_digits(images) != labels).mean()) for m in shipped.members]
    ensemble = float((shipped.predict_digits(images) != labels).mean())
    # measured: members 0.84-0.93% (MLPs), 1.23% and 1.12% (convolutional); the eight 0.51%
    assert ensemble < min(errors), f"ensemble {ensemble:.2%} vs members {errors}"
    assert ensemble <= MAX_ENSEMBLE_ERROR, f"ensemble {ensemble:.2%} > {MAX_ENSEMBLE_ERROR:.2%}"


def test_reader_reads_with_the_shipped_ensemble_by_default(shipped):
    default = classify.default_model()
    assert isinstance(default, Ensemble)
    assert [m.sha256 for m in default.members] == [m.sha256 for m in shipped.members]
    assert edgedigits.read_number(EXAMPLE) == edgedigits.read_number(EXAMPLE, model=shipped)


def test_members_with_other_classes_are_averaged_over_the_digits(shipped):
    by_classes = {}
    for m in shipped.members:
        by_classes.setdefault(m.n_classes, m)
    assert sorted(by_classes) == [10, 19]  # the shipped ensemble mixes both recipes
    x = _images(40, seed=3)
    digits_only, many = by_classes[10], by_classes[19]
    mixed = Ensemble([many, digits_only])
    assert mixed.n_classes == 10
    # each member's non-digit mass spread over the digits first, then the renormalised mean
    want = mean_log_proba([many.predict_log_proba(x), digits_only.predict_log_proba(x)])
    np.testing.assert_allclose(mixed.predict_class_log_proba(x), want, atol=1e-12)
    np.testing.assert_allclose(mixed.predict_log_proba(x), want, atol=1e-12)
    # one class set: every class is kept
    same = Ensemble([many, many])
    assert same.n_classes == 19 and same.predict_class_log_proba(x).shape == (40, 19)
    # the reader's classify (shifted views, members' inputs) combines them the same way
    got = classify.classify_classes(x, mixed, shifts=((0, 0),))
    np.testing.assert_allclose(got, want, atol=1e-9)
    # ... and keeps apart what only the character classes say: the mark is no digit at all
    logp, other = classify.classify_with_other(x, mixed, shifts=((0, 0),))
    np.testing.assert_allclose(logp, want, atol=1e-9)
    no_digit = 1 - np.exp(many.predict_class_log_proba(x)[:, :10]).sum(1)
    np.testing.assert_allclose(other, no_digit, atol=1e-6)
    assert other.max() > 0.01  # the random images are mostly not digits to the 19-class model
    _, none = classify.classify_with_other(x, Ensemble([digits_only]), shifts=((0, 0),))
    assert np.array_equal(none, np.zeros(40))
    # over the shifted views: their mean
    views = [classify.classify_with_other(classify._shifted(x, dy, dx), many, shifts=((0, 0),))[1]
             for dy, dx in classify.TTA_SHIFTS]
    np.testing.assert_allclose(classify.classify_with_other(x, mixed)[1], np.mean(views, 0),
                               atol=1e-6)


def test_bad_ensembles_are_refused(shipped):
    with pytest.raises(ValueError, match="at least one model"):
        Ensemble([])
    with pytest.raises(TypeError, match="edgedigits.Model"):
        Ensemble([shipped.members[0], "default.edm"])
    with pytest.raises(TypeError, match="list of model files"):
        load_ensemble("default")
    with pytest.raises(FileNotFoundError):
        load_ensemble(["default", "no-such-model.edm"])
    with pytest.raises(ValueError, match="shape"):
        shipped.predict_log_proba(np.zeros((3, 27, 27), np.uint8))
    from edgedigits.quantize import quantize_mlp
    rng = np.random.default_rng(5)
    five = edgedigits.Model(quantize_mlp([(rng.normal(0, 0.1, (5, 784)), np.zeros(5))]))
    with pytest.raises(ValueError, match="ten digits"):
        Ensemble([shipped.members[0], five])


def test_tools_name_the_reader_model_as_the_reader_uses_it(shipped):
    for name in (None, "ensemble"):
        model = load_reader_model(name)
        assert isinstance(model, Ensemble)
        assert [m.sha256 for m in model.members] == [m.sha256 for m in shipped.members]
    assert load_reader_model("logreg").layer_sizes == (784, 10)
