"""Risk-coverage of the reader: how its readings split as the doubt threshold moves.

    python tools/bench.py risk [--n 500] [--n-note 200] [--n-word 100] [--seed 31]
                               [--model NAME|PATH] [--json FILE] [--figure FILE]

Photos of MNIST *validation* digits (training digits 50,000..59,999: what thresholds are chosen
on) from both photo renderers, normal and hard: tools/synth_photos.py (--n normal, --n / 2 hard)
and tools/note_photos.py, written independently of it (--n-note normal, --n-note / 2 hard,
and --n-word with a handwritten word before the number in font families held out of training:
needs the fonts cache of tools/fetch_fonts.py, else the set is left out with the reason).
Each photo is read once; a reading is then "flagged" at threshold t when it is empty, gives a
reason, or has a digit whose confidence is below t (what `Reading.uncertain` would hold with
UNCERTAIN_BELOW = t). For every t it prints, per set, the share of numbers

  right, unflagged   read right and said as sure (what the user wants)
  right, flagged     read right but doubted ("crying wolf")
  wrong, flagged     read wrong and doubted (the user is warned)
  wrong, unflagged   read wrong and said as sure (silent-wrong: the one that must be rare)

with the shipped UNCERTAIN_BELOW marked, and the threshold the rule of MAX_SILENT chooses (how
UNCERTAIN_BELOW is set); --figure draws the four shares against t per set (needs matplotlib,
the `train` extra).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import note_photos  # noqa: E402
import synth_photos  # noqa: E402

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995)
SHARES = ("right, unflagged", "right, flagged", "wrong, flagged", "wrong, unflagged")
# The rule that chooses UNCERTAIN_BELOW: the smallest threshold at which the share of numbers
# silently wrong is at most this on each renderer's normal photos: 1% on the project's own
# renderer, 2% on the second (the target for photos unlike the project's own).
MAX_SILENT = {"synth_photos normal": 0.01, "note_photos normal": 0.02}


def read_set(renderer, n: int, seed: int, hard: bool, model, **extra) -> list[dict]:
    """Each photo's truth and reading (digits, the lowest digit confidence, the reason);
    `extra` goes to the renderer's make_photos."""
    import edgedigits
    rows = []
    for ph in renderer.make_photos(n, seed=seed, hard=hard, split="valid", **extra):
        r = edgedigits.read_number(ph.jpeg, model=model)
        rows.append({"truth": ph.digits, "read": r.digits, "reason": r.reason,
                     "min_conf": min(r.confidences, default=0.0)})
    return rows


def shares(rows: list[dict], t: float) -> dict:
    """The four shares of `rows` at threshold t (they sum to 1)."""
    right = np.array([r["read"] == r["truth"] for r in rows])
    flagged = np.array([not r["read"] or r["reason"] is not None or r["min_conf"] < t for r in rows])
    counts = (right & ~flagged, right & flagged, ~right & flagged, ~right & ~flagged)
    return {name: float(c.mean()) for name, c in zip(SHARES, counts)}


def operating_point(curves: dict) -> float | None:
    """The smallest threshold meeting MAX_SILENT on every set it names (None if none does, or
    a set it names was not read)."""
    limits = [(name, limit) for prefix, limit in MAX_SILENT.items()
              for name in curves if name.startswith(prefix)]
    if len({name.split(" (")[0] for name, _ in limits}) < len(MAX_SILENT):
        return None
    for i, t in enumerate(THRESHOLDS):
        if all(curves[name][i]["wrong, unflagged"] <= limit + 1e-12 for name, limit in limits):
            return t
    return None


def figure(curves: dict, current: float, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3.4), sharey=True)
    colours = ("#2a9d4b", "#9ccf9f", "#f2b279", "#d1332f")
    for ax, (name, rows) in zip(np.atleast_1d(axes), curves.items()):
        ys = np.array([[s[k] for k in SHARES] for s in rows]).T * 100
        ax.stackplot(THRESHOLDS, ys, labels=SHARES, colors=colours)
        ax.axvline(current, color="k", lw=1, ls="--")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("threshold")
        ax.set_xlim(THRESHOLDS[0], THRESHOLDS[-1])
    np.atleast_1d(axes)[0].set_ylabel("% of numbers")
    np.atleast_1d(axes)[-1].legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=500, help="normal synth_photos (half as many hard)")
    p.add_argument("--n-note", type=int, default=200, help="normal note_photos (half as many hard)")
    p.add_argument("--n-word", type=int, default=100,
                   help="note_photos with a word before the number, in held-out font families")
    p.add_argument("--seed", type=int, default=31)
    p.add_argument("--model", default=None, help="ensemble (default), a shipped name or a .edm path")
    p.add_argument("--json", default=None, help="write every reading and share to this file")
    p.add_argument("--figure", default=None, help="write the risk-coverage figure (PNG)")
    args = p.parse_args(argv)
    if min(args.n, args.n_note, args.n_word) < 0:
        p.error("--n, --n-note and --n-word must be >= 0")
    cv2.setNumThreads(1)
    from edgedigits.ensemble import load_reader_model
    from edgedigits.reading import UNCERTAIN_BELOW
    model = load_reader_model(args.model)
    sets = {}
    for name, renderer, n in (("synth_photos", synth_photos, args.n), ("note_photos", note_photos, args.n_note)):
        for hard, count in ((False, n), (True, n // 2)):
            if count > 0:
                sets[f"{name} {'hard' if hard else 'normal'} ({count})"] = read_set(
                    renderer, count, args.seed + hard, hard, model)
    if args.n_word > 0:
        ok, why = note_photos.fonts_available()
        if ok:
            sets[f"note_photos word, held-out fonts ({args.n_word})"] = read_set(
                note_photos, args.n_word, args.seed + 2, False, model, label=1.0,
                label_fonts="heldout")
        else:
            print(f"# note_photos with a word left out: {why}")
    curves = {name: [shares(rows, t) for t in THRESHOLDS] for name, rows in sets.items()}
    print(f"# risk-coverage, MNIST validation digits, seed {args.seed}; shipped UNCERTAIN_BELOW "
          f"= {UNCERTAIN_BELOW}; shares of numbers: {' / '.join(SHARES)}")
    print("| threshold | " + " | ".join(curves) + " |")
    print("|---:|" + "---|" * len(curves))
    for i, t in enumerate(THRESHOLDS):
        mark = f"**{t}**" if abs(t - UNCERTAIN_BELOW) < 1e-9 else f"{t}"
        cells = [" / ".join(f"{100 * c[i][k]:.1f}" for k in SHARES) for c in curves.values()]
        print(f"| {mark} | " + " | ".join(cells) + " |")
    rule = ", ".join(f"{100 * v:g}% on {k}" for k, v in MAX_SILENT.items())
    print(f"# the rule (smallest threshold with at most {rule} silently wrong) chooses "
          f"{operating_point(curves)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seed": args.seed, "thresholds": THRESHOLDS, "sets": sets,
                       "shares": curves}, f, indent=1)
    if args.figure:
        figure(curves, UNCERTAIN_BELOW, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
