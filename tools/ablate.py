#!/usr/bin/env python3
"""What a rule of the reader is worth: validation photos read as shipped and with it switched off.

    python tools/ablate.py edgedigits.pipeline.segment.CAP_MAX_H=0.0 [NAME=VALUE ...]
                           [--sets first,first-hard,second,second-hard,word] [--n-scale 1.0]

Each NAME=VALUE sets a module constant of the reader (a Python literal; the constant must
exist) for the second reading of every photo; a value that switches a rule off (a threshold
no mark passes) measures what the rule is worth. The photos are of MNIST *validation* digits
(training digits 50,000..59,999), the sets the reader's rules are chosen on (docs/reader.md,
"What each rule is worth"):

  first         tools/synth_photos.py, 400 normal photos, seed 555
  first-hard    tools/synth_photos.py, 200 hard, seed 556
  second        tools/note_photos.py, 300 normal, seed 31
  second-hard   tools/note_photos.py, 150 hard, seed 32
  word          tools/note_photos.py, 200 with a word before the number in font families held
                out of training, seed 52 (needs the fonts cache of tools/fetch_fonts.py)

Per set it prints: readings changed (digits or reason), numbers read exactly as shipped and
with the change (gained, lost), digit edits to the truth summed over the set (Levenshtein:
changed, missed and extra digits), numbers read right and unflagged (no digit below
UNCERTAIN_BELOW, no reason: what a doubt costs) and numbers silently wrong (wrong and
unflagged).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import os
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import note_photos  # noqa: E402
import synth_photos  # noqa: E402
# Levenshtein distance: digits changed, missed or extra (camera mode's own).
from edgedigits.camera import edit_distance as edits  # noqa: E402

# name: (renderer, photos, hard, seed, extra arguments of make_photos)
SETS = {
    "first": (synth_photos, 400, False, 555, {}),
    "first-hard": (synth_photos, 200, True, 556, {}),
    "second": (note_photos, 300, False, 31, {}),
    "second-hard": (note_photos, 150, True, 32, {}),
    "word": (note_photos, 200, False, 52, {"label": 1.0, "label_fonts": "heldout"}),
}


def parse_setting(text: str) -> tuple[object, str, object]:
    """'edgedigits.pipeline.segment.CAP_MAX_H=0.0' -> (module, 'CAP_MAX_H', 0.0); ValueError
    for anything but an existing constant of an edgedigits module set to a Python literal."""
    name, sep, value = text.partition("=")
    module_name, _, const = name.strip().rpartition(".")
    if not sep or not module_name or not const:
        raise ValueError(f"expected MODULE.CONSTANT=VALUE, got {text!r}")
    if module_name.split(".")[0] != "edgedigits":
        raise ValueError(f"expected a constant of an edgedigits module, got {module_name!r}")
    module = importlib.import_module(module_name)
    if not hasattr(module, const):
        raise ValueError(f"{module_name} has no constant {const!r}")
    try:
        parsed = ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        raise ValueError(f"expected a Python literal for {name}, got {value!r}") from None
    return module, const, parsed


@dataclass
class Compared:
    photos: int = 0
    changed: int = 0
    exact: tuple[int, int] = (0, 0)      # shipped, with the change
    gained: int = 0
    lost: int = 0
    edits: tuple[int, int] = (0, 0)
    right_unflagged: tuple[int, int] = (0, 0)
    silent: tuple[int, int] = (0, 0)


def _unflagged(reading) -> bool:
    return bool(reading.digits) and not reading.uncertain and reading.reason is None


def _add(pair: tuple[int, int], a: bool, b: bool) -> tuple[int, int]:
    return pair[0] + a, pair[1] + b


def compare(photos, settings, read) -> Compared:
    """Read every (jpeg, truth) as shipped and with `settings` [(module, name, value)] set."""
    out = Compared()
    for jpeg, truth in photos:
        shipped = read(jpeg)
        saved = [(m, k, getattr(m, k)) for m, k, _ in settings]
        try:
            for m, k, v in settings:
                setattr(m, k, v)
            changed = read(jpeg)
        finally:
            for m, k, v in saved:
                setattr(m, k, v)
        a, b = shipped.digits == truth, changed.digits == truth
        out.photos += 1
        out.changed += (shipped.digits, shipped.reason) != (changed.digits, changed.reason)
        out.exact = _add(out.exact, a, b)
        out.gained += b and not a
        out.lost += a and not b
        out.edits = (out.edits[0] + edits(truth, shipped.digits),
                     out.edits[1] + edits(truth, changed.digits))
        out.right_unflagged = _add(out.right_unflagged, a and _unflagged(shipped),
                                   b and _unflagged(changed))
        out.silent = _add(out.silent, not a and _unflagged(shipped), not b and _unflagged(changed))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("settings", nargs="+", help="MODULE.CONSTANT=VALUE")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated, of: " + ", ".join(SETS))
    ap.add_argument("--n-scale", type=float, default=1.0, help="read this share of each set")
    args = ap.parse_args(argv)
    try:
        settings = [parse_setting(s) for s in args.settings]
        names = [s.strip() for s in args.sets.split(",") if s.strip()]
        unknown = [s for s in names if s not in SETS]
        if unknown:
            raise ValueError(f"unknown set(s) {', '.join(unknown)}; expected some of {', '.join(SETS)}")
        if not 0 < args.n_scale <= 1:
            raise ValueError(f"--n-scale must be in (0, 1], got {args.n_scale}")
    except ValueError as e:
        ap.error(str(e))
    import edgedigits
    print("| set | photos | readings changed | exact (gained, lost) | digit edits | right, unflagged "
          "| silent |")
    print("|---|---:|---:|---|---|---|---|")
    for name in names:
        renderer, n, hard, seed, extra = SETS[name]
        if extra.get("label_fonts") == "heldout":
            ok, why = note_photos.fonts_available()
            if not ok:
                print(f"| {name} | - | left out: {why} | | | | |")
                continue
        photos = ((p.jpeg, p.digits) for p in renderer.make_photos(
            max(1, round(n * args.n_scale)), seed=seed, hard=hard, split="valid", **extra))
        c = compare(photos, settings, edgedigits.read_number)
        print(f"| {name} | {c.photos} | {c.changed} | {c.exact[0]} -> {c.exact[1]} (+{c.gained}, "
              f"-{c.lost}) | {c.edits[0]} -> {c.edits[1]} | {c.right_unflagged[0]} -> "
              f"{c.right_unflagged[1]} | {c.silent[0]} -> {c.silent[1]} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
