"""Shared fixtures: MNIST from EDGEDIGITS_DATA (skip with a reason where it is absent)."""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def _mnist_dir() -> str:
    folder = os.environ.get("EDGEDIGITS_DATA")
    if not folder:
        pytest.skip("MNIST not available: set EDGEDIGITS_DATA to the folder of the four IDX .gz files")
    missing = [f for f in MNIST_FILES.values() if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        pytest.skip(f"MNIST not available: {', '.join(missing)} missing in EDGEDIGITS_DATA={folder}")
    return folder


def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 MNIST test digits (uint8 (N, 28, 28)) and labels: for measuring only."""
    folder = _mnist_dir()
    return (_read_idx(os.path.join(folder, MNIST_FILES["test_images"])),
            _read_idx(os.path.join(folder, MNIST_FILES["test_labels"])))


@pytest.fixture(scope="session")
def mnist_train() -> tuple[np.ndarray, np.ndarray]:
    """The 60,000 MNIST training digits and labels (fit quick models on these)."""
    folder = _mnist_dir()
    return (_read_idx(os.path.join(folder, MNIST_FILES["train_images"])),
            _read_idx(os.path.join(folder, MNIST_FILES["train_labels"])))


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    """The MNIST folder (EDGEDIGITS_DATA) for code that reads the files itself (training/)."""
    return _mnist_dir()
