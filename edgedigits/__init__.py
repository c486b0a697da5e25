"""edgedigits: read handwritten digits offline with an int8 C core.

    import edgedigits
    edgedigits.predict_digit(x)        # x: 28x28 uint8 (or float in [0, 1]), ink bright on dark
    model = edgedigits.load_model()    # the shipped default; load_model("logreg"); load_model(path)
    edgedigits.read_number("note.jpg")  # a photo's number; reads with load_ensemble(), the shipped ensemble
"""
from __future__ import annotations

import threading

import numpy as np

from .ensemble import Ensemble, load_ensemble
from .kernels import kernel_name
from .model import Model, default_model_path, load_model
from .modelfile import ModelFormatError
from .reading import Reading
from .reader import read_number, read_numbers

__all__ = [
    "Ensemble", "Model", "ModelFormatError", "Reading", "default_model_path", "kernel_name",
    "load_ensemble", "load_model",
    "predict_digit", "predict_digits", "predict_log_proba", "read_number", "read_numbers",
]
__version__ = "0.1.0"

_default = None
_default_lock = threading.Lock()


def _default_model() -> Model:
    global _default
    with _default_lock:
        if _default is None:
            _default = load_model()
        return _default


def predict_digit(x) -> int:
    """The digit (0-9) in one 28x28 image, with the shipped default model."""
    return _default_model().predict_digit(x)


def predict_digits(X) -> np.ndarray:
    """The digit in each of N images, (N,) int64, with the shipped default model."""
    return _default_model().predict_digits(X)


def predict_log_proba(X) -> np.ndarray:
    """Log-probabilities (N, 10) with the shipped default model."""
    return _default_model().predict_log_proba(X)
