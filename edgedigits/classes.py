"""The classes a character model may have: ten digits, or the digits, the separators and
"not a character".

A 10-class model (the notebook's, and the models before issue 20) knows only digits; what is not
a digit was trained towards the uniform distribution. A 19-class model (CLASS_NAMES) has a class
for each separator a phone number is written with and one for what is not a character (two
digits cut as one, letters and words, crossed-out digits, scribbles: training/hands.py).

The public digit API (predict_digit, predict_digits, predict_log_proba with 10 columns) keeps
its meaning for both: `digit_log_proba` folds the non-digit classes' probability evenly over the
ten digits, which is what the 10-class models were trained to say on such patches ("unsure").
"""
from __future__ import annotations

import numpy as np

DIGITS = "0123456789"
SEPARATORS = "-.,/()+="
NOT_A_CHARACTER = "not-a-character"
# Class index -> name: 0..9 the digits, 10..17 the separators, 18 not a character.
CLASS_NAMES = tuple(DIGITS) + tuple(SEPARATORS) + (NOT_A_CHARACTER,)
N_DIGITS = 10
N_CLASSES = len(CLASS_NAMES)
JUNK = CLASS_NAMES.index(NOT_A_CHARACTER)
SEPARATOR_CLASSES = tuple(range(N_DIGITS, JUNK))


def class_index(name: str) -> int:
    """The class index of a digit, a separator character or NOT_A_CHARACTER."""
    try:
        return CLASS_NAMES.index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r}; expected one of {' '.join(CLASS_NAMES)}") from None


def has_character_classes(n_classes: int) -> bool:
    """True for a model of CLASS_NAMES' classes; a model of any other size is read as it is."""
    return n_classes == N_CLASSES


def digit_log_proba(logp: np.ndarray) -> np.ndarray:
    """(N, 19) log-probabilities over CLASS_NAMES -> (N, 10) over the digits: each digit's own
    probability plus a tenth of the non-digit classes' together. Any other number of columns
    (a digits-only model) is returned as it is."""
    logp = np.asarray(logp, np.float64)
    if logp.ndim != 2:
        raise ValueError(f"expected (N, K) log-probabilities, got shape {logp.shape}")
    if not has_character_classes(logp.shape[1]):
        return logp
    rest = logp[:, N_DIGITS:]
    top = rest.max(axis=1, keepdims=True)
    log_rest = top + np.log(np.exp(rest - top).sum(axis=1, keepdims=True))  # log sum of the rest
    return np.logaddexp(logp[:, :N_DIGITS], log_rest - np.log(N_DIGITS))
