"""Thin wrapper over the C core: load a model blob, check inputs, run the batch forward pass.

Inputs follow MNIST: ink bright on dark, 28x28 (or 784) pixels, uint8 0..255 or float in
[0, 1]. Checks happen here, in Python; the C call then cannot fail on shapes or ranges. The C
calls release the GIL and share no mutable state, so one Model can serve many threads.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass

import numpy as np

from ._core import ffi, lib
from .classes import N_DIGITS, digit_log_proba, has_character_classes
from .modelfile import MAX_FILE_BYTES, ModelFormatError
from .transforms import INPUT_TRANSFORMS

IMAGE_SHAPE = (28, 28)
IMAGE_SIZE = 784
_ONE_IMAGE_SHAPES = (IMAGE_SHAPE, (IMAGE_SIZE,))
_MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
# Names accepted by load_model() for the models shipped inside the package.
SHIPPED = {"default": "default.edm", "logreg": "logreg.edm",
           # the reader's other ensemble members (edgedigits/ensemble.py)
           **{f"default-{i}": f"default-{i}.edm" for i in range(2, 9)}}


def default_model_path() -> str:
    """Path of the shipped default model file."""
    return os.path.join(_MODELS_DIR, SHIPPED["default"])


def _check_status(status: int, what: str) -> None:
    if status != lib.ED_OK:
        raise ModelFormatError(f"{what}: {ffi.string(lib.ed_status_str(status)).decode()}")


def as_images(x, *, single: bool | None = None) -> np.ndarray:
    """Validate images and return them as C-contiguous uint8 of shape (N, 784).

    single=True: exactly one image; False: a batch; None: either (a single image becomes N=1).
    """
    if isinstance(x, (str, bytes, bytearray)) or x is None:
        raise TypeError(f"expected a NumPy array of pixels, got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype == np.uint8:
        pass
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ValueError("expected float pixels in [0, 1], got NaN or infinity")
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError(f"expected float pixels in [0, 1], got range "
                             f"[{float(arr.min()):g}, {float(arr.max()):g}]")
        arr = np.floor(arr.astype(np.float64) * 255.0 + 0.5).astype(np.uint8)
    else:
        raise TypeError(f"expected uint8 pixels (0..255) or float pixels in [0, 1], got dtype {arr.dtype}")
    one = arr.shape in (IMAGE_SHAPE, (IMAGE_SIZE,))
    many = (arr.ndim == 3 and arr.shape[1:] == IMAGE_SHAPE) or (arr.ndim == 2 and arr.shape[1] == IMAGE_SIZE)
    if single is True and not one:
        raise ValueError(f"expected one image of shape (28, 28) or (784,), got {arr.shape}")
    if single is False and not many:
        raise ValueError(f"expected images of shape (N, 28, 28) or (N, 784), got {arr.shape}")
    if not (one or many):
        raise ValueError(f"expected shape (28, 28), (784,), (N, 28, 28) or (N, 784), got {arr.shape}")
    return np.ascontiguousarray(arr.reshape(-1, IMAGE_SIZE))


ACTIVATION_NAMES = {0: "linear", 1: "sigmoid", 2: "conv-sigmoid"}  # ED_ACT_* in csrc/edgedigits.h


@dataclass(frozen=True)
class LayerInfo:
    n_in: int
    n_out: int
    activation: str
    conv: tuple[int, ...] | None = None  # (channels, kernel, stride[, pool]) of a convolution

    @property
    def n_params(self) -> int:
        """Weights and biases stored: a convolution's kernels once, not once per window."""
        if self.conv:
            channels, kernel = self.conv[:2]
            return channels * (kernel * kernel + 1)
        return self.n_in * self.n_out + self.n_out


def _layer_info(layer) -> LayerInfo:
    conv = None
    if layer.channels:
        conv = (int(layer.channels), int(layer.kernel), int(layer.stride))
        conv += (int(layer.pool),) if layer.pool > 1 else ()
    return LayerInfo(int(layer.n_in), int(layer.n_out), ACTIVATION_NAMES[int(layer.activation)], conv)


