"""MNIST reading (training/mnist.py) and the fetch tool (tools/fetch_mnist.py).

Header checks are tested on small hand-made IDX files; the real files (EDGEDIGITS_DATA) are
checked for the notebook's 50,000 / 10,000 / 10,000 split and fetched through the tool's
folder source into a temporary cache (no network in tests: npm and the web are switched off).
"""
from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from training import mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fetch_mnist


def idx_bytes(arr: np.ndarray, magic_type: int = 0x08) -> bytes:
    head = bytes([0, 0, magic_type, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def test_parse_idx_round_trip_raw_and_gzip(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint64).reshape(2, 28, 28) % 256
    raw = tmp_path / "imgs"
    raw.write_bytes(idx_bytes(images))
    gz = tmp_path / "imgs.gz"
    gz.write_bytes(gzip.compress(idx_bytes(images)))
    for path in (raw, gz):
        out = mnist.read_images(str(path), count=2)
        assert out.dtype == np.uint8 and out.shape == (2, 28, 28)
        np.testing.assert_array_equal(out, images)


@pytest.mark.parametrize("mutate,message", [
    (lambda b: b[:4] + b"\0\0\0\x07" + b[8:], "bytes, expected"),  # count disagrees with length
    (lambda b: b"\0\0\x08\x01" + b[4:], "magic number"),  # label magic on an image file
    (lambda b: b[:-1], "bytes, expected"),  # truncated
    (lambda b: b[:5], "too short"),
])
def test_bad_image_files_are_rejected_with_a_reason(tmp_path, mutate, message):
    path = tmp_path / "bad"
    path.write_bytes(mutate(idx_bytes(np.zeros((3, 28, 28)))))
    with pytest.raises(mnist.MnistError, match=message):
        mnist.read_images(str(path))


def test_wrong_counts_and_labels_are_rejected(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.array([1, 2, 12])))
    with pytest.raises(mnist.MnistError, match="outside 0..9"):
        mnist.read_labels(str(path))
    path.write_bytes(idx_bytes(np.array([1, 2, 3])))
    with pytest.raises(mnist.MnistError, match="3 labels, expected 4"):
        mnist.read_labels(str(path), count=4)
    path.write_bytes(idx_bytes(np.zeros((2, 27, 28))))
    with pytest.raises(mnist.MnistError, match="expected \\(28, 28\\)"):
        mnist.read_images(str(path))


def test_missing_folder_says_how_to_get_the_data(tmp_path, monkeypatch):
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)
    with pytest.raises(mnist.MnistError, match="EDGEDIGITS_DATA"):
        mnist.load()
    with pytest.raises(mnist.MnistError, match="fetch_mnist"):
        mnist.load(str(tmp_path))


def test_extra_patches_are_validated(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([0, 5, 9]))
    split = mnist.load_extra(good)
    assert len(split) == 3 and split.labels.dtype == np.int64
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((3, 28, 28), np.float32), labels=np.array([0, 5, 9]))
    with pytest.raises(mnist.MnistError, match="uint8"):
        mnist.load_extra(bad)
    np.savez(bad, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([0, 5, 10]))
    with pytest.raises(mnist.MnistError, match="0..9"):
        mnist.load_extra(bad)


def test_real_mnist_split_is_the_notebooks(mnist_dir):
    d = mnist.load(mnist_dir)
    assert (len(d.train), len(d.valid), len(d.test)) == (50_000, 10_000, 10_000)
    assert d.train.images.shape == (50_000, 28, 28) and d.train.images.dtype == np.uint8
    # README class counts: test 980 1135 ...; train+valid = the 60,000 training digits
    assert np.bincount(d.test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    all_train = np.concatenate([d.train.labels, d.valid.labels])
    assert np.bincount(all_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    x = mnist.as_inputs(d.valid.images[:5])
    assert x.shape == (5, 784) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0


def test_fetch_from_a_folder_verifies_and_writes_atomically(mnist_dir, tmp_path):
    dest = tmp_path / "cache"
    paths = fetch_mnist.fetch(str(dest), folder=mnist_dir, use_npm=False, use_web=False, log=lambda s: None)
    for path in paths:
        name = os.path.basename(path)[:-3]
        with gzip.open(path) as f:
            assert hashlib.sha256(f.read()).hexdigest() == fetch_mnist.EXPECTED_SHA256[name]
    assert not [f for f in os.listdir(dest) if f.startswith(".tmp-")]
    assert len(mnist.load(str(dest)).test) == 10_000
    # a corrupt cached file is replaced, not trusted
    corrupt = dest / "t10k-labels-idx1-ubyte.gz"
    corrupt.write_bytes(gzip.compress(b"\0\0\x08\x01" + b"\0" * 20))
    fetch_mnist.fetch(str(dest), folder=mnist_dir, use_npm=False, use_web=False, log=lambda s: None)
    assert len(mnist.load(str(dest)).test) == 10_000


def test_fetch_with_no_source_fails_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "fetch_mnist.py"),
                           "--dest", str(tmp_path / "cache"), "--from", str(empty), "--no-npm", "--no-web"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert "could not get" in proc.stderr and "--from <folder>" in proc.stderr
    assert not (tmp_path / "cache").exists() or not os.listdir(tmp_path / "cache")


def test_fetch_rejects_a_file_with_the_wrong_checksum(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(10_000))))
    with pytest.raises(fetch_mnist.FetchError, match="SHA-256 does not match"):
        fetch_mnist.from_folder(str(folder), "t10k-labels-idx1-ubyte")
    assert fetch_mnist.verified("t10k-labels-idx1-ubyte", b"\x1f\x8bnot gzip") is None
