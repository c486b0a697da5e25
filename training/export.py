"""Export a trained float model through the runtime's int8 quantiser, and measure what it costs.

The blob comes from edgedigits.quantize.quantize_mlp and is written with
edgedigits.modelfile.write_model_file (atomic); the C header from the same blob with
edgedigits.modelfile.write_c_header. The header's banner names HEADER_COMMAND, which regenerates
it from the model file alone, so CI can check that the committed header matches the committed
model (tests/test_shipped_model.py).

Measured at export and stored in the model's metadata: validation error (float and int8) and,
for the record only, test error (float and int8, the int8 one through the C core). Nothing here
feeds back into training: the test digits are for measuring only.

    python -m training.export runs/default/checkpoint.npz edgedigits/models/default.edm \
        --name mlp-800 --header csrc/ed_default_model.h      # export a (partial) run's best
    python -m training.export --header edgedigits/models/default.edm csrc/ed_default_model.h
                                                              # regenerate the header only
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from edgedigits.model import Model
from edgedigits.modelfile import c_header_text, write_c_header, write_model_file
from edgedigits.quantize import quantize_mlp
from edgedigits.transforms import INPUT_TRANSFORMS

from . import mnist
from .models import Mlp, digit_error, from_npz_dict

DEFAULT_MODEL = "edgedigits/models/default.edm"
DEFAULT_HEADER = "csrc/ed_default_model.h"
C_NAME = "ed_default_model"
HEADER_COMMAND = f"python -m training.export --header {DEFAULT_MODEL} {DEFAULT_HEADER}"
ERROR_DIGITS = 5  # decimals kept for error rates in the metadata


@dataclass(frozen=True)
class ExportResult:
    path: str
    header: str | None
    size: int
    meta: dict

    def summary(self) -> str:
        m = self.meta
        parts = [f"exported {self.path} ({self.size} bytes)"]
        for key in ("float_val_error", "val_error_int8", "float_test_error", "test_error_int8"):
            if key in m:
                parts.append(f"{key} {m[key]:.2%}")
        if self.header:
            parts.append(f"header {self.header}")
        return ", ".join(parts)


def int8_model(model: Mlp, meta: dict | None = None) -> Model:
    """The model quantised and loaded into the C core."""
    return Model.from_bytes(quantize_mlp(model.layers(), meta, conv=model.conv_spec))


def measure(model: Mlp, images: np.ndarray, labels: np.ndarray, c_model: Model | None = None) -> dict:
    """Float and int8 (C core) error rates on uint8 images of digits (both after the C model's
    input transform, if its metadata names one), read as the public digit API reads them."""
    c_model = c_model or int8_model(model)
    x = mnist.as_inputs(c_model.prepare(images), np.float64)
    float_err = digit_error(model.astype(np.float64), x, labels)
    int8_err = float((c_model.predict_digits(images) != labels).mean())
    return {"float": float_err, "int8": int8_err}


def header_text(model_path: str = DEFAULT_MODEL, c_name: str = C_NAME,
                command: str = HEADER_COMMAND) -> str:
    """The C header that HEADER_COMMAND writes for the model file at `model_path`."""
    with open(model_path, "rb") as f:
        return c_header_text(f.read(), c_name, command)


def export_model(model: Mlp, path: str, *, name: str, meta: dict | None = None,
                 header: str | None = None, c_name: str = C_NAME, command: str = HEADER_COMMAND,
                 data_folder: str | None = None) -> ExportResult:
    """Quantise `model`, measure it, and write the model file (and the C header) atomically."""
    meta = {"name": name, "layers": list(model.sizes), "macs": model.macs(), **(meta or {})}
    if model.conv:
        meta["conv"] = model.conv.as_list()
    c_model = int8_model(model, {"input": meta["input"]} if "input" in meta else None)
    try:
        d = mnist.load(data_folder)
    except mnist.MnistError:
        d = None
    if d is not None:
        val = measure(model, d.valid.images, d.valid.labels, c_model)
        test = measure(model, d.test.images, d.test.labels, c_model)
        meta.update({"float_val_error": round(val["float"], ERROR_DIGITS),
                     "val_error_int8": round(val["int8"], ERROR_DIGITS),
                     "float_test_error": round(test["float"], ERROR_DIGITS),
                     "test_error_int8": round(test["int8"], ERROR_DIGITS)})
    blob = quantize_mlp(model.layers(), meta, conv=model.conv_spec)
    write_model_file(path, blob)
    if header:
        write_c_header(header, blob, c_name, command)
    return ExportResult(path, header, len(blob), meta)


def compact_history(history: list[dict]) -> dict:
    """Per-epoch curves for the metadata (training/report.py plots them from the model file)."""
    keys = ("train_ll", "val_ll", "train_error", "val_error")
    return {k: [round(float(h[k]), ERROR_DIGITS) for h in history] for k in keys}


def run_meta(info: dict) -> dict:
    """Metadata about a training run, from a checkpoint's info (training/train.py)."""
    cfg = info["config"]
    return {"lambda": info["lam"], "best_epoch": info["best_epoch"], "epochs_run": info["epoch"],
            "method": cfg["method"], "augment": cfg["augment"], "config_digest": info["digest"],
            "extra_patches": bool(cfg["extra"]), "negatives": cfg.get("negatives", 0.0),
            **({"negative_kinds": cfg["negative_kinds"]} if "negative_kinds" in cfg else {}),
            "init": cfg.get("init", ""),
            **({"input": "deskew"} if cfg.get("deskew") else {}),
            "history": compact_history(info["history"]),
            "lambda_search": info["lambda_search"],
            "train_seconds": round(sum(h["seconds"] for h in info["history"]), 1)}


