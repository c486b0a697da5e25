"""Two models, paired, on the reader benchmark's photos: which photos and digits each gets right.

    python -m training.compare_reader BEFORE.edm AFTER.edm [--n 500] [--n-hard 200] [--seed 2026]

The photos are those of `python tools/bench.py reader` (tools/synth_photos.py, MNIST TEST digits,
the same seeds: normal `seed`, hard `seed + 1`), read by both models in one process. Besides the
rates, it counts the discordant pairs (right with one model only), per photo (exact number) and
per digit cut from its true box (the benchmark's "ceiling"), so a small difference can be told
from noise (sign test on the discordant pairs). For measuring a trained model only; nothing here
feeds back into training.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


def sign_test(a: int, b: int) -> float:
    """Two-sided p-value of a split of a + b discordant pairs at least as uneven as (a, b)."""
    n, k = a + b, min(a, b)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)


def compare(before, after, n: int, hard: bool, seed: int) -> str:
    sys.path.insert(0, TOOLS)
    import bench_reader
    import synth_photos

    import edgedigits
    only = {"photo": [0, 0], "digit": [0, 0]}
    exact, digits, total = [0, 0], [0, 0], 0
    for ph in synth_photos.make_photos(n, seed=seed, hard=hard):
        right = []
        for j, model in enumerate((before, after)):
            read = edgedigits.read_number(ph.jpeg, model=model).digits
            right.append(read == ph.digits)
            exact[j] += read == ph.digits
            digits[j] += bench_reader.digit_correct(ph.digits, read)
        if right[0] != right[1]:
            only["photo"][right[1]] += 1
        for t, x, y in zip(ph.digits, *(bench_reader.ceiling_digits(ph, m) for m in (before, after))):
            if (x == t) != (y == t):
                only["digit"][y == t] += 1
        total += len(ph.digits)
    p, d = only["photo"], only["digit"]
    return (f"{'hard' if hard else 'normal'} ({n}): exact {exact[0] / n:.3f} -> {exact[1] / n:.3f}, "
            f"digits {digits[0] / total:.4f} -> {digits[1] / total:.4f}; photos right only before "
            f"{p[0]}, only after {p[1]} (p = {sign_test(*p):.2f}); true-box digits right only before "
            f"{d[0]}, only after {d[1]} of {total} (p = {sign_test(*d):.3f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.compare_reader", description=__doc__.split("\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--n-hard", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    import cv2

    import edgedigits
    cv2.setNumThreads(1)
    before, after = edgedigits.load_model(args.before), edgedigits.load_model(args.after)
    for n, hard, seed in ((args.n, False, args.seed), (args.n_hard, True, args.seed + 1)):
        if n > 0:
            print(compare(before, after, n, hard, seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
