"""Speed-up of the C forward pass from threads: the C calls release the GIL.

    python tools/thread_speedup.py [--threads 1 2 8] [--seconds 2]

For the shipped default model and a random 784-800-10 MLP, runs predict_digits on batches of
256 random images from T threads at once for about --seconds, and prints images per second
and the speed-up over one thread. The figure depends on what else the machine runs; it is
recorded in docs/reliability.md, never asserted.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import edgedigits  # noqa: E402
from edgedigits.quantize import quantize_mlp  # noqa: E402

BATCH = 256


def throughput(model: edgedigits.Model, x: np.ndarray, n_threads: int, seconds: float) -> tuple[float, float]:
    """Images per second over all threads, started together and stopped after `seconds`, and
    the process's CPU seconds per wall second (above 1: threads ran at once, GIL released)."""
    counts = [0] * n_threads
    start = threading.Barrier(n_threads + 1)
    stop = threading.Event()

    def work(i: int) -> None:
        start.wait()
        while not stop.is_set():
            model.predict_digits(x)
            counts[i] += len(x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    start.wait()
    t0, c0 = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return sum(counts) / wall, (time.process_time() - c0) / wall


def gil_released_during_c(model: edgedigits.Model, x: np.ndarray) -> int:
    """How many times a pure-Python thread counted while one long C call ran: far above zero
    means the call released the GIL (independent of how busy the machine is)."""
    count, stop = [0], threading.Event()

    def spin() -> None:
        while not stop.is_set():
            count[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    before = count[0]
    model.predict_digits(np.tile(x, (40, 1)))
    during = count[0] - before
    stop.set()
    t.join()
    return during


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 8])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (BATCH, 784), dtype=np.uint8)
    mlp = quantize_mlp([(rng.normal(0, 0.05, (800, 784)), rng.normal(0, 1, 800)),
                        (rng.normal(0, 0.05, (10, 800)), rng.normal(0, 1, 10))])
    models = {"default " + "-".join(map(str, edgedigits.load_model().layer_sizes)): edgedigits.load_model(),
              "random 784-800-10": edgedigits.Model(mlp)}
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"cores: {os.cpu_count()}, load average before: {load}, kernel: {edgedigits.kernel_name()}, "
          f"batch {BATCH}")
    print(f"GIL check: a Python thread counted {gil_released_during_c(models['random 784-800-10'], x)} "
          f"times during one C call on {40 * BATCH} images")
    for name, model in models.items():
        base = None
        for n in args.threads:
            rate, cpu = throughput(model, x, n, args.seconds)
            base = base or rate
            print(f"{name:24s} {n:2d} threads: {rate:12.0f} images/s  speed-up {rate / base:4.2f}x  "
                  f"CPU use {cpu:4.2f} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
