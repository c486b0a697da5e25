"""Stage 6: classify every glyph patch in one batch call to the model.

The candidate patches of a line go to `model.predict_class_log_proba` in one batch: one call into the
C core for the line's whole glyphs, one more for the pieces of the split hypotheses of the
glyphs that need them (in their own view only: segment.PIECE_VIEWS), and one for the pieces
kept (not one call per glyph).

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

from ..classes import N_DIGITS, digit_log_proba, has_character_classes
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


def classify_with_other(patches: np.ndarray, model, shifts=TTA_SHIFTS,
                        sure_p: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """classify's (N, 10) digit log-probabilities and, from the same forward passes, (N,) the
    probability that each patch is no digit at all: the mean, over the views and over the
    members with character classes (classes.py: separators, not-a-character), of the
    probability those members give the non-digit classes (zeros for digits-only models). The
    digit log-probabilities fold that mass evenly over the ten digits; this keeps it apart (a
    letter of a word reads as unsure digits either way, but only this says it is no digit)."""
    logp, other = _classify(patches, model, shifts, sure_p)
    return digit_log_proba(logp), other


def classify_classes(patches: np.ndarray, model, shifts=TTA_SHIFTS,
                     sure_p: float | None = None) -> np.ndarray:
    """(N, 28, 28) uint8 patches -> (N, K) float64 log-probabilities over the model's K classes
    (N may be 0), the renormalised mean over the views in `shifts` (pass ((0, 0),) for the
    patches alone).

    sure_p (default TTA_SURE_P) below 1: the first view is classified for every patch, the
    other views only for the patches whose first view is less sure than sure_p (the others
    keep their first view's log-probabilities). At 1, every view of every patch, in one call."""
    return _classify(patches, model, shifts, sure_p)[0]


def _classify(patches, model, shifts, sure_p) -> tuple[np.ndarray, np.ndarray]:
    """classify_classes' log-probabilities and classify_with_other's non-digit probability."""
    n = patches.shape[0]
    k = model.n_classes
    if n == 0:
        return np.zeros((0, k), np.float64), np.zeros(0, np.float64)
    patches = np.ascontiguousarray(patches, np.uint8)
    sure_p = TTA_SURE_P if sure_p is None else sure_p
    if sure_p >= 1.0 or len(shifts) == 1:
        logp, other = _views_log_proba(patches, model, shifts)
        return (_mean(_checked(logp, len(shifts) * n, k), len(shifts), n),
                other.reshape(len(shifts), n).mean(0))
    logp, other = _views_log_proba(patches, model, shifts[:1])
    first = _checked(logp, n, k)
    unsure = np.flatnonzero(first.max(1) < np.log(sure_p))
    if unsure.size == 0:
        return first, other
    sub = patches[unsure]
    rest, rest_other = _views_log_proba(sub, model, shifts[1:])
    rest = _checked(rest, (len(shifts) - 1) * unsure.size, k)
    out, out_other = first.copy(), other.copy()
    out[unsure] = _mean(np.concatenate([first[unsure], rest]), len(shifts), unsure.size)
    out_other[unsure] = np.concatenate([other[unsure], rest_other]).reshape(
        len(shifts), unsure.size).mean(0)
    return out, out_other


def _views_log_proba(patches: np.ndarray, model, shifts) -> tuple[np.ndarray, np.ndarray]:
    """The model's log-probabilities of every shifted view of the patches, view-major, and
    each view's non-digit probability (_other). An ensemble member (or model) whose input
    transform commutes with shifts (the deskew, transforms.SHIFT_COMMUTING) gets its views
    shifted from the transformed patches: the transform runs once per patch instead of once
    per view. The views are the same but where a shift moves ink across the field's edge
    (docs/reader.md)."""
    def views(p):
        return np.concatenate([_shifted(p, dy, dx) for dy, dx in shifts])
    members = model.members if isinstance(model, Ensemble) else (model,)
    if not all(isinstance(m, Model) for m in members):
        logp = model.predict_class_log_proba(views(patches))
        return logp, _other([logp])
    by_input: dict = {}  # the views each kind of input needs, made once
    logps = []
    for m in members:
        name = m.input_transform if m.input_transform in SHIFT_COMMUTING else None
        if name not in by_input:
            by_input[name] = views(patches if name is None else INPUT_TRANSFORMS[name](patches))
        logps.append(m.predict_class_log_proba(by_input[name], transformed=name is not None))
    return (model.combine(logps) if isinstance(model, Ensemble) else logps[0]), _other(logps)


def _other(logps) -> np.ndarray:
    """Per row, the mean probability of the non-digit classes over the log-probability arrays
    with character classes; zeros when none has them."""
    with_classes = [np.asarray(lp, np.float64) for lp in logps if has_character_classes(lp.shape[1])]
    if not with_classes:
        return np.zeros(np.asarray(logps[0]).shape[0], np.float64)
    return np.mean([np.clip(1.0 - np.exp(lp[:, :N_DIGITS]).sum(1), 0.0, 1.0)
                    for lp in with_classes], axis=0)


def _mean(logp: np.ndarray, n_views: int, n: int) -> np.ndarray:
    """(n_views * n, K) log-probabilities, view-major -> (n, K): their renormalised mean."""
    return mean_log_proba(logp.reshape(n_views, n, logp.shape[1]))


def _checked(logp, n: int, k: int) -> np.ndarray:
    logp = np.asarray(logp, np.float64)
    if logp.shape != (n, k) or k < N_DIGITS:
        raise ValueError(f"model returned log-probabilities of shape {logp.shape}, expected {(n, k)}")
    return logp
