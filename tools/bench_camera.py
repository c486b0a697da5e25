"""Camera-mode benchmark: from the first steady frame to the announcement, in frames and ms.

    python tools/bench.py camera [--videos 8] [--seed 0] [--line-fill F] [--renderer synth|note]
                                 [--split test|valid] [--model ensemble|default|...|PATH]

Generates --videos camera videos with tools/synth_video.py (seeds seed, seed+1, ...: blank page,
blurred approach, then a steady number with hand jitter; MNIST test digits by default, so
EDGEDIGITS_DATA must be set; --renderer note films the second renderer's notes, each with a
number of its own), and runs camera mode on each, in process, as `edgedigits camera --video`
does (decoding included). Per video:
    frames    announcement frame - first steady frame (0: announced on the first steady frame);
    video ms  those frames at the video's frame rate: the wait a user has when the phone keeps
              up with the camera;
    cpu ms    wall-clock time spent decoding and processing from the first steady frame up to
              and including the announcing frame, on this machine (one thread);
plus whether the announced digits were right, whether the announcement named a digit to check
(an uncertain digit, said with its alternative), how many numbers were announced, how many single
steady frames the reader got right on its own (what voting starts from), and the mean time per
frame by kind (quality-rejected frames skip the reader).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

import cv2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def run_one(path: str, truth, read, lang: str = "en") -> dict:
    from edgedigits import camera
    session = camera.CameraSession(read, lang=lang)
    cap = camera.open_capture(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or truth.fps
    announced, guidance, doubted = [], [], []
    frame_ms = {"rejected": [], "read": []}
    steady_right = steady_read = 0  # single-frame readings in the steady part, and how many were right
    reader = session.read

    def read_and_count(img):
        nonlocal steady_right, steady_read
        r = reader(img)
        if index >= truth.first_steady_frame:
            steady_read += 1
            steady_right += r.digits == truth.digits
        return r

    session.read = read_and_count
    cpu_from_steady = 0.0
    latency_cpu = None
    index = 0
    while True:
        start = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            break
        events = session.process(frame, index, index / fps)
        ms = (time.perf_counter() - start) * 1000.0
        frame_ms["read" if session.last_quality.problem is None else "rejected"].append(ms)
        if index >= truth.first_steady_frame:
            cpu_from_steady += ms
        for e in events:
            if e.event == "number":
                announced.append((index, e.digits))
                voted = session.voter.consensus()  # the vote just announced
                doubted.append(bool(voted is not None and voted.uncertain))
                if latency_cpu is None and index >= truth.first_steady_frame:
                    latency_cpu = cpu_from_steady
            else:
                guidance.append((index, e.message))
        index += 1
    cap.release()
    k_first = next((k for k, (i, _) in enumerate(announced) if i >= truth.first_steady_frame), None)
    first = announced[k_first] if k_first is not None else None
    frames = first[0] - truth.first_steady_frame if first else None
    return {
        "seed": truth.seed, "frames": frames, "video_ms": frames * 1000.0 / fps if first else None,
        "cpu_ms": latency_cpu, "digits": first[1] if first else None, "right": bool(first and first[1] == truth.digits),
        "doubted": bool(first and doubted[k_first]), "truth": truth.digits,
        "numbers": len(announced), "early": sum(1 for i, _ in announced if i < truth.first_steady_frame),
        "guidance": len(guidance), "fps": fps,
        "single_right": steady_right, "single_read": steady_read,
        "ms_rejected": statistics.mean(frame_ms["rejected"]) if frame_ms["rejected"] else 0.0,
        "ms_read": statistics.mean(frame_ms["read"]) if frame_ms["read"] else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--videos", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--line-fill", type=float, default=None,
                   help="share of the frame's width the number fills when steady (default: "
                        "synth_video.LINE_FILL; smaller is writing farther away)")
    p.add_argument("--renderer", default="synth", choices=("synth", "note"),
                   help="photo renderer the videos film (default synth; note: the second renderer)")
    p.add_argument("--split", default="test", choices=("test", "valid"),
                   help="MNIST split of the digits (default test; valid for choices made on videos)")
    p.add_argument("--model", default=None,
                   help="model file or a shipped name (default: the reader's shipped ensemble)")
    args = p.parse_args(argv)
    if not os.environ.get("EDGEDIGITS_DATA"):
        print("set EDGEDIGITS_DATA to the MNIST folder (the videos use MNIST test digits)", file=sys.stderr)
        return 2
    import edgedigits
    from edgedigits.ensemble import load_reader_model
    import synth_video

    model = load_reader_model(args.model)
    read = lambda frame: edgedigits.read_number(frame, model=model)  # noqa: E731
    line_fill = args.line_fill or synth_video.LINE_FILL
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.videos):
            truth = synth_video.write_video(os.path.join(tmp, f"cam{k}.avi"), seed=args.seed + k,
                                            line_fill=line_fill, renderer=args.renderer,
                                            split=args.split)
            rows.append(run_one(truth.path, truth, read))
    kernel = getattr(edgedigits, "kernel_name", lambda: "?")()
    print(f"# camera mode: {args.videos} generated videos ({synth_video.FRAME_W}x{synth_video.FRAME_H}, "
          f"{rows[0]['fps']:.0f} fps, {synth_video.BLANK_FRAMES} blank + {synth_video.APPROACH_FRAMES} "
          f"blurred approach + {synth_video.STEADY_FRAMES} steady frames, the number filling "
          f"{line_fill:.0%} of the width), model "
          f"{model.meta.get('name', '?')} "
          f"{', '.join('-'.join(map(str, m.layer_sizes)) for m in getattr(model, 'members', (model,)))}, kernel {kernel}, "
          f"{platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    print("| seed | frames to announce | video ms | cpu ms | announced | right | a digit to check | numbers "
          "| guidance | single frames right | ms/frame read | ms/frame rejected |")
    print("|---:|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        fmt = lambda v, f="{:.0f}": "-" if v is None else f.format(v)  # noqa: E731
        print(f"| {r['seed']} | {fmt(r['frames'])} | {fmt(r['video_ms'])} | {fmt(r['cpu_ms'])} | "
              f"{r['digits'] or '-'} | {'yes' if r['right'] else 'no'} | "
              f"{'-' if r['digits'] is None else ('yes' if r['doubted'] else 'no')} | {r['numbers']} | {r['guidance']} | "
              f"{r['single_right']}/{r['single_read']} | {r['ms_read']:.1f} | {r['ms_rejected']:.1f} |")
    done = [r for r in rows if r["frames"] is not None]
    if done:
        print(f"\nmedian over {len(done)}/{len(rows)} videos with an announcement: "
              f"{statistics.median(r['frames'] for r in done):.1f} frames, "
              f"{statistics.median(r['video_ms'] for r in done):.0f} ms of video, "
              f"{statistics.median(r['cpu_ms'] for r in done):.0f} ms of processing; "
              f"right digits in {sum(r['right'] for r in rows)}/{len(rows)}, "
              f"wrong with a digit to check {sum(bool(r['digits']) and not r['right'] and r['doubted'] for r in rows)}, "
              f"wrong and sure {sum(bool(r['digits']) and not r['right'] and not r['doubted'] for r in rows)}, "
              f"none {len(rows) - len(done)}, "
              f"{sum(r['numbers'] > 1 for r in rows)} with more than one number, "
              f"{sum(r['early'] for r in rows)} announced before the steady part; single steady "
              f"frames read right: {sum(r['single_right'] for r in rows)}/{sum(r['single_read'] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
