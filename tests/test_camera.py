"""Camera mode: frame quality, digit-by-digit voting, rate-limited guidance, the capture loop.

The voting and guidance tests feed real Readings (built here) to the real voting code; the
end-to-end tests run camera mode on a generated video with the real reader.
"""
import io
import json
import os
from dataclasses import replace
import subprocess
import sys

import cv2
import numpy as np
import pytest

from edgedigits import camera, speech
from edgedigits.reading import (REASON_CUT_RIGHT, REASON_TOO_FEW_DIGITS, REASON_NO_WRITING, REASON_TOO_BLURRY, REASON_TOO_DARK,
                                REASON_TOO_SMALL, REASON_MARK_MAY_BE_DIGIT, REASON_WORD_LEFT_OUT, Reading)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")


def reading(digits, conf=0.99, groups=None, boxes=None, alternatives=None, reason=None):
    confs = tuple(conf.get(i, 0.99) if isinstance(conf, dict) else conf for i in range(len(digits)))
    return Reading(digits=digits, groups=tuple(groups or (digits,)), confidences=confs,
                   uncertain=tuple(i for i, c in enumerate(confs) if c < 0.9),
                   alternatives=alternatives or {}, boxes=tuple(boxes or ()), reason=reason)


# ---------------------------------------------------------------- frame quality


def page(h=480, w=640, value=200):
    return np.full((h, w), value, np.uint8)


def written(img, blur=0.0):
    img = img.copy()
    cv2.putText(img, "0612345678", (60, 260), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 30, 5, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (0, 0), blur) if blur else img


def test_frame_quality_problems():
    assert camera.assess_frame(page()).problem == REASON_NO_WRITING
    assert camera.assess_frame(written(page())).problem is None
    assert camera.assess_frame(written(page(), blur=4.0)).problem == REASON_TOO_BLURRY
    assert camera.assess_frame(written(page(value=30))).problem == REASON_TOO_DARK
    assert camera.assess_frame(page(value=255)).problem == "too bright"


def test_shadow_edge_on_blank_page_is_not_writing():
    img = page()
    img[240:] = 120  # a hard shadow across an empty page
    assert camera.assess_frame(cv2.GaussianBlur(img, (0, 0), 3)).problem == REASON_NO_WRITING


def test_frame_types():
    bgr = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    assert camera.assess_frame(bgr).problem is None
    assert camera.assess_frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)).problem is None
    assert camera.assess_frame(written(page()).astype(np.uint16) * 257).problem is None
    with pytest.raises(ValueError, match="frame"):
        camera.assess_frame(np.zeros((0, 0), np.uint8))
    with pytest.raises(ValueError, match="uint8 or uint16"):
        camera.assess_frame(np.zeros((10, 10), np.float32))


def test_reading_problems_from_boxes():
    shape = (480, 640, 3)
    ok = reading("0612", boxes=[(100 + 40 * i, 200, 30, 45) for i in range(4)])
    assert camera.reading_problem(ok, shape) is None
    right = reading("0612", boxes=[(510 + 33 * i, 200, 31, 45) for i in range(4)])
    assert camera.reading_problem(right, shape) == REASON_CUT_RIGHT
    tiny = reading("0612", boxes=[(100 + 12 * i, 200, 9, 12) for i in range(4)])
    assert camera.reading_problem(tiny, shape) == REASON_TOO_SMALL
    assert camera.reading_problem(Reading.empty(REASON_TOO_BLURRY), shape) == REASON_TOO_BLURRY


# ---------------------------------------------------------------- voting


def test_needs_several_agreeing_frames():
    voter = camera.DigitVoter()
    for _ in range(camera.STABLE_FRAMES - 1):
        voter.add(reading("0612345678"))
        assert voter.consensus() is None
    voter.add(reading("0612345678"))
    assert voter.consensus().digits == "0612345678"


