"""The per-user cache folder of fetched data (MNIST, fonts, made training sets): never the repo.

Standard library only, so that the fetch tools run before anything is installed.
"""
from __future__ import annotations

import os


def user_cache(*parts: str) -> str:
    """<cache>/edgedigits/<parts...>: XDG_CACHE_HOME (else ~/.cache) on Unix, LOCALAPPDATA on
    Windows."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = os.environ["LOCALAPPDATA"]
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "edgedigits", *parts)
