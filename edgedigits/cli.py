"""The `edgedigits` command: read photos, guide a live camera, describe the model.

    edgedigits read IMAGE... [--all] [--json] [--speak] [--wav FILE] [--lang L] [--region R]
    edgedigits camera [--device N | --video FILE] [--json] [--speak] [--lang L] [--region R]
    edgedigits info

An IMAGE of `-` is read from standard input (as `tesseract stdin`); `--all` prints every line
of digits on each page, not only the most prominent number.

Exit codes: 0 a number was read (every image, for `read`); 1 nothing read (in at least one
image); 2 bad usage or bad input (an unreadable image, a missing camera or video).
Results go to stdout; warnings, errors and the progress bar (only on a terminal) to stderr.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
import time
from typing import Callable, Sequence, TextIO

from . import phone, speech, tts
from .reading import REASON_NO_DIGITS, Reading

EXIT_READ = 0
EXIT_NOTHING = 1
EXIT_USAGE = 2
# The IMAGE name that means "read the image from standard input" (shown as the file name too).
STDIN = "-"
# A progress bar only for work long enough to need one.
PROGRESS_MIN_ITEMS = 2
PROGRESS_WIDTH = 30


class UsageError(Exception):
    """Bad usage or input: exit code 2 with this message."""


def _lang(value: str) -> str:
    """argparse type for --lang: a word table, or any language espeak-ng has a voice for."""
    try:
        tag = speech.normalise_lang(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if speech.has_word_table(tag) or tts.has_voice(tag):
        return tag
    if tts.espeak_path() is None:  # cannot check; the digits are still printed as tokens
        return tag
    raise argparse.ArgumentTypeError(
        f"no word table and no espeak-ng voice for {value!r}: use one of "
        f"{', '.join(sorted(speech.WORD_TABLES))} or a language listed by 'espeak-ng --voices'")


def _region(value: str) -> str:
    try:
        return phone.normalise_region(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _device(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a camera number such as 0, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a camera number >= 0, got {n}")
    return n


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of frames >= 1, got {value!r}")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgedigits",
        description="Read handwritten phone numbers from photos or a camera, offline, and say them.",
        epilog="Exit codes: 0 read, 1 nothing read, 2 bad usage or input.")
    sub = parser.add_subparsers(dest="command", metavar="{read,camera,info}")
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="machine-readable output, one JSON object per line")
        p.add_argument("--speak", action="store_true", help="say the result aloud with espeak-ng")
        p.add_argument("--lang", type=_lang, default="en",
                       help="language of the speech text and voice (en, nl, de, fr, or any "
                            "espeak-ng voice; default en)")
        p.add_argument("--region", type=_region, default=None,
                       help="default phone region (NL, US, ...): check, format and choose "
                            "uncertain digits with its phone-number rules")
        p.add_argument("--model", default=None,
                       help="model file, or a shipped model: default, default-2 ... default-8, "
                            "logreg (default: the shipped ensemble of default and default-2 "
                            "... default-8)")

    read = sub.add_parser("read", help="read the phone number in one or more photos",
                          description="Read the phone number in each photo and print it (or say "
                                      "it). IMAGE - reads the photo from standard input "
                                      "(edgedigits read - < note.jpg); --all reads every line "
                                      "of digits on the page.",
                          epilog="JSON fields: file, digits, plus (a '+' written before "
                                 "them), groups, confidences, uncertain, alternatives, text, "
                                 "reason, ms. With --all, one object per image: "
                                 "file, readings (a list, top to bottom, of objects with the fields "
                                 "above but file and ms; empty when nothing was read), text (all "
                                 "that is said for the image), reason (why nothing was read, else "
                                 "null), ms. Exit codes: 0 every image read, 1 nothing read in "
                                 "some image, 2 bad usage or an unreadable image.")
    read.add_argument("images", nargs="+", metavar="IMAGE",
                      help="photo files (JPEG, PNG, ...); - reads one image from standard input "
                           "(at most once; name a file called - as ./-)")
    read.add_argument("--all", action="store_true",
                      help="every line of digits on each page, top to bottom, not only the most "
                           "prominent number: one output line each, prefixed 'line K/N:'; "
                           "--speak and --wav say them in order")
    common(read)
    read.add_argument("--wav", metavar="FILE", help="write the speech to this WAV file")

    cam = sub.add_parser("camera", help="guide the camera to a number and say it",
                         description="Read frames from a camera or a video, give spoken guidance, "
                                     "and announce each number once it is stable.",
                         epilog="JSON events: {\"event\": \"number\", \"digits\", \"text\", \"frame\"} "
                                "and {\"event\": \"guidance\", \"message\", \"frame\"}. Exit codes: "
                                "0 a number announced, 1 none, 2 no camera or video.")
    source = cam.add_mutually_exclusive_group()
    source.add_argument("--device", type=_device, default=None, metavar="N", help="camera number (default 0)")
    source.add_argument("--video", metavar="FILE", help="read frames from a video file instead")
    common(cam)
    cam.add_argument("--max-frames", type=_positive, default=None, metavar="N", help="stop after N frames")

    info = sub.add_parser("info", help="describe the model in use",
                          description="Print the model in use: layers, sizes, checksum, test error.")
    info.add_argument("--model", default=None, help="model file, or 'logreg' (default: the shipped model)")
    info.add_argument("--json", action="store_true", help="as one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `edgedigits` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or bad usage (2)
        return int(e.code or 0)
    try:
        if args.command == "read":
            return cmd_read(args)
        if args.command == "camera":
            return cmd_camera(args)
        return cmd_info(args)
    except UsageError as e:
        print(f"edgedigits {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _load_model(name: str | None, *, reader: bool = False):
    """The model named on the command line; for reading (reader=True) None stays None: the
    reader's default, the shipped ensemble."""
    from . import load_model
    if reader and name is None:
        return None
    try:
        return load_model(name)
    except (OSError, ValueError, TypeError) as e:  # ModelFormatError is a ValueError
        raise UsageError(f"cannot load model: {e}") from None