def test_votes_digit_by_digit():
    voter = camera.DigitVoter()
    # every frame has one misread digit, each in a different place: no frame is right alone
    for wrong in ("0612345670", "0612349678", "0613345678", "8612345678", "0612345678"):
        voter.add(reading(wrong, conf=0.8))
    assert voter.consensus() is None or voter.consensus().digits == "0612345678"
    voter.add(reading("0612345678", conf=0.8))
    voter.add(reading("0612345678", conf=0.8))
    voted = voter.consensus()
    assert voted.digits == "0612345678"
    # the flickering last digit is reported uncertain, with the misread as the alternative
    assert 9 in voted.uncertain and voted.alternatives[9][0][0] == "0"



def test_a_mark_that_may_be_a_digit_in_most_frames_is_said():
    voter = camera.DigitVoter()
    marked = replace(reading("062345897"), reason=REASON_MARK_MAY_BE_DIGIT, doubtful_marks=((4, "1"),))
    for r in (marked, reading("062345897"), marked, marked, marked):
        voter.add(r)
    voted = voter.consensus()
    assert voted.doubtful_marks == ((4, "1"),) and voted.reason == REASON_MARK_MAY_BE_DIGIT
    assert "The mark after the fourth digit may be a one." in speech.speech_text(voted)
    voter = camera.DigitVoter()  # in a minority of the frames: not said
    for r in (marked, reading("062345897"), marked, reading("062345897"), reading("062345897")):
        voter.add(r)
    assert voter.consensus().doubtful_marks == () and voter.consensus().reason is None


def test_what_is_said_with_the_number_is_announced_with_it_not_as_guidance():
    shape = (480, 640)
    box = ((200, 200, 30, 40),)
    word = replace(reading("0612345678", boxes=box * 10), reason=REASON_WORD_LEFT_OUT)
    assert camera.reading_problem(word, shape) is None  # not advice about the photo
    cut = replace(reading("0612345678", boxes=box * 10), reason=REASON_CUT_RIGHT)
    assert camera.reading_problem(cut, shape) == REASON_CUT_RIGHT
    voter = camera.DigitVoter()
    for r in (word, word, reading("0612345678"), word, word):
        voter.add(r)
    voted = voter.consensus()
    assert voted.digits == "0612345678" and voted.reason == REASON_WORD_LEFT_OUT
    assert "I left out writing before the number." in speech.speech_text(voted)
    # a session says it with the number, and never as guidance
    session = camera.CameraSession(lambda frame: word)
    frame = written(page())
    events = [e for i in range(8) for e in session.process(frame, i, i / 15)]
    assert [e.event for e in events] == ["number"]
    assert "I left out writing before the number." in events[0].text

def test_flicker_is_not_stable_and_length_majority_wins():
    voter = camera.DigitVoter()
    for d in ("0612345678", "0612345679") * 3:
        voter.add(reading(d))
    assert voter.consensus() is None  # last digit 50/50
    voter = camera.DigitVoter()
    for d in ("0612345678", "061234567", "0612345678", "0612345678", "0612345678"):
        voter.add(reading(d))
    assert voter.consensus().digits == "0612345678"


def test_no_announcement_while_the_length_flickers():
    # A thin "1" lost in some frames: 4 short readings against 3 full ones is no majority.
    voter = camera.DigitVoter()
    for d in ("0612345678", "062345678", "062345678", "062345678", "0612345678", "0612345678",
              "062345678"):
        voter.add(reading(d))
    assert voter.consensus() is None
    for _ in range(3):
        voter.add(reading("0612345678"))
    assert voter.consensus().digits == "0612345678"  # now 6 of 10


def test_empty_frames_age_readings_out():
    voter = camera.DigitVoter()
    for _ in range(camera.STABLE_FRAMES):
        voter.add(reading("0612345678"))
    for _ in range(camera.VOTE_WINDOW):
        voter.add(None)
    assert voter.consensus() is None


def test_groups_kept_from_the_writing():
    voter = camera.DigitVoter()
    for _ in range(camera.STABLE_FRAMES):
        voter.add(reading("0612345678", groups=("06", "1234", "5678")))
    assert voter.consensus().groups == ("06", "1234", "5678")


def test_a_written_plus_is_kept_through_the_vote():
    voter = camera.DigitVoter()
    for _ in range(camera.STABLE_FRAMES):
        voter.add(replace(reading("31612345678", groups=("31", "6", "12345678")), plus=True))
    assert voter.consensus().plus


