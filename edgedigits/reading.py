"""The result of reading a photo: a frozen dataclass, shared by the reader, speech and the CLI."""
from __future__ import annotations

from dataclasses import dataclass, field

# A digit whose chosen class has a probability below this is reported in `Reading.uncertain`
# (and spoken as "may be a ... or a ..."). Chosen on validation photos of both photo renderers
# with the shipped ensemble: the smallest threshold with at most 1% of numbers silently wrong
# on the project's own renderer and 2% on the second (`python tools/bench.py risk`, MAX_SILENT;
# docs/reader.md).
UNCERTAIN_BELOW = 0.97

# Reasons a Reading is empty or partial. Speech turns these codes into words.
REASON_NO_WRITING = "no writing found"
REASON_TOO_DARK = "too dark"
REASON_TOO_BRIGHT = "too bright"
REASON_TOO_BLURRY = "too blurry"
REASON_TOO_SMALL = "writing too small"
REASON_CUT_LEFT = "number cut off at the left edge"
REASON_CUT_RIGHT = "number cut off at the right edge"
REASON_CUT_TOP = "number cut off at the top edge"
REASON_CUT_BOTTOM = "number cut off at the bottom edge"
REASON_NO_DIGITS = "marks found but no digits recognised"
# What was read has fewer digits than any phone number (7, a local number without its area
# code), or more than any (15, E.164's longest): part of a number, or more than one thing.
REASON_TOO_FEW_DIGITS = "fewer digits than a phone number"
REASON_TOO_MANY_DIGITS = "more digits than a phone number"
# Writing before the number on its line (a word: "Tel.", a name) was read as unsure digits and
# left out.
REASON_WORD_LEFT_OUT = "writing before the number left out"
# A mark between the digits was read as a separator by its shape (a "/", a "+"), but the
# classifier reads it as more likely a digit than not: a digit may be missing from the reading
# (Reading.doubtful_marks says where).
REASON_MARK_MAY_BE_DIGIT = "a mark between the digits may be a digit"
# Reasons that describe the number as read, said with it, not advice about the photo (camera
# mode does not offer them as guidance; its vote keeps the one most frames give).
REASONS_SAID_WITH_THE_NUMBER = (REASON_WORD_LEFT_OUT, REASON_MARK_MAY_BE_DIGIT)
# The number touches an edge of the photo: what was read is partial.
REASONS_CUT_OFF = (REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_CUT_TOP, REASON_CUT_BOTTOM)

REASONS = (
    REASON_NO_WRITING, REASON_TOO_DARK, REASON_TOO_BRIGHT, REASON_TOO_BLURRY, REASON_TOO_SMALL,
    REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_CUT_TOP, REASON_CUT_BOTTOM, REASON_NO_DIGITS,
    REASON_TOO_FEW_DIGITS, REASON_TOO_MANY_DIGITS, REASON_WORD_LEFT_OUT, REASON_MARK_MAY_BE_DIGIT,
)


@dataclass(frozen=True)
class Reading:
    """One line of digits read from an image.

    digits: the digits only, in reading order ("0612345678").
    groups: the digits split as written, at gaps and separators ("06", "1234", "5678");
        "".join(groups) == digits.
    confidences: per digit, the probability of the chosen class.
    uncertain: positions (0-based, into `digits`) whose confidence is below UNCERTAIN_BELOW.
    alternatives: for each uncertain position, the next most likely digits with probabilities,
        most likely first: {4: (("9", 0.31), ("7", 0.05))}.
    boxes: per digit, (x, y, w, h) in the input image's pixel coordinates.
    reason: why nothing or only part was read (one of REASONS), else None.
    not_digit: per digit, the probability that the mark is no digit at all (a letter of a
        word, a separator, a scribble), from the classifier's character classes
        (edgedigits/classes.py); 0 where the model has none.
    plus: a "+" was written before the first digit: an international number, whose first
        digits are its country code.
    separators: the separator marks ("-", ".", "/", "(", ")", "+") written before the first
        group, between each group and the next ("" where only a space parts them) and after
        the last: len(groups) + 1 strings, or () where unknown.
    doubtful_marks: (i, digit) for each mark just before digit i (1 to len(digits) - 1) that
        was left out as a separator although the classifier reads it as more likely a digit,
        and the digit it reads it as: ((4, "1"),) (REASON_MARK_MAY_BE_DIGIT).
    """

    digits: str = ""
    groups: tuple[str, ...] = ()
    confidences: tuple[float, ...] = ()
    uncertain: tuple[int, ...] = ()
    alternatives: dict[int, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    reason: str | None = None
    not_digit: tuple[float, ...] = ()
    plus: bool = False
    separators: tuple[str, ...] = ()
    doubtful_marks: tuple[tuple[int, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.digits)

    @classmethod
    def empty(cls, reason: str) -> "Reading":
        return cls(reason=reason)