def export_trained(model: Mlp, cfg, state, data_folder: str | None = None) -> ExportResult:
    """Export the best parameters of a training run as its config says (training/train.py)."""
    info = {"lam": state.lam, "best_epoch": state.best_epoch, "epoch": state.epoch,
            "config": cfg.to_json(), "digest": cfg.digest(), "history": state.history,
            "lambda_search": state.lambda_search}
    return export_model(model, cfg.model_file, name=cfg.name, meta=run_meta(info),
                        header=cfg.c_header or None, c_name=cfg.c_name, data_folder=data_folder)


def load_float(path: str) -> tuple[Mlp, dict]:
    """Float parameters from a checkpoint (its best) or from an .npz of W0, b0, ..."""
    with np.load(path) as z:
        if "info" in z.files:
            from .train import load_best
            return load_best(path)
        return from_npz_dict(z), {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n")[0])
    ap.add_argument("source", help="checkpoint.npz / best.npz, or with --header: a model file")
    ap.add_argument("dest", help="model file to write, or with --header: the C header to write")
    ap.add_argument("--name", default="mlp", help="model name stored in the metadata")
    ap.add_argument("--header", action="store_true",
                    help="regenerate the C header DEST from the model file SOURCE")
    ap.add_argument("--c-header", default=None, help="also write this C header")
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    ap.add_argument("--input", choices=sorted(INPUT_TRANSFORMS), default=None,
                    help="the input transform the model was trained with (default: the run's own)")
    args = ap.parse_args(argv)
    if args.header:
        with open(args.source, "rb") as f:
            blob = f.read()
        write_c_header(args.dest, blob, C_NAME, HEADER_COMMAND)
        print(f"wrote {args.dest} from {args.source} ({len(blob)} bytes)")
        return 0
    model, info = load_float(args.source)
    meta = run_meta(info) if info else {}
    if args.input:
        meta["input"] = args.input
    res = export_model(model.astype(np.float64), args.dest, name=args.name, meta=meta,
                       header=args.c_header, data_folder=args.data)
    print(res.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
