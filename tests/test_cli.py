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
JSON_FIELDS = {"file", "digits", "groups", "confidences", "uncertain", "alternatives", "text", "reason", "ms"}


def run(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "edgedigits.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=ROOT)


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
