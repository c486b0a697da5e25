"""The reader on what is not a phone photo: tight crops and scans of just the number.

Form fields, cheque amounts, envelopes: the number fills the image, an underline or the field's
box touches the digits, the paper is textured or squared, commas, dots and equals signs sit
between or after the digits, or there is a single digit. Each case is compared with the same
digits drawn plainly, so the test names the behaviour (not the model's accuracy).
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

import edgedigits
from edgedigits import read_number, read_numbers
from edgedigits.reading import REASON_TOO_FEW_DIGITS

import reader_drawing as rd


@pytest.fixture(scope="module")
def digits(mnist_test):
    images, labels = mnist_test
    model = edgedigits.load_model()
    return {k: rd.confident(images, labels, model, k, 2) for k in range(10)}


@pytest.fixture(scope="module")
def number(digits):
    """Five digits drawn plainly: (image, boxes, reading)."""
    items = [digits[k][0] for k in (4, 1, 7, 2, 9)]
    alpha, boxes = rd.draw_line(items, height=60, gap=0.3)
    img = rd.on_paper(alpha)
    r = read_number(img)
    assert len(r.digits) == 5
    return img, boxes, r


def _ink_box(boxes):
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1, y1


def test_tight_crop(number):
    img, boxes, plain = number
    x0, y0, x1, y1 = _ink_box(boxes)
    crop = img[y0 - 4:y1 + 4, x0 - 4:x1 + 4]
    r = read_number(crop)
    assert r.digits == plain.digits and r.reason == plain.reason  # not cut off


def test_underline_touching_digits(number):
    img, boxes, plain = number
    x0, y0, x1, y1 = _ink_box(boxes)
    under = img.copy()
    cv2.line(under, (x0 - 15, y1 - 2), (x1 + 15, y1 + 1), 25, 5)  # pen-thick, touching
    n, _, st, _ = cv2.connectedComponentsWithStats((under < 128).astype(np.uint8))
    assert n - 1 < 5, "the underline should join digits into one component"
    assert read_number(under).digits == plain.digits


def test_box_line_touching_digits(number):
    img, boxes, plain = number
    x0, y0, x1, y1 = _ink_box(boxes)
    boxed = img.copy()
    cv2.rectangle(boxed, (x0 - 5, y0 - 3), (x1 + 5, y1 + 2), 25, 4)  # a form field
    assert read_number(boxed).digits == plain.digits


@pytest.mark.parametrize("kind", ["texture", "squared", "dark paper"])
def test_textured_and_patterned_paper(number, kind):
    img, _, plain = number
    rng = np.random.default_rng(3)
    f = img.astype(np.float32)
    if kind == "texture":  # blotchy recycled paper plus grain
        low = rng.normal(0, 1, (img.shape[0] // 6, img.shape[1] // 6)).astype(np.float32)
        f += 18 * cv2.resize(low, (img.shape[1], img.shape[0])) + rng.normal(0, 5, img.shape)
    elif kind == "squared":  # 5 mm squared paper
        for y in range(0, img.shape[0], 25):
            cv2.line(f, (0, y), (img.shape[1], y), 190.0, 1)
        for x in range(0, img.shape[1], 25):
            cv2.line(f, (x, 0), (x, img.shape[0]), 190.0, 1)
    else:  # grey card
        f = f * 0.55
    r = read_number(np.clip(f, 0, 255).astype(np.uint8))
    assert r.digits == plain.digits


def test_commas_dots_and_equals(digits):
    d = [digits[k][0] for k in (3, 8, 0, 5, 6)]
    items = [d[0], d[1], ",", d[2], ".", d[3], d[4]]
    alpha, boxes = rd.draw_line(items, height=60, gap=0.25)
    # an equals sign after the amount: two short bars
    pad = np.zeros((alpha.shape[0], 90), np.float32)
    mid = alpha.shape[0] // 2
    cv2.line(pad, (15, mid - 8), (55, mid - 8), 1.0, 6)
    cv2.line(pad, (15, mid + 8), (55, mid + 8), 1.0, 6)
    img = rd.on_paper(np.hstack([alpha, pad]))
    plain = read_number(rd.on_paper(rd.draw_line(d, height=60, gap=0.25)[0]))
    r = read_number(img)
    assert r.digits == plain.digits and len(r.digits) == 5
    assert [len(g) for g in r.groups] == [2, 1, 2]


@pytest.mark.parametrize("k", range(10))
def test_single_isolated_digit(digits, k):
    img = rd.on_paper(rd.draw_line([digits[k][1]], height=64)[0])
    r = read_number(img)
    assert len(r.digits) == 1 and r.reason == REASON_TOO_FEW_DIGITS  # read, and said to be short
    assert r.digits == str(k)  # a lone 6 is not read upside down as a 9
    assert r.groups == (r.digits,)


def test_scan_as_uint16_and_bgra(number):
    img, _, plain = number
    assert read_number(img.astype(np.uint16) * 257).digits == plain.digits
    assert read_number(cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)).digits == plain.digits


def test_form_with_two_fields(digits):
    a, _ = rd.draw_line([digits[k][0] for k in (1, 2, 3)], height=50, gap=0.3)
    b, _ = rd.draw_line([digits[k][1] for k in (7, 8, 9, 0)], height=50, gap=0.3, seed=2)
    w = max(a.shape[1], b.shape[1])
    page = np.zeros((a.shape[0] + b.shape[0] + 30, w), np.float32)
    page[:a.shape[0], :a.shape[1]] = a
    page[a.shape[0] + 30:, :b.shape[1]] = b
    rs = read_numbers(rd.on_paper(page))
    assert [len(r.digits) for r in rs] == [3, 4]


def test_a_small_image_is_read_as_well_as_a_large_one(digits):
    """A 640x480 camera frame or a small photo is enlarged before reading (load.py,
    WORK_MAX_UPSCALE): the same page shrunk to 448 px wide, its digits 21 px tall, reads the
    same digits; read at its own size it lost them (the pixel-sized steps of binarisation and
    line finding were set at 1280 px)."""
    from edgedigits.pipeline.load import WORK_MAX_SIDE, WORK_MAX_UPSCALE, load
    items = [digits[k][i % 2] for i, k in enumerate((0, 6, 1, 2, 3, 4, 5, 6, 7, 8))]
    alpha, _ = rd.draw_line(items, height=60, gap=0.3)
    page = np.zeros((960, 1280), np.float32)
    page[400:400 + alpha.shape[0], 200:200 + alpha.shape[1]] = alpha
    img = rd.on_paper(page)
    full = read_number(img)
    assert len(full.digits) == 10 and full.reason is None
    small = cv2.resize(img, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    loaded = load(small)
    assert max(loaded.gray.shape) == round(max(small.shape) * WORK_MAX_UPSCALE) < WORK_MAX_SIDE
    assert loaded.scale == pytest.approx(1 / WORK_MAX_UPSCALE, rel=0.01)
    r = read_number(small)
    assert r.digits == full.digits and r.reason is None
    x, y, w, h = r.boxes[0]  # boxes in the small image's own pixels
    assert 0 < x < small.shape[1] and 0 < y < small.shape[0] and h < 0.35 * 80


def test_writing_too_small_is_judged_in_the_input_pixels(digits):
    """Enlarging does not make tiny writing readable: 8 px digits still say "move closer"."""
    from edgedigits.reading import REASON_TOO_SMALL
    items = [digits[k][0] for k in (0, 6, 1, 2, 3, 4, 5)]
    alpha, _ = rd.draw_line(items, height=60, gap=0.3)
    page = np.zeros((480, 1280), np.float32)
    page[200:200 + alpha.shape[0], 200:200 + alpha.shape[1]] = alpha
    tiny = cv2.resize(rd.on_paper(page), None, fx=8 / 60, fy=8 / 60, interpolation=cv2.INTER_AREA)
    assert read_number(tiny).reason == REASON_TOO_SMALL
