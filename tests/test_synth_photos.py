"""tools/synth_photos.py: labelled photos of handwritten phone numbers from MNIST digits."""
from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

import reader_drawing  # noqa: F401  (puts tools/ on the path)
import synth_photos


@pytest.fixture(autouse=True)
def _needs_mnist(mnist_test):
    """Every test here draws MNIST digits: skip with the fixture's reason when absent."""


def test_same_seed_same_photos_other_seed_other_photos():
    a = list(synth_photos.make_photos(3, seed=4))
    b = list(synth_photos.make_photos(3, seed=4))
    c = list(synth_photos.make_photos(3, seed=5))
    assert [p.jpeg for p in a] == [p.jpeg for p in b]
    assert [p.digits for p in a] == [p.digits for p in b]
    assert [p.jpeg for p in a] != [p.jpeg for p in c]


@pytest.mark.parametrize("hard", [False, True])
def test_photos_are_consistent_labelled_phone_numbers(hard, mnist_test):
    images, labels = mnist_test
    for ph in synth_photos.make_photos(12, seed=8, hard=hard):
        assert ph.image.shape == (synth_photos.PHOTO_H, synth_photos.PHOTO_W, 3)
        assert ph.image.dtype == np.uint8
        assert 7 <= len(ph.digits) <= 13
        assert ph.digits == "".join(c for c in ph.text if c.isdigit())
        assert set(ph.text) <= set("0123456789-./() +")
        assert len(ph.boxes) == len(ph.mnist_index) == len(ph.digits)
        # each digit is the test digit it says it is
        assert [int(labels[i]) for i in ph.mnist_index] == [int(c) for c in ph.digits]
        xs = [b[0] for b in ph.boxes]
        assert xs == sorted(xs)
        for x, y, w, h in ph.boxes:
            assert 0 <= x and x + w <= ph.image.shape[1] and 0 <= y and y + h <= ph.image.shape[0]
            # ink in the box: darker than the page around it
            assert ph.image[y:y + h, x:x + w].min() < np.median(ph.image) - 40
        decoded = cv2.imdecode(np.frombuffer(ph.jpeg, np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(decoded, ph.image)


def test_formats_cover_separators_and_lengths():
    counts = [sum(c == "d" for c in f) for f in synth_photos.FORMATS]
    assert min(counts) == 7 and max(counts) == 13
    joined = "".join(synth_photos.FORMATS)
    for sep in "-./() +":
        assert sep in joined


def test_hard_mode_writes_smaller():
    normal = [np.median([b[3] for b in p.boxes]) for p in synth_photos.make_photos(12, seed=3)]
    hard = [np.median([b[3] for b in p.boxes])
            for p in synth_photos.make_photos(12, seed=3, hard=True)]
    assert np.median(hard) < np.median(normal)


def test_train_split_draws_training_digits(mnist_train):
    images, labels = mnist_train
    ph = next(synth_photos.make_photos(1, seed=2, split="train"))
    assert [int(labels[i]) for i in ph.mnist_index] == [int(c) for c in ph.digits]
    assert max(ph.mnist_index) < len(labels)


def test_cli_writes_jpegs_and_labels(tmp_path):
    assert synth_photos.main(["--out", str(tmp_path), "--n", "3", "--seed", "1"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "labels.csv")))
    assert [r["file"] for r in rows] == ["00000.jpg", "00001.jpg", "00002.jpg"]
    first = next(synth_photos.make_photos(1, seed=1))
    assert (tmp_path / "00000.jpg").read_bytes() == first.jpeg
    assert rows[0]["digits"] == first.digits
    assert [tuple(b) for b in json.loads(rows[0]["boxes"])] == first.boxes