def test_near():
    assert camera.near("0612345678", "0612345679")
    assert camera.near("0612345678", "061234567")
    assert not camera.near("0612345678", "0201234567")


# ---------------------------------------------------------------- guidance


def test_guidance_waits_for_a_persisting_problem_and_is_rate_limited():
    lim = camera.GuidanceLimiter(persist_frames=3, interval_s=2.0, repeat_s=5.0)
    said = [(t, lim.offer(REASON_NO_WRITING, t)) for t in np.arange(0, 12, 0.1)]
    times = [round(t, 1) for t, p in said if p]
    assert times == [0.2, 5.2, 10.2]  # after 3 frames, then once per repeat interval
    lim = camera.GuidanceLimiter(persist_frames=3, interval_s=2.0, repeat_s=5.0)
    assert [lim.offer(p, t) for t, p in enumerate([REASON_NO_WRITING, None, REASON_NO_WRITING, None])] == [None] * 4
    lim = camera.GuidanceLimiter(persist_frames=1, interval_s=2.0, repeat_s=5.0)
    assert lim.offer(REASON_NO_WRITING, 0.0) == REASON_NO_WRITING
    assert lim.offer(REASON_TOO_BLURRY, 1.0) is None  # another problem, but too soon
    assert lim.offer(REASON_TOO_BLURRY, 2.0) == REASON_TOO_BLURRY


# ---------------------------------------------------------------- session over real Readings


class Script:
    """A reader that returns prepared Readings in order (the frames are real arrays)."""

    def __init__(self, readings):
        self.readings = list(readings)

    def __call__(self, frame):
        return self.readings.pop(0)


def test_session_announces_once_and_never_repeats():
    frame = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    boxes = [(80 + 45 * i, 200, 35, 50) for i in range(10)]
    good = reading("0612345678", groups=("06", "1234", "5678"), boxes=boxes)
    session = camera.CameraSession(Script([good] * 30), lang="nl")
    events = [e for i in range(30) for e in session.process(frame, i, i / 15)]
    numbers = [e for e in events if e.event == "number"]
    assert len(numbers) == 1 and numbers[0].digits == "0612345678"
    assert numbers[0].frame == camera.STABLE_FRAMES - 1
    assert numbers[0].text.startswith("Nul zes, één twee drie vier")
    assert json.loads(json.dumps(numbers[0].to_json())) == {
        "event": "number", "digits": "0612345678", "text": numbers[0].text, "frame": 3}


def test_session_guides_blank_frames_then_announces():
    blank = cv2.cvtColor(page(), cv2.COLOR_GRAY2BGR)
    frame = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    good = reading("2025550123", boxes=[(80 + 45 * i, 200, 35, 50) for i in range(10)])
    session = camera.CameraSession(Script([good] * 10), region="US")
    events = []
    for i in range(20):
        events += session.process(blank if i < 10 else frame, i, i / 15)
    kinds = [e.event for e in events]
    assert kinds == ["guidance", "number"]
    assert events[0].message == "I see no writing." and events[0].to_json()["event"] == "guidance"
    assert events[1].text.startswith("Two zero two, five five five, zero one two three")


def test_cut_off_readings_do_not_vote():
    frame = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    cut = reading("06123", boxes=[(480 + 32 * i, 200, 30, 45) for i in range(5)])
    session = camera.CameraSession(Script([cut] * 12))
    events = [e for i in range(12) for e in session.process(frame, i, i / 15)]
    assert [e.event for e in events] == ["guidance"]
    assert events[0].message == "The number is cut off on the right."


def test_readings_too_short_for_a_phone_number_do_not_vote():
    frame = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    part = reading("06123", boxes=[(80 + 45 * i, 200, 35, 50) for i in range(5)],
                   reason=REASON_TOO_FEW_DIGITS)
    session = camera.CameraSession(Script([part] * 12))
    events = [e for i in range(12) for e in session.process(frame, i, i / 15)]
    assert [e.event for e in events] == ["guidance"]
    assert events[0].message == "I read fewer digits than a phone number has."


