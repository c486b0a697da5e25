"""Models with separator and not-a-character classes keep the public digit API's meaning."""
from __future__ import annotations

import numpy as np
import pytest

import edgedigits
from edgedigits.classes import (CLASS_NAMES, JUNK, N_CLASSES, N_DIGITS, SEPARATOR_CLASSES,
                                class_index, digit_log_proba)
from edgedigits.ensemble import Ensemble
from edgedigits.pipeline.classify import classify, classify_classes
from edgedigits.quantize import quantize_mlp


def random_model(n_classes: int, seed: int) -> edgedigits.Model:
    rng = np.random.default_rng(seed)
    layers = [(rng.normal(0.0, 0.02, (16, 784)) + rng.normal(0.0, 0.02, (16, 1)), np.zeros(16)),
              (rng.normal(0, 4.0, (n_classes, 16)), np.zeros(n_classes))]
    return edgedigits.Model.from_bytes(quantize_mlp(layers))


def images(n: int, seed: int = 0) -> np.ndarray:
    """Noise of different brightness per image, so that a random model's answers differ."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, 28, 28)) * rng.random((n, 1, 1)) * 255).astype(np.uint8)


def test_class_names():
    assert CLASS_NAMES[:N_DIGITS] == tuple("0123456789")
    assert [CLASS_NAMES[i] for i in SEPARATOR_CLASSES] == list("-.,/()+=")
    assert JUNK == N_CLASSES - 1 == class_index("not-a-character")
    assert class_index("(") == 14
    with pytest.raises(ValueError, match="unknown class 'x'"):
        class_index("x")


def test_folding_spreads_the_non_digit_mass_evenly_over_the_digits():
    p = np.full((1, N_CLASSES), 0.0)
    p[0, 3], p[0, class_index("-")], p[0, JUNK] = 0.5, 0.3, 0.2
    with np.errstate(divide="ignore"):
        folded = np.exp(digit_log_proba(np.log(p)))
    want = np.full(N_DIGITS, 0.05)
    want[3] += 0.5
    np.testing.assert_allclose(folded[0], want, atol=1e-12)
    ten = np.log(np.full((2, 10), 0.1))
    assert digit_log_proba(ten) is not None and np.array_equal(digit_log_proba(ten), ten)


def test_a_character_model_reads_digits_through_the_public_api():
    model = random_model(N_CLASSES, 1)
    x = images(200)
    full = model.predict_class_log_proba(x)
    assert full.shape == (200, N_CLASSES)
    digits = model.predict_log_proba(x)
    assert digits.shape == (200, N_DIGITS)
    np.testing.assert_allclose(np.exp(digits).sum(1), 1.0, atol=1e-6)  # C float32
    np.testing.assert_allclose(digits, digit_log_proba(full))
    pred = model.predict_digits(x)
    assert pred.max() < N_DIGITS
    # the folding changes answers: some patches' most likely class is not a digit
    assert (full.argmax(1) >= N_DIGITS).any()
    np.testing.assert_array_equal(pred, digits.argmax(1))
    assert [model.predict_digit(v) for v in x[:20]] == pred[:20].tolist()


def test_a_model_of_another_size_is_read_as_it_is():
    model = random_model(11, 2)
    x = images(10)
    assert model.predict_log_proba(x).shape == (10, 11)
    np.testing.assert_array_equal(model.predict_log_proba(x), model.predict_class_log_proba(x))


def test_ensemble_averages_all_classes_before_folding():
    a, b = random_model(N_CLASSES, 3), random_model(N_CLASSES, 4)
    ens = Ensemble([a, b])
    x = images(50)
    mean = (a.predict_class_log_proba(x) + b.predict_class_log_proba(x)) / 2
    mean -= np.log(np.exp(mean).sum(1, keepdims=True))
    np.testing.assert_allclose(ens.predict_class_log_proba(x), mean, atol=1e-9)
    np.testing.assert_allclose(ens.predict_log_proba(x), digit_log_proba(mean), atol=1e-9)


def test_the_reader_stage_classifies_all_classes_and_gives_the_folded_digits():
    model = random_model(N_CLASSES, 5)
    x = images(30)
    full = classify_classes(x, model, shifts=((0, 0),))
    np.testing.assert_allclose(full, model.predict_class_log_proba(x), atol=1e-5)
    np.testing.assert_allclose(classify(x, model), digit_log_proba(classify_classes(x, model)))
    assert classify_classes(np.zeros((0, 28, 28), np.uint8), model).shape == (0, N_CLASSES)
