"""Live camera mode: guide the user until the number is in view, then say it once.

A blind user cannot see the viewfinder, so every frame is judged before it is read:
    1. frame quality (cheap, no reader): too dark, too bright, nothing written, blurred;
    2. the reader (edgedigits.read_number) on frames that pass, and its reason when it reads
       nothing; then the digit boxes: too small (move closer), touching a frame edge (cut off).
Guidance about the most recent problem is spoken, rate-limited: only once a problem persists for
a few frames, never more often than every GUIDANCE_INTERVAL_S, and the same advice not again
within GUIDANCE_REPEAT_S. Readings vote digit by digit over the last VOTE_WINDOW frames; once
the vote is stable (STABLE_FRAMES readings agree, STABLE_SHARE of them on every digit) the
number is announced, once: a number already said is never said again, and a number close to one
already said (a single flickering digit) needs STRONG_FRAMES agreeing readings. What the reader
says about the number itself (writing left out before it, a mark that may be a digit) is no
guidance: it is announced with the number when most of the voting readings say it.

The pure parts (FrameQuality, DigitVoter, GuidanceLimiter, CameraSession) take frames and
Readings and return events; run() wraps them around cv2.VideoCapture.
"""
from __future__ import annotations

import collections
import math
import sys
import time
from dataclasses import dataclass
from typing import Callable, Iterable, TextIO

import cv2
import numpy as np

from . import phone, speech
from .reading import (
    REASON_CUT_BOTTOM, REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_CUT_TOP, REASON_NO_WRITING,
    REASON_TOO_BLURRY, REASON_TOO_BRIGHT, REASON_TOO_DARK, REASON_TOO_FEW_DIGITS,
    REASON_TOO_MANY_DIGITS, REASON_TOO_SMALL, REASONS_CUT_OFF,
    REASON_MARK_MAY_BE_DIGIT, REASONS_SAID_WITH_THE_NUMBER, UNCERTAIN_BELOW, Reading,
)

# --- frame quality, measured on the frame scaled to WORK_WIDTH pixels wide ---
WORK_WIDTH = 640
DARK_MEAN = 45             # mean gray below this: too dark to read ink on paper
BRIGHT_SATURATED = 0.60    # this fraction of pixels at >= 250: washed out by glare
BACKGROUND_KERNEL = 21     # px; a closing this wide erases strokes, leaving the paper
INK_DARKNESS = 25          # gray levels below the local paper that count as a mark
MIN_INK_PIXELS = 40        # fewer marked pixels than this: no writing in view
# Blur: the steepest ink edges (99th percentile of the Sobel gradient, per px) relative to the
# ink's depth. A sharp pen stroke rises over 1-2 px (ratio ~0.4-1); Gaussian blur of sigma s
# flattens it to ~1/(2.5 s), so below 0.2 the frame is blurred by ~2 px or more.
BLUR_EDGE_RATIO = 0.20
# --- readings ---
MIN_DIGIT_HEIGHT_PX = 16   # median digit box height in the frame; below: "move closer"
EDGE_MARGIN_PX = 2         # a digit box this close to a frame edge: the number may be cut off
# --- voting ---
VOTE_WINDOW = 10           # frames remembered (empty frames count, so old readings age out)
STABLE_FRAMES = 4          # readings of the same length needed to announce
STABLE_SHARE = 0.75        # of those, the share that must agree on each digit
# ... and the share of all recent readings that must have that length: while a thin "1" is lost
# in every other frame, neither length is announced (a number said one digit short is worse
# than a few more frames of waiting).
LENGTH_SHARE = 0.60
STRONG_FRAMES = 7          # readings needed to announce a number one or two digits from one said
NEAR_DIGITS = 2            # "one or two digits from": edit distance (changed, missed, extra)
MIN_ALTERNATIVE = 0.02     # alternatives below this averaged probability are dropped
# --- guidance ---
GUIDANCE_PERSIST_FRAMES = 3
GUIDANCE_INTERVAL_S = 2.0
GUIDANCE_REPEAT_S = 5.0
# --- capture ---
DEFAULT_FPS = 30.0
DISCONNECT_RETRIES = 10    # failed reads from a live camera before it counts as gone
RETRY_SLEEP_S = 0.1
MAX_CONSECUTIVE_ERRORS = 100  # frames in a row that raise: give up, something is broken


