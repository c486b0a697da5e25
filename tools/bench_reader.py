"""Reader benchmark: photos of handwritten phone numbers -> digits, against Tesseract 5.

    python tools/bench.py reader [--n 500] [--n-hard 200] [--seed 2026] [--renderer synth|note]
                                 [--split test|valid] [--turn] [--any-rotation]
                                 [--label P] [--label-fonts train|heldout]
                                 [--model ensemble|default|default-2 ... default-8|logreg|PATH]
                                 [--tesseract-n N] [--no-tesseract] [--no-load-digits]

On --n normal and --n-hard hard synthetic photos (tools/synth_photos.py, or with --renderer note
tools/note_photos.py; MNIST TEST digits, fixed seed) it measures, for edgedigits.read_number:
  exact      the whole number right;
  digits     digit accuracy: aligned digits right / true digits (edit-distance alignment);
  ceiling    the same model on the same digits, each cut from its TRUE box and normalised by the
             reader's own normalisation: what perfect segmentation would give (exact rate);
  silent     wrong number with no digit flagged uncertain and no reason given;
  (--turn: photo i is read turned i mod 4 quarter turns, a photo without orientation metadata)
  ms         median time per 1280x960 photo (JPEG bytes in, Reading out) on one thread: wall
             clock, and the process's CPU time (the honest one-core figure on a shared machine);
and the same photos through Tesseract 5 (digits whitelist; the page segmentation mode that
reads best on the first photos is picked, then used for all). It also reads scikit-learn's
load_digits (real handwriting from 43 other writers, 8x8, upsampled and drawn dark on light):
single digits, and 8-digit numbers composed from them; and round numbers of MNIST test digits
(a digit and 2-5 zeros, the zeros touching or apart).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import cv2  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import note_photos  # noqa: E402
import synth_photos  # noqa: E402

RENDERERS = {"synth": synth_photos, "note": note_photos}
from edgedigits.camera import edit_distance  # noqa: E402

TESSERACT_PSMS = (6, 7, 11, 13)


def digit_correct(truth: str, read: str) -> int:
    """Digits of `truth` read right: len(truth) minus the edits needed, at least 0."""
    return max(0, len(truth) - edit_distance(truth, read))


def ceiling_digits(photo, model) -> str:
    """The digits read from their TRUE boxes with the reader's binarisation and normalisation."""
    from edgedigits.pipeline import binarize, load
    from edgedigits.pipeline.classify import classify
    from edgedigits.pipeline.normalize import normalize
    loaded = load.load(photo.jpeg)
    b = binarize.binarize(loaded.gray)
    patches = []
    for x, y, w, h in photo.boxes:
        x0, y0 = max(0, int(x / loaded.scale)), max(0, int(y / loaded.scale))
        x1, y1 = int((x + w) / loaded.scale) + 1, int((y + h) / loaded.scale) + 1
        m = b.mask[y0:y1, x0:x1]
        # The digit's own ink: the biggest components in its box (neighbours may poke in).
        n, lab, st, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        if n > 1:
            big = st[1:, cv2.CC_STAT_AREA].max()
            keep = np.flatnonzero(st[:, cv2.CC_STAT_AREA] >= 0.15 * big)
            keep = keep[keep > 0]
            m = np.isin(lab, keep).astype(np.uint8)
        patches.append(normalize(b.ink[y0:y1, x0:x1], m))
    logp = classify(np.stack(patches), model)
    return "".join(str(int(k)) for k in logp.argmax(1))


