"""Benchmarks (not tests). Each suite lives in its own module beside this one.

    python tools/bench.py inference   # C core vs NumPy, ONNX Runtime, OpenCV dnn
    python tools/bench.py training    # NumPy trainer vs PyTorch CPU
    python tools/bench.py reader      # photo reader vs Tesseract
    python tools/bench.py camera      # frames from first steady frame to announcement
    python tools/bench.py styles      # the classifier on held-out hands: fonts, variants, load_digits
    python tools/bench.py risk        # the reader's risk-coverage on two photo renderers

Results, with the command that made them, go in docs/benchmarks.md.
"""
from __future__ import annotations

import importlib
import os
import sys

SUITES = {
    "inference": "bench_inference",
    "training": "bench_training",
    "reader": "bench_reader",
    "camera": "bench_camera",
    "styles": "bench_styles",
    "risk": "bench_risk",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SUITES:
        print(__doc__, file=sys.stderr)
        print(f"usage: python tools/bench.py {{{'|'.join(SUITES)}}} [options]", file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    module = importlib.import_module(SUITES[argv[0]])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
