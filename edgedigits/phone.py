"""Phone-number knowledge for a Reading, from `phonenumbers` (the Python port of Google's
libphonenumber), given an optional default region ("NL", "US", ...).

- Check the length and prefix: is the number valid for the region, else too short, too long, or
  simply not a number there (said to the user: they may have missed or misread a digit).
- Format the groups when the writing has none: "0612345678" -> "06", "1234", "5678".
- Choose among the alternatives of uncertain digits: the most probable combination that is a
  valid number. Confident digits are never changed; without a valid combination nothing is.

Given a region, a "+" or "00" before a country code may have been lost or kept as digits, so
both readings are tried. Without a region, a number read after a "+" (Reading.plus) is checked
as the international number it is: its country code names its country (or none: said so).
Otherwise nothing here applies without a region, and callers skip it.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import re
from dataclasses import dataclass

import phonenumbers

from .reading import Reading
from .speech import (PROBLEM_INVALID, PROBLEM_NO_COUNTRY, PROBLEM_TOO_LONG, PROBLEM_TOO_SHORT,
                     regroup, split_for_listening)

# An alternative digit is tried only when the reader gave it at least this probability.
MIN_ALTERNATIVE_PROB = 0.05
# Bound the search over combinations: the least confident positions, a few options each
# (3 ** 6 = 729 candidates at most, each a microsecond-scale phonenumbers check).
MAX_SEARCH_POSITIONS = 6
MAX_OPTIONS_PER_POSITION = 3
# Digits before a country code that stand for "+" (the international call prefix, "00" in most
# of the world, "011" from North America) are at most this long.
MAX_IDD_PREFIX = 4


@dataclass(frozen=True)
class PhoneCheck:
    """What phone-number knowledge made of a Reading.

    reading: the Reading with alternatives chosen and groups formatted (else as given).
    valid: True/False for the region; None when there was nothing to check.
    problem: None when valid, else PROBLEM_INVALID / PROBLEM_TOO_SHORT / PROBLEM_TOO_LONG, or
        PROBLEM_NO_COUNTRY for an international number whose code is no country's.
    country: the region's name in the language asked ("Netherlands", "Nederland").
    e164: "+31612345678" when valid.
    changed: positions whose digit was replaced by an alternative.
    """

    reading: Reading
    region: str | None
    valid: bool | None
    problem: str | None = None
    country: str | None = None
    e164: str | None = None
    changed: tuple[int, ...] = ()


def normalise_region(region: str | None) -> str | None:
    """'nl' -> 'NL'; None stays None; raises ValueError for a region phonenumbers does not know."""
    if region is None:
        return None
    if not isinstance(region, str):
        raise TypeError(f"expected a region code such as 'NL' or 'US', got {type(region).__name__}")
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r}: expected a two-letter region code such as "
                         f"'NL', 'US' or 'GB'")
    return code


def region_name(region: str, lang: str = "en") -> str:
    """The region's name in `lang` ("NL" -> "Netherlands" / "Nederland"); the code if unknown."""
    try:
        from phonenumbers import geocoder
        name = getattr(geocoder, "_region_display_name", None)  # no public API for this
        return (name(region, lang.split("-")[0]) if name else "") or region
    except Exception:  # noqa: BLE001 - a missing translation must never stop the speech
        return region


def _parse(digits: str, region: str | None, plus: bool = False) -> phonenumbers.PhoneNumber | None:
    """Parse as a national number, or as an international one whose '+' was not read; with
    plus (a '+' was read), as an international number only."""
    national = None
    for text in ("+" + digits,) if plus else (digits, "+" + digits):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
        national = national or number
    return national


def is_valid(digits: str, region: str | None, plus: bool = False) -> bool:
    number = _parse(digits, region, plus) if digits else None
    return number is not None and phonenumbers.is_valid_number(number)


def number_problem(digits: str, region: str | None, plus: bool = False) -> str | None:
    """None when `digits` is a valid number for `region` (with plus: a valid international
    number), else a PROBLEM_* code."""
    number = _parse(digits, region, plus) if digits else None
    if number is None:
        return PROBLEM_TOO_SHORT if len(digits) < 3 else PROBLEM_INVALID
    if phonenumbers.is_valid_number(number):
        return None
    why = phonenumbers.is_possible_number_with_reason(number)
    if why == phonenumbers.ValidationResult.TOO_SHORT:
        return PROBLEM_TOO_SHORT
    if why == phonenumbers.ValidationResult.TOO_LONG:
        return PROBLEM_TOO_LONG
    return PROBLEM_INVALID