def _reader(name: str = "read_number") -> Callable:
    """The package's photo reader `name` (read_number or read_numbers)."""
    try:
        function = getattr(importlib.import_module(__package__), name, None)
    except ImportError:
        function = None
    if function is None:
        raise UsageError(f"this edgedigits has no photo reader (edgedigits.{name} is missing)")
    return function


# ----------------------------------------------------------------------------------- read


def describe(reading: Reading, lang: str, region: str | None) -> tuple[Reading, str]:
    """The Reading after the region's phone rules, and its speech text."""
    check = phone.check_reading(reading, region, lang)
    text = speech.speech_text(check.reading, lang, problem=check.problem, country=check.country)
    return check.reading, text


def reading_json(path: str, reading: Reading, text: str, ms: float) -> dict:
    return {
        "file": path,
        "digits": reading.digits,
        "plus": reading.plus,
        "groups": list(reading.groups),
        "separators": list(reading.separators),
        "confidences": [round(float(c), 4) for c in reading.confidences],
        "uncertain": list(reading.uncertain),
        "doubtful_marks": [[i, d] for i, d in reading.doubtful_marks],
        "alternatives": {str(k): [[d, round(float(p), 4)] for d, p in v]
                         for k, v in sorted(reading.alternatives.items())},
        "text": text,
        "reason": reading.reason,
        "ms": round(ms, 1),
    }


def reading_all_json(path: str, described: Sequence[tuple[Reading, str]], text: str,
                     reason: str | None, ms: float) -> dict:
    """`read --all --json`: one object per image, its readings top to bottom (each with the
    fields of `read --json` but file and ms); `text` is all that is said for the image, `reason`
    why nothing was read (then `described` is empty)."""
    readings = []
    for reading, said in described:
        fields = reading_json(path, reading, said, ms)
        del fields["file"], fields["ms"]
        readings.append(fields)
    return {"file": path, "readings": readings, "text": text, "reason": reason, "ms": round(ms, 1)}


def _human_line(path: str, reading: Reading, text: str, many: bool, line: str = "") -> str:
    """One printed result; `line` ("1/2") numbers a reading on its page for --all."""
    shown = " ".join(reading.groups) if reading.digits else "-"
    out = f"{shown}    {text}"
    if line:
        out = f"line {line}: {out}"
    return f"{path}: {out}" if many else out


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.total = total
        self.enabled = total >= PROGRESS_MIN_ITEMS and _isatty(self.stream)
        self.done = 0

    def step(self, label: str = "") -> None:
        self.done += 1
        if self.enabled:
            filled = int(PROGRESS_WIDTH * self.done / self.total)
            bar = "#" * filled + "." * (PROGRESS_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[-30:]:<30}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (PROGRESS_WIDTH + 45) + "\r")
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _bad_image(path: str) -> str | None:
    """Why `path` cannot be a photo, checked before the reader sees it."""
    if not os.path.exists(path):
        return f"{path}: file not found"
    if os.path.isdir(path):
        return f"{path}: is a folder, expected an image file"
    if not os.access(path, os.R_OK):
        return f"{path}: permission denied"
    if os.path.getsize(path) == 0:
        return f"{path}: empty file, expected an image (JPEG, PNG, ...)"
    return None


