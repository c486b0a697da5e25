"""The photo reader: each stage on small crafted images, bad input, and end to end on photos.

Crafted images use real MNIST test digits redrawn as pen strokes (tests/reader_drawing.py).
Where the answer depends on the model (the shipped default may be a placeholder), a test
compares the reader with itself: e.g. two digits touching must read as the same two digits
drawn apart.
"""
from __future__ import annotations

import os

import cv2
from dataclasses import replace

import numpy as np
import pytest

import edgedigits
from edgedigits import Reading, read_number, read_numbers, reader
from edgedigits.pipeline import binarize, lines, load, normalize, paper
from edgedigits.pipeline.load import ImageError
from edgedigits.reading import (
    REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_NO_DIGITS, REASON_NO_WRITING, REASON_TOO_DARK,
    REASON_TOO_FEW_DIGITS, REASON_TOO_MANY_DIGITS, REASON_WORD_LEFT_OUT, REASONS, UNCERTAIN_BELOW,
    Reading,
)

import reader_drawing as rd


@pytest.fixture(scope="module")
def model():
    return edgedigits.load_model()


@pytest.fixture(scope="module")
def pick(mnist_test, model):
    images, labels = mnist_test

    def _pick(digit: int, k: int = 1):
        return rd.confident(images, labels, model, digit, k)
    return _pick


# ---- stage 1: load -------------------------------------------------------------------------

def test_load_bounds_huge_jpeg_by_reduced_decode():
    big = np.full((6000, 8000), 200, np.uint8)
    cv2.putText(big, "5", (3000, 4000), cv2.FONT_HERSHEY_SIMPLEX, 60, 20, 120)
    ok, enc = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    loaded = load.load(enc.tobytes())
    assert max(loaded.gray.shape) <= load.WORK_MAX_SIDE
    assert loaded.input_shape == (6000, 8000)
    assert loaded.scale == pytest.approx(8000 / loaded.gray.shape[1])
    assert load._peek_size(enc.tobytes()) == (8000, 6000)


def test_percentiles_from_histogram_equal_numpys():
    rng = np.random.default_rng(7)
    for _ in range(300):
        h, w = rng.integers(1, 50, 2)
        img = (rng.random((h, w)) ** rng.uniform(0.2, 5) * 255).astype(np.uint8)
        qs = (0, 1, 99, 100, float(rng.uniform(0, 100)))
        assert load.percentiles_u8(img, qs) == tuple(np.percentile(img, qs))
    assert load.percentiles_u8(np.full((1, 1), 9, np.uint8), (1, 99)) == (9.0, 9.0)


def test_load_bounds_huge_arrays_and_accepts_all_layouts():
    gray = np.full((5000, 7000), 180, np.uint8)
    loaded = load.load(gray)
    assert max(loaded.gray.shape) <= load.WORK_MAX_SIDE
    small = np.full((60, 80), 180, np.uint8)
    small[20:40, 30:50] = 20
    ref = load.load(small).gray
    bgr = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    bgra = cv2.cvtColor(small, cv2.COLOR_GRAY2BGRA)
    for img in (bgr, bgra, small[..., None], small.astype(np.uint16) * 257, small / 255.0):
        np.testing.assert_allclose(load.load(img).gray.astype(int), ref.astype(int), atol=1)


@pytest.mark.parametrize("bad, err", [
    (b"", ImageError), (b"not an image at all" * 10, ImageError),
    (np.zeros((0, 5), np.uint8), ImageError), (np.zeros((4, 4, 2), np.uint8), ImageError),
    (np.zeros((4, 4), np.int64), ImageError), (np.zeros((4, 4), bool), ImageError),
    (np.full((8, 8), np.nan), ImageError), (np.full((8, 8), 2.0), ImageError),
    (np.zeros((2, 2, 2, 2), np.uint8), ImageError),
    ([[1, 2], [3, 4]], TypeError), (42, TypeError), (None, TypeError),
])
def test_bad_input_raises_clear_errors(bad, err):
    with pytest.raises(err) as exc:
        read_number(bad)
    assert "expected" in str(exc.value)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(ImageError, match="cannot read"):
        read_number(str(tmp_path / "missing.jpg"))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.raises(ImageError, match="bad.jpg"):
        read_number(bad)
    ok = tmp_path / "blank.png"
    cv2.imwrite(str(ok), np.full((50, 50), 230, np.uint8))
    assert read_number(ok).reason == REASON_NO_WRITING


@pytest.mark.parametrize("img, reason", [
    (np.zeros((1, 1), np.uint8), None),
    (np.zeros((480, 640), np.uint8), REASON_TOO_DARK),
    (np.full((480, 640), 255, np.uint8), None),
    (np.full((480, 640, 3), 200, np.uint8), REASON_NO_WRITING),
])
def test_degenerate_images_give_empty_reading_with_reason(img, reason):
    r = read_number(img)
    assert isinstance(r, Reading) and not r and r.digits == ""
    assert r.reason in REASONS
    if reason:
        assert r.reason == reason
    assert read_numbers(img) == []


def test_blank_noisy_page_reads_nothing():
    rng = np.random.default_rng(1)
    page = np.clip(rng.normal(200, 4, (600, 800)), 0, 255).astype(np.uint8)
    page = (page * np.linspace(0.6, 1.0, 800)[None, :]).astype(np.uint8)  # a lighting gradient
    r = read_number(page)
    assert r.digits == "" and r.reason == REASON_NO_WRITING


# ---- stage 2: binarize ---------------------------------------------------------------------

def test_ruled_lines_removed_digits_kept(pick):
    alpha, boxes = rd.draw_line([pick(3)[0], pick(4)[0], pick(7)[0]], height=60, gap=0.4)
    page = rd.on_paper(alpha)
    h, w = page.shape
    canvas = np.full((h, w + 400), 235, np.uint8)
    canvas[:, 200:200 + w] = page
    for y in range(10, h, 37):  # faint blue-grey rules across the page, through the digits
        cv2.line(canvas, (0, y), (canvas.shape[1], y + 3), 170, 2)
    b = binarize.binarize(canvas)
    n, lab, st, _ = cv2.connectedComponentsWithStats(b.mask, connectivity=8)
    # no component is a rule: none spans more than a digit-ish width
    assert st[1:, cv2.CC_STAT_WIDTH].max() < 100
    assert len(b.rules) >= 2
    plain = binarize.binarize(np.pad(page, ((0, 0), (200, 200)), constant_values=235))
    # the digits' ink survives (rejoined where the rules crossed them)
    assert b.mask.sum() >= 0.85 * plain.mask.sum()
    assert read_number(canvas).digits == read_number(
        np.pad(page, ((0, 0), (200, 200)), constant_values=235)).digits


def test_no_rule_found_on_a_page_without_lines():
    # OpenCV 5.0 returns None when the Hough transform finds nothing, 5.1 an empty array
    from edgedigits.pipeline.binarize import _horizontal_rules, _rule_tilt
    blank = np.zeros((60, 300), np.uint8)
    assert _rule_tilt(blank, 100) == 0.0
    assert len(_horizontal_rules(blank, 40, 5, 100, 0.3)) == 0


def test_erase_rules_keeps_a_stroke_lying_along_the_rule():
    # Erasing at the line's working scale allows rules up to 6 px thick; this rule is 2 px, and
    # the 5 px pen stroke that runs along it (a dash, the bar of a 5 or 7) is not a rule.
    mask = np.zeros((60, 400), np.uint8)
    mask[30:32, :] = 1                          # the rule
    mask[28:33, 150:200] = 1                    # a stroke along it
    mask[10:50, 300:305] = 1                    # a stroke across it
    out = binarize.erase_rules(mask, np.array([[0, 30, 399, 30]]), 6)
    assert out[30:32, :140].sum() == 0 and out[30:32, 210:290].sum() == 0  # rule gone
    assert out[28:33, 150:200].all()            # the stroke along it kept whole
    assert out[10:50, 300:305].all()            # the stroke across it kept whole


@pytest.mark.parametrize("slope", [0.1, -0.2, 0.27])
def test_tilted_ruled_lines_removed(pick, slope):
    # A page photographed at a tilt: its rules run at 6-15 degrees, too steep to make the long
    # horizontal runs of thin ink that a level rule makes.
    alpha, _ = rd.draw_line([pick(3)[0], pick(4)[0], pick(7)[0]], height=60, gap=0.4)
    page = rd.on_paper(alpha)
    h, w = page.shape
    canvas = np.full((h + 300, w + 500), 235, np.uint8)
    canvas[150:150 + h, 250:250 + w] = page
    W = canvas.shape[1]
    for y in range(-400, canvas.shape[0] + 400, 40):
        cv2.line(canvas, (0, y), (W, int(y + slope * W)), 170, 2)
    b = binarize.binarize(canvas)
    assert len(b.rules) >= 3
    found = (b.rules[:, 3] - b.rules[:, 1]) / np.maximum(b.rules[:, 2] - b.rules[:, 0], 1)
    assert np.all(np.abs(found - slope) < 0.03), found
    _, _, st, _ = cv2.connectedComponentsWithStats(b.mask, connectivity=8)
    # no rule left near the writing (a stub in a far corner may stay): only digit-sized marks
    near = (st[1:, cv2.CC_STAT_TOP] < 150 + h + 100) & \
        (st[1:, cv2.CC_STAT_TOP] + st[1:, cv2.CC_STAT_HEIGHT] > 150 - 100)
    assert st[1:, cv2.CC_STAT_WIDTH][near].max() < 100
    plain = np.full_like(canvas, 235)
    plain[150:150 + h, 250:250 + w] = page
    assert read_number(canvas).digits == read_number(plain).digits