def format_groups(digits: str, region: str | None, plus: bool = False) -> tuple[str, ...] | None:
    """The groups of the region's usual format, when the digits are a valid number.

    The groups always join back to `digits` exactly (a format that adds or drops a digit, such
    as a national prefix, is not used); groups longer than the ear follows are split.
    """
    number = _parse(digits, region, plus)
    if number is None or not phonenumbers.is_valid_number(number):
        return None
    for fmt in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
        groups = tuple(re.findall(r"\d+", phonenumbers.format_number(number, fmt)))
        joined = "".join(groups)
        prefix = digits[:len(digits) - len(joined)]
        if digits.endswith(joined) and (prefix == "" or (len(prefix) <= MAX_IDD_PREFIX
                                                        and prefix.startswith("0"))):
            groups = ((prefix,) if prefix else ()) + groups
            return tuple(chunk for group in groups for chunk in split_for_listening(group))
    return None


def _options(reading: Reading, position: int) -> list[tuple[str, float]]:
    chosen = reading.digits[position]
    conf = reading.confidences[position] if position < len(reading.confidences) else 1.0
    options = [(chosen, float(conf))]
    for digit, prob in reading.alternatives.get(position, ()):
        if (prob >= MIN_ALTERNATIVE_PROB and len(digit) == 1 and digit.isdigit()
                and digit not in (d for d, _ in options)):
            options.append((digit, float(prob)))
    return options[:MAX_OPTIONS_PER_POSITION]


def choose_alternatives(reading: Reading, region: str | None,
                        plus: bool = False) -> tuple[Reading, tuple[int, ...]]:
    """Replace uncertain digits by alternatives when that makes the only valid number.

    Candidates are tried in order of joint probability (product of the per-digit
    probabilities); the first valid one wins. Only positions listed in `reading.uncertain` are
    touched. Returns the (possibly new) Reading and the positions changed.
    """
    if not reading.digits or is_valid(reading.digits, region, plus):
        return reading, ()
    positions = [p for p in reading.uncertain if 0 <= p < len(reading.digits)]
    conf = {p: reading.confidences[p] if p < len(reading.confidences) else 1.0 for p in positions}
    positions = sorted(sorted(positions, key=lambda p: conf[p])[:MAX_SEARCH_POSITIONS])
    options = [_options(reading, p) for p in positions]
    if not any(len(o) > 1 for o in options):
        return reading, ()
    candidates = []
    for combo in itertools.product(*options):
        logp = sum(math.log(max(prob, 1e-12)) for _, prob in combo)
        candidates.append((-logp, combo))
    candidates.sort(key=lambda c: c[0])
    for _, combo in candidates:
        digits = list(reading.digits)
        for p, (d, _) in zip(positions, combo):
            digits[p] = d
        text = "".join(digits)
        if text != reading.digits and is_valid(text, region, plus):
            return _with_digits(reading, positions, combo, options)
    return reading, ()


def _with_digits(reading: Reading, positions, combo, options) -> tuple[Reading, tuple[int, ...]]:
    digits = list(reading.digits)
    confidences = list(reading.confidences)
    alternatives = dict(reading.alternatives)
    changed = []
    for p, (d, prob), opts in zip(positions, combo, options):
        if d == digits[p]:
            continue
        changed.append(p)
        digits[p] = d
        if p < len(confidences):
            confidences[p] = prob
        rest = [(o, q) for o, q in opts if o != d]
        rest += [(o, q) for o, q in reading.alternatives.get(p, ()) if o != d and o not in dict(rest)]
        alternatives[p] = tuple(sorted(rest, key=lambda oq: -oq[1]))
    text = "".join(digits)
    groups = regroup(reading.groups, text)
    return dataclasses.replace(reading, digits=text, groups=groups, confidences=tuple(confidences),
                               alternatives=alternatives), tuple(changed)


def _country(digits: str) -> str | None:
    """The region of the country code `digits` begin with ("31..." -> "NL"), None if none."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region == phonenumbers.UNKNOWN_REGION else region


def check_reading(reading: Reading, region: str | None, lang: str = "en") -> PhoneCheck:
    """Apply the region's phone-number rules to a Reading (see the module docstring)."""
    region = normalise_region(region)
    plus = region is None and reading.plus and bool(reading.digits)
    if plus:  # an international number: its country code says whose rules apply
        resolved, changed = choose_alternatives(reading, None, plus=True)
        region = _country(resolved.digits)
        if region is None:
            return PhoneCheck(reading=resolved, region=None, valid=False,
                              problem=PROBLEM_NO_COUNTRY, changed=changed)
    elif region is None or not reading.digits:
        return PhoneCheck(reading=reading, region=region, valid=None)
    else:
        resolved, changed = choose_alternatives(reading, region)
    if len([g for g in resolved.groups if g]) <= 1:  # the writing had no groups: use the format
        groups = format_groups(resolved.digits, region, plus)
        if groups:
            resolved = dataclasses.replace(resolved, groups=groups)
    problem = number_problem(resolved.digits, region, plus)
    e164 = None
    if problem is None:
        number = _parse(resolved.digits, region, plus)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        region = phonenumbers.region_code_for_number(number) or region  # "+1 416": Canada
    return PhoneCheck(reading=resolved, region=region, valid=problem is None, problem=problem,
                      country=region_name(region, lang), e164=e164, changed=changed)
