"""The risk-coverage benchmark's bookkeeping (tools/bench_risk.py): which readings count as
flagged, and the four shares."""
from __future__ import annotations

import pytest

import reader_drawing  # noqa: F401  (puts tools/ on the path)
import bench_risk


def row(truth, read, min_conf, reason=None):
    return {"truth": truth, "read": read, "min_conf": min_conf, "reason": reason}


def test_shares_split_readings_by_rightness_and_doubt():
    rows = [row("123", "123", 0.99),                   # right, sure
            row("123", "123", 0.80),                   # right, a digit below 0.9
            row("123", "128", 0.50),                   # wrong, doubted
            row("123", "128", 0.97),                   # wrong, sure: silent
            row("123", "12", 0.99, "number cut off at the right edge"),  # wrong, with a reason
            row("123", "", 0.0, "no writing found")]   # nothing read: flagged
    s = bench_risk.shares(rows, 0.9)
    assert s == pytest.approx({"right, unflagged": 1 / 6, "right, flagged": 1 / 6,
                               "wrong, flagged": 3 / 6, "wrong, unflagged": 1 / 6})
    assert sum(s.values()) == pytest.approx(1.0)
    # a higher threshold doubts the sure-but-wrong one too, and the sure right one
    s = bench_risk.shares(rows, 0.995)
    assert s["wrong, unflagged"] == 0 and s["right, unflagged"] == 0
    # the shipped threshold is one of those reported
    from edgedigits.reading import UNCERTAIN_BELOW
    assert UNCERTAIN_BELOW in bench_risk.THRESHOLDS


def test_operating_point_is_the_smallest_threshold_within_both_limits():
    def curve(silent):  # silent share per threshold, the rest right and unflagged
        return [{"right, unflagged": 1 - x, "right, flagged": 0.0, "wrong, flagged": 0.0,
                 "wrong, unflagged": x} for x in silent]
    n = len(bench_risk.THRESHOLDS)
    synth = [0.05] * 3 + [0.01] * (n - 3)           # within 1% from the 4th threshold on
    note = [0.06] * 5 + [0.02] * (n - 5)            # within 2% from the 6th on
    curves = {"synth_photos normal (500)": curve(synth), "note_photos normal (200)": curve(note),
              "note_photos hard (100)": curve([0.5] * n)}  # not part of the rule
    assert bench_risk.operating_point(curves) == bench_risk.THRESHOLDS[5]
    curves["note_photos normal (200)"] = curve([0.03] * n)
    assert bench_risk.operating_point(curves) is None   # the second renderer never within 2%
    del curves["note_photos normal (200)"]
    assert bench_risk.operating_point(curves) is None   # a renderer the rule names is missing