def test_shadow_and_gradient_normalised(pick):
    alpha, _ = rd.draw_line([pick(2)[0], pick(5)[0], pick(8)[0], pick(0)[0]], height=60)
    page = rd.on_paper(alpha).astype(np.float32)
    h, w = page.shape
    light = np.ones_like(page)
    light[:, w // 2:] = 0.45  # a hard cast shadow over half the number
    light *= np.linspace(1.0, 0.7, h)[:, None]
    shaded = np.clip(page * light, 0, 255).astype(np.uint8)
    assert read_number(shaded).digits == read_number(page.astype(np.uint8)).digits
    assert len(read_number(shaded).digits) == 4


def test_light_on_dark_reads_like_dark_on_light(pick):
    alpha, _ = rd.draw_line([pick(6)[0], pick(1)[0], pick(9)[0]], height=56)
    page = rd.on_paper(alpha)
    assert binarize.is_light_on_dark(255 - page) and not binarize.is_light_on_dark(page)
    assert read_number(255 - page).digits == read_number(page).digits != ""


def _note_on_stripes(pick, digits, seed=0):
    """A white note with a number on it, lying on a cloth of slanted dark and light stripes."""
    alpha, _ = rd.draw_line([pick(d)[0] for d in digits], height=40, gap=0.3, seed=seed)
    h, w = 600, 800
    yy, xx = np.mgrid[0:h, 0:w]
    cloth = np.where(((xx + 0.6 * yy) // 7) % 2 == 0, 50.0, 170.0).astype(np.float32)
    page = cloth.copy()
    y0, x0, nh, nw = 170, 120, 240, alpha.shape[1] + 120
    page[y0:y0 + nh, x0:x0 + nw] = rd.PAPER
    note = page[y0 + 90:y0 + 90 + alpha.shape[0], x0 + 60:x0 + 60 + alpha.shape[1]]
    note[:] = rd.on_paper(alpha).astype(np.float32)
    return np.clip(cv2.GaussianBlur(page, (0, 0), 0.8), 0, 255).astype(np.uint8), (y0, x0, nh, nw)


def test_note_on_a_striped_cloth_is_read_on_the_note_alone(pick):
    """The cloth's stripes make marks and lines of their own, taller and more prominent than
    the number; the note (the largest smooth region) is read alone, and read right."""
    digits = (0, 6, 5, 8, 8, 4, 1, 4, 6)
    img, (y0, x0, nh, nw) = _note_on_stripes(pick, digits)
    assert read_number(img).digits == "".join(map(str, digits))
    paper_mask = paper.find_paper(cv2.resize(img, (640, 480), interpolation=cv2.INTER_AREA))
    assert paper_mask is not None
    ys, xs = np.nonzero(paper_mask)
    f = 640 / 800
    assert abs(ys.min() - y0 * f) < 12 and abs(xs.max() - (x0 + nw) * f) < 12


def test_a_cloth_making_one_line_of_the_frame_does_not_hide_the_number(pick):
    """Read as a whole photo (not the note alone), the cloth's stripes make one line of the
    whole frame, hundreds of times as prominent as the number; the number's line is still read."""
    digits = (0, 6, 5, 8, 8, 4, 1, 4, 6)
    img, _ = _note_on_stripes(pick, digits)
    page, _ = reader._analyse(img)
    h, w = page.det.shape[:2]
    assert page.lines[0].box == (0, 0, w, h) and page.lines[0].score > 100 * page.lines[1].score
    _, r, _ = reader._best_line(page, reader.default_model())
    assert r.digits == "".join(map(str, digits))


def test_a_whole_reading_beats_a_surer_one_that_is_not(pick):
    """A turn read first ("111" from a table's stripes read sideways: sure, but no number)
    gives way to a whole number read another way round with as much evidence (digits net of
    twice the unsure ones), not to one with less; a whole reading gives way to more only."""
    alpha, _ = rd.draw_line([pick(d)[0] for d in (3, 1, 4, 1, 5, 9, 2)], height=40, gap=0.3)
    page, _ = reader._analyse(rd.on_paper(alpha))
    model = reader.default_model()
    _, r, _ = reader._best_line(page, model)
    net = len(r.digits) - 2 * len(reader._unsure(r))
    assert r.digits == "3141592"
    for prior_net, replaced in ((net, True), (net + 1, False)):
        not_whole = (prior_net, Reading("111", ("111",), (1.0, 1.0, 1.0)), None, False)
        best = reader._better(not_whole, page, model)[0]
        assert (best[1].digits == "3141592" and best[3]) == replaced
    whole = (net, Reading("1111111", ("1111111",), (1.0,) * 7), None, True)
    assert reader._better(whole, page, model)[0] is whole


def test_a_note_on_a_table_smooth_in_places_is_found_by_its_lightness():
    """Soft wood grain is smooth between its streaks and joins the note into one smooth region
    of most of the photo; the note is still found, as the smooth region lighter than the table."""
    rng = np.random.default_rng(0)
    h, w = 480, 640
    table = np.full((h, w), 105.0, np.float32)
    for _ in range(25):
        y = int(rng.integers(0, h))
        cv2.line(table, (0, y), (w, y + int(rng.integers(-60, 60))), 80.0, 2)
    table = cv2.GaussianBlur(table, (0, 0), 1.0)
    y0, x0, nh, nw = 150, 180, 170, 300
    table[y0:y0 + nh, x0:x0 + nw] = rd.PAPER
    note = paper.find_paper(np.clip(table, 0, 255).astype(np.uint8))
    assert note is not None
    ys, xs = np.nonzero(note)
    assert abs(ys.min() - y0) < 12 and abs(ys.max() - (y0 + nh)) < 12
    assert abs(xs.min() - x0) < 12 and abs(xs.max() - (x0 + nw)) < 12


def _note_edge_beside(pick, digits, gap: float):
    """A number on a light note lying on a table of wide dark and light bands (wood grain), the
    note's right edge `gap` line heights after the last digit."""
    alpha, boxes = rd.draw_line([pick(d)[0] for d in digits], height=60, gap=0.3, margin=80)
    edge = boxes[-1][0] + boxes[-1][2] + int(gap * 60)
    h, w = alpha.shape[0] + 200, alpha.shape[1] + 300
    rows = np.sin(2 * np.pi * np.arange(h) / 120.0) > 0
    canvas = np.where(rows[:, None], 150.0, 60.0) * np.ones((1, w), np.float32)
    canvas[100:100 + alpha.shape[0], :edge] = rd.on_paper(alpha)[:, :edge]
    return np.clip(cv2.GaussianBlur(canvas, (0, 0), 1.0), 0, 255).astype(np.uint8), edge


@pytest.mark.parametrize("gap", [0.15, 0.25, 0.35, 0.45])
def test_the_edge_of_the_note_beside_the_number_is_not_a_digit(pick, gap):
    """The note's edge against a darker table is a step in brightness, not a stroke. With the
    paper estimated coarsely only, the table just past the edge is a band of ink that the
    table's bands cut into digit-sized marks (read as a 5); estimated at full size too
    (reader.EDGE_STROKE_MAX), the table past the edge is no ink."""
    img, edge = _note_edge_beside(pick, (0, 6, 5, 8, 4, 2, 7), gap)
    ink, _ = binarize.ink_contrast(img[:, edge - 60:edge + 60], stroke_max=18)
    assert ink[10:-10, 62:].max() < binarize.MIN_INK_CONTRAST
    assert ink[:, :58].max() > 200  # the 7's strokes are still ink
    assert read_number(img).digits == "0658427"


def test_no_paper_on_a_page_that_fills_the_photo(pick):
    alpha, _ = rd.draw_line([pick(d)[0] for d in (3, 1, 4, 1, 5, 9, 2)], height=40, gap=0.3)
    page = np.full((480, 640), rd.PAPER, np.float32)
    page[200:200 + alpha.shape[0], 60:60 + alpha.shape[1]] = rd.on_paper(alpha)
    assert paper.find_paper(page.astype(np.uint8)) is None


def test_what_is_read_does_not_move_with_the_doubt_told():
    """The word before the number is judged on the digits' probabilities, not on which of them
    the reading flags (UNCERTAIN_BELOW, re-chosen by its own rule)."""
    word = _reading(("744", "06", "12345678"), (0, 1, 2), other=0.6, gap_after=3)
    assert reader._word_left_out(word).digits == "0612345678"
    for flagged in ((), (0,), tuple(range(13))):
        assert reader._word_left_out(replace(word, uncertain=flagged)).digits == "0612345678"
        real = replace(_reading(("06", "12345678"), (0,)), uncertain=flagged)
        assert reader._word_left_out(real) is real


def test_thick_writing_filling_a_large_photo_is_dark_writing(pick):
    """A close-up of dark writing in a thick pen: at detection size its strokes are wider than
    the top-hat's kernel and the paper between them is thin and light; the local median still
    sees dark writing, and both must agree for light writing. Thin light writing is still light."""
    digits = [pick(d)[0] for d in (0, 6, 1, 2, 4, 7)]
    thick, _ = rd.draw_line(digits, height=300, gap=0.3, pen=2.0)
    assert not binarize.is_light_on_dark(rd.on_paper(thick))
    thin, _ = rd.draw_line(digits, height=300, gap=0.3)
    assert binarize.is_light_on_dark(255 - rd.on_paper(thin))


# ---- stage 3: lines ------------------------------------------------------------------------

def _stacked(top: np.ndarray, bottom: np.ndarray, gap: int) -> np.ndarray:
    """Two drawn lines (ink alpha) one above the other on paper, 10 px from the top and 20 px
    from the left, `gap` px apart."""
    h = 10 + top.shape[0] + gap + bottom.shape[0] + 30
    page = np.zeros((h, max(top.shape[1], bottom.shape[1]) + 40), np.float32)
    page[10:10 + top.shape[0], 20:20 + top.shape[1]] = top
    y = 10 + top.shape[0] + gap
    page[y:y + bottom.shape[0], 20:20 + bottom.shape[1]] = bottom
    return rd.on_paper(page)


def test_most_prominent_line_and_all_lines_top_to_bottom(pick):
    big, _ = rd.draw_line([pick(d)[0] for d in (4, 0, 7, 1, 2)], height=64, gap=0.35)
    small, _ = rd.draw_line([pick(d)[0] for d in (8, 3, 9)], height=26, gap=0.35, seed=3)
    img = _stacked(small, big, gap=20)
    r = read_number(img)
    assert len(r.digits) == 5
    rs = read_numbers(img)
    assert [len(x.digits) for x in rs] == [3, 5]
    assert rs[0].boxes[0][1] < rs[1].boxes[0][1]
    assert rs[1].digits == r.digits


def test_digit_glyphs_are_those_of_the_line_read(pick):
    """tools/cut_patches.py labels the glyphs digit_glyphs gives: they must be the glyphs of the
    line read_number reads (a whole 8-digit number), not of the most prominent line (a bigger
    word-length line of 3 digits above it)."""
    big, _ = rd.draw_line([pick(d)[0] for d in (5, 0, 2)], height=70, gap=0.35)
    number = (0, 6, 4, 1, 2, 7, 9, 3)
    small, _ = rd.draw_line([pick(d)[0] for d in number], height=40, gap=0.35, seed=3)
    img = _stacked(big, small, gap=30)
    r = read_number(img)
    assert r.digits == "".join(map(str, number))
    glyphs = reader.digit_glyphs(img)
    assert tuple(b for b, _ in glyphs) == r.boxes
    assert all(p.shape == (28, 28) and p.dtype == np.uint8 for _, p in glyphs)


def test_find_lines_groups_by_rows():
    # stats rows: background, then two rows of three 20x30 marks, the lower one bigger
    st = [[0, 0, 500, 300, 0]]
    st += [[50 + 30 * i, 40, 20, 30, 300] for i in range(3)]
    st += [[50 + 45 * i, 150, 35, 50, 900] for i in range(3)]
    found = lines.find_lines(np.array(st), (300, 500))
    assert [len(ln.members) for ln in found] == [3, 3]
    assert found[0].box[1] == 150  # the bigger writing is the most prominent


def test_line_broken_by_a_tilt_is_joined():
    # eight 20x30 marks climbing 15 px per 30 px; one step of 17 px overlaps only 43% (< 45%)
    ys = [0, 15, 30, 45, 62, 77, 92, 107]
    st = [[0, 0, 400, 300, 0]] + [[20 + 30 * i, 20 + y, 20, 30, 300] for i, y in enumerate(ys)]
    st += [[300, 20, 10, 12, 60], [315, 20, 10, 12, 60]]  # small writing up to the right
    found = lines.find_lines(np.array(st), (300, 400))
    assert len(found[0].members) == 8
    assert sorted(found[0].members) == list(range(1, 9))
    # without the join the tilt breaks it in two
    saved = lines.JOIN_MAX_GAP
    try:
        lines.JOIN_MAX_GAP = -1.0
        assert len(lines.find_lines(np.array(st), (300, 400))[0].members) < 8
    finally:
        lines.JOIN_MAX_GAP = saved



def test_line_gap_bridged_by_a_small_mark_is_joined():
    # three 30x50 marks, 130 px of paper to the next three (more than JOIN_MAX_GAP heights),
    # but a broken 5's small piece 85 px after the first three: it starts the second line, and
    # the ink gap (85 px) joins the two (validation photo seed 555 #316 lost "5262" this way)
    st = [[0, 0, 500, 300, 0]] + [[50 + 35 * i, 40, 30, 50, 900] for i in range(3)]
    st += [[280 + 35 * i, 40, 30, 50, 900] for i in range(3)]
    found = lines.find_lines(np.array(st), (300, 500))
    assert [len(ln.members) for ln in found] == [3, 3]  # without the piece: two lines
    st.append([235, 60, 20, 20, 150])
    found = lines.find_lines(np.array(st), (300, 500))
    assert sorted(found[0].members) == list(range(1, 8))


def test_line_whose_groups_step_down_is_joined():
    # "384-587-524" with the first group written level and the rest sloping down from 0.6
    # heights lower (too little vertical overlap to link): the second group's slope carried
    # back misses the first's last mark by 0.36 H, joined as JOIN_MAX_DY = 0.5 allows
    # (validation photo, hard seed 445 #119, had lost "384"); 0.56 H is another line
    def marks(y_second):
        st = [[0, 0, 600, 300, 0]] + [[50 + 40 * i, 40, 30, 50, 900] for i in range(3)]
        return np.array(st + [[210 + 40 * i, y_second + 6 * i, 30, 50, 900] for i in range(3)])
    assert sorted(lines.find_lines(marks(70), (300, 600))[0].members) == list(range(1, 7))
    assert len(lines.find_lines(marks(80), (300, 600))[0].members) == 3

def test_a_big_mark_does_not_swallow_a_row_of_smaller_writing():
    # a page edge or a streak of the table 190 px tall beside a row of six 20x30 marks whose
    # centres lie in its band: the row is writing at another scale, a line of its own (a note
    # photo on a wooden table lost "74 16 55" into the page's torn edge this way)
    st = [[0, 0, 640, 480, 0], [400, 150, 14, 190, 900]]
    st += [[150 + 35 * i, 300, 20, 30, 250] for i in range(6)]
    found = lines.find_lines(np.array(st), (480, 640))
    row = [ln for ln in found if 2 in ln.members]
    assert sorted(row[0].members) == list(range(2, 8))
    # a dash or a dot in that band still belongs to the big line's (no row of its own)
    st = st[:2] + [[380, 250, 12, 6, 60]]
    assert sorted(lines.find_lines(np.array(st), (480, 640))[0].members) == [1, 2]


def test_the_phone_number_beats_a_more_prominent_short_line(pick):
    # a house number written large above a phone number written smaller: the classifier's
    # reading of the candidate lines, not prominence alone, chooses the phone number
    big = rd.draw_line([pick(1)[0], pick(2)[0]], height=120)[0]
    number = [pick(d)[0] for d in (0, 6, 4, 7, 0, 3, 5, 8)]
    small = rd.draw_line(number, height=50)[0]
    page = np.zeros((big.shape[0] + small.shape[0] + 80, max(big.shape[1], small.shape[1]) + 40))
    page[20:20 + big.shape[0], 20:20 + big.shape[1]] = big
    page[60 + big.shape[0]:60 + big.shape[0] + small.shape[0], 20:20 + small.shape[1]] = small
    r = read_number(rd.on_paper(page))
    assert r.digits == "06470358"
    assert r.reason is None


def test_the_number_is_read_below_seven_more_prominent_lines(pick):
    # seven rows of three large marks (a table's grain, printed headings) rank above the
    # number by prominence: the number, eighth, is still among the lines read (CANDIDATE_LINES)
    rows = [rd.draw_line([pick(d)[0] for d in (k % 10, (k + 3) % 10, (k + 6) % 10)],
                         height=110, gap=0.5, margin=10)[0] for k in range(7)]
    number = rd.draw_line([pick(d)[0] for d in (0, 6, 4, 7, 0, 3, 5, 8)], height=40)[0]
    width = max(a.shape[1] for a in rows + [number]) + 40
    page = np.zeros((sum(a.shape[0] for a in rows + [number]) + 40, width), np.float32)
    y = 20
    for a in rows + [number]:
        page[y:y + a.shape[0], 20:20 + a.shape[1]] = a
        y += a.shape[0]
    found = reader._analyse(rd.on_paper(page))[0].lines
    assert sum(len(ln.members) == 3 for ln in found[:7]) == 7  # the rows rank first
    r = read_number(rd.on_paper(page))
    assert r.digits == "06470358"
    assert r.reason is None


# ---- stage 4: segment ----------------------------------------------------------------------

def test_touching_digits_are_split(pick):
    items = [pick(4)[0], pick(7)[0], pick(0)[0], pick(3)[0]]
    apart = read_number(rd.on_paper(rd.draw_line(items, height=64, gap=0.35)[0]))
    touching = read_number(rd.on_paper(rd.draw_line(items, height=64, gap=-0.06)[0]))
    assert len(apart.digits) == 4
    assert touching.digits == apart.digits


def test_split_pieces_are_chosen_in_one_view_and_kept_ones_read_in_all(pick, monkeypatch):
    """The lattice scores the pieces of a split in their own view (segment.PIECE_VIEWS, a
    fifth of the work); the pieces it keeps are then read in all of classify.TTA_SHIFTS, so
    what is said of a digit cut from its neighbour rests on as many views as a whole glyph's."""
    from edgedigits.pipeline import classify, segment
    items = [pick(4)[0], pick(7)[0], pick(0)[0], pick(3)[0]]
    apart = read_number(rd.on_paper(rd.draw_line(items, height=64, gap=0.35)[0])).digits
    touching = rd.on_paper(rd.draw_line(items, height=64, gap=-0.06)[0])
    calls, glyphs = [], []
    real_classify, real_segment = segment.classify_with_other, segment.segment_line

    def spy(patches, model, shifts=classify.TTA_SHIFTS):
        calls.append(len(shifts))
        return real_classify(patches, model, shifts)

    def cut(*a, **k):
        out = real_segment(*a, **k)
        glyphs.extend(out)
        return out

    monkeypatch.setattr(segment, "classify_with_other", spy)
    monkeypatch.setattr(reader, "segment_line", cut)
    assert read_number(touching).digits == apart
    # per line: every glyph whole in all views; the split pieces in one; the kept ones in all
    assert 1 in calls and calls[calls.index(1) + 1] == len(classify.TTA_SHIFTS)
    digits = [g for g in glyphs if g.kind == "digit"]
    again, _ = real_classify(np.stack([g.patch for g in digits]), reader.default_model())
    assert np.allclose(np.stack([g.logp for g in digits]), again)


def test_overlapping_digits_are_split_whatever_ink_the_cut_crosses(mnist_test, monkeypatch):
    """A 1 drawn over a 9's side (or a 0 over a 4's): no cut parts them through one stroke.
    The cost of the ink cut is capped (CUT_INK_MAX), so the two sure pieces beat the unsure
    union; uncapped, the union (read as a 4 or an 8, a 1) wins. Read at the size drawn (64 px
    digits; enlarged, the uncapped union loses too)."""
    from edgedigits.pipeline import load, segment
    monkeypatch.setattr(load, "WORK_MAX_UPSCALE", 1.0)
    # the cap was chosen with the MNIST recipe's model (default-5), which is unsure of the union;
    # the many-hands default alone reads a union of 1 and 9 as an 8 with or without the cap
    # (the reader's ensemble reads "19" either way)
    model = edgedigits.load_model("default-5")
    images, labels = mnist_test

    def pick(digit):
        return rd.confident(images, labels, model, digit, 1)[0]
    cases = [([pick(1), pick(9)], "19", -0.15), ([pick(0), pick(4)], "04", -0.15)]
    saved = segment.CUT_INK_MAX
    try:
        for items, digits, gap in cases:
            img = rd.on_paper(rd.draw_line(items, height=64, gap=gap)[0])
            segment.CUT_INK_MAX = saved
            assert read_number(img, model=model).digits == digits
            segment.CUT_INK_MAX = 99.0
            assert read_number(img, model=model).digits != digits
    finally:
        segment.CUT_INK_MAX = saved
    assert segment._cut_cost(10.0, 2.0) == pytest.approx(saved)
    assert segment._cut_cost(2.5, 2.0) == pytest.approx(0.25 * segment.CUT_INK_PENALTY)
    assert segment._cut_cost(1.0, 2.0) == 0.0


def test_broken_five_is_merged(pick):
    five = pick(5)[0].copy()
    rows = np.flatnonzero((five > 30).sum(1))
    # cut the top bar off the body: clear two rows just under the bar
    top = rows[0]
    five[top + 4:top + 6] = 0
    alpha, _ = rd.draw_line([pick(2)[0], five, pick(1)[0]], height=70, gap=0.4)
    n, _, st, _ = cv2.connectedComponentsWithStats((alpha > 0.4).astype(np.uint8))
    assert n - 1 >= 4, "the 5 should be drawn in two pieces"
    r = read_number(rd.on_paper(alpha))
    assert len(r.digits) == 3
    # the middle digit's box spans the bar and the body: as tall as its neighbours
    assert r.boxes[1][3] >= 0.8 * r.boxes[0][3]


def test_broken_zero_halves_are_merged(pick):
    zero = pick(0)[0].copy()
    cols = np.flatnonzero((zero > 30).any(0))
    mid = (cols[0] + cols[-1]) // 2
    zero[:, mid - 1:mid + 1] = 0  # cut the 0 at top and bottom: "(" and ")"
    items = [pick(3)[0], zero, pick(7)[0]]
    alpha, _ = rd.draw_line(items, height=70, gap=0.4)
    n, _, _, _ = cv2.connectedComponentsWithStats((alpha > 0.4).astype(np.uint8))
    assert n - 1 == 4, "the 0 should be drawn in two pieces"
    r = read_number(rd.on_paper(alpha))
    whole = read_number(rd.on_paper(rd.draw_line([pick(3)[0], pick(0)[0], pick(7)[0]],
                                                 height=70, gap=0.4)[0]))
    assert len(r.digits) == 3 and r.digits == whole.digits


def test_digit_broken_in_two_side_by_side_is_joined(pick):
    from edgedigits.pipeline import segment
    four = pick(4)[0].copy()
    cols = np.flatnonzero((four > 30).any(0))
    mid = (cols[0] + cols[-1]) // 2
    four[:, mid:mid + 1] = 0  # a 4 cut top to bottom: two tall pieces a pen's gap apart
    alpha, _ = rd.draw_line([pick(3)[0], four, pick(7)[0]], height=70, gap=0.4)
    n, _, _, _ = cv2.connectedComponentsWithStats((alpha > 0.4).astype(np.uint8))
    assert n - 1 == 4, "the 4 should be drawn in two pieces"
    image = rd.on_paper(alpha)
    assert read_number(image).digits == "347"
    saved = segment.JOIN_MAX_GAP
    try:
        segment.JOIN_MAX_GAP = -1e9  # no pair is a join candidate: the pieces read apart
        assert len(read_number(image).digits) > 3
    finally:
        segment.JOIN_MAX_GAP = saved


def test_five_with_its_bar_drawn_off_to_the_right_is_merged(pick):
    five = pick(5)[0].copy()
    rows = np.flatnonzero((five > 30).sum(1))
    top = rows[0]
    bar = five[top:top + 4].copy()
    five[top:top + 6] = 0
    five[top:top + 4] = np.roll(bar, 4, axis=1)  # the bar pulled right, off the body
    alpha, _ = rd.draw_line([pick(2)[0], five, pick(1)[0]], height=70, gap=0.45)
    r = read_number(rd.on_paper(alpha))
    assert len(r.digits) == 3
    assert r.boxes[1][3] >= 0.8 * r.boxes[0][3]


def test_brackets_pair_up_or_are_digits():
    from edgedigits.pipeline.segment import _paired_brackets
    assert _paired_brackets(["(", "digit", "digit", ")", "digit"]) == {0, 3}
    assert _paired_brackets([")", "digit", "digit"]) == set()    # a ")" opening the line
    assert _paired_brackets(["digit", "(", "digit"]) == set()    # a "(" never closed
    assert _paired_brackets(["(", ")", "digit"]) == set()        # nothing between: a broken 0
    # "(849(1)": the "(" just before ")" is a curved 1; the ")" closes the first "("
    assert _paired_brackets(["(", "digit", "digit", "digit", "(", ")"]) == {0, 5}


def test_two_tall_ones_round_a_group_are_brackets():
    """1s drawn as gentle arcs: a 1 opening a group and a 1 a few digits later, closing the group
    or touching the next digit, both TALL_PAIR_H taller than the line's other digits, are
    brackets; not when they are as tall as the digits, not inside a group, not round more than
    PAREN_PAIR_MAX_INSIDE digits, and not because the digits between are small ("1061 7799930"
    with a small 0)."""
    from edgedigits.pipeline.segment import PAREN_PAIR_MAX_INSIDE, TALL_PAIR_H, Glyph, _tall_pairs
    H = 40.0

    def line(spec, tall=TALL_PAIR_H + 0.05, small=()):
        """spec: digits, with ' ' for a group's gap; the 1s at the ends of a group are tall,
        the digits at the positions `small` two thirds of the others' height."""
        out, x = [], 0
        for k, c in enumerate(spec):
            if c == " ":
                x += int(H)
                continue
            edge = k == 0 or k == len(spec) - 1 or spec[k - 1] == " " or spec[k + 1] == " "
            h = int(H * (tall if c == "1" and edge else 2 / 3 if k in small else 1.0))
            out.append(Glyph((x, 0, 10, h), "digit", np.log(np.eye(10)[int(c)] * 0.99 + 0.001)))
            x += 14
        return out

    def kinds(glyphs):
        return "".join(str(int(g.logp.argmax())) if g.kind == "digit" else g.kind
                       for g in _tall_pairs(glyphs, H))

    assert kinds(line("10621 234 5678")) == "(062)2345678"
    assert kinds(line("1061 234 1")) == "(06)2341"
    assert kinds(line("31 1016 2345", tall=1.0)) == "3110162345"  # as tall as the digits
    tall_ones = line("31 1016 2345")
    tall_ones[4] = Glyph(tall_ones[4].box[:3] + (int(H * (TALL_PAIR_H + 0.05)),), "digit",
                         tall_ones[4].logp)
    assert kinds(tall_ones) == "31(0)62345"  # "+31 (0)6": the ")" touches the 6
    assert kinds(line("10621 234 5678", tall=TALL_PAIR_H - 0.05)) == "106212345678"
    assert kinds(line("10625 234 5678")) == "106252345678"        # no 1 closes the group
    assert kinds(line("9106219 234")) == "9106219234"             # 1s inside a group
    assert kinds(line("1061 7799930", tall=1.0, small=(1,))) == "10617799930"
    assert kinds(line("1" + "0" * (PAREN_PAIR_MAX_INSIDE + 1) + "1 23")) == \
        "1" + "0" * (PAREN_PAIR_MAX_INSIDE + 1) + "123"


def test_a_sure_bracket_takes_a_less_clear_partner():
    from edgedigits.pipeline.segment import _partner_brackets
    d = "digit"
    # a wide or short ")" (curved like one by the looser thresholds) closes an open "("
    assert _partner_brackets(["(", d, d, d, d], ["", "", "", "", ")"]) == ["(", d, d, d, ")"]
    # ... and a less clear "(" opens a sure ")"
    assert _partner_brackets([d, d, d, ")", d], ["(", "", "", "", ""]) == ["(", d, d, ")", d]
    # not: nothing between, a sure ")" of its own later, a "(" already open
    assert _partner_brackets(["(", d, d], ["", ")", ""]) == ["(", d, d]
    assert _partner_brackets(["(", d, d, ")"], ["", "", ")", ""]) == ["(", d, d, ")"]
    assert _partner_brackets(["(", d, d, ")"], ["", "(", "", ""]) == ["(", d, d, ")"]
    # no sure bracket: two leaning marks pair up around one to PAREN_PAIR_MAX_INSIDE digits
    assert _partner_brackets([d, d, d], ["(", "", ")"]) == ["(", d, ")"]
    assert _partner_brackets([d, d], ["(", ")"]) == [d, d]  # nothing between
    assert _partner_brackets([d] * 8, ["("] + [""] * 6 + [")"]) == [d] * 8  # six between
    assert _partner_brackets([d, d, d], [")", "", "("]) == [d, d, d]  # facing outwards


def test_fragments_and_specks_are_not_digits():
    from edgedigits.pipeline.segment import _not_a_digit

    def reads(digit, p):  # log-probabilities reading `digit` with probability p
        q = np.full(10, (1 - p) / 9)
        q[digit] = p
        return np.log(q)
    H = 100
    assert _not_a_digit((0, 0, 10, 59), reads(1, 0.27), H)       # short unsure sliver: a blot
    assert not _not_a_digit((0, 0, 10, 59), reads(1, 0.9), H)    # a small but sure 1
    assert _not_a_digit((0, 0, 8, 36), reads(1, 0.999), H)       # a tick a third as tall: not a 1
    assert not _not_a_digit((0, 0, 10, 95), reads(1, 0.3), H)    # a full-height 1, unsure
    assert _not_a_digit((0, 0, 15, 95), reads(7, 0.9), H)        # a sliver is a 1 or nothing
    assert _not_a_digit((0, 0, 40, 50), reads(3, 0.2), H)        # small and unsure
    assert not _not_a_digit((0, 0, 40, 50), reads(3, 0.6), H)    # a small digit
    assert not _not_a_digit((0, 0, 60, 100), reads(8, 0.2), H)   # a full-size unsure digit


def test_slanted_touching_strokes_get_a_slanted_cut():
    from edgedigits.pipeline import segment
    m = np.zeros((41, 36), np.uint8)  # two strokes leaning right, their columns overlapping
    cv2.line(m, (5, 40), (19, 0), 1, 3)
    cv2.line(m, (17, 40), (31, 0), 1, 3)
    m[18:21, 10:26] = 1  # joined by a thin bridge: one component
    cuts = segment._slanted_cuts(m, 4, 5)[1:-1]
    X = np.arange(m.shape[1])[None, :]
    best = min(cuts, key=lambda c: c[1])
    left = m & (X < best[2][:, None])
    # the cut leaning with the strokes parts them through the bridge alone
    assert best[2][0] > best[2][-1]
    assert left.sum() > 0.35 * m.sum() and (m & ~left.astype(bool)).sum() > 0.35 * m.sum()
    assert best[1] <= 4
    saved = segment.SPLIT_SLANTS
    try:
        segment.SPLIT_SLANTS = (0.0,)
        vertical = segment._slanted_cuts(m, 4, 5)[1:-1]
        assert min(c[1] for c in vertical) > best[1]  # upright cuts cross the strokes too
    finally:
        segment.SPLIT_SLANTS = saved


def test_split_path_is_the_best_of_all_paths_through_the_lattice(pick, monkeypatch):
    """The Viterbi over a touching mark's cuts gives the path whose summed arc scores
    (_piece_score) are highest among every path from the mark's left end to its right end."""
    from edgedigits.pipeline import segment
    seen = []
    best_split = segment._best_split

    def spy(option, best_lp, logp, patches, H):
        out = best_split(option, best_lp, logp, patches, H)
        seen.append((option, best_lp, logp, patches, H, out))
        return out
    monkeypatch.setattr(segment, "_best_split", spy)
    for digits in ((4, 1, 7), (2, 0, 8, 5)):
        items = [pick(d)[0] for d in digits]
        read_number(rd.on_paper(rd.draw_line(items, height=64, gap=-0.08)[0]))
    assert seen, "no mark of the touching digits was over-segmented"

    def paths(pieces, node, end):
        if node == end:
            yield []
        for p in pieces:
            if p[0] == node:
                for rest in paths(pieces, p[1], end):
                    yield [p] + rest
    for (cost, pieces), best_lp, logp, patches, H, (score, path) in seen:
        scored = [(sum(segment._piece_score(p, cost, best_lp, logp, patches, H) for p in ps), ps)
                  for ps in paths(pieces, 0, len(cost) - 1)]
        top, top_path = max(scored, key=lambda s: s[0])
        assert len(scored) >= 2
        assert score == pytest.approx(top + segment.SPLIT_PENALTY)  # the first piece pays none
        assert [pb for pb, _, _ in path] == [p[2] for p in top_path]


def test_character_log_p_is_the_members_mean_of_log_p_character():
    """character_log_p: the share of the members that have the not-a-character classes
    times log(1 - their mean non-digit mass); digits-only members cannot tell (0)."""
    from edgedigits.ensemble import load_ensemble
    from edgedigits.model import load_model
    from edgedigits.pipeline import segment
    other = np.array([0.0, 0.5, 0.99])
    assert np.allclose(segment.character_log_p(other, load_model("default")), np.log(1 - other))
    assert np.allclose(segment.character_log_p(other, load_model("default-2")), 0.0)
    ensemble = load_ensemble()
    share = sum(m.n_classes == 19 for m in ensemble.members) / len(ensemble.members)
    assert share == 0.5
    assert np.allclose(segment.character_log_p(other, ensemble), share * np.log(1 - other))
    assert np.isfinite(segment.character_log_p(np.array([1.0]), ensemble)).all()


def test_a_touching_pair_that_is_no_character_loses_to_its_split(mnist_dir, monkeypatch):
    """A "01" written touching (a second-renderer test photo) reads as one 2 by the digits'
    probabilities; the members with the not-a-character classes say it is no single
    character, and with that in the lattice's arc scores its split into 0 and 1 wins."""
    import note_photos
    from edgedigits.pipeline import segment
    photo = next(note_photos.make_photos(1, seed=72, split="test"))
    assert photo.digits == "0632014763"
    assert read_number(photo.jpeg).digits == photo.digits
    monkeypatch.setattr(segment, "character_log_p", lambda other, model: np.zeros(len(other)))
    assert read_number(photo.jpeg).digits == "063224763"


def test_short_piece_read_as_one_costs_in_a_split():
    from edgedigits.pipeline import segment
    H = 100.0

    def reads(digit, p):
        q = np.full(10, (1 - p) / 9)
        q[digit] = p
        return np.log(q)
    stroke = np.zeros((28, 28), np.uint8)
    stroke[4:24, 13:16] = 255  # the patch of an upright stroke (no aspect prior)
    patches = [stroke, stroke, stroke]

    def score(h_first, first_digit):
        logp = np.stack([reads(first_digit, 0.9), reads(7, 0.95), reads(7, 0.95)])
        # cut points 0 | 1 | 2: pieces (0, 1) then (1, 2)
        option = ([0.0, 0.0, 0.0], [(0, 1, (0, 0, 20, h_first), 0, "digit"),
                                    (1, 2, (20, 0, 50, 95), 1, "digit")])
        return segment._best_split(option, logp.max(1), logp, patches, H)[0]
    # a 1 as tall as the line costs nothing more; one shorter than SHORT_ONE_H x H does
    assert score(95, 1) == pytest.approx(score(95, 7))
    assert score(60, 1) == pytest.approx(score(95, 1) - segment.SHORT_ONE_PENALTY)
    assert score(60, 1) < score(95, 1) - 0.5  # and that costs enough to keep the whole
    assert score(60, 7) == pytest.approx(score(95, 7))  # other digits may be short


def test_squat_digit_is_not_a_dash():
    from edgedigits.pipeline.segment import _shape_kind
    H = 60.0
    dash = np.zeros((6, 30), np.uint8)
    dash[1:5, :] = 1
    assert _shape_kind(dash, H) == "-"
    flat_two = np.zeros((27, 60), np.uint8)  # a 2 written wide and low: three strokes, 3 px thick
    cv2.ellipse(flat_two, (16, 10), (12, 8), 0, 180, 360, 1, 3)
    cv2.line(flat_two, (28, 10), (4, 24), 1, 3)
    cv2.line(flat_two, (4, 24), (58, 24), 1, 3)
    assert _shape_kind(flat_two, H) == "digit"



@pytest.mark.parametrize("height, lean, kind", [
    (1.25, 25, "/"),       # taller than the digits: a slash even at a modest lean
    (1.13, 35, "/"),       # a little taller, but leaning further than most written 1s
    (1.13, 24, "digit"),   # a little taller and leaning like many 1s: a 1
    (1.0, 38, "digit"),    # as tall as the digits: a 1, however it leans
])
def test_slash_from_height_and_lean(height, lean, kind):
    from edgedigits.pipeline.segment import _shape_kind
    H = 100.0
    h = int(height * H)
    w = int(h * np.tan(np.deg2rad(lean))) + 8
    m = np.zeros((h, w), np.uint8)
    cv2.line(m, (4, h - 4), (w - 4, 4), 1, 7)
    assert _shape_kind(m, H) == kind

def test_small_writing_beside_a_tilted_line_stays_out_of_its_band():
    from edgedigits.pipeline.segment import _in_sloped_band
    H = 40.0
    # six digit-sized marks descending 10 px per 50 px, a dash between two of them, and a small
    # mark inside the line's bounding box but 1.5 H under the line where it is
    x = np.array([0, 50, 100, 150, 200, 250, 128, 20], float)
    y = np.array([0, 10, 20, 30, 40, 50, 33, 70], float)
    w = np.array([30, 30, 30, 30, 30, 30, 14, 20], float)
    h = np.array([40, 40, 40, 40, 40, 40, 4, 14], float)
    keep = np.ones(8, bool)
    inside = _in_sloped_band(x, y, w, h, keep, H)
    assert inside[:7].all() and not inside[7]


def test_separators_rejected_and_split_groups(pick):
    d = [pick(k)[0] for k in (1, 2, 3, 4, 5, 6, 7)]
    items = [d[0], d[1], "-", d[2], d[3], ".", d[4], d[5], "/", d[6]]
    alpha, _ = rd.draw_line(items, height=60, gap=0.25)
    r = read_number(rd.on_paper(alpha))
    plain = read_number(rd.on_paper(rd.draw_line(d, height=60, gap=0.25)[0]))
    assert r.digits == plain.digits and len(r.digits) == 7
    assert [len(g) for g in r.groups] == [2, 2, 2, 1]
    assert r.separators == ("", "-", ".", "/", "")


def test_a_slash_that_reads_as_a_digit_is_said(pick, monkeypatch):
    from edgedigits import speech
    from edgedigits.reading import REASON_MARK_MAY_BE_DIGIT
    image = rd.leaning_one_line(pick)
    r = read_number(image)
    # the 1 is cut as a "/" by its shape and left out; the classifier reads it as a digit
    assert r.digits == "062345897" and "/" in r.separators
    assert r.reason == REASON_MARK_MAY_BE_DIGIT and r.doubtful_marks == ((4, "1"),)
    assert "The mark after the fourth digit may be a one." in speech.speech_text(r)
    assert "Das Zeichen nach Ziffer 4 ist vielleicht eine eins." in speech.speech_text(r, "de")
    # without the classifier's word (MARK_DIGIT_P above any probability) it is silently wrong
    monkeypatch.setattr(reader, "MARK_DIGIT_P", 1.01)
    quiet = read_number(image)
    assert quiet.digits == r.digits and quiet.reason is None and quiet.doubtful_marks == ()
    # a digits-only model cannot say a mark is no digit, so it is never asked
    monkeypatch.undo()
    assert read_number(image, model=edgedigits.load_model("default-2")).doubtful_marks == ()


def test_a_drawn_slash_is_not_taken_for_a_digit(pick, monkeypatch):
    seen = []
    build = reader._build
    monkeypatch.setattr(reader, "_build", lambda glyphs, *a: seen.append(glyphs) or build(glyphs, *a))
    d = [pick(k)[0] for k in (1, 2, 3, 4, 5, 6, 7)]
    r = read_number(rd.on_paper(rd.draw_line([d[0], d[1], d[2], "/", d[3], d[4], d[5], d[6]],
                                             height=60, gap=0.25)[0]))
    assert r.digits and r.reason is None and r.doubtful_marks == ()
    slashes = [g for glyphs in seen for g in glyphs if g.kind == "/"]
    assert slashes and all(g.digit_p is not None and g.digit_p < reader.MARK_DIGIT_P
                           for g in slashes)


def test_doubtful_marks_follow_the_digits_when_a_word_is_left_out():
    from edgedigits.reader import _word_left_out
    r = replace(_reading(("744", "06", "12345678"), (0, 1, 2, 9), other=0.6, gap_after=3),
                doubtful_marks=((2, "1"), (5, "4")))
    out = _word_left_out(r)
    assert out.digits == "0612345678" and out.doubtful_marks == ((2, "4"),)


def test_brackets_plus_and_spaces(pick):
    d = [pick(k)[0] for k in (3, 1, 2, 0, 9, 8)]
    items = ["+", d[0], d[1], "(", d[2], d[3], ")", d[4], d[5]]
    r = read_number(rd.on_paper(rd.draw_line(items, height=60, gap=0.3)[0]))
    plain = read_number(rd.on_paper(rd.draw_line(d, height=60, gap=0.3)[0]))
    assert r.digits == plain.digits and len(r.digits) == 6
    assert [len(g) for g in r.groups] == [2, 2, 2]
    assert r.separators == ("+", "(", ")", "")
    assert r.plus and not plain.plus  # an international number: its first group is a country code


def test_bracket_touching_a_digit_still_closes_the_open_one(pick):
    """A ")" joined to the next digit is cut off it by the split search; it must still pair
    with the "(" before it, or that "(" is taken for a curved 1."""
    d = [pick(k)[0] for k in (2, 0, 2, 4)]
    items = ["(", d[0], d[1], ")", d[2], d[3]]
    alpha, boxes = rd.draw_line(items, height=60, gap=0.3)
    (x0, y0, w0, h0), (x1, _, _, _) = boxes[3], boxes[4]
    rows = slice(y0 + h0 // 2 - 1, y0 + h0 // 2 + 2)
    ink_x = x1 + int(np.flatnonzero((alpha[rows, x1:] > 0.4).any(0))[0])  # the 2's ink in those rows
    alpha[rows, x0 + w0 // 2:ink_x + 2] = 1.0  # a thin bridge from the ")" into the 2
    pair = alpha[:, x0:boxes[4][0] + boxes[4][2]] > 0.4
    assert cv2.connectedComponents(pair.astype(np.uint8))[0] - 1 == 1, "the ')' should touch the 2"
    r = read_number(rd.on_paper(alpha))
    plain = read_number(rd.on_paper(rd.draw_line(d, height=60, gap=0.3)[0]))
    assert r.digits == plain.digits and len(r.digits) == 4
    assert [len(g) for g in r.groups] == [2, 2]


def test_specks_ignored(pick):
    alpha, _ = rd.draw_line([pick(6)[0], pick(2)[0], pick(8)[0]], height=60, gap=0.4)
    rng = np.random.default_rng(0)
    for _ in range(40):  # pepper of 1-2 px specks
        y, x = rng.integers(0, alpha.shape[0]), rng.integers(0, alpha.shape[1])
        alpha[y:y + 2, x:x + 2] = 1.0
    clean = read_number(rd.on_paper(rd.draw_line([pick(6)[0], pick(2)[0], pick(8)[0]],
                                                 height=60, gap=0.4)[0]))
    assert read_number(rd.on_paper(alpha)).digits == clean.digits


# ---- stage 6: classify ---------------------------------------------------------------------

def test_classify_averages_shifted_views(mnist_test, model):
    from edgedigits.classes import digit_log_proba
    from edgedigits.pipeline.classify import TTA_SHIFTS, _shifted, classify, classify_classes
    images, _ = mnist_test
    x = images[:7]
    moved = _shifted(x, 1, -1)
    assert (moved[:, 1:, :-1] == x[:, :-1, 1:]).all()
    assert not moved[:, 0].any() and not moved[:, :, -1].any()
    # one view: exactly the model's own log-probabilities (all classes; the digits folded)
    np.testing.assert_allclose(classify_classes(x, model, shifts=((0, 0),)),
                               model.predict_class_log_proba(x), rtol=0, atol=1e-5)
    np.testing.assert_allclose(classify(x, model, shifts=((0, 0),)),
                               model.predict_log_proba(x), rtol=0, atol=1e-5)
    # all views: the renormalised mean of the model on each shifted copy
    views = np.stack([model.predict_class_log_proba(_shifted(x, dy, dx)) for dy, dx in TTA_SHIFTS])
    mean = views.mean(0)
    want = mean - np.log(np.exp(mean).sum(1, keepdims=True))
    got = classify_classes(x, model, sure_p=1.0)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.exp(got).sum(1), 1.0, atol=1e-9)
    np.testing.assert_allclose(classify(x, model, sure_p=1.0), digit_log_proba(want), atol=1e-5)
    # only the patches whose first view is less sure than sure_p get the other views
    first = views[0]
    sure = np.exp(first.max(1)) >= 0.99
    assert sure.any() and not sure.all()
    got = classify_classes(x, model, sure_p=0.99)
    np.testing.assert_allclose(got[sure], first[sure], atol=1e-5)
    np.testing.assert_allclose(got[~sure], want[~sure], atol=1e-5)
    assert classify(np.zeros((0, 28, 28), np.uint8), model).shape == (0, 10)


# ---- stage 5: normalize --------------------------------------------------------------------

def test_normalisation_matches_mnist_statistics(mnist_test, model):
    images, labels = mnist_test
    imgs = images[:300]
    out = []
    for im in imgs:
        # the digit as a photo would show it: 4x larger, ink contrast, thresholded mask
        big = cv2.resize(im, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
        out.append(normalize.normalize(big, (big > 100).astype(np.uint8)))
    out = np.stack(out).astype(np.float64)
    yy, xx = np.mgrid[0:28, 0:28]
    mass = out.sum((1, 2))
    cy, cx = (out * yy).sum((1, 2)) / mass, (out * xx).sum((1, 2)) / mass
    ref = imgs.astype(np.float64)
    rm = ref.sum((1, 2))
    ry, rx = (ref * yy).sum((1, 2)) / rm, (ref * xx).sum((1, 2)) / rm
    # centre of mass at the centre, as in MNIST (mean 14.0, spread 0.3 px)
    assert abs(cy.mean() - ry.mean()) < 0.3 and abs(cx.mean() - rx.mean()) < 0.3
    assert np.abs(cy - 14).max() < 1.0 and np.abs(cx - 14).max() < 1.0

    def long_side(a):
        ys, xs = np.nonzero(a > 0)
        return max(np.ptp(ys), np.ptp(xs)) + 1
    sides = np.array([long_side(a) for a in out])
    assert np.median(sides) == pytest.approx(np.median([long_side(a) for a in ref]), abs=1)
    assert sides.max() <= 21
    # ink statistics close to MNIST's: mean intensity and share of saturated pixels
    assert out.mean() == pytest.approx(ref.mean(), rel=0.2)
    # and the model reads them as well as the originals (within 2 points)
    acc_out = (model.predict_digits(out.astype(np.uint8)) == labels[:300]).mean()
    acc_ref = (model.predict_digits(imgs) == labels[:300]).mean()
    assert acc_out >= acc_ref - 0.02


def test_stroke_width_normalised(pick):
    seven = pick(7)[0]
    thin = rd.draw_line([seven], height=90, pen=0.6)[0]
    thick = rd.draw_line([seven], height=90, pen=2.2)[0]
    sw = []
    for a in (thin, thick):
        ink = (a * 255).astype(np.uint8)
        p = normalize.normalize(ink, (a > 0.4).astype(np.uint8))
        sw.append(normalize.stroke_width((p > 127).astype(np.uint8)))
    # a 3.7x thicker pen ends within 1.6x of the thin one's stroke after normalisation
    assert max(sw) / min(sw) < 1.6
    assert all(1.2 < s < 4.0 for s in sw)


# ---- the Reading ---------------------------------------------------------------------------

def test_reading_fields_consistent(pick):
    d = [pick(k)[0] for k in (0, 6, 1, 2, 3, 4)]
    img = rd.on_paper(rd.draw_line(d, height=60, gap=0.3)[0])
    r = read_number(img)
    assert "".join(r.groups) == r.digits
    assert len(r.confidences) == len(r.boxes) == len(r.digits)
    assert all(0 <= c <= 1 for c in r.confidences)
    assert r.uncertain == tuple(i for i, c in enumerate(r.confidences) if c < UNCERTAIN_BELOW)
    assert set(r.alternatives) == set(r.uncertain)
    for i, alts in r.alternatives.items():
        assert all(a != r.digits[i] and p <= r.confidences[i] for a, p in alts)
    xs = [b[0] for b in r.boxes]
    assert xs == sorted(xs)
    for x, y, w, h in r.boxes:
        assert 0 <= x and x + w <= img.shape[1] and 0 <= y and y + h <= img.shape[0]


def test_boxes_in_input_coordinates_after_downscale(pick):
    alpha, boxes = rd.draw_line([pick(5)[0], pick(3)[0]], height=60, gap=0.5)
    img = rd.on_paper(alpha)
    big = cv2.resize(img, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    r = read_number(big)
    assert len(r.boxes) == 2
    for (x, y, w, h), (tx, ty, tw, th) in zip(r.boxes, boxes):
        assert abs(x - 4 * tx) < 24 and abs(y - 4 * ty) < 24 and abs(w - 4 * tw) < 40


def test_number_cut_off_at_the_edge(pick):
    alpha, boxes = rd.draw_line([pick(k)[0] for k in (2, 4, 6, 8, 1, 3, 5)], height=60, gap=0.3)
    img = rd.on_paper(alpha)
    x, y, w, h = boxes[-1]
    cut = img[:, : x + w // 2]  # the last digit half outside the photo
    r = read_number(cut)
    assert r.reason == REASON_CUT_RIGHT
    assert read_number(img).reason is None



@pytest.mark.parametrize("turns", [1, 2, 3])
def test_box_back_maps_a_turned_box_to_the_input(turns):
    from edgedigits.reader import _box_back
    img = np.zeros((60, 90), np.uint8)
    img[10:25, 50:58] = 1  # x 50, y 10, w 8, h 15
    turned = np.rot90(img, turns)
    ys, xs = np.nonzero(turned)
    box = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    assert _box_back(box, turns, img.shape) == (50, 10, 8, 15)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_number_any_way_round_is_read_upright(pick, turns):
    # a photo with no orientation metadata of a note lying sideways or upside down: the page
    # is read turned, and the boxes still point at the digits in the photo as given
    number = (2, 0, 3, 4, 7, 5, 2, 9)
    alpha, boxes = rd.draw_line([pick(d)[0] for d in number], height=56, gap=0.3)
    img = rd.on_paper(alpha)
    upright = read_number(img)
    assert upright.digits == "20347529"
    turned = np.ascontiguousarray(np.rot90(img, turns))
    r = read_number(turned)
    assert r.digits == upright.digits
    assert r.reason is None
    ink = np.rot90(alpha, turns) > 0.5
    for x, y, w, h in r.boxes:
        assert ink[y:y + h, x:x + w].mean() > 0.05  # the box holds a digit's strokes
    from edgedigits.reader import _box_back
    back = [_box_back(b, turns, img.shape) for b in r.boxes]  # into the upright image
    for (x, y, w, h), (bx, by, bw, bh) in zip(back, upright.boxes):
        assert abs(x - bx) <= 3 and abs(y - by) <= 3 and abs(w - bw) <= 3 and abs(h - bh) <= 3


def test_digits_that_read_worse_turned_half_round_keep_the_page_from_being_read_upside_down(
        pick, model):
    # a whole reading of 2, 3, 4, 5, 7 (no digit that reads as one upside down) is the right
    # way up: the page need not be read upside down; the same digits upside down are not;
    # 0, 1 and 8 read as well either way and prove nothing
    from edgedigits.pipeline.classify import classify_with_other

    def reading(patches):
        logp, other = classify_with_other(np.stack(patches), model)
        confs = tuple(float(np.exp(v)) for v in logp.max(1))
        return Reading("".join(str(d) for d in logp.argmax(1)), (), confs, (), {}, (), None,
                       tuple(float(v) for v in other))
    upright = [normalize.normalize(pick(d)[0], (pick(d)[0] > 64).astype(np.uint8))
               for d in (2, 3, 4, 5, 7, 2, 4)]
    turned = [p[::-1, ::-1].copy() for p in upright]
    symmetric = [normalize.normalize(pick(d)[0], (pick(d)[0] > 64).astype(np.uint8))
                 for d in (0, 1, 8, 0, 1, 8, 0)]
    assert reader._right_way_up(reading(upright), upright, model)
    assert not reader._right_way_up(reading(turned), turned, model)
    assert not reader._right_way_up(reading(symmetric), symmetric, model)
    assert not reader._right_way_up(reading(upright), upright[:-1], model)  # not its patches


def test_the_turn_check_counts_an_upside_down_4_as_no_character(pick, model, monkeypatch):
    # a 4 turned half round reads as a poor digit (summed log-probability about -1.7 worse,
    # within TURN_MARGIN) and, to the members with the not-a-character class, as no character:
    # with that term its reading is the right way up, without it the page would be read
    # upside down as well
    from edgedigits.pipeline.classify import classify_with_other, default_model
    ensemble = default_model()  # the reader's: half its members have the class
    four = [normalize.normalize(pick(4)[0], (pick(4)[0] > 64).astype(np.uint8))]
    logp, other = classify_with_other(np.stack(four), ensemble)
    read = Reading("4", (), (float(np.exp(logp.max())),), (), {}, (), None, (float(other[0]),))
    assert int(logp.argmax()) == 4
    assert reader._right_way_up(read, four, ensemble)
    monkeypatch.setattr(reader, "character_log_p", lambda o, m: np.zeros(len(o)))
    assert not reader._right_way_up(read, four, ensemble)


@pytest.mark.parametrize("angle", [35, -40, 140, 215])
def test_a_number_at_an_angle_is_read_laid_level(pick, angle):
    # a note lying at an angle no quarter turn lays level: the page is read rotated along the
    # direction its marks line up in, and the boxes still point at the digits in the photo
    number = (2, 0, 3, 4, 7, 5, 2, 9)
    alpha, _ = rd.draw_line([pick(d)[0] for d in number], height=56, gap=0.3)
    h, w = alpha.shape
    pad = np.zeros((h + 2 * w, 2 * w), np.float32)
    pad[w:w + h, w // 2:w // 2 + w] = alpha
    m = cv2.getRotationMatrix2D((pad.shape[1] / 2, pad.shape[0] / 2), angle, 1.0)
    ink = cv2.warpAffine(pad, m, pad.shape[::-1], flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(ink > 0.05)
    ink = ink[ys.min() - 40:ys.max() + 40, xs.min() - 40:xs.max() + 40]
    r = read_number(rd.on_paper(ink))
    assert r.digits == "20347529" and r.reason is None
    for x, y, bw, bh in r.boxes:
        assert (ink[y:y + bh, x:x + bw] > 0.5).mean() > 0.05  # the box holds a digit's strokes
    saved = reader.ROTATE_MIN_OFF
    try:
        reader.ROTATE_MIN_OFF = 90.0  # quarter turns only
        assert read_number(rd.on_paper(ink)).digits != "20347529"
    finally:
        reader.ROTATE_MIN_OFF = saved


def test_writing_angle_is_the_direction_the_marks_line_up_in():
    from edgedigits.pipeline.lines import writing_angle
    for angle in (0, 30, 90, 150):
        img = np.zeros((600, 600), np.uint8)
        t = np.radians(angle)
        for k in range(-4, 5):  # nine 20 px blobs 40 px apart along the direction
            cx, cy = 300 + 40 * k * np.cos(t), 300 + 40 * k * np.sin(t)
            cv2.circle(img, (int(round(cx)), int(round(cy))), 10, 255, -1)
        _, _, stats, _ = cv2.connectedComponentsWithStats(img)
        got = writing_angle(stats, img.shape)
        assert abs((got - angle + 90) % 180 - 90) <= 2
    assert writing_angle(np.zeros((1, 5), np.int32), (100, 100)) is None  # nothing on the page


def test_a_reading_too_short_or_too_long_for_a_phone_number_says_so(pick):
    # the digits are still returned; the reason tells the listener it is not a whole number
    short = read_number(rd.on_paper(rd.draw_line([pick(k)[0] for k in (5, 0, 3, 1)])[0]))
    assert short.digits == "5031" and short.reason == REASON_TOO_FEW_DIGITS
    seven = read_number(rd.on_paper(rd.draw_line([pick(k)[0] for k in (5, 0, 3, 1, 2, 6, 4)])[0]))
    assert seven.digits == "5031264" and seven.reason is None
    digits = (5, 0, 3, 1, 2, 6, 4, 8, 9, 7, 5, 0, 3, 1, 2, 6)
    long = read_numbers(rd.on_paper(rd.draw_line([pick(k)[0] for k in digits], height=40)[0]))
    assert [(r.digits, r.reason) for r in long] == [("5031264897503126", REASON_TOO_MANY_DIGITS)]


def test_one_digit_repeated_is_texture_not_a_number(pick):
    # a table's grain reads as a run of sure 1s; a number mostly of one digit is still read
    ones = read_number(rd.on_paper(rd.draw_line([pick(1)[0]] * 8, gap=0.4)[0]))
    assert ones.digits == "" and ones.reason == REASON_NO_DIGITS
    four = read_number(rd.on_paper(rd.draw_line([pick(1)[0]] * 4, gap=0.4)[0]))
    assert four.digits == "" and four.reason == REASON_NO_DIGITS  # REPEAT_MIN_DIGITS
    mixed = read_number(rd.on_paper(rd.draw_line([pick(k)[0] for k in (1, 0, 1, 1, 1, 0, 1)],
                                                  gap=0.4)[0]))
    assert mixed.digits == "1011101"  # 5 of 7 the same digit: below REPEAT_SHARE


@pytest.mark.parametrize("gap", [0.3, -0.05])
def test_a_run_of_zeros_is_a_number_not_texture(pick, gap):
    # "0800 0000" and a round amount, zeros apart or written touching in one go: only runs
    # of 1s are texture (REPEAT_DIGITS), 7 of 8 zeros are read
    items = [pick(0)[0], pick(8)[0]] + [pick(0)[0]] * 6
    r = read_number(rd.on_paper(rd.draw_line(items, gap=[0.3, 0.3, 0.6] + [gap] * 4)[0]))
    assert r.digits == "08000000"
    five = read_number(rd.on_paper(rd.draw_line([pick(8)[0]] + [pick(0)[0]] * 4,
                                                gap=[0.3] + [gap] * 3)[0]))
    assert five.digits == "80000" and five.reason == REASON_TOO_FEW_DIGITS


@pytest.mark.parametrize("index, digit", [(2609, "6"), (209, "9")])
def test_a_lone_digit_is_not_read_upside_down(mnist_test, index, digit):
    # MNIST test digits that read unsure upright and as a sure 9 (a sure 6) turned over: one
    # digit is no evidence that the page is upside down; only a whole reading turns it
    images, _ = mnist_test
    r = read_number(rd.on_paper(rd.draw_line([images[index]], height=64)[0]))
    assert r.digits == digit


def test_a_line_too_tall_for_a_phone_number_is_read_last(pick, monkeypatch):
    # a blotch 300 px tall (a knot in the table, a shadow) is the most prominent "line", but 7
    # digits that tall could not fit across the photo: the number is read, the blotch is not
    from edgedigits import reader
    alpha, _ = rd.draw_line([pick(k)[0] for k in (2, 4, 6, 8, 3, 0, 7)], height=50, gap=0.3)
    page = np.zeros((480, 640), np.float32)
    page[60:60 + alpha.shape[0], 40:40 + alpha.shape[1]] = alpha
    page[150:450, 520:600] = 1.0
    heights = []
    read_line = reader._read_line

    def spy(pg, line, model, *patches):
        heights.append(line.height)
        return read_line(pg, line, model, *patches)
    monkeypatch.setattr(reader, "_read_line", spy)
    r = read_number(rd.on_paper(page))
    assert len(r.digits) == 7 and r.reason is None
    assert max(heights) < 640 / (reader.PHONE_MIN_DIGITS * reader.MIN_DIGIT_PITCH)


def _reading(groups, unsure, other=0.01, gap_after=None, gap=0.2):
    """A reading of 20 px tall digits 0.2 H apart (1 H after digit `gap_after` - 1), those in
    `unsure` at p = 0.5 and `other` (not_digit) as given, the rest at 0.99 and 0.001."""
    digits = "".join(groups)
    boxes, x = [], 0
    for i in range(len(digits)):
        boxes.append((x, 0, 16, 20))
        x += 16 + int(20 * (1.0 if i + 1 == gap_after else gap))
    return Reading(digits, tuple(groups), tuple(0.5 if i in unsure else 0.99
                                                for i in range(len(digits))),
                   tuple(unsure), {i: (("7", 0.3),) for i in unsure}, tuple(boxes), None,
                   tuple(other if i in unsure else 0.001 for i in range(len(digits))))


def test_a_word_before_the_number_is_left_out():
    from edgedigits.reader import _word_left_out
    # "Tel" read as "744", its digits unsure and likely no digits, a space, "06 12345678"
    r = _word_left_out(_reading(("744", "06", "12345678"), (0, 1, 2, 9), other=0.6, gap_after=3))
    assert r.digits == "0612345678" and r.groups == ("06", "12345678")
    assert r.uncertain == (6,) and list(r.alternatives) == [6]
    assert r.boxes[0] == (3 * 16 + 20 + 2 * 4, 0, 16, 20) and len(r.confidences) == 10
    assert len(r.not_digit) == 10 and r.reason == REASON_WORD_LEFT_OUT
    # the space after it counts against the number's own gaps: a word written as close as
    # the digits stand is left in (other writers' digits are often as unsure as letters)
    close = _reading(("7440612345678",), (0, 1, 2), other=0.6)
    assert _word_left_out(close) is close
    assert _word_left_out(_reading(("744", "0612345678"), (0, 1, 2), other=0.6,
                                   gap_after=3)).digits == "0612345678"


def test_each_digit_says_how_likely_it_is_no_digit():
    example = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "examples", "example-1.jpg")
    r = read_number(example)
    assert len(r.not_digit) == len(r.digits) > 0
    assert all(0.0 <= p <= 1.0 for p in r.not_digit)
    assert read_number(example, model=edgedigits.load_model("default-2")).not_digit == \
        (0.0,) * len(r.digits)  # a digits-only model has no such classes


def test_a_country_code_after_a_plus_is_not_taken_for_a_word():
    from edgedigits.reader import _word_left_out
    code = _reading(("31", "6", "12345678"), (0, 1), other=0.4, gap_after=2)
    assert _word_left_out(code).digits == "612345678"  # as unsure as a word, a wide space after
    written = replace(code, plus=True)  # "+31 6 12345678"
    assert _word_left_out(written) is written


def test_an_area_code_in_brackets_is_not_taken_for_a_word():
    from edgedigits.reader import _word_left_out
    code = _reading(("162", "946", "3006"), (0, 1, 2), other=0.6, gap_after=3)
    assert _word_left_out(code).digits == "9463006"  # as unsure as a word, a wide space after
    written = replace(code, separators=("(", ")", "-", ""))  # "(162) 946-3006"
    assert _word_left_out(written) is written
    # a word before the brackets is still left out, with the brackets' separators kept
    word = _reading(("744", "06", "12345678"), (0, 1, 2), other=0.6, gap_after=3)
    r = _word_left_out(replace(word, separators=("", "(", ")", "")))
    assert r.digits == "0612345678" and r.separators == ("(", ")", "")


def test_a_real_first_digit_is_not_taken_for_a_word():
    from edgedigits.reader import _word_left_out
    for r in (_reading(("06", "12345678"), (0,), other=0.05),      # an unsure 0, close by
              _reading(("0612345678",), (0, 1), other=0.5, gap=0.4),  # unsure, evenly spaced
              _reading(("06", "12345678"), (), gap_after=2),        # sure digits, a wide gap
              _reading(("744", "0612"), (0, 1, 2), other=0.6, gap_after=3),  # nothing whole after
              replace(_reading(("744", "06", "12345678"), (0, 1, 2), other=0.6, gap_after=3),
                      not_digit=())):                             # a digits-only model
        kept = _word_left_out(r)
        assert kept is r and kept.reason is None


def test_a_tight_crop_of_a_whole_number_is_not_cut_off(pick):
    # a scan cropped to the writing: the digits' rounded ends touch the border, no stroke runs
    # on past it; a quarter of the last digit left in the photo is cut off
    alpha, boxes = rd.draw_line([pick(k)[0] for k in (3, 0, 6, 8, 2, 5, 7)], height=60, gap=0.3)
    img = rd.on_paper(alpha)
    ys, xs = np.nonzero(alpha > 0.5)
    tight = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    r = read_number(tight)
    assert r.digits == read_number(img).digits
    assert r.reason is None
    x, y, w, h = boxes[-1]
    assert read_number(img[:, : x + w // 4]).reason == REASON_CUT_RIGHT
    x, y, w, h = boxes[0]
    assert read_number(img[:, x + w // 2:]).reason == REASON_CUT_LEFT


def test_whole_number_beats_a_mark_cut_off_at_the_edge(pick):
    # a dark band at the photo's left edge, into its corner (a shadow's edge, the table beyond
    # the page), is more prominent than the number and reads as a digit "cut off at the left
    # edge"; the number read whole is the answer (validation photo, hard seed 778 #156)
    alpha, _ = rd.draw_line([pick(k)[0] for k in (2, 4, 6, 8, 3, 0, 7)], height=50, gap=0.3)
    page = np.zeros((480, 640), np.float32)
    page[200:200 + alpha.shape[0], 150:150 + alpha.shape[1]] = alpha
    page[300:, :40] = 1.0
    img = rd.on_paper(page)
    assert [r.reason for r in read_numbers(img)] == [None, REASON_CUT_LEFT]
    r = read_number(img)
    assert r.digits == read_numbers(img)[0].digits and len(r.digits) == 7
    assert r.reason is None
    # with the number gone, the cut-off mark is still read, and said to be cut off
    page[200:200 + alpha.shape[0], 150:150 + alpha.shape[1]] = 0
    assert read_number(rd.on_paper(page)).reason == REASON_CUT_LEFT


def _line_with_wide_brackets(items, fx: float, pen: float) -> np.ndarray:
    """items drawn left to right, the brackets stretched fx times as wide (a felt pen's)."""
    rng = np.random.default_rng(0)
    alphas = []
    for it in items:
        a = rd.glyph(it, 60, pen, rng)
        alphas.append(cv2.resize(a, None, fx=fx, fy=1.0) if isinstance(it, str) else a)
    hmax = max(a.shape[0] for a in alphas)
    canvas = np.zeros((hmax + 80, sum(a.shape[1] + 18 for a in alphas) + 80), np.float32)
    x = 40
    for a in alphas:
        y = 40 + (hmax - a.shape[0]) // 2
        canvas[y:y + a.shape[0], x:x + a.shape[1]] = a
        x += a.shape[1] + 18
    return rd.on_paper(canvas)


@pytest.mark.parametrize("fx, pen", [(1.4, 1.5), (1.6, 1.0), (1.6, 1.25)])
def test_two_leaning_marks_around_digits_are_brackets(pick, fx, pen, monkeypatch):
    # brackets too wide to be sure alone (validation hard photos 778 #92, 556 #80 read them
    # as 1s): leaning "(" and ")" with a few digits between are a pair
    from edgedigits.pipeline import segment
    d = [pick(k)[0] for k in (4, 7, 5, 8)]
    img = _line_with_wide_brackets(["(", d[0], d[1], d[2], ")", d[2], d[3], d[3]], fx, pen)
    r = read_number(img)
    assert r.digits == "475588" and r.groups == ("475", "588")
    with monkeypatch.context() as m:
        m.setattr(segment, "PAREN_PAIR_MAX_INSIDE", 0)  # no pairing: each is read as a digit
        m.setattr(reader, "_word_left_out", lambda r: r)  # (the "(" would be left out as no digit)
        assert len(read_number(img).digits) == 8
    # a lone leaning mark is a digit (a curved 1)
    alone = _line_with_wide_brackets(["(", d[0], d[1], d[2], d[2], d[3], d[3]], fx, pen)
    assert len(read_number(alone).digits) == 7

# ---- end to end ----------------------------------------------------------------------------

# Floors on 30 generated photos (seed fixed), with the shipped model (the reader reads 90% of
# these numbers exactly and 99.0% of their digits, as from the TRUE boxes; the first session's
# reader and model read 77% and 96.5%). Segmentation is also held to what the same model reads
# from the true digit boxes.
E2E_PHOTOS = 30
E2E_MIN_EXACT = 0.8
E2E_MIN_DIGIT_ACC = 0.97
E2E_MIN_RATIO = 0.9


def test_end_to_end_on_generated_photos(model, mnist_test):
    import bench_reader
    import synth_photos
    truths, reads, ceil = [], [], []
    for ph in synth_photos.make_photos(E2E_PHOTOS, seed=11):
        truths.append(ph.digits)
        reads.append(read_number(ph.jpeg).digits)
        ceil.append(bench_reader.ceiling_digits(ph, model))
    exact, digits = bench_reader.score(truths, reads)
    c_exact, c_digits = bench_reader.score(truths, ceil)
    assert exact >= E2E_MIN_EXACT, (exact, c_exact)
    assert digits >= E2E_MIN_DIGIT_ACC, (digits, c_digits)
    assert digits >= 0.95 * c_digits
    assert exact >= E2E_MIN_RATIO * c_exact - 0.05, (exact, c_exact)


def test_generated_photos_turned_any_way_round_read_as_upright():
    # the reader benchmark's --turn: the same photo turned 1..3 quarter turns, no orientation
    # metadata, reads the same digits
    import bench_reader
    import synth_photos
    ph = next(synth_photos.make_photos(1, seed=11))
    upright = read_number(ph.jpeg).digits
    assert upright == ph.digits
    for turns in (1, 2, 3):
        jpeg = bench_reader.turned_jpeg(ph.jpeg, turns)
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        assert img.shape == ((960, 1280) if turns % 2 == 0 else (1280, 960))
        assert read_number(jpeg).digits == upright


def test_cut_patches_labels_match_the_photo(model, mnist_train):
    import cut_patches
    import synth_photos
    images, labels = mnist_train
    rng = np.random.default_rng(0)
    photo = synth_photos.make_photo(rng, split="train-fit")
    cut = cut_patches.cut(photo, model)
    assert len(cut) >= len(photo.digits) - 2
    for patch, label, idx in cut:
        assert patch.shape == (28, 28) and patch.dtype == np.uint8
        assert idx < synth_photos.TRAIN_FIT and int(labels[idx]) == label
        assert str(label) in photo.digits



def test_bracket_cut_off_a_digit_and_closing_nothing_is_a_digit(mnist_train):
    # validation photo 121 of seed 777 ("8480/012776", MNIST validation digits): the 7 touching
    # the 2 before it was cut off as a ")" by the split, and dropped although no "(" was open
    import synth_photos
    photo = list(synth_photos.make_photos(122, seed=777, split="valid"))[-1]
    assert photo.digits == "8480012776"
    assert read_number(photo.jpeg).digits == photo.digits

@pytest.mark.parametrize("shape", [(960, 1280), (100, 150)])
def test_pure_noise_reads_nothing(shape):
    rng = np.random.default_rng(0)
    for img in (rng.integers(0, 256, shape, dtype=np.uint8),
                np.clip(rng.normal(128, 60, shape), 0, 255).astype(np.uint8)):
        r = read_number(img)
        assert r.digits == "" and r.reason == REASON_NO_WRITING


def test_joining_tilted_lines_is_not_quadratic_in_passes(mnist_dir, monkeypatch):
    """A textured table (cloth) makes hundreds of short lines; joining those that continue each
    other along a tilt must look at each line once, and once more per join, not every line again
    after every join (that took 15 s on one such photo)."""
    import note_photos
    from edgedigits import reader as R
    from edgedigits.pipeline import lines as L
    calls = {"slope": 0, "in": 0, "out": 0}
    slope, join = L._slope, L._join_tilted

    def counted_slope(*a):
        calls["slope"] += 1
        return slope(*a)

    def counted_join(lines, *a):
        calls["in"] = len(lines)
        out = join(lines, *a)
        calls["out"] = len(out)
        return out
    monkeypatch.setattr(L, "_slope", counted_slope)
    monkeypatch.setattr(L, "_join_tilted", counted_join)
    photo = next(note_photos.make_photos(1, seed=9, split="valid"))  # a note on striped cloth
    R._analyse(photo.jpeg)
    joins = calls["in"] - calls["out"]
    assert calls["in"] >= 100 and joins >= 10  # the scene this test needs
    assert calls["slope"] <= calls["in"] + joins


def test_a_huge_thin_mark_is_thickened_at_a_coarser_scale(monkeypatch):
    """A thin mark hundreds of px tall (a note's edge, a stripe of cloth) needs its strokes grown
    by dozens of px to look like an MNIST digit; that is done on the mark shrunk first, never
    with a kernel wider than 2 MAX_DILATE_PX + 1 px (a 100-px kernel took seconds a photo)."""
    from edgedigits.pipeline import normalize as N
    kernels = []
    dilate = cv2.dilate

    def counted(src, kernel, *a, **k):
        kernels.append(kernel.shape)
        return dilate(src, kernel, *a, **k)
    monkeypatch.setattr(N.cv2, "dilate", counted)
    ink = np.zeros((600, 40), np.uint8)
    ink[:, 19:21] = 255                      # a 2-px stroke, 600 px tall
    patch = N.normalize(ink, (ink > 0).astype(np.uint8))
    assert max(max(s) for s in kernels) <= 2 * N.MAX_DILATE_PX + 1
    ys, xs = np.nonzero(patch > 128)
    assert np.ptp(ys) >= 18 and np.ptp(xs) <= 4  # still a tall, thin 1, MNIST-thick
