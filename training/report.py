"""The notebook's figures for a model file: `python -m training.report edgedigits/models/default.edm`.

Writes PNG files and a markdown page (docs/training-report.md by default):

- training and validation log-likelihood (and validation error) per epoch, from the training
  history that training/export.py stores in the model's metadata;
- the first layer's weights as 28x28 images (hidden units, or the 10 class templates of
  logistic regression), dequantised from the int8 model: what the C core actually uses;
- the 8 test digits with the lowest and the 8 with the highest likelihood of their true class;
- the confusion matrix on the 10,000 test digits;
- the error rate of the float model (from the metadata, or recomputed with --float) against the
  int8 model run through the C core.

Everything measured here on test digits is measurement only; nothing feeds back into training.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

N_SHOWN_WEIGHTS = 64  # hidden units drawn in the weights figure
N_EXTREMES = 8


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_history(history: dict, path: str, title: str) -> None:
    plt = _plt()
    epochs = np.arange(1, len(history["val_ll"]) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(epochs, history["train_ll"], label="training (undistorted)")
    a.plot(epochs, history["val_ll"], label="validation")
    a.set_xlabel("epoch")
    a.set_ylabel("mean log-likelihood")
    a.legend()
    a.set_title(f"{title}: log p(t | x)")
    b.plot(epochs, 100 * np.asarray(history["train_error"]), label="training (undistorted)")
    b.plot(epochs, 100 * np.asarray(history["val_error"]), label="validation")
    b.set_xlabel("epoch")
    b.set_ylabel("error (%)")
    b.legend()
    b.set_title("error rate")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_images(images: np.ndarray, path: str, titles: list[str] | None = None, cols: int = 8,
                signed: bool = False, scale: float = 1.0) -> None:
    plt = _plt()
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1 * scale, rows * (1.25 if titles else 1.1) * scale))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i >= len(images):
            continue
        img = images[i].reshape(28, 28)
        if signed:
            lim = float(np.abs(img).max()) or 1.0
            ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            ax.imshow(img, cmap="Greys", interpolation="nearest")
        if titles:
            ax.set_title(titles[i], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_confusion(cm: np.ndarray, path: str) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.4))
    shown = np.log10(1 + cm)
    ax.imshow(shown, cmap="Blues")
    for i in range(10):
        for j in range(10):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > shown.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test, int8)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def confusion_matrix(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return np.bincount(10 * true + pred, minlength=100).reshape(10, 10)


def first_layer_weights(model_path: str) -> np.ndarray:
    """Dequantised first-layer weights (n_out, 784) of a model file: int8 * per-row scale."""
    from edgedigits.modelfile import unpack_model
    with open(model_path, "rb") as f:
        layers, _ = unpack_model(f.read())
    return layers[0].weights.astype(np.float64) * layers[0].scale[:, None].astype(np.float64)


def make_report(model_path: str, md_path: str, fig_dir: str, *, float_npz: str | None = None,
                data_folder: str | None = None, command: str | None = None) -> str:
    import edgedigits

    from . import mnist
    from .models import evaluate, from_npz_dict

    model = edgedigits.load_model(model_path)
    meta = model.meta
    name = meta.get("name", os.path.splitext(os.path.basename(model_path))[0])
    test = mnist.load_test(data_folder)
    os.makedirs(fig_dir, exist_ok=True)
    rel = os.path.relpath(fig_dir, os.path.dirname(os.path.abspath(md_path)))
    figs = {}

    logp = model.predict_log_proba(test.images)
    pred = logp.argmax(axis=1)
    int8_err = float((pred != test.labels).mean())
    float_err = meta.get("float_test_error")
    if float_npz:
        with np.load(float_npz) as z:
            fm = from_npz_dict(z).astype(np.float64)
        float_err = evaluate(fm, mnist.as_inputs(model.prepare(test.images), np.float64), test.labels)[1]

    history = meta.get("history")
    if history:
        figs["history"] = f"training-{name}-history.png"
        plot_history(history, os.path.join(fig_dir, figs["history"]), name)

    w = first_layer_weights(model_path)
    shown = w[:N_SHOWN_WEIGHTS]
    figs["weights"] = f"training-{name}-weights.png"
    titles = [str(i) for i in range(len(shown))] if len(shown) <= 10 else None
    plot_images(shown, os.path.join(fig_dir, figs["weights"]), titles, cols=10 if len(shown) <= 10 else 16,
                signed=True, scale=0.8)

    true_ll = logp[np.arange(len(test.labels)), test.labels]
    order = np.argsort(true_ll, kind="stable")
    for key, idx in (("lowest", order[:N_EXTREMES]), ("highest", order[::-1][:N_EXTREMES])):
        figs[key] = f"training-{name}-{key}.png"
        titles = [f"t={test.labels[i]} pred={pred[i]}\nlog p={true_ll[i]:.2g}" for i in idx]
        plot_images(test.images[idx], os.path.join(fig_dir, figs[key]), titles, cols=8)

    cm = confusion_matrix(test.labels, pred)
    figs["confusion"] = f"training-{name}-confusion.png"
    plot_confusion(cm, os.path.join(fig_dir, figs["confusion"]))

    size = os.path.getsize(model_path)
    lines = [
        f"# Training report: {name}",
        "",
        (f"Made by `{command or 'python -m training.report ' + model_path}` from the model file "
         f"`{os.path.basename(model_path)}` ({size:,} bytes, layers {'-'.join(map(str, model.layer_sizes))}, "
         f"{meta.get('macs', 'n/a')} multiply-accumulates per digit). Test figures are on the 10,000 "
         "MNIST test digits (measured only, never used for training or selection)."),
        "",
        "## Error rate: float against int8",
        "",
        "| model | test error | test errors |",
        "|---|---|---|",
    ]
    if float_err is not None:
        lines.append(f"| float (NumPy, float64) | {float_err:.2%} | {round(float_err * len(test))} |")
    lines.append(f"| int8 (C core, `edgedigits.load_model`) | {int8_err:.2%} | {int((pred != test.labels).sum())} |")
    if float_err is not None:
        lines += ["", f"Quantisation changes the test error by {100 * (int8_err - float_err):+.2f} percentage points."]
    for key, label in (("float_val_error", "float validation error"), ("val_error_int8", "int8 validation error"),
                       ("lambda", "prior precision lambda (chosen on validation)"),
                       ("best_epoch", "best epoch (by validation error)"), ("epochs_run", "epochs run")):
        if key in meta:
            v = meta[key]
            lines.append(f"- {label}: {v:.2%}" if "error" in key else f"- {label}: {v}")
    if meta.get("lambda_search"):
        lines.append("- lambda search (validation error after the short runs): " + ", ".join(
            f"{r['lambda']:g}: {r['val_error']:.2%}" for r in meta["lambda_search"]))
    if history:
        lines += ["", "## Log-likelihood per epoch", "",
                  "Mean log-likelihood of the true class on undistorted training digits (a fixed subset "
                  "where the config says so) and on the validation digits, after each epoch"
                  + (" (the training itself sees distorted digits, so its running loss is higher)."
                     if meta.get("augment") else "."), "",
                  f"![log-likelihood per epoch]({rel}/{figs['history']})"]
    lines += ["", "## First-layer weights", "",
              (f"The first {len(shown)} of {w.shape[0]} units' input weights as 28x28 images "
               "(red positive, blue negative), dequantised from the int8 model."), "",
              f"![first-layer weights]({rel}/{figs['weights']})",
              "", "## Test digits with the lowest likelihood of their true class", "",
              f"![lowest]({rel}/{figs['lowest']})",
              "", "## Test digits with the highest likelihood of their true class", "",
              f"![highest]({rel}/{figs['highest']})",
              "", "## Confusion matrix (test digits, int8)", "",
              f"![confusion matrix]({rel}/{figs['confusion']})", "",
              "| true \\ predicted | " + " | ".join(map(str, range(10))) + " |",
              "|---" * 11 + "|"]
    lines += [f"| **{i}** | " + " | ".join(str(c) for c in cm[i]) + " |" for i in range(10)]
    text = "\n".join(lines) + "\n"
    folder = os.path.dirname(os.path.abspath(md_path))
    os.makedirs(folder, exist_ok=True)
    tmp = md_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, md_path)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.report", description=__doc__.split("\n")[0])
    ap.add_argument("model", help="model file (.edm)")
    ap.add_argument("--md", default="docs/training-report.md", help="markdown page to write")
    ap.add_argument("--fig-dir", default="docs/figures", help="folder for the PNG files")
    ap.add_argument("--float", dest="float_npz", default=None,
                    help="float parameters (runs/<run>/best.npz) to recompute the float test error")
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    args = ap.parse_args(argv)
    from .mnist import MnistError
    try:
        make_report(args.model, args.md, args.fig_dir, float_npz=args.float_npz, data_folder=args.data,
                    command="python -m training.report " + " ".join(argv if argv is not None else sys.argv[1:]))
    except (MnistError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.md} and figures in {args.fig_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
