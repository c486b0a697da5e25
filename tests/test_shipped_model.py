"""The shipped models, through the public API (the C int8 path), on the 10,000 MNIST test digits.

Targets from issue 3: default MLP error <= 1.0%, logistic regression <= 7.8%, int8 within 0.05
percentage points of the float model it was exported from (the float error is recorded in the
model's metadata at export, by training/export.py), model file <= 1 MB, and the C header under
csrc/ byte-identical to what its generating command writes from the model file.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import edgedigits
from edgedigits.classes import N_CLASSES
from training import export

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_MLP_ERROR = 0.010
MAX_LOGREG_ERROR = 0.078
MAX_QUANT_LOSS = 0.0005  # 0.05 percentage points
MAX_FILE_BYTES = 1 << 20
# The convolutional members (default-3, default-7) are kept for what they add to the reader's
# ensemble (docs/training.md), not as models of their own: they are held to 1.5%, well inside the
# notebook's 2.5% bonus bar (measured 1.23% and 1.14%); the ensemble as a whole is held to 0.6%
# (tests/test_ensemble.py).
MAX_MEMBER_ERROR = 0.015
TARGETS = {"default": MAX_MLP_ERROR, "logreg": MAX_LOGREG_ERROR,
           **{f"default-{i}": MAX_MLP_ERROR for i in (2, 4, 5, 6, 8)},
           "default-3": MAX_MEMBER_ERROR, "default-7": MAX_MEMBER_ERROR}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_shipped_model_meets_its_test_error_target(name, mnist_test):
    images, labels = mnist_test
    model = edgedigits.load_model(name)
    error = float((model.predict_digits(images) != labels).mean())
    assert error <= TARGETS[name], f"{name}: test error {error:.2%} > {TARGETS[name]:.2%}"
    # the recorded figure is this model's: same error, through the same public API
    assert model.meta["test_error_int8"] == pytest.approx(error, abs=1e-9)
    # int8 loses at most 0.05 percentage points against the float model it came from
    loss = error - model.meta["float_test_error"]
    assert loss <= MAX_QUANT_LOSS, f"{name}: int8 {error:.2%} vs float {model.meta['float_test_error']:.2%}"


def test_default_model_is_an_mlp_and_logreg_has_no_hidden_layer():
    default, logreg = edgedigits.load_model(), edgedigits.load_model("logreg")
    assert len(default.layer_sizes) >= 3 and default.layer_sizes[0] == 784
    assert default.layer_sizes[-1] == N_CLASSES  # the digits, separators and not-a-character
    assert logreg.layer_sizes == (784, 10)
    conv = edgedigits.load_model("default-3")  # the ensemble's convolutional member
    assert conv.layers[0].activation == "conv-sigmoid" and conv.layers[0].conv == tuple(conv.meta["conv"])
    for m in (default, logreg, edgedigits.load_model("default-2"), conv):
        assert list(m.layer_sizes) == m.meta["layers"]
        assert os.path.getsize(m.path) <= MAX_FILE_BYTES


def test_module_level_api_uses_the_default_model(mnist_test):
    images, _ = mnist_test
    default = edgedigits.load_model()
    np.testing.assert_array_equal(edgedigits.predict_digits(images[:200]), default.predict_digits(images[:200]))
    assert edgedigits.predict_digit(images[0]) == default.predict_digit(images[0])


def test_c_header_is_regenerated_identically(tmp_path):
    """What CI checks: the committed header is what HEADER_COMMAND writes from the model file."""
    committed = os.path.join(ROOT, export.DEFAULT_HEADER)
    model_file = os.path.join(ROOT, export.DEFAULT_MODEL)
    regenerated = tmp_path / "ed_default_model.h"
    assert export.main(["--header", model_file, str(regenerated)]) == 0
    with open(committed, encoding="ascii") as f:
        text = f.read()
    assert regenerated.read_text(encoding="ascii") == text, \
        f"{export.DEFAULT_HEADER} is stale: run `{export.HEADER_COMMAND}`"
    assert export.HEADER_COMMAND in text.splitlines()[0]