def read_stdin(stream, limit: int) -> tuple[bytes | None, str | None]:
    """All of the binary `stream` (standard input), at most `limit` bytes: (data, None), or
    (None, why not). Reads limit + 1 bytes so that a larger input is told, not cut short."""
    if stream is None:
        return None, f"{STDIN}: no standard input to read an image from"
    if _isatty(stream):
        return None, (f"{STDIN}: standard input is a terminal, expected an image piped in "
                      f"(edgedigits read {STDIN} < photo.jpg)")
    try:
        data = stream.read(limit + 1)
    except (OSError, ValueError) as e:  # closed, or not readable
        return None, f"{STDIN}: cannot read standard input: {e}"
    if not data:
        return None, f"{STDIN}: no image on standard input (it was empty): expected JPEG, PNG, ... data"
    if len(data) > limit:
        return None, (f"{STDIN}: more than {limit} bytes on standard input: expected an encoded "
                      f"image of at most {limit} bytes ({limit / 2**20:g} MiB)")
    return data, None


def _image_input(path: str) -> tuple[object, str | None]:
    """What the reader is given for the IMAGE argument `path` (the path, or the bytes on
    standard input for `-`), or why there is nothing to give it."""
    if path != STDIN:
        return path, _bad_image(path)
    from .pipeline.load import MAX_INPUT_BYTES  # the reader's own limit for a file's bytes
    return read_stdin(getattr(sys.stdin, "buffer", None), MAX_INPUT_BYTES)


def _read_all(read_numbers: Callable, read_number: Callable, image,
              model) -> tuple[list[Reading], str | None]:
    """Every line of digits on the page, top to bottom, and (when there is none) why."""
    readings = read_numbers(image, model=model)
    if readings:
        return readings, None
    # read_numbers gives no reason for an empty page: read_number's analysis of it does.
    reading = read_number(image, model=model)
    return [], reading.reason or REASON_NO_DIGITS


def cmd_read(args: argparse.Namespace) -> int:
    if args.images.count(STDIN) > 1:
        raise UsageError(f"{STDIN} (standard input) may be given only once among the images")
    read_number = _reader()
    read_numbers = _reader("read_numbers") if args.all else None
    model = _load_model(args.model, reader=True)
    many = len(args.images) > 1
    progress = Progress(len(args.images))
    status = EXIT_READ
    spoken = []
    try:
        for path in args.images:
            image, problem = _image_input(path)  # standard input is read before the clock starts
            start = time.perf_counter()
            readings, reason = [], None
            if problem is None:
                try:
                    if args.all:
                        readings, reason = _read_all(read_numbers, read_number, image, model)
                    else:
                        readings = [read_number(image, model=model)]
                except (OSError, ValueError, TypeError) as e:  # the reader's "not an image"
                    problem = str(e) if path != STDIN and path in str(e) else f"{path}: {e}"
                except Exception as e:  # noqa: BLE001 - a reader bug: report it, go on, never crash
                    problem = f"{path}: the reader failed ({type(e).__name__}: {e})"
            ms = (time.perf_counter() - start) * 1000.0
            progress.step(os.path.basename(path))
            if problem is not None:
                progress.close()
                print(f"edgedigits read: error: {problem}", file=sys.stderr)
                text = speech.reason_text(None, args.lang)
                if args.json:  # keep one object per image, the error as its reason
                    obj = (reading_all_json(path, [], text, problem, ms) if args.all
                           else reading_json(path, Reading.empty(problem), text, ms))
                    print(json.dumps(obj, ensure_ascii=False), flush=True)
                spoken.append(text)
                status = EXIT_USAGE
                continue
            if args.all and not readings:  # said as `read` says nothing read
                empty, text = describe(Reading.empty(reason), args.lang, args.region)
                described = []
                lines = [_human_line(path, empty, text, many)]
            else:
                described = [describe(r, args.lang, args.region) for r in readings]
                text = " ".join(said for _, said in described)
                numbered = args.all
                lines = [_human_line(path, r, said, many, f"{k}/{len(described)}" if numbered else "")
                         for k, (r, said) in enumerate(described, 1)]
            if args.json:
                obj = (reading_all_json(path, described, text, reason, ms) if args.all
                       else reading_json(path, described[0][0], text, ms))
                print(json.dumps(obj, ensure_ascii=False), flush=True)
            else:
                if progress.enabled:
                    progress.close()
                print("\n".join(lines), flush=True)
            if not any(r.digits for r, _ in described) and status == EXIT_READ:
                status = EXIT_NOTHING
            spoken.append(text)
    finally:
        progress.close()
    if spoken and (args.speak or args.wav):
        text = " ".join(spoken)
        if args.wav:
            result = tts.speak(text, args.lang, wav=args.wav, echo=False)
            if result.spoken:
                print(f"wrote {args.wav} ({tts.wav_duration(args.wav):.1f} s)", file=sys.stderr)
        if args.speak:
            tts.speak(text, args.lang, echo=False)  # the text is on stdout already
    return status