class Model:
    """An int8 model in the C core. Create with load_model() or Model.from_bytes()."""

    def __init__(self, blob: bytes, path: str | None = None):
        if not isinstance(blob, (bytes, bytearray)):
            raise TypeError(f"expected the model file's bytes, got {type(blob).__name__}")
        self._blob = bytes(blob)  # the C model is a view into these bytes: keep them alive
        self._buf = ffi.from_buffer(self._blob)
        self._model = ffi.new("ed_model *")
        _check_status(lib.ed_model_load(self._model, self._buf, len(self._blob)),
                      f"cannot load model {path or '<bytes>'}")
        self.path = path
        self.n_classes = int(self._model.n_classes)
        self.scratch_size = int(lib.ed_batch_scratch_size(self._model))  # batch path: csrc/edgedigits.h
        self.layers = tuple(_layer_info(self._model.layers[i]) for i in range(self._model.n_layers))
        meta = bytes(ffi.buffer(self._model.meta, self._model.meta_len)) if self._model.meta_len else b""
        try:
            self.meta = json.loads(meta.decode("utf-8")) if meta else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ModelFormatError(f"cannot load model {path or '<bytes>'}: metadata is not JSON ({e})") from None
        self.input_transform = self.meta.get("input") if isinstance(self.meta, dict) else None
        if self.input_transform is not None and self.input_transform not in INPUT_TRANSFORMS:
            raise ModelFormatError(f"cannot load model {path or '<bytes>'}: its input transform "
                                   f"{self.input_transform!r} is unknown (known: "
                                   f"{', '.join(sorted(INPUT_TRANSFORMS))})")
        self._transform = INPUT_TRANSFORMS.get(self.input_transform)
        self.sha256 = hashlib.sha256(self._blob).hexdigest()
        self.crc32 = int(self._model.crc32)
        self._tls = threading.local()  # per-thread scratch for the single-digit fast path

    def _single_buffers(self):
        bufs = getattr(self._tls, "bufs", None)
        if bufs is None:
            n = max(self.scratch_size, 1)
            bufs = self._tls.bufs = (ffi.new("uint8_t[]", n), n, ffi.new("int32_t *"),
                                     ffi.new("int32_t[]", self.n_classes))
        return bufs

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Model":
        return cls(blob)

    @property
    def blob(self) -> bytes:
        return self._blob

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """(784, hidden..., n_classes)."""
        return (self.layers[0].n_in,) + tuple(layer.n_out for layer in self.layers)

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        return f"<edgedigits.Model {sizes} {self.meta.get('name', '')!s} from {self.path or 'bytes'}>"

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """Validated (N, 784) uint8 images after the model's input transform (meta "input",
        edgedigits/transforms.py), as the C forward pass gets them."""
        return x if self._transform is None else self._transform(x)

    def _run(self, x: np.ndarray, want_log_proba: bool,
             transformed: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        x = x if transformed else self.prepare(x)
        n = x.shape[0]
        pred = np.empty(n, np.int32)
        logp = np.empty((n, self.n_classes), np.float32) if want_log_proba else None
        scratch = np.empty(max(self.scratch_size, 1), np.uint8)
        if n:
            status = lib.ed_forward_batch_u8(
                self._model, ffi.from_buffer("uint8_t[]", x), n, IMAGE_SIZE, ffi.NULL,
                ffi.from_buffer("float[]", logp, require_writable=True) if logp is not None else ffi.NULL,
                ffi.from_buffer("int32_t[]", pred, require_writable=True),
                ffi.from_buffer("uint8_t[]", scratch, require_writable=True), scratch.size)
            _check_status(status, "forward pass failed")
        return pred, logp

    def predict_class_log_proba(self, X, *, transformed: bool = False) -> np.ndarray:
        """Log-probabilities over all the model's classes (N, n_classes), float64, for one image
        or a batch (edgedigits/classes.py names them). transformed=True: X has had the model's
        input transform already (see prepare)."""
        return self._run(as_images(X), True, transformed)[1].astype(np.float64)

    def predict_log_proba(self, X, *, transformed: bool = False) -> np.ndarray:
        """Log-probabilities of the digits (N, 10), float64: a model with separator and
        not-a-character classes has their probability spread evenly over the digits
        (classes.digit_log_proba); a model of any other size gives its n_classes columns."""
        return digit_log_proba(self.predict_class_log_proba(X, transformed=transformed))

    def predict_digits(self, X) -> np.ndarray:
        """Most likely digit (class, for a model of another size) per image, (N,) int64."""
        if has_character_classes(self.n_classes):
            return self.predict_log_proba(X).argmax(axis=1).astype(np.int64)
        return self._run(as_images(X), False)[0].astype(np.int64)

    def predict_digit(self, x) -> int:
        """Most likely digit of one image."""
        # Fast path for what a camera pipeline passes (a contiguous uint8 28x28 patch): the
        # Python overhead is a few microseconds, comparable to the C forward pass itself.
        if not (type(x) is np.ndarray and x.dtype == np.uint8 and x.shape in _ONE_IMAGE_SHAPES
                and x.flags.c_contiguous):
            x = as_images(x, single=True)
        if self._transform is not None:
            x = self._transform(x.reshape(1, IMAGE_SIZE))
        scratch, n, pred, logits = self._single_buffers()
        digits_only = not has_character_classes(self.n_classes)
        status = lib.ed_forward_u8(self._model, ffi.from_buffer(x), ffi.NULL if digits_only else logits,
                                   ffi.NULL, pred, scratch, n)
        if status != 0:
            _check_status(status, "forward pass failed")
        if digits_only:
            return int(pred[0])
        # the likeliest digit: spreading the other classes' mass evenly keeps the digits' order
        digit_logits = ffi.unpack(logits, N_DIGITS)
        return digit_logits.index(max(digit_logits))

    def logits_q16(self, X) -> np.ndarray:
        """The C core's int32 Q16 logits (N, n_classes) of the images after the model's input
        transform; for tests and tools."""
        x = self.prepare(as_images(X))
        logits = np.empty((x.shape[0], self.n_classes), np.int32)
        scratch = np.empty(max(self.scratch_size, 1), np.uint8)
        if x.shape[0]:
            _check_status(lib.ed_forward_batch_u8(
                self._model, ffi.from_buffer("uint8_t[]", x), x.shape[0], IMAGE_SIZE,
                ffi.from_buffer("int32_t[]", logits, require_writable=True), ffi.NULL, ffi.NULL,
                ffi.from_buffer("uint8_t[]", scratch, require_writable=True), scratch.size),
                "forward pass failed")
        return logits


def load_model(path: str | os.PathLike | None = None) -> Model:
    """Load a model file. None or "default": the shipped default; "logreg": the shipped
    logistic regression; "default-2" ... "default-8": the reader ensemble's other members
    (edgedigits/ensemble.py SHIPPED_ENSEMBLE); anything else: a path to a model file."""
    if path is None:
        path = "default"
    if isinstance(path, str) and path in SHIPPED:
        path = os.path.join(_MODELS_DIR, SHIPPED[path])
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"expected a model file path or one of {sorted(SHIPPED)}, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path}")
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise ModelFormatError(f"cannot load model {path}: {size} bytes is larger than any valid model")
    with open(path, "rb") as f:
        return Model(f.read(), path)
