"""The `edgedigits` command line, run as a subprocess on real photos."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from edgedigits import cli, tts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
# examples/README.md: file -> true digits
TRUTH = {"example-1.jpg": "4619999274", "example-2.jpg": "3980392330",
         "example-3.jpg": "7906690632", "example-4.jpg": "86690502762"}
JSON_FIELDS = {"file", "digits", "plus", "groups", "separators", "confidences", "uncertain", "doubtful_marks",
               "alternatives", "text", "reason", "ms"}


def run(*args, env=None, timeout=120, stdin=None):
    return subprocess.run([sys.executable, "-m", "edgedigits.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=ROOT, stdin=stdin)


def blank_photo(path, value=235):
    cv2.imwrite(str(path), np.full((480, 640, 3), value, np.uint8))
    return str(path)


def test_examples_listed_in_their_readme():
    with open(os.path.join(EXAMPLES, "README.md")) as f:
        readme = f.read()
    for name, digits in TRUTH.items():
        path = os.path.join(EXAMPLES, name)
        assert os.path.getsize(path) < 150_000
        assert f"| {name}" in readme and f"`{digits}`" in readme


def test_read_json_on_example_photos():
    paths = [os.path.join(EXAMPLES, name) for name in TRUTH]
    proc = run("read", "--json", *paths)
    assert proc.returncode in (0, 1), proc.stderr
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["file"] for o in objects] == paths
    right = 0
    for o in objects:
        assert set(o) == JSON_FIELDS
        assert "".join(o["groups"]) == o["digits"] and len(o["confidences"]) == len(o["digits"])
        assert len(o["separators"]) == (len(o["groups"]) + 1 if o["digits"] else 0)
        assert all(0 <= p < len(o["digits"]) for p in o["uncertain"])
        assert o["text"] and o["ms"] > 0
        right += o["digits"] == TRUTH[os.path.basename(o["file"])]
    # The examples were picked as clean photos: the reader must get (nearly) all of them.
    assert right >= len(TRUTH) - 1, objects
    assert proc.stderr == ""  # no progress bar: stderr is not a terminal here


def test_cli_reports_exactly_what_the_reader_read(tmp_path):
    from edgedigits import read_number, speech
    path = os.path.join(EXAMPLES, "example-2.jpg")
    proc = run("read", "--json", "--lang", "nl", path)
    o = json.loads(proc.stdout)
    r = read_number(path)
    assert o["digits"] == r.digits and o["groups"] == list(r.groups)
    assert o["uncertain"] == list(r.uncertain)
    assert o["confidences"] == [round(c, 4) for c in r.confidences]
    assert o["text"] == speech.speech_text(r, "nl")
    assert proc.returncode == (0 if r.digits else 1)


def test_plain_output():
    proc = run("read", os.path.join(EXAMPLES, "example-3.jpg"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("790 669 0632    Seven nine zero, six six nine, zero six three two.")


def test_region_changes_only_uncertain_digits():
    path = os.path.join(EXAMPLES, "example-3.jpg")
    plain = json.loads(run("read", "--json", path).stdout)
    us = json.loads(run("read", "--json", "--region", "US", path).stdout)
    changed = [i for i, (a, b) in enumerate(zip(plain["digits"], us["digits"])) if a != b]
    assert len(us["digits"]) == len(plain["digits"])
    assert set(changed) <= set(plain["uncertain"])
    from edgedigits import phone
    valid = phone.is_valid(us["digits"], "US")
    # 790 is no US area code: either an uncertain digit made it valid, or the user is told
    assert valid or "not a valid number for United States" in us["text"]
    assert valid == bool(changed)


def test_nothing_read_exits_1_with_the_reason(tmp_path):
    proc = run("read", "--json", blank_photo(tmp_path / "blank.png"))
    assert proc.returncode == 1
    o = json.loads(proc.stdout)
    assert o["digits"] == "" and o["reason"] and o["text"]
    assert "I see no writing." == o["text"] or o["reason"] != "no writing found"


def test_bad_input_exits_2(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a photo at all")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path, words in ((str(tmp_path / "missing.jpg"), "file not found"), (str(empty), "empty file"),
                        (str(junk), "junk.jpg"), (str(tmp_path), "folder")):
        proc = run("read", "--json", path)
        assert proc.returncode == 2, (path, proc.stdout, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr
        assert set(json.loads(proc.stdout)) == JSON_FIELDS  # still one object per image
    # one bad image among good ones: every image is answered, the exit code says input was bad
    proc = run("read", os.path.join(EXAMPLES, "example-1.jpg"), str(junk))
    assert proc.returncode == 2 and len(proc.stdout.splitlines()) == 1


@pytest.mark.parametrize("args, words", [
    ((), "required"), (("read",), "IMAGE"), (("read", "x.jpg", "--lang", "klingon!"), "language"),
    (("read", "x.jpg", "--region", "XX"), "region"), (("camera", "--device", "-1"), "camera number"),
    (("camera", "--device", "0", "--video", "v.avi"), "not allowed"), (("frobnicate",), "invalid choice"),
    (("camera", "--max-frames", "0"), "frames >= 1"),
])
def test_bad_usage_exits_2(args, words):
    proc = run(*args)
    assert proc.returncode == 2 and words in proc.stderr


@pytest.mark.parametrize("command", [(), ("read",), ("camera",), ("info",)])
def test_help_everywhere(command):
    proc = run(*command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: edgedigits")
    assert "Exit codes" in proc.stdout or command == ("info",)


def test_main_returns_exit_codes_in_process(capsys):
    assert cli.main(["--help"]) == 0
    assert cli.main(["read"]) == 2
    capsys.readouterr()
    assert cli.main(["read", os.path.join(EXAMPLES, "example-1.jpg")]) == 0
    assert capsys.readouterr().out.startswith("46 19 99 92 74")


def test_console_script_installed():
    exe = shutil.which("edgedigits")
    if exe is None:
        pytest.skip("the edgedigits console script is not on PATH (pip install -e . installs it)")
    proc = subprocess.run([exe, "info"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "sha256" in proc.stdout


def test_info_names_the_model_and_its_checksum():
    from edgedigits import default_model_path
    with open(default_model_path(), "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    proc = run("info")
    assert proc.returncode == 0 and sha in proc.stdout and "784" in proc.stdout
    info = json.loads(run("info", "--json").stdout)
    assert info["sha256"] == sha and info["layer_sizes"][0] == 784 and info["layer_sizes"][-1] in (10, 19)
    assert info["parameters"] == sum(a * b + b for a, b in zip(info["layer_sizes"], info["layer_sizes"][1:]))
    # what `read` uses by default: the shipped ensemble, named
    from edgedigits.ensemble import SHIPPED_ENSEMBLE
    assert info["reader_ensemble"] == list(SHIPPED_ENSEMBLE)
    assert "reader_ensemble" not in json.loads(run("info", "--json", "--model", "logreg").stdout)
    proc = run("info", "--model", "/nonexistent.edm")
    assert proc.returncode == 2 and "model file not found" in proc.stderr


def test_info_counts_a_convolutions_kernels_once():
    from edgedigits.modelfile import unpack_model
    info = json.loads(run("info", "--json", "--model", "default-3").stdout)
    with open(info["path"], "rb") as f:
        stored = sum(q.weights.size + q.bias.size for q in unpack_model(f.read())[0])
    assert info["layers"][0]["conv"] == [24, 5, 2] and info["parameters"] == stored
    assert "24 kernels 5x5 at stride 2" in run("info", "--model", "default-3").stdout


def test_info_names_the_input_transform():
    out = run("info", "--model", "default-4").stdout
    assert "input:       deskew" in out
    assert "input:" not in run("info", "--model", "default-2").stdout
    assert json.loads(run("info", "--json", "--model", "default-4").stdout)["meta"]["input"] == "deskew"


def test_info_names_a_max_pooled_convolution(tmp_path):
    import numpy as np
    from edgedigits.modelfile import write_model_file
    from edgedigits.quantize import quantize_mlp
    rng = np.random.default_rng(0)
    layers = [(rng.normal(0, 0.3, (6, 25)), np.zeros(6)), (rng.normal(0, 0.1, (10, 6 * 12 * 12)), np.zeros(10))]
    path = tmp_path / "pooled.edm"
    write_model_file(path, quantize_mlp(layers, {"name": "pooled"}, conv=(6, 5, 1, 2)))
    info = json.loads(run("info", "--json", "--model", str(path)).stdout)
    assert info["layers"][0]["conv"] == [6, 5, 1, 2] and info["parameters"] == 6 * 26 + 864 * 10 + 10
    assert "6 kernels 5x5 at stride 1, max-pool 2x2" in run("info", "--model", str(path)).stdout


@pytest.mark.skipif(tts.espeak_path() is None, reason="espeak-ng is not installed (Debian package espeak-ng)")
def test_wav_written(tmp_path):
    wav = tmp_path / "n.wav"
    proc = run("read", os.path.join(EXAMPLES, "example-1.jpg"), "--wav", str(wav), "--lang", "nl")
    assert proc.returncode == 0, proc.stderr
    assert 3.0 < tts.wav_duration(wav) < 30.0


def test_speak_without_espeak_prints_and_warns(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # an empty folder: no espeak-ng anywhere
    proc = run("read", "--speak", os.path.join(EXAMPLES, "example-1.jpg"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("46 19 99 92 74") and "Four six, one nine" in proc.stdout
    assert proc.stderr.strip().splitlines() == [tts.missing_warning()]


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal():
    term, pipe = FakeTerminal(), io.StringIO()
    for stream in (term, pipe):
        bar = cli.Progress(3, stream)
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            bar.step(name)
        bar.close()
    assert "[" + "#" * cli.PROGRESS_WIDTH + "] 3/3" in term.getvalue()
    assert pipe.getvalue() == ""
    single = FakeTerminal()
    cli.Progress(1, single).step("a.jpg")
    assert single.getvalue() == ""  # one image is quick: no bar


# ------------------------------------------------------------------ read - (standard input)


def test_read_stdin_reads_the_same_digits_as_the_file():
    path = os.path.join(EXAMPLES, "example-1.jpg")
    from_file = run("read", "--json", path)
    with open(path, "rb") as f:
        from_stdin = run("read", "--json", "-", stdin=f)
    assert from_stdin.returncode == from_file.returncode == 0, from_stdin.stderr
    a, b = json.loads(from_file.stdout), json.loads(from_stdin.stdout)
    assert b["file"] == "-" and b["digits"] == a["digits"] == TRUTH["example-1.jpg"]
    assert {k: v for k, v in a.items() if k not in ("file", "ms")} == \
        {k: v for k, v in b.items() if k not in ("file", "ms")}
    # among files, named "-" as files are named by their path
    with open(path, "rb") as f:
        proc = run("read", os.path.join(EXAMPLES, "example-3.jpg"), "-", stdin=f)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].startswith("-: 46 19 99 92 74") and lines[0].endswith("zero six three two.")


def test_read_stdin_empty_or_not_an_image_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a photo at all")
    for source, words in ((subprocess.DEVNULL, "-: no image on standard input"),
                          (junk, "-: could not decode the bytes as an image")):
        if source is junk:
            with open(junk, "rb") as f:
                proc = run("read", "--json", "-", stdin=f)
        else:
            proc = run("read", "--json", "-", stdin=source)
        assert proc.returncode == 2, (proc.stdout, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr
        o = json.loads(proc.stdout)  # still one object for the image
        assert set(o) == JSON_FIELDS and o["file"] == "-" and o["digits"] == "" and words in o["reason"]


def test_read_stdin_is_bounded():
    ok, _ = cli.read_stdin(io.BytesIO(b"x" * 10), limit=10)
    assert ok == b"x" * 10
    data, problem = cli.read_stdin(io.BytesIO(b"x" * 11), limit=10)
    assert data is None and problem.startswith("-: more than 10 bytes on standard input")
    # the reader's own limit on encoded bytes, not a second one
    from edgedigits.pipeline.load import MAX_INPUT_BYTES
    big = io.BytesIO(b"\0" * (MAX_INPUT_BYTES + 2))
    data, problem = cli.read_stdin(big, limit=MAX_INPUT_BYTES)
    assert data is None and f"at most {MAX_INPUT_BYTES} bytes" in problem
    assert big.tell() == MAX_INPUT_BYTES + 1  # read no further than needed to tell


def test_read_stdin_only_once_and_not_from_a_terminal():
    path = os.path.join(EXAMPLES, "example-1.jpg")
    with open(path, "rb") as f:
        proc = run("read", "-", "-", stdin=f)
    assert proc.returncode == 2 and "only once" in proc.stderr and proc.stdout == ""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        proc = run("read", "-", stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2 and "standard input is a terminal" in proc.stderr


# ------------------------------------------------------------------------------ read --all


@pytest.fixture(scope="module")
def two_numbers(tmp_path_factory):
    """example-1 above example-3: one photo with two phone numbers, and what read_numbers
    reads on it."""
    top = cv2.imread(os.path.join(EXAMPLES, "example-1.jpg"))
    bottom = cv2.imread(os.path.join(EXAMPLES, "example-3.jpg"))
    path = str(tmp_path_factory.mktemp("all") / "two.jpg")
    cv2.imwrite(path, np.vstack([top, bottom]))
    from edgedigits import read_numbers
    found = read_numbers(path)
    assert len({r.digits for r in found}) >= 2, found  # the premise of the --all tests
    return path, found


def test_read_all_prints_every_number_top_to_bottom(two_numbers):
    path, found = two_numbers
    proc = run("read", "--all", path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(found)
    for k, (line, reading) in enumerate(zip(lines, found), 1):
        assert line.startswith(f"line {k}/{len(found)}: {' '.join(reading.groups)}    ")
    one = run("read", path)  # without --all: the most prominent number only
    assert len(one.stdout.splitlines()) == 1
    example = os.path.join(EXAMPLES, "example-2.jpg")
    many = run("read", "--all", path, example).stdout.splitlines()
    assert many[:-1] == [f"{path}: {line}" for line in lines]
    assert many[-1].startswith(f"{example}: line 1/1: ")


def test_read_all_json_one_object_per_image(two_numbers, tmp_path):
    path, found = two_numbers
    blank = blank_photo(tmp_path / "blank.png")
    with open(path, "rb") as f:
        proc = run("read", "--all", "--json", "-", blank, stdin=f)
    assert proc.returncode == 1, proc.stderr  # nothing read in one image
    page, empty = [json.loads(line) for line in proc.stdout.splitlines()]
    assert set(page) == set(empty) == {"file", "readings", "text", "reason", "ms"}
    assert page["file"] == "-" and page["reason"] is None
    assert [r["digits"] for r in page["readings"]] == [r.digits for r in found]
    for r in page["readings"]:
        assert set(r) == JSON_FIELDS - {"file", "ms"} and "".join(r["groups"]) == r["digits"]
    assert page["text"] == " ".join(r["text"] for r in page["readings"])
    # nothing read: no readings, the reason and its words, as `read` gives them
    plain = json.loads(run("read", "--json", blank).stdout)
    assert empty["readings"] == [] and empty["reason"] == plain["reason"] and empty["text"] == plain["text"]
    assert empty["reason"]


def test_read_all_nothing_read_prints_the_reason(tmp_path):
    blank = blank_photo(tmp_path / "blank.png")
    proc = run("read", "--all", blank)
    assert proc.returncode == 1
    assert proc.stdout == run("read", blank).stdout == "-    I see no writing.\n"


def test_read_all_speaks_every_number_in_order(two_numbers, tmp_path):
    path, found = two_numbers
    env = dict(os.environ, PATH=str(tmp_path))  # no espeak-ng: the speech is printed, with a warning
    proc = run("read", "--all", "--speak", path, env=env)
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == len(found)
    assert proc.stderr.strip().splitlines() == [tts.missing_warning()]
    if tts.espeak_path() is not None:
        one, both = tmp_path / "one.wav", tmp_path / "both.wav"
        run("read", "--wav", str(one), path)
        proc = run("read", "--all", "--wav", str(both), path)
        assert proc.returncode == 0, proc.stderr
        assert tts.wav_duration(both) > 1.5 * tts.wav_duration(one)
