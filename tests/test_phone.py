"""Phone-number rules from phonenumbers: validity, format, choosing among uncertain digits."""
import dataclasses

import pytest

from edgedigits import phone, speech
from edgedigits.reading import Reading


def reading(digits, groups=None, uncertain=None, alternatives=None):
    uncertain = uncertain or {}
    conf = tuple(uncertain.get(i, 0.99) for i in range(len(digits)))
    return Reading(digits=digits, groups=tuple(groups or (digits,)), confidences=conf,
                   uncertain=tuple(sorted(uncertain)), alternatives=alternatives or {})


def test_formats_groups_when_the_writing_has_none():
    check = phone.check_reading(reading("0612345678"), "NL")
    assert check.valid and check.problem is None and check.e164 == "+31612345678"
    assert check.reading.groups == ("06", "1234", "5678")
    us = phone.check_reading(reading("2025550123"), "us")
    assert us.valid and us.reading.groups == ("202", "555", "0123")


def test_written_groups_are_kept():
    check = phone.check_reading(reading("0612345678", groups=("061", "234", "56", "78")), "NL")
    assert check.reading.groups == ("061", "234", "56", "78")


def test_international_prefix_digits_stay_in_the_groups():
    check = phone.check_reading(reading("0031612345678"), "NL")
    assert check.valid and "".join(check.reading.groups) == "0031612345678"
    assert check.reading.groups[:2] == ("00", "31")


def test_chooses_the_alternative_that_makes_a_valid_number():
    # 08... is not a Dutch number; the reader thought the second digit might be a 6.
    r = reading("0812345678", uncertain={1: 0.6}, alternatives={1: (("6", 0.35),)})
    check = phone.check_reading(r, "NL")
    assert check.reading.digits == "0612345678" and check.changed == (1,)
    assert check.reading.alternatives[1][0][0] == "8"  # the first reading is now the doubt
    assert 1 in check.reading.uncertain
    assert "The second digit may be a six or an eight." in speech.speech_text(check.reading)


def test_never_changes_a_confident_digit():
    # The same wrong digit, but confident: nothing may change, and the number is said invalid.
    r = reading("0812345678", alternatives={1: (("6", 0.35),)})
    check = phone.check_reading(r, "NL")
    assert check.reading.digits == "0812345678" and check.changed == ()
    assert check.valid is False and check.problem == speech.PROBLEM_INVALID


def test_keeps_a_valid_reading_even_if_an_alternative_is_valid_too():
    r = reading("0612345678", uncertain={5: 0.7}, alternatives={5: (("9", 0.25),)})
    assert phone.check_reading(r, "NL").reading.digits == "0612345678"


def test_an_international_number_is_checked_without_a_region():
    plus = dataclasses.replace(reading("31612345678"), plus=True)  # "+31612345678"
    check = phone.check_reading(plus, None)
    assert check.valid and check.region == "NL" and check.e164 == "+31612345678"
    assert check.reading.groups == ("31", "6", "1234", "5678")
    canada = phone.check_reading(dataclasses.replace(reading("14165550123"), plus=True), None)
    assert canada.valid and canada.region == "CA"  # country code 1: the number says which
    # without the "+", a region is needed: nothing is said
    assert phone.check_reading(reading("31612345678"), None).valid is None


def test_an_international_number_missing_a_digit_is_said_invalid_for_its_country():
    short = dataclasses.replace(reading("3161234567"), plus=True)  # a digit lost
    check = phone.check_reading(short, None)
    assert check.valid is False and check.problem is not None and check.country == "Netherlands"
    text = speech.speech_text(check.reading, problem=check.problem, country=check.country)
    assert "Netherlands" in text


def test_an_international_number_with_no_country_code_says_so():
    check = phone.check_reading(dataclasses.replace(reading("99912345678"), plus=True), None, "nl")
    assert check.valid is False and check.problem == speech.PROBLEM_NO_COUNTRY
    text = speech.speech_text(check.reading, "nl", problem=check.problem, country=check.country)
    assert "geen land heeft deze landcode" in text.lower()


def test_an_international_number_chooses_the_alternative_that_makes_it_valid():
    # "+37 6 ..." read for "+31 6 ...": +376 (Andorra) has no such number, +31 6 is a mobile
    r = dataclasses.replace(reading("37612345678", uncertain={1: 0.6},
                                    alternatives={1: (("1", 0.3),)}), plus=True)
    check = phone.check_reading(r, None)
    assert check.reading.digits == "31612345678" and check.changed == (1,) and check.valid


def test_too_short_and_too_long():
    assert phone.number_problem("202555", "US") == speech.PROBLEM_TOO_SHORT
    assert phone.number_problem("20255501234567", "US") == speech.PROBLEM_TOO_LONG
    check = phone.check_reading(reading("202555"), "US", lang="nl")
    assert check.valid is False and check.country == "Verenigde Staten"
    text = speech.speech_text(check.reading, "nl", problem=check.problem, country=check.country)
    assert text.endswith("Dit nummer is te kort voor Verenigde Staten.")


def test_no_region_and_empty_reading_check_nothing():
    assert phone.check_reading(reading("0812345678"), None).valid is None
    assert phone.check_reading(Reading.empty("no writing found"), "NL").valid is None


def test_unknown_region_is_a_clear_error():
    with pytest.raises(ValueError, match="region code"):
        phone.check_reading(reading("0612345678"), "XX")
    with pytest.raises(TypeError):
        phone.normalise_region(31)