# ---------------------------------------------------------------- the capture loop


def write_video(path, frames, fps=15.0):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, frames[0].shape[1::-1])
    for f in frames:
        w.write(f)
    w.release()


def test_run_survives_a_frame_that_raises_and_ends_at_video_end(tmp_path):
    frame = cv2.cvtColor(written(page()), cv2.COLOR_GRAY2BGR)
    path = tmp_path / "v.avi"
    write_video(path, [frame] * 12)
    good = reading("0612345678", boxes=[(80 + 45 * i, 200, 35, 50) for i in range(10)])
    calls = {"n": 0}

    def flaky(img):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("sensor glitch")
        return good

    err = io.StringIO()
    events = []
    summary = camera.run(str(path), camera.CameraSession(flaky), events.append, err=err)
    assert summary.frames == 12 and summary.errors == 1 and summary.ended == "end of video"
    assert "frame 1: skipped (RuntimeError: sensor glitch)" in err.getvalue()
    assert [e.digits for e in events if e.event == "number"] == ["0612345678"]


def test_missing_camera_and_bad_video(tmp_path):
    with pytest.raises(camera.CameraError, match="video file not found"):
        camera.open_capture(str(tmp_path / "none.avi"))
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"this is not a video")
    with pytest.raises(camera.CameraError, match="not a video"):
        camera.open_capture(str(junk))
    with pytest.raises(camera.CameraError, match="camera 97 not found"):
        camera.open_capture(97)


class Unplugged:
    """A capture whose camera is pulled out after `n` frames."""

    def __init__(self, n, frame):
        self.n, self.frame = n, frame

    def read(self):
        if self.n <= 0:
            return False, None
        self.n -= 1
        return True, self.frame


def test_live_camera_disconnect_is_retried_then_reported():
    sleeps = []
    got = list(camera.frames(Unplugged(3, np.zeros((4, 4), np.uint8)), live=True, sleep=sleeps.append))
    assert [ok for ok, _ in got] == [True, True, True, False]
    assert len(sleeps) == camera.DISCONNECT_RETRIES


# ---------------------------------------------------------------- end to end, real reader


def _synth_video_module():
    sys.path.insert(0, TOOLS)
    try:
        import synth_video as sv
    finally:
        sys.path.remove(TOOLS)
    return sv


@pytest.fixture(scope="module")
def synth_video(tmp_path_factory, request):
    request.getfixturevalue("mnist_test")  # skips with a reason where MNIST is absent
    return _synth_video_module().write_video(str(tmp_path_factory.mktemp("video") / "cam.avi"), seed=0)


