"""Inference benchmark: edgedigits' C core against NumPy float, ONNX Runtime and OpenCV dnn.

    python tools/bench.py inference [--model default|logreg|PATH] [--repeats 7] [--digits 2000]

All four run the same model: the float peers get the int8 model's dequantised weights
(W = w * scale, b = bias * scale / 255), exported to ONNX for ONNX Runtime (one thread) and
cv2.dnn. Per-digit latency: one call per digit, as an app calls it; throughput: one call on a
batch of 10,000. Every engine runs on one thread. Each figure is the median over --repeats runs. Needs MNIST test digits
(EDGEDIGITS_DATA), onnx and onnxruntime (pip install -e '.[bench]').
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))


def float_layers(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """The int8 model's weights as float32 (W (n_out, n_in), b)."""
    from edgedigits.modelfile import unpack_model
    layers, _ = unpack_model(model.blob)
    return [((l.weights * l.scale[:, None]).astype(np.float32),
             (l.bias * l.scale / 255.0).astype(np.float32)) for l in layers]


def numpy_forward(layers, x: np.ndarray) -> np.ndarray:
    h = x
    for i, (w, b) in enumerate(layers):
        z = h @ w.T + b
        # (clipped: exp(88+) overflows float32; sigmoid(+-30) is 0 or 1 in float32 anyway)
        h = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0))) if i + 1 < len(layers) else z
    m = h.max(axis=-1, keepdims=True)
    return h - m - np.log(np.exp(h - m).sum(axis=-1, keepdims=True))


def onnx_bytes(layers) -> bytes:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits, cur = [], [], "x"
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w.T.copy(), f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [cur, f"W{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}"])]
        cur = f"z{i}"
        if i + 1 < len(layers):
            nodes.append(helper.make_node("Sigmoid", [cur], [f"h{i}"]))
            cur = f"h{i}"
    nodes.append(helper.make_node("LogSoftmax", [cur], ["logp"], axis=1))
    graph = helper.make_graph(
        nodes, "edgedigits", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("logp", TensorProto.FLOAT, ["N", layers[-1][0].shape[0]])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString()


def median_us_per_call(fn, items, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for it in items:
            fn(it)
        runs.append((time.perf_counter() - t0) / len(items) * 1e6)
    return statistics.median(runs)


def median_s(fn, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="tools/bench.py inference")
    ap.add_argument("--model", default="default")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--digits", type=int, default=2000, help="digits per latency run")
    args = ap.parse_args(argv)

    import cv2
    import onnxruntime as ort
    from conftest import MNIST_FILES, _read_idx

    import edgedigits
    from edgedigits.classes import N_DIGITS

    data = os.environ.get("EDGEDIGITS_DATA")
    if not data:
        print("set EDGEDIGITS_DATA to the MNIST folder (python tools/fetch_mnist.py)", file=sys.stderr)
        return 2
    images = _read_idx(os.path.join(data, MNIST_FILES["test_images"]))
    labels = _read_idx(os.path.join(data, MNIST_FILES["test_labels"]))
    cv2.setNumThreads(1)
    model = edgedigits.load_model(args.model)
    layers = float_layers(model)
    xf = images.reshape(-1, 784).astype(np.float32) / 255.0
    singles_u8 = [images[i] for i in range(args.digits)]
    singles_f = [xf[i:i + 1] for i in range(args.digits)]

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes(layers), so, providers=["CPUExecutionProvider"])
    net = cv2.dnn.readNetFromONNX(np.frombuffer(onnx_bytes(layers), np.uint8))

    def cv_run(x):
        net.setInput(x)
        return net.forward()

    kernel = getattr(edgedigits, "kernel_name", lambda: "portable")()
    # The digit is the likeliest of the ten digit outputs, as predict_digit takes it (a model
    # with separator and not-a-character outputs spreads their mass evenly over the digits,
    # which leaves the order of the digits as it is).
    digit = N_DIGITS
    peers = {
        f"edgedigits C int8 ({kernel})": (lambda x: model.predict_digit(x), singles_u8,
                                           lambda: model.predict_digits(images)),
        "NumPy float32": (lambda x: int(np.argmax(numpy_forward(layers, x)[0, :digit])), singles_f,
                          lambda: np.argmax(numpy_forward(layers, xf)[:, :digit], axis=1)),
        "ONNX Runtime (1 thread)": (lambda x: int(np.argmax(sess.run(None, {"x": x})[0][0, :digit])),
                                    singles_f,
                                    lambda: np.argmax(sess.run(None, {"x": xf})[0][:, :digit], axis=1)),
        "OpenCV dnn": (lambda x: int(np.argmax(cv_run(x)[0, :digit])), singles_f,
                       lambda: np.argmax(cv_run(xf)[:, :digit], axis=1)),
    }
    # One thread for everyone: ONNX Runtime and cv2 are set above, NumPy's BLAS here.
    from threadpoolctl import threadpool_info, threadpool_limits
    threadpool_limits(1)
    blas = ", ".join(f"{i['internal_api']} {i['architecture']}" for i in threadpool_info()
                     if i["user_api"] == "blas")
    rows = []
    for name, (single, items, batch) in peers.items():
        preds = np.asarray(batch())
        lat = median_us_per_call(single, items, args.repeats)
        thr = len(images) / median_s(batch, args.repeats)
        rows.append((name, lat, thr, float(np.mean(preds != labels))))
    best_peer = min(r[1] for r in rows[1:])
    sizes = "-".join(map(str, model.layer_sizes))
    print(f"model {args.model} ({sizes}), {platform.machine()}, {os.cpu_count()} cores, "
          f"median of {args.repeats} runs; latency over {args.digits} single-digit calls; "
          f"one thread each (NumPy BLAS: {blas})")
    print("| engine | per digit (us) | batch of 10,000 (digits/s) | test error |")
    print("|---|---|---|---|")
    for name, lat, thr, err in rows:
        print(f"| {name} | {lat:.1f} | {thr:,.0f} | {err * 100:.2f}% |")
    print(f"\nedgedigits single-digit speed-up over the fastest peer: {best_peer / rows[0][1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
