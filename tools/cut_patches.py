"""Cut training patches with the reader itself, from photos built from MNIST TRAINING digits.

The shipped model should learn what the reader really feeds it: digits cut, cleaned and
normalised by the reader's own stages from camera-like photos (thick and thin pens, blur, JPEG,
perspective), not only MNIST's pristine scans. This script generates photos from the TRAINING
split (never the test split) with either photo renderer (`--renderer synth`:
tools/synth_photos.py; `--renderer note`: tools/note_photos.py, notes on tables with their own
pens, papers, shadows and camera), runs the reader's segmentation and normalisation on each, and
keeps every digit glyph whose box matches exactly one true digit box (IoU >= MATCH_IOU),
labelled with that digit.

    python tools/cut_patches.py --photos 3000 --seed 7 --out ~/.cache/edgedigits/reader_patches.npz
    python tools/cut_patches.py --photos 600 --seed 8 --split valid \
        --out ~/.cache/edgedigits/reader_patches_valid.npz     # for choosing the epoch
    python tools/cut_patches.py --renderer note --photos 1500 --seed 61 \
        --out ~/.cache/edgedigits/note_patches_s61.npz

The .npz holds images (N, 28, 28) uint8 (ink bright on dark, like MNIST), labels (N,) uint8,
mnist_index (N,) int32 (the source digit in MNIST's training split; by default only digits
0..49,999 are drawn, so the trainer's validation digits 50,000..59,999 never appear) and
hard (N,) bool.
Keep it outside the repository.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import note_photos  # noqa: E402
import synth_photos  # noqa: E402

# A reader glyph is labelled with the true digit whose box overlaps it at least this much.
MATCH_IOU = 0.5
# Share of photos generated in the hard mode.
HARD_SHARE = 0.35
# Photos between saves of the .npz.
SAVE_EVERY = 100


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


def cut(photo, model) -> list[tuple[np.ndarray, int, int]]:
    """(patch, label, mnist index) for each reader glyph that matches one true digit."""
    from edgedigits.reader import digit_glyphs
    out = []
    for box, patch in digit_glyphs(photo.image, model=model):
        scores = [iou(box, t) for t in photo.boxes]
        ranked = sorted(scores, reverse=True) + [0.0, 0.0]
        if ranked[0] >= MATCH_IOU and ranked[1] < MATCH_IOU:
            k = int(np.argmax(scores))
            out.append((patch, int(photo.digits[k]), photo.mnist_index[k]))
    return out


class _Note:
    """A note_photos photo as cut() sees one: the image, its digits' boxes, labels and indices."""

    def __init__(self, photo) -> None:
        self.image = photo.jpeg
        self.boxes = photo.boxes
        self.digits = photo.digits
        self.mnist_index = photo.meta.get("mnist_index", [-1] * len(photo.digits))


def photos(renderer: str, n: int, seed: int, split: str, rng: np.random.Generator):
    """(photo, hard) pairs from either renderer, from the given MNIST split."""
    if renderer == "synth":
        for _ in range(n):
            is_hard = bool(rng.random() < HARD_SHARE)
            yield synth_photos.make_photo(rng, hard=is_hard, split=split), is_hard
        return
    # note_photos: "train" are the training digits 0..49,999, "valid" 50,000..59,999
    note_split = {"train-fit": "train", "valid": "valid"}[split]
    n_hard = int(round(n * HARD_SHARE))
    for is_hard, count, s in ((False, n - n_hard, seed), (True, n_hard, seed + 1)):
        for ph in note_photos.make_photos(count, seed=s, hard=is_hard, split=note_split):
            yield _Note(ph), is_hard


def save(out: str, images, labels, index, hard) -> None:
    tmp = out + ".tmp.npz"
    np.savez_compressed(tmp, images=np.stack(images).astype(np.uint8),
                        labels=np.array(labels, np.uint8), mnist_index=np.array(index, np.int32),
                        hard=np.array(hard, bool))
    os.replace(tmp, out)


def merge(paths: list[str], out: str) -> int:
    """Concatenate patch files (from different seeds) into one."""
    parts = []
    for path in paths:
        with np.load(os.path.expanduser(path)) as z:
            parts.append({k: z[k] for k in ("images", "labels", "mnist_index", "hard")})
    save(out, *(np.concatenate([q[k] for q in parts])
                for k in ("images", "labels", "mnist_index", "hard")))
    print(f"{sum(len(q['labels']) for q in parts)} patches from {len(parts)} files -> {out}",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", type=int, default=3000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--split", choices=("train-fit", "train", "valid"), default="train-fit",
                   help="train-fit: MNIST training digits 0..49,999 only (keeps the trainer's "
                        "validation digits out); train: all 60,000; valid: only the validation "
                        "digits 50,000..59,999 (patches for the trainer's data.valid_extra)")
    p.add_argument("--renderer", choices=("synth", "note"), default="synth",
                   help="the photo renderer: tools/synth_photos.py (default) or "
                        "tools/note_photos.py (the note renderer knows no 'train' split: use "
                        "train-fit or valid)")
    p.add_argument("--model", default=None,
                   help="model for the reader's split decisions (default: the reader's own, "
                        "the shipped ensemble)")
    p.add_argument("--out", default=os.path.join("~", ".cache", "edgedigits",
                                                  "reader_patches.npz"))
    p.add_argument("--merge", nargs="+", metavar="NPZ",
                   help="instead: concatenate these patch files into --out")
    args = p.parse_args(argv)
    if args.renderer == "note" and args.split == "train":
        p.error("--renderer note draws from train-fit (digits 0..49,999) or valid, not train")
    if args.merge:
        return merge(args.merge, os.path.expanduser(args.out))
    import cv2
    import edgedigits
    from edgedigits.ensemble import load_reader_model
    cv2.setNumThreads(1)
    model = load_reader_model(args.model)
    rng = np.random.default_rng(args.seed)
    images, labels, index, hard = [], [], [], []
    out = os.path.expanduser(args.out)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    t0 = time.time()
    for i, (photo, is_hard) in enumerate(photos(args.renderer, args.photos, args.seed,
                                                 args.split, rng)):
        for patch, label, idx in cut(photo, model):
            images.append(patch)
            labels.append(label)
            index.append(idx)
            hard.append(is_hard)
        if (i + 1) % SAVE_EVERY == 0 or i + 1 == args.photos:
            # saved as it goes (atomically): a long run is usable before it ends
            save(out, images, labels, index, hard)
            print(f"{i + 1} photos, {len(labels)} patches, {time.time() - t0:.0f} s -> {out}",
                  file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
