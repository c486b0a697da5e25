"""Golden vectors for the C test runner (csrc/tests/ed_test.c), from the NumPy reference.

    python tools/make_golden.py OUT_DIR [--fuzz-corpus DIR]

Writes OUT_DIR/*.edg: one file per model (random MLPs of several shapes, some with a
convolutional first layer, on random and edge-case images; the shipped models on real MNIST test digits when EDGEDIGITS_DATA is set), each holding
the model blob, the input images and every intermediate of edgedigits.reference.forward:
int32 accumulators per layer, uint8 hidden activations, int32 Q16 logits, log-probabilities
and predictions. With --fuzz-corpus, also writes small real model files as libFuzzer seeds
(csrc/fuzz/ed_fuzz_model.c). Nothing here is committed: tests make the files in a build folder.

File layout (little-endian), GOLDEN_VERSION 1:
    "EDGT" u32 golden_version, u32 model_format_version, u32 crc32(sigmoid LUT),
    u32 name_len, name (padded to 4), u32 model_len, model (padded to 4),
    u32 n_images, u32 n_layers, u32 n_out[n_layers], uint8 images[n][784],
    per layer: int32 acc[n][n_out]; per hidden layer: uint8 h[n][n_out] (padded to 4);
    int32 logits[n][n_classes], float32 log_proba[n][n_classes], int32 pred[n],
    u32 crc32 of everything before.
The C runner rejects another golden_version or sigmoid table with a hint naming this command.
"""
from __future__ import annotations

import argparse
import gzip
import os
import struct
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from edgedigits import reference  # noqa: E402
from edgedigits.model import SHIPPED, _MODELS_DIR  # noqa: E402
from edgedigits.modelfile import FORMAT_VERSION, pooled_side, write_model_file  # noqa: E402
from edgedigits.quantize import quantize_mlp  # noqa: E402

MAGIC = b"EDGT"
GOLDEN_VERSION = 1
SEED = 20261129
# Hidden layer shapes of the random models: logistic regression, odd widths that leave
# vector tails, the likely shipped MLP width, and three hidden layers.
RANDOM_SHAPES = [[], [1], [37], [64, 32], [100, 50, 20], [800]]
# Convolutional first layers (channels, kernel, stride[, pool]) and the hidden layers after them:
# the shipped reader's shapes, a kernel as large as the image, 1x1 kernels, odd strides, and
# max-pooling (2x2 at stride 1; 3x3 over 13 x 13 windows, the last row and column dropped).
RANDOM_CONV_SHAPES = [((16, 5, 2), [200]), ((3, 28, 1), []), ((5, 1, 3), [7]), ((7, 4, 3), [33, 9]),
                      ((24, 5, 1, 2), [200]), ((6, 4, 2, 3), [17])]
N_RANDOM_IMAGES = 27  # not a multiple of ED_BATCH_LANES: both forward paths run
N_MNIST_IMAGES = 33
MNIST_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
# Fuzz seeds: real model files, kept small so that libFuzzer mutates them quickly.
FUZZ_SHAPES = [[], [4], [16, 8]]
FUZZ_CONV_SHAPES = [((2, 5, 4), []), ((2, 5, 3, 2), [])]


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def random_mlp_blob(rng: np.random.Generator, hidden: list[int], name: str) -> bytes:
    sizes = [784, *hidden, 10]
    layers = [(rng.normal(0, rng.uniform(0.02, 0.3), (o, i)), rng.normal(0, 1.0, o))
              for i, o in zip(sizes, sizes[1:])]
    return quantize_mlp(layers, {"name": name})


def random_conv_blob(rng: np.random.Generator, conv: tuple[int, ...], hidden: list[int],
                     name: str) -> bytes:
    channels, k, stride, pool = (*conv, 1)[:4]
    side = pooled_side(k, stride, pool)
    sizes = [channels * side * side, *hidden, 10]
    layers = [(rng.normal(0, rng.uniform(0.1, 1.0), (channels, k * k)), rng.normal(0, 1.0, channels))]
    layers += [(rng.normal(0, rng.uniform(0.02, 0.3), (o, i)), rng.normal(0, 1.0, o))
               for i, o in zip(sizes, sizes[1:])]
    return quantize_mlp(layers, {"name": name}, conv=conv)


def conv_name(conv: tuple[int, ...], hidden: list[int]) -> str:
    pool = f"p{conv[3]}" if len(conv) > 3 else ""
    return "conv{}x{}s{}".format(*conv[:3]) + pool + "-" + "-".join(map(str, [*hidden, 10]))


