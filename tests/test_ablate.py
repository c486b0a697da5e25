"""tools/ablate.py: a reader constant set for the second reading only, and what it changed."""
from __future__ import annotations

import numpy as np
import pytest

import edgedigits
import reader_drawing as rd  # also puts tools/ on the path
import ablate
from edgedigits.pipeline import segment


@pytest.mark.parametrize("text, message", [
    ("CAP_MAX_H=0", "MODULE.CONSTANT=VALUE"),
    ("numpy.pi=3", "edgedigits module"),
    ("edgedigits.pipeline.segment.NO_SUCH=1", "no constant"),
    ("edgedigits.pipeline.segment.CAP_MAX_H=open('x')", "Python literal"),
])
def test_a_setting_must_be_an_existing_constant_and_a_literal(text, message):
    with pytest.raises(ValueError, match=message):
        ablate.parse_setting(text)


def test_parsed_setting_names_the_module_constant():
    module, name, value = ablate.parse_setting("edgedigits.pipeline.segment.JOIN_MAX_GAP = -1.5")
    assert module is segment and name == "JOIN_MAX_GAP" and value == -1.5


def test_edits_count_changed_missed_and_extra_digits():
    assert ablate.edits("0612345678", "0612345678") == 0
    assert ablate.edits("0612345678", "0612845678") == 1   # changed
    assert ablate.edits("0612345678", "061234567") == 1    # missed
    assert ablate.edits("0612345678", "06123145678") == 1  # extra
    assert ablate.edits("123", "") == 3


def test_switching_the_join_off_loses_a_digit_broken_in_two(mnist_test):
    images, labels = mnist_test
    model = edgedigits.load_model()
    three, four, seven = (rd.confident(images, labels, model, d, 1)[0] for d in (3, 4, 7))
    four = four.copy()
    cols = np.flatnonzero((four > 30).any(0))
    mid = (cols[0] + cols[-1]) // 2
    four[:, mid:mid + 1] = 0  # a 4 cut top to bottom: two pieces a pen's gap apart
    alpha, _ = rd.draw_line([three, four, seven], height=70, gap=0.4)
    photos = [(rd.on_paper(alpha), "347")]
    shipped = segment.JOIN_MAX_GAP
    same = ablate.compare(photos, [ablate.parse_setting(
        f"edgedigits.pipeline.segment.JOIN_MAX_GAP={segment.JOIN_MAX_GAP!r}")], edgedigits.read_number)
    assert same.changed == 0 and same.exact == (1, 1) and same.edits == (0, 0)
    off = ablate.compare(photos, [ablate.parse_setting("edgedigits.pipeline.segment.JOIN_MAX_GAP=-1e9")],
                         edgedigits.read_number)
    assert off.photos == 1 and off.changed == 1 and off.exact == (1, 0) and off.lost == 1
    assert off.edits[0] == 0 and off.edits[1] >= 1
    assert segment.JOIN_MAX_GAP == shipped  # restored after the second reading


def test_a_doubt_counts_against_right_unflagged_and_silent(mnist_test):
    images, labels = mnist_test
    model = edgedigits.load_model()
    pick = lambda digit, k=1: rd.confident(images, labels, model, digit, k)
    # a leaning 1 cut as a slash: read without it, said as a mark that may be a digit
    slashed = (rd.leaning_one_line(pick), "0623145897")
    digits = [pick(d)[0] for d in (0, 6, 1, 2, 3, 4, 5, 6, 7, 8)]
    plain = (rd.on_paper(rd.draw_line(digits, height=60, gap=0.3)[0]), "0612345678")
    quiet = ablate.compare([slashed, plain], [ablate.parse_setting(
        "edgedigits.reader.MARK_DIGIT_P=1.01")], edgedigits.read_number)
    assert quiet.changed == 1 and quiet.exact == (1, 1) and quiet.silent == (0, 1)
    doubt = ablate.compare([plain], [ablate.parse_setting("edgedigits.reader.UNCERTAIN_BELOW=1.01")],
                           edgedigits.read_number)
    assert doubt.exact == (1, 1) and doubt.right_unflagged == (1, 0) and doubt.silent == (0, 0)