class CameraError(RuntimeError):
    """The camera or video cannot be opened."""


@dataclass(frozen=True)
class FrameQuality:
    """Cheap measurements of one frame; `problem` is a REASON_* code or None."""

    brightness: float      # mean gray 0..255
    saturated: float       # fraction of pixels >= 250
    ink_pixels: int        # pixels at least INK_DARKNESS below the local paper
    edge_ratio: float      # steepest ink edges / ink depth (see BLUR_EDGE_RATIO)
    problem: str | None


@dataclass(frozen=True)
class CameraEvent:
    """One thing to tell the user: a number found, or guidance."""

    event: str             # "number" or "guidance"
    frame: int
    message: str | None = None   # guidance, in words
    digits: str | None = None    # number
    text: str | None = None      # number: the speech text
    reason: str | None = None    # guidance: the REASON_* code behind the message

    def to_json(self) -> dict:
        if self.event == "number":
            return {"event": "number", "digits": self.digits, "text": self.text, "frame": self.frame}
        return {"event": "guidance", "message": self.message, "frame": self.frame}


def to_gray(frame: np.ndarray) -> np.ndarray:
    """BGR, BGRA or gray frame (uint8 or uint16) -> uint8 gray."""
    if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3) or frame.size == 0:
        raise ValueError(f"expected a camera frame (H x W or H x W x 3/4 array), got "
                         f"{getattr(frame, 'shape', type(frame).__name__)}")
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    elif frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 or uint16 frame, got {frame.dtype}")
    if frame.ndim == 3:
        channels = frame.shape[2]
        if channels == 1:
            return frame[:, :, 0]
        if channels not in (3, 4):
            raise ValueError(f"expected 1, 3 or 4 channels, got {channels}")
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY)
    return frame


