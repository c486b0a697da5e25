"""Several int8 models read as one: the renormalised mean of their log-probabilities.

The reader classifies with the shipped ensemble (SHIPPED_ENSEMBLE): independently trained
networks err on different digits, and the mean of their log-probabilities (a normalised
product of their distributions) is right more often and less sure where they disagree. Each
member is an ordinary Model running in the C core; a C user gets the same result by running
each model and averaging the log-probabilities (csrc/edgedigits.h returns them per model).

Members with different classes (digits-only models beside models with the separator and
not-a-character classes of classes.py) are averaged over the ten digits: each member's
non-digit probability is first spread evenly over the digits (classes.digit_log_proba), what a
digits-only model is trained to say on a patch that is not a digit.
"""
from __future__ import annotations

import os

import numpy as np

from .classes import N_DIGITS, digit_log_proba
from .model import Model, as_images, load_model

# The shipped members, by load_model() name: the first is the default model (and the C header).
# default, default-6, default-7, default-8: the many-hands recipe, 19 classes
# (training/configs/hands.toml); default-2, default-3, default-4, default-5: the MNIST recipe,
# 10 classes (reader_mixed.toml and its siblings). docs/training.md says why both.
SHIPPED_ENSEMBLE = ("default", "default-2", "default-3", "default-4",
                    "default-5", "default-6", "default-7", "default-8")


def mean_log_proba(logps) -> np.ndarray:
    """(M, N, C) log-probabilities of M models -> (N, C): their mean, renormalised."""
    mean = np.mean(np.asarray(logps, np.float64), axis=0)
    top = mean.max(axis=1, keepdims=True)
    return mean - (top + np.log(np.exp(mean - top).sum(axis=1, keepdims=True)))


class Ensemble:
    """Models read as one; the same prediction methods as a Model."""

    def __init__(self, members):
        members = tuple(members)
        if not members:
            raise ValueError("an ensemble needs at least one model")
        for m in members:
            if not isinstance(m, Model):
                raise TypeError(f"expected edgedigits.Model members, got {type(m).__name__}")
        sizes = {m.n_classes for m in members}
        if len(sizes) > 1 and not all(k >= N_DIGITS for k in sizes):
            raise ValueError(f"ensemble members with different classes must each have the ten "
                             f"digits first, got {sorted(sizes)} classes")
        self.members = members
        # one class set: all of it; several: the digits
        self.n_classes = members[0].n_classes if len(sizes) == 1 else N_DIGITS
        self.meta = {"name": "ensemble of " + ", ".join(m.meta.get("name", "?") for m in members)}

    def __len__(self) -> int:
        return len(self.members)

    def __repr__(self) -> str:
        return f"<edgedigits.Ensemble of {len(self.members)}: {', '.join(map(repr, self.members))}>"

    def predict_class_log_proba(self, X) -> np.ndarray:
        """Log-probabilities over all the members' classes (N, n_classes), float64: the
        members' mean, renormalised."""
        x = as_images(X)
        return self.combine([m.predict_class_log_proba(x) for m in self.members])

    def combine(self, logps) -> np.ndarray:
        """The members' log-probabilities (one (N, K_m) array per member, in order) -> (N,
        n_classes): their renormalised mean, over the digits where their classes differ."""
        if any(lp.shape[1] != self.n_classes for lp in logps):
            logps = [digit_log_proba(lp) for lp in logps]
        return mean_log_proba(logps)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log-probabilities of the ten digits (N, 10), float64 (classes.digit_log_proba of
        predict_class_log_proba)."""
        return digit_log_proba(self.predict_class_log_proba(X))

    def predict_digits(self, X) -> np.ndarray:
        """Most likely digit per image, (N,) int64."""
        return self.predict_log_proba(X).argmax(axis=1).astype(np.int64)

    def predict_digit(self, x) -> int:
        """Most likely digit of one image."""
        return int(self.predict_log_proba(as_images(x, single=True))[0].argmax())


def load_ensemble(paths=None) -> Ensemble:
    """The shipped ensemble (None), or one of the model files (or shipped names) in `paths`."""
    if paths is None:
        paths = SHIPPED_ENSEMBLE
    if isinstance(paths, (str, os.PathLike)):
        raise TypeError("expected a list of model files or shipped names, got a single "
                        f"{type(paths).__name__} (use load_model for one model)")
    return Ensemble(load_model(p) for p in paths)


def load_reader_model(name=None):
    """What the reader classifies with, by command-line name: None or "ensemble": the shipped
    ensemble; anything else as load_model() takes it (a shipped name or a model file)."""
    return load_ensemble() if name in (None, "ensemble") else load_model(name)
