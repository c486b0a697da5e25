"""Draw one glyph's split lattice and the path the reader chose, for docs/reader.md.

    python tools/lattice_figure.py --out docs/figures/lattice.png [--renderer note] [--seed 2026]

The reader (edgedigits/pipeline/segment.py) over-segments a mark that may be touching digits:
candidate cuts at the valleys of its ink profile along several slants are the lattice's nodes;
every run of pieces between two cuts that could be one character is an arc, scored by the
classifier (log-probability, shape prior, cut and split penalties); the best path (Viterbi)
competes with the whole mark read as one digit. This script reads generated photos of MNIST
*test* digits until a line's reading is exact and one of its marks was split into two or more
digits through at least five nodes, and draws that mark: its cuts, the lattice with each arc's
score, the chosen path, and the patches the classifier read along it. Needs matplotlib (the
train extra).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))


class _Recorder:
    """Records each split lattice segment_line builds while a photo is read: the glyph's mask
    and ink, the line height, the lattice (cut costs and pieces) and what the Viterbi chose."""

    def __init__(self, segment):
        self.segment, self.splits = segment, []
        self._option, self._best = segment._split_option, segment._best_split

    def __enter__(self):
        seg = self.segment

        def split_option(gm, gi, gx0, gy0, gy1, H, patches):
            option = self._option(gm, gi, gx0, gy0, gy1, H, patches)
            if option is not None:
                self.splits.append(dict(gm=gm, gi=gi, H=H, option=option, patches=patches))
            return option

        def best_split(option, best_lp, logp, patches, H):
            result = self._best(option, best_lp, logp, patches, H)
            for s in self.splits:
                if s["option"] is option:
                    s.update(best_lp=best_lp, logp=logp, result=result)
            return result

        seg._split_option, seg._best_split = split_option, best_split
        return self

    def __exit__(self, *exc):
        self.segment._split_option, self.segment._best_split = self._option, self._best


def find_example(photos, model, min_nodes: int):
    """(photo, split record, whole-glyph score and class) of the first exact reading with a
    mark split into 2+ digits over at least `min_nodes` cut points."""
    import edgedigits
    from edgedigits.classes import N_DIGITS
    from edgedigits.pipeline import segment
    from edgedigits.pipeline.classify import classify_with_other
    from edgedigits.pipeline.normalize import normalize

    for photo in photos:
        with _Recorder(segment) as rec:
            r = edgedigits.read_number(photo.jpeg, model=model)
        if r.digits != photo.digits:
            continue
        for s in rec.splits:
            score, path = s.get("result", (-np.inf, []))
            digits = [k for _, k, kind in path if kind == "digit" and k >= 0]
            if len(s["option"][0]) < min_nodes or len(digits) < 2:
                continue
            gm, gi, H = s["gm"], s["gi"], s["H"]
            patch = normalize(gi, gm)
            logp, other = classify_with_other(patch[None], model)
            arc_lp = logp[0].max() + segment.character_log_p(other, model)[0]
            whole = segment._whole_score(gm.shape[1], H, logp[0], patch, arc_lp)
            if score > whole and int(logp[0].argmax()) < N_DIGITS:
                return photo, s, whole, int(logp[0].argmax())
    return None


def draw(photo, s, whole: float, whole_class: int, out: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Arc

    from edgedigits.classes import CLASS_NAMES
    from edgedigits.pipeline import segment

    gm, gi, H = s["gm"], s["gi"], s["H"]
    cost, pieces = s["option"]
    best_lp, logp, patches = s["best_lp"], s["logp"], s["patches"]
    score, path = s["result"]
    cuts = segment._slanted_cuts(gm, max(2, int(segment.SPLIT_MIN_PIECE_W * H)),
                                 int(segment.SPLIT_CUTS * gm.shape[1] / H))
    gh, gw = gm.shape
    chosen_boxes = [pb for pb, _, _ in path]
    arcs = []
    for piece in pieces:
        i, j, pb, k, kind = piece
        sc = segment._piece_score(piece, cost, best_lp, logp, patches, H)
        label = CLASS_NAMES[int(logp[k].argmax())] if k >= 0 else kind
        arcs.append((i, j, sc, label, pb in chosen_boxes))

    fig = plt.figure(figsize=(9.0, 9.0), dpi=100)
    grid = fig.add_gridspec(3, 1, height_ratios=[2.0, 3.2, 1.0], hspace=0.3)
    ax = fig.add_subplot(grid[0])
    ax.imshow(np.where(gm > 0, 255 - gi.astype(np.int32), 255), cmap="gray", vmin=0, vmax=255)
    on_path = {0, len(cuts) - 1} | {j for i, j, _, _, c in arcs if c}
    for n, (x, _, bx) in enumerate(cuts):
        if 0 < n < len(cuts) - 1:
            ax.plot(bx, np.arange(gh), color="red" if n in on_path else "0.55",
                    lw=2.0 if n in on_path else 1.0, ls="-" if n in on_path else "--")
        ax.text(x, -2, str(n), ha="center", va="bottom", fontsize=9,
                color="red" if n in on_path else "0.3")
    ax.set_xlim(-1, gw)
    ax.set_ylim(gh, -0.12 * gh - 4)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"a mark {gw / H:.2f} line heights wide: candidate cuts (nodes 0..{len(cuts) - 1})",
                 fontsize=10)

    ax = fig.add_subplot(grid[1])
    xs = [c[0] for c in cuts]
    for i, j, sc, label, chosen in sorted(arcs, key=lambda a: a[4]):
        cx, w = (xs[i] + xs[j]) / 2, xs[j] - xs[i]
        ax.add_patch(Arc((cx, 0), w, w * 0.9, theta1=0, theta2=180,
                         color="red" if chosen else "0.6", lw=2.2 if chosen else 0.8))
        ax.text(cx, w * 0.45 + 0.6, f"{label} {sc:.1f}", ha="center", va="bottom",
                fontsize=7.5 if not chosen else 9, color="red" if chosen else "0.35",
                fontweight="bold" if chosen else "normal")
    span = xs[-1] - xs[0]
    ax.add_patch(Arc(((xs[0] + xs[-1]) / 2, 0), span, span * 0.9, theta1=180, theta2=360,
                     color="tab:blue", lw=1.5))
    ax.text((xs[0] + xs[-1]) / 2, -span * 0.45 - 1.0,
            f"whole mark read as {CLASS_NAMES[whole_class]}: {whole:.2f}", ha="center", va="top",
            fontsize=9, color="tab:blue")
    ax.plot(xs, np.zeros(len(xs)), "o", color="black", ms=5, zorder=3)
    for n, x in enumerate(xs):
        ax.text(x, -0.9, str(n), ha="center", va="top", fontsize=8)
    ax.set_xlim(xs[0] - 2, xs[-1] + 2)
    ax.set_ylim(-span * 0.45 - 5, span * 0.45 + 6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"the lattice: arcs = pieces with their class and score; best path (red) "
                 f"{score:.2f} beats the whole mark", fontsize=10)

    ax = fig.add_subplot(grid[2])
    row = [patches[k] for _, k, kind in path if k >= 0]
    ax.imshow(np.hstack([np.pad(p, 2, constant_values=255) for p in row]), cmap="gray")
    ax.set_xticks([32 * n + 16 for n in range(len(row))])
    ax.set_xticklabels([f"{CLASS_NAMES[int(logp[k].argmax())]}  p={np.exp(best_lp[k]):.3f}"
                        for _, k, kind in path if k >= 0], fontsize=9)
    ax.set_yticks([])
    ax.set_title("the patches along the path, as the classifier saw them", fontsize=10)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--renderer", choices=("synth", "note"), default="note")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--n", type=int, default=200, help="photos to search")
    p.add_argument("--min-nodes", type=int, default=5)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    from edgedigits.ensemble import load_ensemble
    if args.renderer == "note":
        import note_photos
        photos = note_photos.make_photos(args.n, seed=args.seed, split="test")
    else:
        import synth_photos
        photos = synth_photos.make_photos(args.n, seed=args.seed)
    found = find_example(photos, load_ensemble(), args.min_nodes)
    if found is None:
        print(f"no exact reading with a split of {args.min_nodes}+ nodes in {args.n} photos",
              file=sys.stderr)
        return 1
    photo, s, whole, whole_class = found
    draw(photo, s, whole, whole_class, args.out)
    print(f"{args.out}: {photo.digits}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