# --------------------------------------------------------------------------------- camera


def cmd_camera(args: argparse.Namespace) -> int:
    from . import camera
    read_number = _reader()
    model = _load_model(args.model, reader=True)
    source = args.video if args.video is not None else (args.device if args.device is not None else 0)
    session = camera.CameraSession(lambda frame: read_number(frame, model=model),
                                   lang=args.lang, region=args.region)
    speaker = tts.Speaker(args.lang) if args.speak else None

    def emit(event: camera.CameraEvent) -> None:
        if args.json:
            print(json.dumps(event.to_json(), ensure_ascii=False), flush=True)
        elif event.event == "number":
            print(f"frame {event.frame}: {event.digits}    {event.text}", flush=True)
        else:
            print(f"frame {event.frame}: ({event.message})", flush=True)
        if speaker is not None:
            speaker.say(event.text if event.event == "number" else event.message,
                        interrupt=event.event == "number")

    try:
        summary = camera.run(source, session, emit, max_frames=args.max_frames)
    except camera.CameraError as e:
        raise UsageError(str(e)) from None
    finally:
        if speaker is not None:
            speaker.wait()
    print(f"{summary.frames} frames, {len(summary.numbers)} number(s) announced"
          f"{', ' + str(summary.errors) + ' frame(s) failed' if summary.errors else ''}"
          f"{' (' + summary.ended + ')' if summary.ended else ''}", file=sys.stderr)
    return EXIT_READ if summary.numbers else EXIT_NOTHING


# ----------------------------------------------------------------------------------- info


def model_info(model) -> dict:
    """What `edgedigits info` prints, as a dict."""
    path = getattr(model, "path", None)
    file_sha = None
    if path and os.path.isfile(path):
        with open(path, "rb") as f:
            file_sha = hashlib.sha256(f.read()).hexdigest()
    meta = dict(getattr(model, "meta", {}) or {})
    layers = [{"n_in": layer.n_in, "n_out": layer.n_out, "activation": layer.activation,
               "parameters": layer.n_params,
               **({"conv": list(layer.conv)} if getattr(layer, "conv", None) else {})}
              for layer in getattr(model, "layers", ())]
    n_params = sum(layer["parameters"] for layer in layers)
    info = {
        "path": path,
        "name": meta.get("name"),
        "layer_sizes": list(getattr(model, "layer_sizes", ())),
        "layers": layers,
        "parameters": n_params,
        "file_bytes": os.path.getsize(path) if path and os.path.isfile(path) else len(getattr(model, "blob", b"")),
        "sha256": file_sha or getattr(model, "sha256", None),
        "test_error": _test_error(meta),
        "meta": meta,
    }
    kernel = getattr(sys.modules[__package__], "kernel_name", None)  # the core may add it
    if callable(kernel):
        try:
            info["kernel"] = kernel()
        except Exception as e:  # noqa: BLE001 - info must print whatever it can
            info["kernel"] = f"unknown ({e})"
    return info


def _test_error(meta: dict) -> float | None:
    for key in ("test_error_int8", "test_error", "float_test_error"):
        value = meta.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def cmd_info(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    info = model_info(model)
    if args.model is None:  # what `read` and `camera` use by default
        from .ensemble import SHIPPED_ENSEMBLE
        info["reader_ensemble"] = list(SHIPPED_ENSEMBLE)
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return EXIT_READ
    print(f"model:       {info['name'] or '(unnamed)'}")
    print(f"file:        {info['path']}")
    print(f"sha256:      {info['sha256']}")
    print(f"size:        {info['file_bytes']} bytes, {info['parameters']} parameters")
    print(f"layers:      {' -> '.join(map(str, info['layer_sizes']))}")
    for i, layer in enumerate(info["layers"]):
        conv = ""
        if "conv" in layer:
            channels, kernel, stride, pool = (*layer["conv"], 1)[:4]
            conv = f"{channels} kernels {kernel}x{kernel} at stride {stride}, "
            conv += f"max-pool {pool}x{pool}, " if pool > 1 else ""
        print(f"  layer {i}:   {layer['n_in']} -> {layer['n_out']} ({conv}{layer['activation']})")
    if model.input_transform:
        print(f"input:       {model.input_transform} (applied before the forward pass)")
    error = info["test_error"]
    print(f"test error:  {error:.2%} (MNIST test set)" if error is not None else "test error:  not recorded")
    if "kernel" in info:
        print(f"kernel:      {info['kernel']}")
    if "reader_ensemble" in info:
        print(f"reader:      reads photos with the ensemble {' + '.join(info['reader_ensemble'])}"
              " (mean log-probabilities)")
    return EXIT_READ


if __name__ == "__main__":
    sys.exit(main())
