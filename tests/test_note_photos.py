"""tools/note_photos.py, the second (independently written) synthetic photo renderer: arguments,
determinism, ground truth, the MNIST split the digits come from, fonts, labels and rotation.

A handful of photos each (about 0.2 s a photo). Tests that need MNIST skip where
EDGEDIGITS_DATA is absent; those that need the fonts cache (tools/fetch_fonts.py) skip without it.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location(
        "note_photos", os.path.join(ROOT, "tools", "note_photos.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def _digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@pytest.mark.parametrize("kwargs, expected", [
    ({"n": -1}, "n must be an integer >= 0"),
    ({"n": 1.5}, "n must be an integer >= 0"),
    ({"n": 1, "source": "photos"}, "source must be one of mnist, fonts"),
    ({"n": 1, "split": "dev"}, "split must be one of test, valid, train"),
    ({"n": 1, "label": 1.5}, r"label must be a probability in \[0, 1\]"),
    ({"n": 1, "label": "yes"}, r"label must be a probability in \[0, 1\]"),
])
def test_bad_arguments_raise_value_error_naming_what_was_expected(tool, kwargs, expected):
    with pytest.raises(ValueError, match=expected):
        tool.make_photos(**kwargs)  # checked at the call, before any photo is drawn


def test_missing_mnist_folder_is_a_clear_error(tool, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("EDGEDIGITS_DATA", raising=False)
    with pytest.raises(ValueError, match="EDGEDIGITS_DATA"):
        tool.make_photos(1)
    assert tool.main(["--out", str(tmp_path / "out"), "--n", "1"]) == 2
    assert "EDGEDIGITS_DATA" in capsys.readouterr().err


def test_cli_rejects_bad_arguments(tool, tmp_path):
    for argv in (["--source", "photos"], ["--split", "dev"], ["--n", "-2"], ["--label", "2"]):
        with pytest.raises(SystemExit) as exc:
            tool.main(["--out", str(tmp_path)] + argv)
        assert exc.value.code == 2


def test_same_seed_gives_identical_jpeg_bytes(tool, mnist_dir):
    a = [p.jpeg for p in tool.make_photos(2, seed=11)]
    b = [p.jpeg for p in tool.make_photos(2, seed=11)]
    assert a == b
    assert [p.jpeg for p in tool.make_photos(1, seed=12)][0] != a[0]
    assert list(tool.make_photos(0, seed=11)) == []


def test_ground_truth_matches_the_written_text(tool, mnist_test):
    images, labels = mnist_test
    for ph in tool.make_photos(4, seed=3):
        assert ph.digits == _digits_of(ph.text)
        assert 7 <= len(ph.digits) <= 13
        assert set(ph.text) <= set("0123456789 -./()+")
        assert len(ph.boxes) == len(ph.digits)
        img = cv2.imdecode(np.frombuffer(ph.jpeg, np.uint8), cv2.IMREAD_COLOR)
        h, w = img.shape[:2]
        assert (w, h) in ((1280, 960), (960, 1280))
        assert ph.meta["frame"] == [w, h]
        for x, y, bw, bh in ph.boxes:  # the whole number is in the photo
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0
        # the test split: indices into the 10,000 test digits, each of the digit written
        idx = ph.meta["mnist_index"]
        assert ph.meta["source"] == "mnist" and ph.meta["split"] == "test"
        assert len(idx) == len(ph.digits)
        assert all(0 <= i < 10_000 for i in idx)
        assert "".join(str(int(labels[i])) for i in idx) == ph.digits


def test_valid_split_uses_only_training_images_50000_to_59999(tool, mnist_train):
    images, labels = mnist_train
    for ph in tool.make_photos(2, seed=5, split="valid"):
        idx = ph.meta["mnist_index"]
        assert ph.meta["split"] == "valid" and len(idx) == len(ph.digits)
        assert all(50_000 <= i < 60_000 for i in idx)
        assert "".join(str(int(labels[i])) for i in idx) == ph.digits


def test_cli_writes_photos_and_labels(tool, mnist_dir, tmp_path):
    out = tmp_path / "photos"
    assert tool.main(["--out", str(out), "--n", "2", "--seed", "4"]) == 0
    with open(out / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["file"] for r in rows] == ["00000.jpg", "00001.jpg"]
    expected = list(tool.make_photos(2, seed=4))
    for r, ph in zip(rows, expected):
        assert (out / r["file"]).read_bytes() == ph.jpeg
        assert r["digits"] == ph.digits == _digits_of(r["text"])
        assert [tuple(b) for b in json.loads(r["boxes"])] == ph.boxes


def test_label_word_is_recorded(tool, mnist_dir):
    ok, _ = tool.fonts_available()
    for ph in tool.make_photos(3, seed=8, label=True):
        if ok:
            assert ph.label in tool.LABEL_WORDS
            assert ph.meta["label_position"] in ("before", "above")
            assert ph.meta["label_font"] in _families("train")
        else:  # no fonts cache: the label is left out and the photo says why
            assert ph.label == "" and "fetch_fonts" in ph.meta["label_skipped"]
        assert ph.digits == _digits_of(ph.text)  # the label is not part of the number
    assert all(ph.label == "" and ph.meta["label_position"] == ""
               for ph in tool.make_photos(2, seed=8, label=0.0))


def _families(split: str) -> list[str]:
    from training import fonts
    return fonts.families(split)


def test_fonts_source_uses_held_out_families_only(tool):
    ok, why = tool.fonts_available()
    if not ok:
        pytest.skip(f"fonts cache absent: {why}")
    held = set(_families("heldout"))
    for ph in tool.make_photos(2, seed=6, source="fonts"):
        assert ph.meta["font_family"] in held
        assert ph.meta["mnist_index"] == [] and ph.meta["split"] is None
        assert ph.digits == _digits_of(ph.text) and len(ph.boxes) == len(ph.digits)


def test_fonts_source_without_cache_names_the_fetch_command(tool, monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEDIGITS_FONTS", str(tmp_path / "no-fonts-here"))
    with pytest.raises(tool.FontsUnavailable, match="fetch_fonts.py"):
        tool.make_photos(1, source="fonts")


def test_any_rotation_goes_beyond_15_degrees(tool, mnist_dir):
    upright = [ph.meta["rotation"] for ph in tool.make_photos(3, seed=2)]
    assert all(abs(r) <= 20 for r in upright)  # +-15 in plane, a little more from perspective
    turned = [ph.meta["rotation"] for s in (1, 2, 3) for ph in tool.make_photos(2, seed=s, any_rotation=True)]
    assert any(abs(r) > 15 for r in turned)


def test_notes_on_dark_and_grained_tables_are_dark_writing(tool, mnist_dir):
    """Polarity on the reader's working image of real scenes: a bright note on a dark or
    grained table is dark writing (its edges are wider than a stroke), and the negative of
    the photo is light writing for most of them (a texture can leave it undecided, which
    reads as dark writing). Of these 24 photos, 3 were taken for light writing by a local
    median alone (photos 1, 9 and 20: a note on a light table in shadow, on wood, on wood);
    16 of their negatives are light writing to both tests."""
    from edgedigits.pipeline import binarize, load
    from edgedigits.reader import DETECT_MAX_SIDE
    upright, negative = [], []
    for ph in tool.make_photos(24, seed=31, split="valid"):
        g = load.load(ph.jpeg).gray
        f = max(g.shape) / DETECT_MAX_SIDE
        det = cv2.resize(g, (round(g.shape[1] / f), round(g.shape[0] / f)),
                         interpolation=cv2.INTER_AREA)
        upright.append(binarize.is_light_on_dark(det))
        negative.append(binarize.is_light_on_dark(255 - det))
    assert not any(upright)
    assert sum(negative) >= 15
