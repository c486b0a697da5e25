"""The classifier on hands it was not trained on: `python tools/bench.py styles`.

Every set here is kept out of training (training/hands.py builds the training set):

- held-out font families (training/fonts.json "heldout"), digits rendered by training/fonts.py;
- MNIST test digits given the held-out variant kinds (training/variants.py HELD_OUT_KINDS), and
  the trained kinds: both drawn on TEST digits, so the writer is new either way;
- scikit-learn's load_digits (43 Turkish writers, 8x8), drawn as pen strokes as the reader
  benchmark draws them (bench_reader.render_load_digits), then normalised like a reader glyph;
- the 10,000 MNIST test digits;
- separators and not-a-character marks of the held-out families and of training/drawn.py
  drawn from another seed (class accuracy, for models with those classes).

For each model (an ensemble of model files, `--model NAME=FILE[,FILE...]`; by default the shipped
ensemble and the default model alone) it prints the share of digits read right through the public
digit API, the share read wrong while sure (p >= SURE), per held-out family and per digit, and
the digit confusion matrices; --json writes it all.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from edgedigits.ensemble import SHIPPED_ENSEMBLE  # noqa: E402

# A wrong answer this sure (the top digit's probability) is "sure and wrong".
SURE = 0.9
# Renders per held-out family and digit; variants per set.
PER_FAMILY_DIGIT = 40
N_VARIANTS = 3000
N_MARKS = 2000
SEED = 2020


def _ensemble(spec: str):
    import edgedigits
    parts = spec.split(",")
    return edgedigits.load_model(parts[0]) if len(parts) == 1 else edgedigits.load_ensemble(parts)


def load_digits_patches(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """load_digits drawn 48 px tall as a pen stroke, normalised as the reader normalises."""
    from bench_reader import render_load_digits
    from sklearn.datasets import load_digits

    from edgedigits.pipeline.normalize import normalize
    ds = load_digits()
    rng = np.random.default_rng(seed)
    patches = []
    for img in ds.images:
        ink = (render_load_digits(img, 48, rng) * 255).astype(np.uint8)
        patches.append(normalize(ink, (ink > 64).astype(np.uint8)))
    return np.stack(patches), ds.target.astype(np.int64)


def build_sets(seed: int, data_folder: str | None) -> dict:
    """name -> dict(images, labels[, group names, group index]) of every measuring set that can
    be built here (font sets need the font cache, the MNIST ones EDGEDIGITS_DATA)."""
    from edgedigits.classes import DIGITS, JUNK, SEPARATORS
    from training import drawn, fonts, mnist, variants
    from training.hands import JUNK_TEXTS
    sets: dict = {}
    rng = np.random.default_rng(seed)
    try:
        held = fonts.families("heldout")
        g = fonts.render(DIGITS, PER_FAMILY_DIGIT * 10 * len(held), rng, held)
        sets["held-out font families"] = dict(images=g.images, labels=g.labels, groups=list(g.names),
                                              group=g.family)
        g = fonts.render(SEPARATORS, N_MARKS, rng, held)
        sets["separators, held-out fonts"] = dict(images=g.images, labels=g.labels, classes=True)
        g = fonts.render(JUNK_TEXTS, N_MARKS, rng, held)
        sets["letters and words, held-out fonts"] = dict(images=g.images, labels=g.labels, classes=True)
    except FileNotFoundError as exc:
        print(f"font sets skipped: {exc}", file=sys.stderr)
    images, labels = drawn.separators(N_MARKS, rng)
    sets["separators, drawn"] = dict(images=images, labels=labels, classes=True)
    try:
        test = mnist.load(data_folder).test
    except mnist.MnistError as exc:
        print(f"MNIST sets skipped: {exc}", file=sys.stderr)
        test = None
    if test is not None:
        images = drawn.junk(N_MARKS, rng, test.images)
        sets["not-a-character, drawn"] = dict(images=images, labels=np.full(len(images), JUNK),
                                              classes=True)
        trained = [k for k in variants.KIND_NAMES if k not in variants.HELD_OUT_KINDS]
        for name, kinds in (("held-out variant kinds", list(variants.HELD_OUT_KINDS)),
                            ("trained variant kinds", trained)):
            if kinds:
                images, labels, kind = variants.make(test.images, test.labels, N_VARIANTS, rng, kinds=kinds)
                sets[f"{name}, MNIST test digits"] = dict(
                    images=images, labels=labels, groups=list(variants.KIND_NAMES), group=kind)
        sets["MNIST test digits"] = dict(images=test.images, labels=test.labels)
    images, labels = load_digits_patches(seed)
    sets["load_digits (8x8)"] = dict(images=images, labels=labels)
    return sets


def measure(model, s: dict) -> dict:
    """Accuracy, sure-and-wrong share, per group and the confusion matrix, on one set."""
    from edgedigits.classes import CLASS_NAMES, N_DIGITS, has_character_classes
    labels = np.asarray(s["labels"], np.int64)
    if s.get("classes"):  # separators and not-a-character: the class itself, and what a digit read
        if not has_character_classes(model.n_classes):
            return {}
        logp = model.predict_class_log_proba(s["images"])
        pred = logp.argmax(1)
        digit_p = np.exp(model.predict_log_proba(s["images"]).max(1))
        out = {"n": int(len(labels)), "accuracy": float((pred == labels).mean()),
               "read_as_sure_digit": float(((pred < N_DIGITS) & (digit_p >= SURE)).mean())}
        per = {CLASS_NAMES[c]: float((pred[labels == c] == c).mean()) for c in np.unique(labels)}
        return {**out, "per_class": per}
    logp = model.predict_log_proba(s["images"])
    pred, p = logp.argmax(1), np.exp(logp.max(1))
    wrong = pred != labels
    out = {"n": int(len(labels)), "accuracy": float(1 - wrong.mean()),
           "sure_and_wrong": float((wrong & (p >= SURE)).mean()),
           "per_digit": [float(1 - wrong[labels == d].mean()) if (labels == d).any() else None
                         for d in range(N_DIGITS)],
           "confusion": np.bincount(labels * N_DIGITS + pred, minlength=N_DIGITS ** 2)
                          .reshape(N_DIGITS, N_DIGITS).tolist()}
    if "groups" in s:
        out["per_group"] = {s["groups"][g]: float(1 - wrong[s["group"] == g].mean())
                            for g in np.unique(s["group"])}
    return out


def top_confusions(conf, k: int = 5) -> str:
    c = np.array(conf)
    np.fill_diagonal(c, 0)
    idx = np.argsort(c, axis=None)[::-1][:k]
    return ", ".join(f"{i // 10}->{i % 10} {c.flat[i]}" for i in idx if c.flat[i])


def confusion_figure(results: dict, sets: list[str], path: str) -> None:
    """One panel per (set, model): the digit confusion matrix, rows the true digit, off-diagonal
    counts written in the cells (matplotlib, from the train extra)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(results)
    fig, axes = plt.subplots(len(sets), len(names), figsize=(3.6 * len(names), 3.6 * len(sets)),
                             squeeze=False)
    for r, k in enumerate(sets):
        for c, n in enumerate(names):
            conf = np.array(results[n][k]["confusion"])
            off = conf.copy()
            np.fill_diagonal(off, 0)
            ax = axes[r][c]
            ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1, off.max()))
            for i, j in zip(*np.nonzero(off)):
                ax.text(j, i, str(off[i, j]), ha="center", va="center", fontsize=7)
            ax.set_xticks(range(10))
            ax.set_yticks(range(10))
            ax.set_xlabel("read as")
            ax.set_ylabel("true digit")
            acc = results[n][k]["accuracy"]
            ax.set_title(f"{n}\n{k}: {acc:.1%}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=FILE[,FILE...]",
                    help="a model or ensemble to measure (repeatable); default: the shipped "
                         "ensemble and the default model")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    ap.add_argument("--json", default=None, help="write every figure to this file")
    ap.add_argument("--figure", default=None, help="write the confusion matrices of the held-out "
                    "font families and load_digits to this PNG (needs matplotlib)")
    args = ap.parse_args(argv)
    specs = [m.partition("=")[::2] for m in args.model] or [
        ("shipped ensemble", ",".join(SHIPPED_ENSEMBLE)), ("default model", "default")]
    t0 = time.perf_counter()
    sets = build_sets(args.seed, args.data)
    print(f"sets built in {time.perf_counter() - t0:.0f} s: "
          + ", ".join(f"{k} ({len(v['labels'])})" for k, v in sets.items()), file=sys.stderr)
    results = {name: {k: measure(_ensemble(spec), s) for k, s in sets.items()} for name, spec in specs}
    names = [n for n, _ in specs]
    print("| set | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k in sets:
        cells = []
        for n in names:
            r = results[n][k]
            if not r:
                cells.append("-")
            elif "sure_and_wrong" in r:
                cells.append(f"{r['accuracy']:.2%} (sure and wrong {r['sure_and_wrong']:.2%})")
            else:
                cells.append(f"{r['accuracy']:.2%} as its class (a sure digit {r['read_as_sure_digit']:.2%})")
        print(f"| {k} ({len(sets[k]['labels'])}) | " + " | ".join(cells) + " |")
    for k, s in sets.items():
        if "groups" in s or "per_class" in next(iter(results.values()))[k]:
            print(f"\n{k}:")
            for n in names:
                r = results[n][k]
                if r.get("per_group"):
                    print(f"  {n}: " + ", ".join(f"{g} {a:.1%}" for g, a in r["per_group"].items()))
                if r.get("per_class"):
                    print(f"  {n}: " + ", ".join(f"{g} {a:.1%}" for g, a in r["per_class"].items()))
    for k in sets:
        for n in names:
            r = results[n][k]
            if "per_digit" in r:
                print(f"{k}, {n}: per digit " + " ".join("-" if a is None else f"{a:.1%}" for a in r["per_digit"])
                      + f"; most confused (true->read) {top_confusions(r['confusion'])}")
    if args.figure:
        confusion_figure(results, [k for k in ("held-out font families", "load_digits (8x8)") if k in sets],
                         args.figure)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "models": dict(specs), "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