def tesseract_read(path: str, psm: int) -> tuple[str, float]:
    t = time.perf_counter()
    out = subprocess.run(
        ["tesseract", path, "stdout", "--psm", str(psm), "-c",
         "tessedit_char_whitelist=0123456789"],
        capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    dt = time.perf_counter() - t
    return "".join(c for c in out.stdout if c.isdigit()), dt


def score(truths: list[str], reads: list[str]) -> tuple[float, float]:
    exact = float(np.mean([t == r for t, r in zip(truths, reads)]))
    dig = sum(digit_correct(t, r) for t, r in zip(truths, reads)) / sum(len(t) for t in truths)
    return exact, dig


def turned_jpeg(jpeg: bytes, turns: int) -> bytes:
    """The photo turned `turns` quarter turns counter-clockwise, as a JPEG without orientation
    metadata (a note lying sideways or upside down)."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(np.rot90(img, turns)),
                           [cv2.IMWRITE_JPEG_QUALITY, 92])
    return buf.tobytes()


def run_photos(photos, model, tess_psm: int | None, tess_n: int, tmp: str,
               turn: bool = False) -> dict:
    """turn: photo i is read turned (i % 4) quarter turns (the ceiling is of the photo as made)."""
    import edgedigits
    truths, reads, ceil, silent, times, cpu, reasons = [], [], [], 0, [], [], 0
    tess_reads, tess_times = [], []
    for i, ph in enumerate(photos):
        jpeg = turned_jpeg(ph.jpeg, i % 4) if turn else ph.jpeg
        t, c = time.perf_counter(), time.process_time()
        r = edgedigits.read_number(jpeg, model=model)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        truths.append(ph.digits)
        reads.append(r.digits)
        reasons += r.reason is not None
        if r.digits != ph.digits and not r.uncertain and r.reason is None:
            silent += 1
        ceil.append(ceiling_digits(ph, model))
        if tess_psm is not None and i < tess_n:
            path = os.path.join(tmp, f"p{i}.jpg")
            with open(path, "wb") as f:
                f.write(jpeg)
            s, dt = tesseract_read(path, tess_psm)
            tess_reads.append(s)
            tess_times.append(dt)
    exact, dig = score(truths, reads)
    cexact, cdig = score(truths, ceil)
    res = dict(n=len(truths), exact=exact, digits=dig, ceiling_exact=cexact, ceiling_digits=cdig,
               silent=silent / len(truths), with_reason=reasons / len(truths),
               ms=1000 * statistics.median(times), ms_p90=1000 * float(np.percentile(times, 90)),
               cpu_ms=1000 * statistics.median(cpu))
    if tess_reads:
        te, td = score(truths[: len(tess_reads)], tess_reads)
        res.update(tess_n=len(tess_reads), tess_exact=te, tess_digits=td,
                   tess_ms=1000 * statistics.median(tess_times))
    return res


def pick_psm(photos, tmp: str) -> tuple[int, dict]:
    """The Tesseract page segmentation mode with the best digit accuracy on these photos."""
    scores = {}
    for psm in TESSERACT_PSMS:
        reads = []
        for i, ph in enumerate(photos):
            path = os.path.join(tmp, f"psm{i}.jpg")
            with open(path, "wb") as f:
                f.write(ph.jpeg)
            reads.append(tesseract_read(path, psm)[0])
        scores[psm] = score([p.digits for p in photos], reads)
    best = max(scores, key=lambda k: (scores[k][1], scores[k][0]))
    return best, scores


def render_load_digits(img8: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """An 8x8 load_digits image (0..16) drawn dark on light, `height` px tall, as a pen stroke."""
    a = img8.astype(np.float32) / 16.0
    s = height / 8.0
    big = cv2.resize(np.pad(a, 1), None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), s * 0.35)
    ink = np.clip((big - 0.25) * 3.0, 0, 1)
    return ink


def load_digits_bench(model, seed: int) -> dict:
    """Single load_digits digits and 8-digit numbers made of them, through read_number."""
    import edgedigits
    from sklearn.datasets import load_digits
    ds = load_digits()
    rng = np.random.default_rng(seed)
    single_ok, n_single = 0, 0
    for i in range(len(ds.target)):
        ink = render_load_digits(ds.images[i], 48, rng)
        page = np.full((ink.shape[0] + 40, ink.shape[1] + 40), 235, np.float32)
        page[20:-20, 20:-20] -= 200 * ink
        r = edgedigits.read_number(np.clip(page, 0, 255).astype(np.uint8), model=model)
        single_ok += r.digits == str(ds.target[i])
        n_single += 1
    # 8-digit numbers: each digit a different load_digits sample, small gaps between.
    n_num, num_ok, dig_ok, dig_n = 300, 0, 0, 0
    for _ in range(n_num):
        idx = rng.choice(len(ds.target), 8, replace=False)
        inks = [render_load_digits(ds.images[i], 48, rng) for i in idx]
        gap = 10
        w = sum(k.shape[1] for k in inks) + gap * 9
        page = np.full((inks[0].shape[0] + 40, w + 40), 235, np.float32)
        x = 20 + gap
        for k in inks:
            page[20:20 + k.shape[0], x:x + k.shape[1]] -= 200 * k
            x += k.shape[1] + gap
        r = edgedigits.read_number(np.clip(page, 0, 255).astype(np.uint8), model=model)
        truth = "".join(str(ds.target[i]) for i in idx)
        num_ok += r.digits == truth
        dig_ok += digit_correct(truth, r.digits)
        dig_n += 8
    # The model alone on the same digits, normalised from the rendering (no reader).
    from edgedigits.pipeline.classify import classify
    from edgedigits.pipeline.normalize import normalize
    patches = []
    for i in range(len(ds.target)):
        ink = (render_load_digits(ds.images[i], 48, rng) * 255).astype(np.uint8)
        patches.append(normalize(ink, (ink > 64).astype(np.uint8)))
    model_acc = float((classify(np.stack(patches), model).argmax(1) == ds.target).mean())
    return dict(single=single_ok / n_single, n_single=n_single, model_only=model_acc,
                numbers_exact=num_ok / n_num, numbers_digits=dig_ok / dig_n, n_numbers=n_num)


def round_numbers_bench(model, seed: int, n: int = 200) -> dict:
    """Round numbers ("80000", "3000"): a digit and 2-5 zeros, MNIST test digits drawn as pen
    strokes 60 px tall on plain paper, the leading digit 0.3 H apart; the zeros touching or
    overlapping by up to 0.12 H in half of them (a run written in one go), apart by 0.1-0.35 H
    in the other half. Fewer than 7 digits carry a reason; what counts is the digits read."""
    import edgedigits
    images, labels = synth_photos.load_mnist("test")
    by_digit = [np.flatnonzero(labels == d) for d in range(10)]
    rng = np.random.default_rng(seed)
    out = {"touching": [0, 0, 0], "apart": [0, 0, 0]}  # exact, digits right, digits
    for k in range(n):
        truth = str(rng.integers(1, 10)) + "0" * int(rng.integers(2, 6))
        kind = "touching" if k % 2 == 0 else "apart"
        gap = rng.uniform(-0.12, 0.0) if kind == "touching" else rng.uniform(0.1, 0.35)
        alphas = [synth_photos._digit_alpha(images[rng.choice(by_digit[int(c)])], 60, 1.0, 0.0,
                                            rng) for c in truth]
        hmax = max(a.shape[0] for a in alphas)
        gaps = [18] + [int(round(gap * 60))] * (len(alphas) - 2) + [0]
        page = np.zeros((hmax + 80, sum(a.shape[1] for a in alphas) + sum(gaps) + 80), np.float32)
        x = 40
        for a, g in zip(alphas, gaps):
            y = 40 + (hmax - a.shape[0]) // 2
            spot = page[y:y + a.shape[0], x:x + a.shape[1]]
            np.maximum(spot, a, out=spot)
            x += a.shape[1] + g
        r = edgedigits.read_number(np.clip(235 - 210 * page, 0, 255).astype(np.uint8), model=model)
        o = out[kind]
        o[0] += r.digits == truth
        o[1] += digit_correct(truth, r.digits)
        o[2] += len(truth)
    return {k: (v[0] / (n / 2), v[1] / v[2]) for k, v in out.items()}


HUGE_CHILD = """
import sys, time, cv2
cv2.setNumThreads(1)
import edgedigits
def peak_mb():  # VmHWM: this process's peak resident memory (ru_maxrss survives exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
data = open(sys.argv[1], "rb").read()
edgedigits.read_number(sys.argv[2])  # warm up: load the model, import everything
base = peak_mb()
t, c = time.perf_counter(), time.process_time()
r = edgedigits.read_number(data)
print(1000 * (time.perf_counter() - t), 1000 * (time.process_time() - c), peak_mb(), base,
      r.digits)
"""


def huge_photo_bench(tmp: str, seed: int, split: str = "test") -> str:
    """A 12000x9000 (108 MP) JPEG of a generated photo (digits of `split`), read in a fresh
    process: time and peak memory (VmHWM, Linux) against the same process after reading a
    normal photo."""
    ph = next(synth_photos.make_photos(1, seed=seed, split=split))
    big = cv2.resize(ph.image, (12000, 9000), interpolation=cv2.INTER_LINEAR)
    ok, enc = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 85])
    del big
    path, small = os.path.join(tmp, "huge.jpg"), os.path.join(tmp, "small.jpg")
    with open(path, "wb") as f:
        f.write(enc.tobytes())
    with open(small, "wb") as f:
        f.write(ph.jpeg)
    out = subprocess.run([sys.executable, "-c", HUGE_CHILD, path, small], capture_output=True,
                         text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if out.returncode != 0:
        return f"108 MP JPEG: failed: {out.stderr.strip()[-200:]}"
    wall, cpu, peak, base, digits = out.stdout.split()
    return (f"108 MP JPEG ({len(enc) / 1e6:.1f} MB): {float(wall):.0f} ms wall, "
            f"{float(cpu):.0f} ms "
            f"CPU, peak RSS {float(peak):.0f} MB (after a 1280x960 photo: {float(base):.0f} MB); "
            f"read {digits or '-'} for {ph.digits}")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--n-hard", type=int, default=200)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--model", default=None,
                   help="ensemble (the reader's default), default, default-2, default-3, default-4, logreg or a .edm path")
    p.add_argument("--renderer", choices=sorted(RENDERERS), default="synth",
                   help="the photos: tools/synth_photos.py (the benchmark's own), or "
                        "tools/note_photos.py (a second renderer, written independently)")
    p.add_argument("--no-tesseract", action="store_true")
    p.add_argument("--tesseract-n", type=int, default=None,
                   help="run Tesseract on the first N photos of each set (default: all)")
    p.add_argument("--no-load-digits", action="store_true")
    p.add_argument("--split", choices=("test", "valid"), default="test",
                   help="digits of the photos: MNIST test digits (the benchmark), or the "
                        "validation digits 50,000..59,999 (for choosing reader changes, e.g. "
                        "--split valid --n 300 --n-hard 150 --seed 555)")
    p.add_argument("--turn", action="store_true",
                   help="read photo i turned (i mod 4) quarter turns, without orientation "
                        "metadata (a note lying sideways or upside down)")
    p.add_argument("--any-rotation", action="store_true",
                   help="with --renderer note: the note lying at any angle")
    p.add_argument("--label", type=float, default=0.0,
                   help="with --renderer note: the probability of a handwritten word before the "
                        "number (\"Tel.\", a name), 0..1")
    p.add_argument("--label-fonts", choices=note_photos.FONT_SPLITS, default="train",
                   help="with --label: the font families of the words (heldout: families the "
                        "word rule was not fitted on)")
    args = p.parse_args(argv)
    if (args.any_rotation or args.label) and args.renderer != "note":
        p.error("--any-rotation and --label need --renderer note")
    if not 0.0 <= args.label <= 1.0:
        p.error(f"--label must be in [0, 1], got {args.label}")
    cv2.setNumThreads(1)
    import edgedigits
    from edgedigits.ensemble import load_reader_model
    model = load_reader_model(args.model)
    sizes = ", ".join(str(m.layer_sizes) for m in getattr(model, "members", (model,)))
    words = f", a word before the number with p={args.label} ({args.label_fonts} fonts)" if args.label else ""
    print(f"# reader benchmark ({args.renderer} photos, {args.split} digits{', turned' if args.turn else ''}{', any rotation' if args.any_rotation else ''}{words}): {platform.machine()}, {os.cpu_count()} cores, OpenCV "
          f"{cv2.__version__}, one thread; model {model.meta.get('name')} {sizes}")
    have_tess = not args.no_tesseract and shutil.which("tesseract") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        psm = None
        if have_tess:
            probe = list(synth_photos.make_photos(20, seed=args.seed + 99))
            psm, scores = pick_psm(probe, tmp)
            print("# tesseract psm probe (exact, digits) on 20 other photos: " +
                  ", ".join(f"psm {k}: {v[0]:.2f}/{v[1]:.3f}" for k, v in scores.items()) +
                  f" -> psm {psm}")
        for name, n, hard, seed in (("normal", args.n, False, args.seed),
                                    ("hard", args.n_hard, True, args.seed + 1)):
            if n <= 0:
                continue
            extra = {"any_rotation": True} if args.any_rotation else {}
            if args.label:
                extra.update(label=args.label, label_fonts=args.label_fonts)
            photos = list(RENDERERS[args.renderer].make_photos(n, seed=seed, hard=hard,
                                                               split=args.split, **extra))
            tn = n if args.tesseract_n is None else min(n, args.tesseract_n)
            res = run_photos(photos, model, psm, tn, tmp, turn=args.turn)
            res["set"] = name
            rows.append(res)
            print(f"{name}: n={res['n']} exact={res['exact']:.3f} digits={res['digits']:.4f} "
                  f"ceiling_exact={res['ceiling_exact']:.3f} ratio="
                  f"{res['exact'] / max(res['ceiling_exact'], 1e-9):.3f} "
                  f"ceiling_digits={res['ceiling_digits']:.4f} silent={res['silent']:.3f} "
                  f"with_reason={res['with_reason']:.3f} median_ms={res['ms']:.1f} "
                  f"p90_ms={res['ms_p90']:.1f} median_cpu_ms={res['cpu_ms']:.1f}", flush=True)
            if "tess_exact" in res:
                print(f"{name} tesseract (psm {psm}, n={res['tess_n']}): "
                      f"exact={res['tess_exact']:.3f} digits={res['tess_digits']:.4f} "
                      f"median_ms={res['tess_ms']:.0f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(huge_photo_bench(tmp, args.seed + 7, args.split), flush=True)
    if not args.no_load_digits:
        ld = load_digits_bench(model, args.seed)
        print(f"load_digits: single digits {ld['single']:.3f} (n={ld['n_single']}; model alone "
              f"on the same renderings {ld['model_only']:.3f}); 8-digit numbers exact "
              f"{ld['numbers_exact']:.3f}, digits {ld['numbers_digits']:.4f} (n={ld['n_numbers']})")
        rn = round_numbers_bench(model, args.seed)
        print("round numbers (a digit and 2-5 zeros, n=100 each): " + "; ".join(
            f"{k} exact {v[0]:.3f}, digits {v[1]:.4f}" for k, v in rn.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
