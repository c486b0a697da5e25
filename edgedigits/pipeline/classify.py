"""Stage 6: classify every glyph patch in one batch call to the model.

All candidate patches of a line (whole glyphs and the pieces of every split hypothesis) go to
`model.predict_log_proba` at once: one call into the C core per line, not one per glyph.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def default_model():
    """The shipped default model (edgedigits/models/default.edm), loaded once."""
    from ..model import load_model
    return load_model()


def classify(patches: np.ndarray, model) -> np.ndarray:
    """(N, 28, 28) uint8 patches -> (N, 10) float64 log-probabilities (N may be 0)."""
    if patches.shape[0] == 0:
        return np.zeros((0, 10), np.float64)
    logp = np.asarray(model.predict_log_proba(np.ascontiguousarray(patches, np.uint8)),
                      np.float64)
    if logp.shape != (patches.shape[0], 10):
        raise ValueError(f"model returned log-probabilities of shape {logp.shape}, "
                         f"expected {(patches.shape[0], 10)}")
    return logp