def edge_case_images(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random pixels, with all-black, all-white and a checkerboard first."""
    x = rng.integers(0, 256, (n, 784), dtype=np.uint8)
    x[0] = 0
    x[1] = 255
    x[2] = (np.indices((28, 28)).sum(axis=0) % 2 * 255).reshape(784)
    return x


def mnist_test_images(n: int) -> np.ndarray | None:
    folder = os.environ.get("EDGEDIGITS_DATA")
    path = os.path.join(folder, MNIST_TEST_IMAGES) if folder else ""
    if not path or not os.path.isfile(path):
        return None
    with gzip.open(path, "rb") as f:
        data = f.read(16 + n * 784)
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 784)


def golden_bytes(name: str, blob: bytes, images: np.ndarray) -> bytes:
    trace = reference.forward(blob, images)
    n_out = [a.shape[1] for a in trace.accumulators]
    lut_crc = zlib.crc32(reference.sigmoid_lut().tobytes())
    parts = [MAGIC, struct.pack("<III", GOLDEN_VERSION, FORMAT_VERSION, lut_crc),
             struct.pack("<I", len(name)), _pad4(name.encode()),
             struct.pack("<I", len(blob)), _pad4(blob),
             struct.pack("<II", images.shape[0], len(n_out)), struct.pack(f"<{len(n_out)}I", *n_out),
             images.astype(np.uint8).tobytes()]
    parts += [a.astype("<i4").tobytes() for a in trace.accumulators]
    parts += [_pad4(h.astype(np.uint8).tobytes()) for h in trace.hidden]
    parts += [trace.logits.astype("<i4").tobytes(), trace.log_proba.astype("<f4").tobytes(),
              trace.pred.astype("<i4").tobytes()]
    body = b"".join(parts)
    return body + struct.pack("<I", zlib.crc32(body))


def write_golden(out_dir: str) -> list[str]:
    rng = np.random.default_rng(SEED)
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    for hidden in RANDOM_SHAPES:
        name = "random-" + "-".join(map(str, [784, *hidden, 10]))
        cases.append((name, random_mlp_blob(rng, hidden, name), edge_case_images(rng, N_RANDOM_IMAGES)))
    for conv, hidden in RANDOM_CONV_SHAPES:
        name = "random-" + conv_name(conv, hidden)
        cases.append((name, random_conv_blob(rng, conv, hidden, name), edge_case_images(rng, N_RANDOM_IMAGES)))
    digits = mnist_test_images(N_MNIST_IMAGES)
    if digits is not None:
        for name, file in sorted(SHIPPED.items()):
            with open(os.path.join(_MODELS_DIR, file), "rb") as f:
                cases.append((f"mnist-{name}", f.read(), digits))
        mlp = next(blob for name, blob, _ in cases if name == "random-784-800-10")
        cases.append(("mnist-random-784-800-10", mlp, digits))
    else:
        print("make_golden: EDGEDIGITS_DATA not set or MNIST missing: no MNIST golden files",
              file=sys.stderr)
    for stale in os.listdir(out_dir):  # only this run's files: the runner checks *.edg
        if stale.endswith(".edg"):
            os.unlink(os.path.join(out_dir, stale))
    paths = []
    for name, blob, images in cases:
        path = os.path.join(out_dir, name + ".edg")
        write_model_file(path, golden_bytes(name, blob, images))
        paths.append(path)
    return paths


def write_fuzz_corpus(corpus_dir: str) -> list[str]:
    """Seeds for csrc/fuzz/ed_fuzz_model.c from real model files (the shipped logistic
    regression and small random MLPs). The fuzz input is one mode byte, then the blob; each
    model goes in with mode 0 (taken as is) and 3 (length and CRC fixed up after mutation)."""
    rng = np.random.default_rng(SEED + 1)
    os.makedirs(corpus_dir, exist_ok=True)
    paths = []
    with open(os.path.join(_MODELS_DIR, SHIPPED["logreg"]), "rb") as f:
        seeds = [("logreg", f.read())]
    seeds += [("mlp-" + "-".join(map(str, [784, *h, 10])), random_mlp_blob(rng, h, "seed"))
              for h in FUZZ_SHAPES]
    seeds += [(conv_name(c, h), random_conv_blob(rng, c, h, "seed")) for c, h in FUZZ_CONV_SHAPES]
    for name, blob in seeds:
        for mode in (0, 3):
            path = os.path.join(corpus_dir, f"{name}.mode{mode}")
            write_model_file(path, bytes([mode]) + blob)
            paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", help="folder for the .edg golden files")
    ap.add_argument("--fuzz-corpus", metavar="DIR", help="also write libFuzzer seed model files here")
    args = ap.parse_args(argv)
    paths = write_golden(args.out_dir)
    print(f"make_golden: {len(paths)} golden files in {args.out_dir}")
    if args.fuzz_corpus:
        seeds = write_fuzz_corpus(args.fuzz_corpus)
        print(f"make_golden: {len(seeds)} fuzz seeds in {args.fuzz_corpus}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
