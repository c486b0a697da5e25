"""Stage 6: classify every glyph patch in one batch call to the model.

The candidate patches of a line go to `model.predict_class_log_proba` in one batch: one call into the
C core for the line's whole glyphs, and one more for the pieces of the split hypotheses of the
glyphs that need them (not one call per glyph).

Each patch is also classified shifted by one pixel up, down, left and right (TTA_SHIFTS), and
the log-probabilities are averaged (a product of the five views, renormalised). Where a cut or
the centre of mass lands a pixel off, the views disagree and the mean is less sure; on
reader-cut patches of MNIST validation digits this removed a fifth of the errors (1.57% ->
1.24%) for five times the C work (about 70 us per glyph; the reader's budget is milliseconds).
TTA_SURE_P below 1 skips the shifted views of patches already that sure in their own view (a
fifth off the reader's time at 0.9, for a few more errors: docs/reader.md); it is 1 (off).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..classes import N_DIGITS, digit_log_proba
from ..ensemble import Ensemble, mean_log_proba
from ..model import Model
from ..transforms import INPUT_TRANSFORMS, SHIFT_COMMUTING

# (dy, dx) pixel shifts each patch is also classified at; (0, 0) is the patch itself.
TTA_SHIFTS = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))
# Only patches whose first view is less sure than this get the other views (1.0: every patch).
TTA_SURE_P = 1.0


@lru_cache(maxsize=1)
def default_model():
    """The reader's default classifier, loaded once: the shipped ensemble
    (edgedigits/ensemble.py SHIPPED_ENSEMBLE)."""
    from ..ensemble import load_ensemble
    return load_ensemble()


def _shifted(patches: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """patches moved by (dy, dx) pixels, zero-filled (ink leaving the field is dropped)."""
    out = np.zeros_like(patches)
    h, w = patches.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        patches[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def classify(patches: np.ndarray, model, shifts=TTA_SHIFTS, sure_p: float | None = None) -> np.ndarray:
    """(N, 28, 28) uint8 patches -> (N, 10) float64 log-probabilities of the digits (N may be
    0): classify_classes folded over the digits (classes.digit_log_proba)."""
    return digit_log_proba(classify_classes(patches, model, shifts, sure_p))


def classify_classes(patches: np.ndarray, model, shifts=TTA_SHIFTS,
                     sure_p: float | None = None) -> np.ndarray:
    """(N, 28, 28) uint8 patches -> (N, K) float64 log-probabilities over the model's K classes
    (N may be 0), the renormalised mean over the views in `shifts` (pass ((0, 0),) for the
    patches alone).

    sure_p (default TTA_SURE_P) below 1: the first view is classified for every patch, the
    other views only for the patches whose first view is less sure than sure_p (the others
    keep their first view's log-probabilities). At 1, every view of every patch, in one call."""
    n = patches.shape[0]
    k = model.n_classes
    if n == 0:
        return np.zeros((0, k), np.float64)
    patches = np.ascontiguousarray(patches, np.uint8)
    sure_p = TTA_SURE_P if sure_p is None else sure_p
    if sure_p >= 1.0 or len(shifts) == 1:
        return _mean(_checked(_views_log_proba(patches, model, shifts), len(shifts) * n, k),
                     len(shifts), n)
    first = _checked(model.predict_class_log_proba(_shifted(patches, *shifts[0])), n, k)
    unsure = np.flatnonzero(first.max(1) < np.log(sure_p))
    if unsure.size == 0:
        return first
    sub = patches[unsure]
    views = np.concatenate([_shifted(sub, dy, dx) for dy, dx in shifts[1:]])
    rest = _checked(model.predict_class_log_proba(views), views.shape[0], k)
    out = first.copy()
    out[unsure] = _mean(np.concatenate([first[unsure], rest]), len(shifts), unsure.size)
    return out


def _views_log_proba(patches: np.ndarray, model, shifts) -> np.ndarray:
    """The model's log-probabilities of every shifted view of the patches, view-major. An
    ensemble member (or model) whose input transform commutes with shifts (the deskew,
    transforms.SHIFT_COMMUTING) gets its views shifted from the transformed patches: the
    transform runs once per patch instead of once per view. The views are the same but where
    a shift moves ink across the field's edge (docs/reader.md)."""
    def views(p):
        return np.concatenate([_shifted(p, dy, dx) for dy, dx in shifts])
    members = model.members if isinstance(model, Ensemble) else (model,)
    if not all(isinstance(m, Model) for m in members) or \
            not any(m.input_transform in SHIFT_COMMUTING for m in members):
        return model.predict_class_log_proba(views(patches))
    by_input: dict = {}  # the views each kind of input needs, made once
    logps = []
    for m in members:
        name = m.input_transform if m.input_transform in SHIFT_COMMUTING else None
        if name not in by_input:
            by_input[name] = views(patches if name is None else INPUT_TRANSFORMS[name](patches))
        logps.append(m.predict_class_log_proba(by_input[name], transformed=name is not None))
    return model.combine(logps) if isinstance(model, Ensemble) else logps[0]


def _mean(logp: np.ndarray, n_views: int, n: int) -> np.ndarray:
    """(n_views * n, K) log-probabilities, view-major -> (n, K): their renormalised mean."""
    return mean_log_proba(logp.reshape(n_views, n, logp.shape[1]))


def _checked(logp, n: int, k: int) -> np.ndarray:
    logp = np.asarray(logp, np.float64)
    if logp.shape != (n, k) or k < N_DIGITS:
        raise ValueError(f"model returned log-probabilities of shape {logp.shape}, expected {(n, k)}")
    return logp