def _camera_events(path):
    proc = subprocess.run([sys.executable, "-m", "edgedigits.cli", "camera", "--video", path,
                           "--json"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def test_camera_mode_on_generated_video(synth_video):
    events, stderr = _camera_events(synth_video.path)
    numbers = [e for e in events if e["event"] == "number"]
    assert len(numbers) == 1, events
    number = numbers[0]
    assert number["digits"] == synth_video.digits == "0612345678"
    assert number["text"].startswith("Zero six, one two three four, five six seven eight.")
    assert set(number) == {"event", "digits", "text", "frame"}
    # announced during the steady part, after guidance for the blank page and the blurred approach
    assert synth_video.first_steady_frame <= number["frame"] < synth_video.frames
    guidance = [e for e in events if e["event"] == "guidance"]
    assert guidance and all(set(g) == {"event", "message", "frame"} for g in guidance)
    assert guidance[0]["frame"] < number["frame"]
    said = [g["message"] for g in guidance if g["frame"] < number["frame"]]
    assert "I see no writing." in said and "Hold the phone steady." in said
    assert "end of video" in stderr


@pytest.fixture(scope="module")
def note_video(tmp_path_factory, request):
    request.getfixturevalue("mnist_test")
    return _synth_video_module().write_video(str(tmp_path_factory.mktemp("video") / "note.avi"),
                                             seed=3, renderer="note")


@pytest.fixture(scope="module")
def note_video_events(note_video):
    return _camera_events(note_video.path)[0]


def test_camera_mode_on_a_video_of_the_second_renderers_note(note_video, note_video_events):
    """A video filmed from tools/note_photos.py (a note on a table, written and lit by the
    independently written renderer, with a number of its own): announced once, right, in the
    steady part. Its single frames read right (the camera benchmark's --renderer note), so the
    vote must carry the number through the jitter and noise of the frames."""
    assert note_video.renderer == "note" and len(note_video.digits) == 11
    numbers = [e for e in note_video_events if e["event"] == "number"]
    assert [n["digits"] for n in numbers] == [note_video.digits], note_video_events
    assert note_video.first_steady_frame <= numbers[0]["frame"] < note_video.frames


def test_camera_benchmark_counts_what_camera_mode_says(note_video, note_video_events):
    """tools/bench_camera.py's row for a video is what `edgedigits camera` said on it: the
    number, in the same frame, and "a digit to check" exactly when the spoken text names one
    ("the sixth digit may be ...", "... is unclear, maybe ...")."""
    sys.path.insert(0, TOOLS)
    try:
        import bench_camera
    finally:
        sys.path.remove(TOOLS)
    import edgedigits
    row = bench_camera.run_one(note_video.path, note_video, edgedigits.read_number)
    number = next(e for e in note_video_events if e["event"] == "number")
    assert row["digits"] == number["digits"] and row["right"] and row["numbers"] == 1
    assert row["frames"] == number["frame"] - note_video.first_steady_frame
    names_a_digit = " digit may be " in number["text"] or " digit is unclear" in number["text"]
    assert row["doubted"] == names_a_digit


def test_generated_video_films_the_renderer_asked_for(request):
    """synth_video's renderer: the second renderer's video is of that renderer's photo (its
    digits, the note's number), in 640x480 frames; an unknown renderer is refused."""
    request.getfixturevalue("mnist_test")
    sv = _synth_video_module()
    sys.path.insert(0, TOOLS)
    try:
        import note_photos
    finally:
        sys.path.remove(TOOLS)
    frames, digits, first = sv.make_frames(seed=5, renderer="note", split="valid")
    assert digits == next(note_photos.make_photos(1, seed=5, split="valid")).digits
    assert digits != sv.make_frames(seed=5)[1] == "0612345678"
    assert first == sv.BLANK_FRAMES + sv.APPROACH_FRAMES and len(frames) == first + sv.STEADY_FRAMES
    assert all(f.shape == (sv.FRAME_H, sv.FRAME_W, 3) and f.dtype == np.uint8 for f in frames)
    with pytest.raises(ValueError, match="renderer"):
        sv.make_frames(seed=5, renderer="fonts")


def test_camera_cli_errors(tmp_path):
    def cam(*args):
        return subprocess.run([sys.executable, "-m", "edgedigits.cli", "camera", *args],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    proc = cam("--video", str(tmp_path / "missing.avi"))
    assert proc.returncode == 2 and "video file not found" in proc.stderr
    proc = cam("--device", "97")
    assert proc.returncode == 2 and "camera 97 not found" in proc.stderr and "Traceback" not in proc.stderr


def test_generated_video_writing_size_follows_line_fill(request):
    """synth_video's line_fill (the camera benchmark's --line-fill): the number held farther
    away fills less of the frame."""
    request.getfixturevalue("mnist_test")
    sv = _synth_video_module()
    widths = {}
    for fill in (0.7, 0.35):
        frames, digits, first = sv.make_frames(seed=1, line_fill=fill)
        gray = cv2.cvtColor(frames[-1], cv2.COLOR_BGR2GRAY)
        ink = gray < 0.6 * np.median(gray)
        cols = np.flatnonzero(ink[:, 20:-20].sum(0) >= 2)
        widths[fill] = (cols[-1] - cols[0]) / gray.shape[1]
    assert widths[0.7] == pytest.approx(0.7, abs=0.1)
    assert widths[0.35] == pytest.approx(0.35, abs=0.08)
    with pytest.raises(ValueError, match="line_fill"):
        sv.make_frames(seed=1, line_fill=0.0)
