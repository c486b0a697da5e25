"""Read MNIST from its IDX files (gzip or raw) and split it as the course notebook does.

The notebook's `mnist.pkl.gz` holds the first 50,000 training digits as its training set and the
last 10,000 as its validation set; the 10,000 test digits are for measuring only. The files are
found in a folder (EDGEDIGITS_DATA, or the folder a caller names); `tools/fetch_mnist.py` fetches
them. Every header is checked: magic number, dimension count, item counts and image size.
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import numpy as np

ENV_VAR = "EDGEDIGITS_DATA"
IMAGE_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned byte, 1 dimension
IMAGE_SIDE = 28
N_TRAIN_ALL = 60_000
N_TEST = 10_000
N_VALID = 10_000  # the last 10,000 training digits, as in mnist.pkl.gz
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class MnistError(ValueError):
    """An MNIST file is missing or is not the IDX file it should be."""


@dataclass(frozen=True)
class Split:
    """Images (uint8 (N, 28, 28), ink bright on dark) and labels (int64 (N,))."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass(frozen=True)
class Mnist:
    train: Split  # training digits 0..49,999
    valid: Split  # training digits 50,000..59,999
    test: Split  # the 10,000 test digits: measuring only


def data_dir(folder: str | os.PathLike | None = None) -> str:
    """The MNIST folder: `folder`, else $EDGEDIGITS_DATA; a clear error when neither is set."""
    folder = folder if folder is not None else os.environ.get(ENV_VAR)
    if not folder:
        raise MnistError(f"no MNIST folder given: set {ENV_VAR} to the folder of the four IDX files "
                         f"(python tools/fetch_mnist.py fetches them)")
    return os.fspath(folder)


def find_file(folder: str, stem: str) -> str:
    """The path of `stem` in `folder`, gzip-compressed (.gz) or raw."""
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    raise MnistError(f"MNIST file {stem}(.gz) not found in {folder} "
                     f"(python tools/fetch_mnist.py fetches it)")


def read_bytes(path: str) -> bytes:
    """The decompressed content of an IDX file (gzip detected by its magic bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise MnistError(f"{path}: corrupt gzip data ({exc})") from None
    return data


def parse_idx(data: bytes, magic: int, name: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes with the expected magic number into a uint8 array of the header's shape."""
    if len(data) < 8:
        raise MnistError(f"{name}: {len(data)} bytes is too short for an IDX header")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise MnistError(f"{name}: magic number 0x{found:08x}, expected 0x{magic:08x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise MnistError(f"{name}: truncated header")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise MnistError(f"{name}: {len(data)} bytes, expected {expected} for shape {dims}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def read_images(path: str, count: int | None = None) -> np.ndarray:
    """uint8 (N, 28, 28) images from an IDX image file; `count` checks N."""
    images = parse_idx(read_bytes(path), IMAGE_MAGIC, path)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistError(f"{path}: images of shape {images.shape[1:]}, expected (28, 28)")
    if count is not None and images.shape[0] != count:
        raise MnistError(f"{path}: {images.shape[0]} images, expected {count}")
    return images


def read_labels(path: str, count: int | None = None) -> np.ndarray:
    """int64 (N,) labels 0..9 from an IDX label file; `count` checks N."""
    labels = parse_idx(read_bytes(path), LABEL_MAGIC, path)
    if count is not None and labels.shape[0] != count:
        raise MnistError(f"{path}: {labels.shape[0]} labels, expected {count}")
    if labels.size and labels.max() > 9:
        raise MnistError(f"{path}: label {int(labels.max())} outside 0..9")
    return labels.astype(np.int64)


def load(folder: str | os.PathLike | None = None) -> Mnist:
    """MNIST split 50,000 train / 10,000 validation / 10,000 test."""
    folder = data_dir(folder)
    images = read_images(find_file(folder, FILES["train_images"]), N_TRAIN_ALL)
    labels = read_labels(find_file(folder, FILES["train_labels"]), N_TRAIN_ALL)
    test = Split(read_images(find_file(folder, FILES["test_images"]), N_TEST),
                 read_labels(find_file(folder, FILES["test_labels"]), N_TEST))
    cut = N_TRAIN_ALL - N_VALID
    return Mnist(Split(images[:cut], labels[:cut]), Split(images[cut:], labels[cut:]), test)


def load_test(folder: str | os.PathLike | None = None) -> Split:
    """Only the 10,000 test digits (for measuring)."""
    folder = data_dir(folder)
    return Split(read_images(find_file(folder, FILES["test_images"]), N_TEST),
                 read_labels(find_file(folder, FILES["test_labels"]), N_TEST))


def load_extra(path: str | os.PathLike, max_label: int = 9) -> Split:
    """Extra training patches from an .npz with `images` uint8 (N, 28, 28) and `labels` (N,)
    0..max_label (9: digits; 18: the classes of edgedigits/classes.py)."""
    with np.load(os.fspath(path)) as z:
        if "images" not in z or "labels" not in z:
            raise MnistError(f"{path}: expected arrays 'images' and 'labels', got {sorted(z.files)}")
        images, labels = z["images"], z["labels"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise MnistError(f"{path}: expected images uint8 (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],) or labels.dtype.kind not in "iu":
        raise MnistError(f"{path}: expected integer labels of shape ({images.shape[0]},), "
                         f"got {labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > max_label):
        raise MnistError(f"{path}: labels outside 0..{max_label}")
    return Split(np.ascontiguousarray(images), labels.astype(np.int64))


def as_inputs(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 images -> (N, 784) inputs x = pixel / 255, the runtime's float semantics."""
    dtype = np.dtype(dtype)
    return images.reshape(len(images), -1).astype(dtype) / dtype.type(255.0)