def assess_frame(frame: np.ndarray) -> FrameQuality:
    """Exposure, presence of writing, and blur of one frame (see the constants above)."""
    gray = to_gray(frame)
    if gray.shape[1] > WORK_WIDTH:
        scale = WORK_WIDTH / gray.shape[1]
        gray = cv2.resize(gray, (WORK_WIDTH, max(1, round(gray.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    brightness = float(gray.mean())
    saturated = float(np.count_nonzero(gray >= 250)) / gray.size
    # Closing keeps steps (shadow edges, the page border) and fills only narrow dark strokes.
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (BACKGROUND_KERNEL,) * 2))
    depth = cv2.subtract(paper, gray)
    ink = depth >= INK_DARKNESS
    ink_pixels = int(np.count_nonzero(ink))
    edge_ratio = 0.0
    if ink_pixels:
        smooth = cv2.GaussianBlur(gray, (3, 3), 0)  # sensor noise would pass for sharp edges
        gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8.0  # /8: gray levels per pixel
        gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8.0
        near_ink = cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        grad = np.sqrt(gx * gx + gy * gy)[near_ink]
        edge_ratio = float(np.percentile(grad, 99) / max(np.percentile(depth[ink], 99), 1.0))
    if brightness < DARK_MEAN:
        problem = REASON_TOO_DARK
    elif saturated > BRIGHT_SATURATED:
        problem = REASON_TOO_BRIGHT
    elif ink_pixels < MIN_INK_PIXELS:
        problem = REASON_NO_WRITING
    elif edge_ratio < BLUR_EDGE_RATIO:
        problem = REASON_TOO_BLURRY
    else:
        problem = None
    return FrameQuality(brightness, saturated, ink_pixels, edge_ratio, problem)


def reading_problem(reading: Reading, frame_shape: tuple[int, ...]) -> str | None:
    """Why a reading should not vote or needs advice: its reason, a cut-off edge, tiny digits.
    A reason said with the number (REASONS_SAID_WITH_THE_NUMBER) is no advice: the vote keeps
    it for the announcement."""
    if not reading.digits:
        return reading.reason or REASON_NO_WRITING
    if reading.reason and reading.reason not in REASONS_SAID_WITH_THE_NUMBER:
        return reading.reason
    if reading.boxes:
        height, width = frame_shape[:2]
        boxes = np.asarray(reading.boxes, dtype=np.int64).reshape(-1, 4)
        x, y, w, h = boxes.T
        if x.min() <= EDGE_MARGIN_PX:
            return REASON_CUT_LEFT
        if (x + w).max() >= width - EDGE_MARGIN_PX:
            return REASON_CUT_RIGHT
        if y.min() <= EDGE_MARGIN_PX:
            return REASON_CUT_TOP
        if (y + h).max() >= height - EDGE_MARGIN_PX:
            return REASON_CUT_BOTTOM
        if float(np.median(h)) < MIN_DIGIT_HEIGHT_PX:
            return REASON_TOO_SMALL
    return None


# A partial reading (cut off, or too few or too many digits for a phone number) does not vote.
VOTE_BLOCKING = REASONS_CUT_OFF + (REASON_TOO_FEW_DIGITS, REASON_TOO_MANY_DIGITS)


class DigitVoter:
    """Digit-by-digit vote over the last `window` frames (see the module docstring)."""

    def __init__(self, window: int = VOTE_WINDOW, stable_frames: int = STABLE_FRAMES,
                 stable_share: float = STABLE_SHARE):
        if not (1 <= stable_frames <= window) or not (0.5 < stable_share <= 1.0):
            raise ValueError("expected 1 <= stable_frames <= window and 0.5 < stable_share <= 1")
        self.window = window
        self.stable_frames = stable_frames
        self.stable_share = stable_share
        self._recent: collections.deque[Reading | None] = collections.deque(maxlen=window)

    def add(self, reading: Reading | None) -> None:
        """One frame's reading; None (or an empty Reading) for a frame that read nothing."""
        self._recent.append(reading if reading is not None and reading.digits else None)

    def clear(self) -> None:
        self._recent.clear()

    def consensus(self, min_frames: int | None = None) -> Reading | None:
        """The voted Reading when stable, else None.

        Readings of the most common length vote; each position's winner is the digit most of
        them read (ties: the larger summed probability). Stable when at least `min_frames`
        readings, and LENGTH_SHARE of all recent readings, have that length, and every winner
        has at least max(min_frames, stable_share * n) of their votes. Per digit, the returned confidence is the averaged
        probability of the winner (reader probability, 0 where another digit was read), so a
        digit that flickers between frames comes out uncertain.
        """
        need = self.stable_frames if min_frames is None else min_frames
        readings = [r for r in self._recent if r is not None]
        if len(readings) < need:
            return None
        lengths = collections.Counter(len(r.digits) for r in readings)
        best = max(lengths.values())
        # ties between lengths: the most recent reading's length among the tied ones
        length = next(len(r.digits) for r in reversed(readings) if lengths[len(r.digits)] == best)
        same = [r for r in readings if len(r.digits) == length]
        n = len(same)
        if n < need or n < LENGTH_SHARE * len(readings) - 1e-9:
            return None
        required = max(need, math.ceil(self.stable_share * n - 1e-9))
        digits, confidences, alternatives = [], [], {}
        for pos in range(length):
            votes = collections.Counter(r.digits[pos] for r in same)
            prob = collections.defaultdict(float)
            for r in same:
                prob[r.digits[pos]] += _confidence(r, pos) / n
                for d, p in r.alternatives.get(pos, ()):
                    prob[d] += float(p) / n
            winner = max(votes, key=lambda d: (votes[d], prob[d]))
            if votes[winner] < required:
                return None
            digits.append(winner)
            confidences.append(min(1.0, sum(_confidence(r, pos) for r in same if r.digits[pos] == winner) / n))
            others = sorted(((d, p) for d, p in prob.items() if d != winner and p >= MIN_ALTERNATIVE),
                            key=lambda dp: -dp[1])
            if confidences[-1] < UNCERTAIN_BELOW:
                alternatives[pos] = tuple((d, round(p, 4)) for d, p in others[:3])
        text = "".join(digits)
        model = next((r for r in reversed(same) if r.digits == text), same[-1])
        # what most of the voters say with the number stays said: writing left out before it,
        # a mark that may be a digit (Reading.doubtful_marks)
        said = collections.Counter(r.reason for r in same if r.reason in REASONS_SAID_WITH_THE_NUMBER)
        reason = next((x for x, k in said.most_common(1) if 2 * k > n), None)
        marks = collections.Counter(m for r in same for m in r.doubtful_marks)
        doubtful = tuple(sorted(m for m, k in marks.items() if 2 * k > n))
        if reason is None and doubtful:
            reason = REASON_MARK_MAY_BE_DIGIT
        return Reading(digits=text, groups=speech.regroup(model.groups, text), confidences=tuple(confidences),
                       uncertain=tuple(i for i, c in enumerate(confidences) if c < UNCERTAIN_BELOW),
                       alternatives=alternatives, boxes=model.boxes,
                       reason=reason, plus=model.plus,
                       doubtful_marks=doubtful)


def _confidence(reading: Reading, pos: int) -> float:
    return float(reading.confidences[pos]) if pos < len(reading.confidences) else 1.0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: digits changed, dropped or added between two readings."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def near(a: str, b: str, max_diff: int = NEAR_DIGITS) -> bool:
    """Two numbers one or two digits apart: a flickering, missed or doubled digit."""
    return edit_distance(a, b) <= max_diff


class GuidanceLimiter:
    """Decides when a persisting problem is worth saying (see the module docstring)."""

    def __init__(self, persist_frames: int = GUIDANCE_PERSIST_FRAMES,
                 interval_s: float = GUIDANCE_INTERVAL_S, repeat_s: float = GUIDANCE_REPEAT_S):
        self.persist_frames = persist_frames
        self.interval_s = interval_s
        self.repeat_s = repeat_s
        self._problem: str | None = None
        self._streak = 0
        self._last_t = -math.inf
        self._last_problem: str | None = None

    def quiet(self, t: float) -> None:
        """Something else was just said at time t (a number): hold guidance back."""
        self._last_t = t

    def offer(self, problem: str | None, t: float) -> str | None:
        """The problem seen at time t (seconds); returns it when it should be said now."""
        if problem != self._problem:
            self._problem, self._streak = problem, 0
        self._streak += 1
        if problem is None or self._streak < self.persist_frames:
            return None
        since = t - self._last_t
        if since < self.interval_s or (problem == self._last_problem and since < self.repeat_s):
            return None
        self._last_t, self._last_problem = t, problem
        return problem


class CameraSession:
    """Frames in, events out. `read` is the reader (edgedigits.read_number, or a bound one)."""

    def __init__(self, read: Callable[[np.ndarray], Reading], *, lang: str = "en",
                 region: str | None = None, voter: DigitVoter | None = None,
                 limiter: GuidanceLimiter | None = None):
        speech.word_table(lang)  # fail early on a bad language code
        self.read = read
        self.lang = lang
        self.region = phone.normalise_region(region)
        self.voter = voter or DigitVoter()
        self.limiter = limiter or GuidanceLimiter()
        self.announced: set[str] = set()
        self.last_quality: FrameQuality | None = None
        self.last_problem: str | None = None

    def process(self, frame: np.ndarray, index: int, t: float) -> list[CameraEvent]:
        """Judge, read and vote one frame (index: frame number, t: seconds since start)."""
        quality = assess_frame(frame)
        self.last_quality = quality
        problem = quality.problem
        reading = None
        if problem is None:
            reading = self.read(frame)
            if not isinstance(reading, Reading):
                raise TypeError(f"the reader returned {type(reading).__name__}, expected a Reading")
            problem = reading_problem(reading, frame.shape)
        self.last_problem = problem
        self.voter.add(reading if reading is not None and problem not in VOTE_BLOCKING
                       and not (reading.reason and reading.reason in VOTE_BLOCKING) else None)
        events = []
        number = self._announcement(index)
        if number is not None:
            self.limiter.quiet(t)
            events.append(number)
        said = self.limiter.offer(problem, t)
        if said is not None:
            events.append(CameraEvent("guidance", index, message=speech.reason_text(said, self.lang),
                                      reason=said))
        return events

    def frame_failed(self, index: int, t: float) -> None:
        """A frame that could not be processed votes for nothing."""
        self.voter.add(None)

    def _announcement(self, index: int) -> CameraEvent | None:
        voted = self.voter.consensus()
        if voted is None or voted.digits in self.announced:
            return None
        if any(near(voted.digits, said) for said in self.announced):
            if self.voter.consensus(min_frames=STRONG_FRAMES) is None:
                return None
        check = phone.check_reading(voted, self.region, self.lang)
        self.announced.update((voted.digits, check.reading.digits))
        text = speech.speech_text(check.reading, self.lang, problem=check.problem, country=check.country)
        return CameraEvent("number", index, digits=check.reading.digits, text=text)


@dataclass
class RunSummary:
    frames: int = 0
    errors: int = 0
    numbers: tuple[str, ...] = ()
    ended: str = ""        # "end of video", "camera disconnected", "frame limit", ...


def _quiet_opencv() -> None:
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)


def open_capture(source: int | str) -> cv2.VideoCapture:
    """cv2.VideoCapture for a device number or a video file; CameraError with a clear message."""
    _quiet_opencv()
    if isinstance(source, str):
        import os
        if not os.path.isfile(source):
            raise CameraError(f"video file not found: {source}")
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            raise CameraError(f"cannot open {source}: not a video OpenCV can decode")
    elif isinstance(source, int) and not isinstance(source, bool):
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            raise CameraError(f"camera {source} not found (is a camera connected, and is it free?)")
        # Live: keep only the newest frame, so a slow frame does not make the next ones stale.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    else:
        raise TypeError(f"expected a camera number or a video file path, got {type(source).__name__}")
    return cap


def frames(cap: cv2.VideoCapture, live: bool, sleep: Callable[[float], None] = time.sleep
           ) -> Iterable[tuple[bool, np.ndarray | None]]:
    """(ok, frame) from a capture. A video ends at its first failed read; a live camera is
    retried DISCONNECT_RETRIES times first. Yields (False, None) once when it is gone."""
    failures = 0
    while True:
        ok, frame = cap.read()
        if ok and frame is not None:
            failures = 0
            yield True, frame
            continue
        failures += 1
        if not live or failures > DISCONNECT_RETRIES:
            yield False, None
            return
        sleep(RETRY_SLEEP_S)


def run(source: int | str, session: CameraSession, emit: Callable[[CameraEvent], None], *,
        max_frames: int | None = None, err: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic) -> RunSummary:
    """Read frames from `source` until the video ends, the camera goes, or max_frames.

    emit() receives every event. A frame that raises is reported on `err` and skipped.
    """
    err = err or sys.stderr
    live = not isinstance(source, str)
    cap = open_capture(source)
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    fps = fps if 1.0 <= fps <= 1000.0 else DEFAULT_FPS
    summary = RunSummary()
    start = clock()
    consecutive_errors = 0
    numbers = []
    try:
        for ok, frame in frames(cap, live):
            if not ok:
                summary.ended = "camera disconnected" if live else "end of video"
                if live:
                    print(f"camera {source} disconnected after {summary.frames} frames", file=err)
                break
            index = summary.frames
            summary.frames += 1
            t = clock() - start if live else index / fps
            try:
                events = session.process(frame, index, t)
                consecutive_errors = 0
            except Exception as e:  # noqa: BLE001 - one bad frame must not end camera mode
                summary.errors += 1
                consecutive_errors += 1
                session.frame_failed(index, t)
                print(f"frame {index}: skipped ({type(e).__name__}: {e})", file=err)
                if consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                    summary.ended = f"{consecutive_errors} frames in a row failed"
                    print(f"stopping: {summary.ended}", file=err)
                    break
                continue
            for event in events:
                if event.event == "number":
                    numbers.append(event.digits)
                emit(event)
            if max_frames is not None and summary.frames >= max_frames:
                summary.ended = "frame limit"
                break
    finally:
        cap.release()
        summary.numbers = tuple(numbers)
    return summary
