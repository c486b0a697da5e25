"""Speech text: what the user hears for a Reading.

A phone number is said digit by digit, in the groups as written, with a comma (a short pause in
any text-to-speech voice) between groups: "zero six, one two three four, five six seven eight",
never "six hundred twelve million ...". A listener copies a number digit by digit, and a pause
where the writer left a gap lets them check it group by group.

Then, for each uncertain digit, a sentence naming the candidates ("The fifth digit may be a four
or a nine."); then, when nothing or only part was read, the reason as advice ("Move closer."),
or where a mark left out between the digits may be a digit ("The mark after the third digit
may be a one.").

Languages: full word tables for English, Dutch, German and French. Any other language that
espeak-ng has: the digits are passed as separate tokens ("0 6, 1 2 3 4") so that the voice
speaks them in its own language, and the few surrounding sentences fall back to English words
(see docs/speech.md). `lang` is a parameter of every function here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .reading import (
    REASON_CUT_BOTTOM, REASON_CUT_LEFT, REASON_CUT_RIGHT, REASON_CUT_TOP, REASON_NO_DIGITS,
    REASON_TOO_FEW_DIGITS, REASON_TOO_MANY_DIGITS, REASON_WORD_LEFT_OUT, REASON_MARK_MAY_BE_DIGIT,
    REASON_NO_WRITING, REASON_TOO_BLURRY, REASON_TOO_BRIGHT, REASON_TOO_DARK, REASON_TOO_SMALL,
    Reading,
)

# Uncertain digits said one sentence each, up to this many; past it, one sentence says how many
# more there are (a list of eight doubts is noise, not help).
MAX_SPOKEN_UNCERTAIN = 3
# Alternatives said per uncertain digit (besides the chosen one), and the least probability an
# alternative needs to be worth saying.
MAX_SPOKEN_ALTERNATIVES = 2
MIN_SPOKEN_ALTERNATIVE = 0.05
# A run of digits written without any gap is split for listening when longer than this
# (ten digits in one breath cannot be followed); chunks are 3 or 4 digits.
MAX_UNBROKEN_GROUP = 5
CHUNK = 4

# Problems that phone.py reports about a number (see phone.check_reading).
PROBLEM_INVALID = "invalid"
PROBLEM_TOO_SHORT = "too short"
PROBLEM_TOO_LONG = "too long"
# An international number ("+" read before it) whose first digits are no country's code.
PROBLEM_NO_COUNTRY = "no country"
PROBLEMS = (PROBLEM_INVALID, PROBLEM_TOO_SHORT, PROBLEM_TOO_LONG, PROBLEM_NO_COUNTRY)

LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


@dataclass(frozen=True)
class WordTable:
    """The words of one language. Sentences are str.format templates."""

    digits: tuple[str, ...]            # "zero" .. "nine"
    articles: tuple[str, ...]          # per digit: "a" / "an" ("an eight"), "" where none
    ordinals: tuple[str, ...]          # "first" .. ; positions past the end use ordinal_other
    ordinal_other: str                 # "{n}th"-style fallback: "number {n}"
    may_be: str                        # "the {ordinal} digit may be {choices}"
    unclear: str                       # one candidate only: "the {ordinal} digit is unclear, maybe {choice}"
    more_unclear: str                  # "{n} more digits are unclear"
    more_unclear_one: str              # "one more digit is unclear"
    or_word: str                       # "or"
    plus: str                          # said before an international number's digits: "plus"
    reasons: dict[str, str]            # REASON_* code -> advice
    mark_after: str                    # Reading.doubtful_marks: "the mark after the {ordinal}
                                       # digit may be {choice}" ({n}: the digit's number)
    cannot_read: str                   # reason unknown or missing
    problems: dict[str, str]           # PROBLEM_* -> "this is not a valid number for {country}"
    native: bool = True                # False: digits as tokens for the espeak-ng voice


_EN = WordTable(
    digits=("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    articles=("a", "a", "a", "a", "a", "a", "a", "a", "an", "a"),
    ordinals=("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
              "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
              "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"),
    ordinal_other="number {n}",
    may_be="the {ordinal} digit may be {choices}",
    unclear="the {ordinal} digit is unclear, maybe {choice}",
    more_unclear="{n} more digits are unclear",
    more_unclear_one="one more digit is unclear",
    or_word="or",
    plus="plus",
    reasons={
        REASON_NO_WRITING: "I see no writing",
        REASON_TOO_DARK: "it is too dark, find more light",
        REASON_TOO_BRIGHT: "there is too much light, tilt the phone away from the glare",
        REASON_TOO_BLURRY: "hold the phone steady",
        REASON_TOO_SMALL: "move closer",
        REASON_CUT_LEFT: "the number is cut off on the left",
        REASON_CUT_RIGHT: "the number is cut off on the right",
        REASON_CUT_TOP: "the number is cut off at the top",
        REASON_CUT_BOTTOM: "the number is cut off at the bottom",
        REASON_NO_DIGITS: "I see writing, but no digits",
        REASON_TOO_FEW_DIGITS: "I read fewer digits than a phone number has",
        REASON_TOO_MANY_DIGITS: "I read more digits than a phone number has",
        REASON_WORD_LEFT_OUT: "I left out writing before the number",
        REASON_MARK_MAY_BE_DIGIT: "a mark between the digits may be a digit",
    },
    mark_after="the mark after the {ordinal} digit may be {choice}",
    cannot_read="I cannot read a number",
    problems={
        PROBLEM_INVALID: "this is not a valid number for {country}",
        PROBLEM_TOO_SHORT: "this number is too short for {country}",
        PROBLEM_TOO_LONG: "this number is too long for {country}",
        PROBLEM_NO_COUNTRY: "no country has this country code",
    },
)

_NL = WordTable(
    # "één" with accents: espeak-ng reads a bare "een" as the article ("un").
    digits=("nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"),
    articles=("een",) * 10,
    ordinals=("eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste",
              "negende", "tiende", "elfde", "twaalfde", "dertiende", "veertiende", "vijftiende",
              "zestiende", "zeventiende", "achttiende", "negentiende", "twintigste"),
    ordinal_other="nummer {n}",
    may_be="het {ordinal} cijfer is misschien {choices}",
    unclear="het {ordinal} cijfer is onduidelijk, misschien {choice}",
    more_unclear="nog {n} cijfers zijn onduidelijk",
    more_unclear_one="nog één cijfer is onduidelijk",
    or_word="of",
    plus="plus",
    reasons={
        REASON_NO_WRITING: "ik zie geen schrift",
        REASON_TOO_DARK: "het is te donker, zoek meer licht",
        REASON_TOO_BRIGHT: "er is te veel licht, kantel de telefoon weg van de schittering",
        REASON_TOO_BLURRY: "houd de telefoon stil",
        REASON_TOO_SMALL: "kom dichterbij",
        REASON_CUT_LEFT: "het nummer valt links buiten beeld",
        REASON_CUT_RIGHT: "het nummer valt rechts buiten beeld",
        REASON_CUT_TOP: "het nummer valt boven buiten beeld",
        REASON_CUT_BOTTOM: "het nummer valt onder buiten beeld",
        REASON_NO_DIGITS: "ik zie schrift, maar geen cijfers",
        REASON_TOO_FEW_DIGITS: "ik lees minder cijfers dan een telefoonnummer heeft",
        REASON_TOO_MANY_DIGITS: "ik lees meer cijfers dan een telefoonnummer heeft",
        REASON_WORD_LEFT_OUT: "ik heb schrift voor het nummer weggelaten",
        REASON_MARK_MAY_BE_DIGIT: "een teken tussen de cijfers is misschien een cijfer",
    },
    mark_after="het teken na het {ordinal} cijfer is misschien {choice}",
    cannot_read="ik kan geen nummer lezen",
    problems={
        PROBLEM_INVALID: "dit is geen geldig nummer voor {country}",
        PROBLEM_TOO_SHORT: "dit nummer is te kort voor {country}",
        PROBLEM_TOO_LONG: "dit nummer is te lang voor {country}",
        PROBLEM_NO_COUNTRY: "geen land heeft deze landcode",
    },
)

_DE = WordTable(
    # "zwo" is what German speakers say for 2 on the phone, so it is not mistaken for "drei".
    digits=("null", "eins", "zwo", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    articles=("eine",) * 10,
    ordinals=("erste", "zweite", "dritte", "vierte", "fünfte", "sechste", "siebte", "achte",
              "neunte", "zehnte", "elfte", "zwölfte", "dreizehnte", "vierzehnte", "fünfzehnte",
              "sechzehnte", "siebzehnte", "achtzehnte", "neunzehnte", "zwanzigste"),
    ordinal_other="Nummer {n}",
    may_be="die {ordinal} Ziffer ist vielleicht {choices}",
    unclear="die {ordinal} Ziffer ist undeutlich, vielleicht {choice}",
    more_unclear="{n} weitere Ziffern sind undeutlich",
    more_unclear_one="eine weitere Ziffer ist undeutlich",
    or_word="oder",
    plus="plus",
    reasons={
        REASON_NO_WRITING: "ich sehe keine Schrift",
        REASON_TOO_DARK: "es ist zu dunkel, suche mehr Licht",
        REASON_TOO_BRIGHT: "es ist zu hell, kippe das Telefon weg vom Glanz",
        REASON_TOO_BLURRY: "halte das Telefon ruhig",
        REASON_TOO_SMALL: "geh näher heran",
        REASON_CUT_LEFT: "die Nummer ist links abgeschnitten",
        REASON_CUT_RIGHT: "die Nummer ist rechts abgeschnitten",
        REASON_CUT_TOP: "die Nummer ist oben abgeschnitten",
        REASON_CUT_BOTTOM: "die Nummer ist unten abgeschnitten",
        REASON_NO_DIGITS: "ich sehe Schrift, aber keine Ziffern",
        REASON_TOO_FEW_DIGITS: "ich lese weniger Ziffern, als eine Telefonnummer hat",
        REASON_TOO_MANY_DIGITS: "ich lese mehr Ziffern, als eine Telefonnummer hat",
        REASON_WORD_LEFT_OUT: "ich habe Schrift vor der Nummer weggelassen",
        REASON_MARK_MAY_BE_DIGIT: "ein Zeichen zwischen den Ziffern ist vielleicht eine Ziffer",
    },
    mark_after="das Zeichen nach Ziffer {n} ist vielleicht {choice}",
    cannot_read="ich kann keine Nummer lesen",
    problems={
        PROBLEM_INVALID: "das ist keine gültige Nummer für {country}",
        PROBLEM_TOO_SHORT: "diese Nummer ist zu kurz für {country}",
        PROBLEM_TOO_LONG: "diese Nummer ist zu lang für {country}",
        PROBLEM_NO_COUNTRY: "kein Land hat diese Ländervorwahl",
    },
)

_FR = WordTable(
    digits=("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    articles=("un",) * 10,
    ordinals=("premier", "deuxième", "troisième", "quatrième", "cinquième", "sixième",
              "septième", "huitième", "neuvième", "dixième", "onzième", "douzième", "treizième",
              "quatorzième", "quinzième", "seizième", "dix-septième", "dix-huitième",
              "dix-neuvième", "vingtième"),
    ordinal_other="numéro {n}",
    may_be="le {ordinal} chiffre est peut-être {choices}",
    unclear="le {ordinal} chiffre n'est pas clair, peut-être {choice}",
    more_unclear="{n} autres chiffres ne sont pas clairs",
    more_unclear_one="un autre chiffre n'est pas clair",
    or_word="ou",
    plus="plus",
    reasons={
        REASON_NO_WRITING: "je ne vois pas d'écriture",
        REASON_TOO_DARK: "il fait trop sombre, cherchez plus de lumière",
        REASON_TOO_BRIGHT: "il y a trop de lumière, inclinez le téléphone",
        REASON_TOO_BLURRY: "tenez le téléphone immobile",
        REASON_TOO_SMALL: "rapprochez-vous",
        REASON_CUT_LEFT: "le numéro est coupé à gauche",
        REASON_CUT_RIGHT: "le numéro est coupé à droite",
        REASON_CUT_TOP: "le numéro est coupé en haut",
        REASON_CUT_BOTTOM: "le numéro est coupé en bas",
        REASON_NO_DIGITS: "je vois de l'écriture, mais pas de chiffres",
        REASON_TOO_FEW_DIGITS: "je lis moins de chiffres qu'un numéro de téléphone n'en a",
        REASON_TOO_MANY_DIGITS: "je lis plus de chiffres qu'un numéro de téléphone n'en a",
        REASON_WORD_LEFT_OUT: "j'ai laissé de côté l'écriture avant le numéro",
        REASON_MARK_MAY_BE_DIGIT: "un signe entre les chiffres est peut-être un chiffre",
    },
    mark_after="le signe après le {ordinal} chiffre est peut-être {choice}",
    cannot_read="je ne peux pas lire de numéro",
    problems={
        PROBLEM_INVALID: "ce n'est pas un numéro valide pour {country}",
        PROBLEM_TOO_SHORT: "ce numéro est trop court pour {country}",
        PROBLEM_TOO_LONG: "ce numéro est trop long pour {country}",
        PROBLEM_NO_COUNTRY: "aucun pays n'a cet indicatif",
    },
)

WORD_TABLES: dict[str, WordTable] = {"en": _EN, "nl": _NL, "de": _DE, "fr": _FR}

# Languages without a table: the voice says the digit tokens itself; sentences in English.
_TOKENS = WordTable(
    digits=tuple("0123456789"), articles=("",) * 10, ordinals=_EN.ordinals,
    ordinal_other=_EN.ordinal_other, may_be=_EN.may_be, unclear=_EN.unclear,
    more_unclear=_EN.more_unclear, more_unclear_one=_EN.more_unclear_one, or_word=_EN.or_word, plus="+", reasons=_EN.reasons,
    mark_after=_EN.mark_after,
    cannot_read=_EN.cannot_read, problems=_EN.problems, native=False,
)


def normalise_lang(lang: str) -> str:
    """'NL', 'nl_NL', 'en-GB' -> 'nl', 'nl-nl', 'en-gb'. Raises ValueError on what is not a tag."""
    if not isinstance(lang, str):
        raise TypeError(f"expected a language code such as 'en' or 'nl', got {type(lang).__name__}")
    tag = lang.strip().lower().replace("_", "-")
    if not LANGUAGE_TAG.match(tag):
        raise ValueError(f"expected a language code such as 'en', 'nl' or 'pt-br', got {lang!r}")
    return tag


def word_table(lang: str) -> WordTable:
    """The word table for `lang` ('nl-be' uses 'nl'); digit tokens where there is none."""
    tag = normalise_lang(lang)
    return WORD_TABLES.get(tag, WORD_TABLES.get(tag.split("-")[0], _TOKENS))


def has_word_table(lang: str) -> bool:
    return word_table(lang).native


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def split_for_listening(digits: str) -> tuple[str, ...]:
    """Split a run of digits written without gaps into chunks of 3-4 for the ear.

    '0612345678' -> ('061', '234', '5678'); runs up to MAX_UNBROKEN_GROUP stay whole.
    Longer chunks go last, as in most national formats (3-3-4, 2-3-3-4...).
    """
    n = len(digits)
    if n <= MAX_UNBROKEN_GROUP:
        return (digits,) if digits else ()
    parts = -(-n // CHUNK)
    sizes = [n // parts] * parts
    for i in range(n % parts):
        sizes[-1 - i] += 1
    out, pos = [], 0
    for size in sizes:
        out.append(digits[pos:pos + size])
        pos += size
    return tuple(out)


def regroup(groups: tuple[str, ...], digits: str) -> tuple[str, ...]:
    """The group lengths of `groups` laid over other digits of the same total length.

    ('06', '1234') over '0799999' -> ('07', '99999'); one group of `digits` when lengths differ.
    """
    out, pos = [], 0
    for g in groups:
        out.append(digits[pos:pos + len(g)])
        pos += len(g)
    return tuple(out) if pos == len(digits) else (digits,)


def spoken_groups(reading: Reading) -> tuple[str, ...]:
    """The groups to speak: as written; one long unbroken run is split for listening."""
    groups = tuple(g for g in reading.groups if g)
    if "".join(groups) != reading.digits:  # no or inconsistent grouping: trust the digits
        groups = (reading.digits,) if reading.digits else ()
    if len(groups) == 1:
        return split_for_listening(groups[0])
    return groups


def digits_text(groups: tuple[str, ...] | list[str], lang: str = "en") -> str:
    """'06', '1234' -> 'zero six, one two three four' (or '0 6, 1 2 3 4' for token languages)."""
    table = word_table(lang)
    return ", ".join(" ".join(table.digits[int(d)] for d in group) for group in groups if group)


def ordinal(position: int, lang: str = "en") -> str:
    """0-based position -> 'first', 'second', ... in `lang`."""
    table = word_table(lang)
    if 0 <= position < len(table.ordinals):
        return table.ordinals[position]
    return table.ordinal_other.format(n=position + 1)


def _choice(digit: str, table: WordTable) -> str:
    d = int(digit)
    return f"{table.articles[d]} {table.digits[d]}".strip()


def uncertain_sentences(reading: Reading, lang: str = "en") -> list[str]:
    """One sentence per uncertain digit: 'The fifth digit may be a four or a nine.'"""
    table = word_table(lang)
    out = []
    positions = [p for p in reading.uncertain if 0 <= p < len(reading.digits)]
    for position in positions[:MAX_SPOKEN_UNCERTAIN]:
        chosen = reading.digits[position]
        others = [d for d, p in reading.alternatives.get(position, ())
                  if p >= MIN_SPOKEN_ALTERNATIVE and d != chosen and len(d) == 1 and d.isdigit()]
        choices = [chosen] + others[:MAX_SPOKEN_ALTERNATIVES]
        words = [_choice(d, table) for d in choices]
        if len(words) == 1:
            out.append(_sentence(table.unclear.format(ordinal=ordinal(position, lang), choice=words[0])))
        else:
            listed = ", ".join(words[:-1]) + f" {table.or_word} " + words[-1]
            out.append(_sentence(table.may_be.format(ordinal=ordinal(position, lang), choices=listed)))
    more = len(positions) - MAX_SPOKEN_UNCERTAIN
    if more > 0:
        out.append(_sentence(table.more_unclear_one if more == 1 else table.more_unclear.format(n=more)))
    return out


def mark_sentences(reading: Reading, lang: str = "en") -> list[str]:
    """One sentence per doubtful mark (Reading.doubtful_marks), up to MAX_SPOKEN_UNCERTAIN:
    'The mark after the third digit may be a one.'"""
    table = word_table(lang)
    marks = [(i, d) for i, d in reading.doubtful_marks
             if 0 < i < len(reading.digits) and len(d) == 1 and d.isdigit()]
    return [_sentence(table.mark_after.format(ordinal=ordinal(i - 1, lang), n=i,
                                              choice=_choice(d, table)))
            for i, d in marks[:MAX_SPOKEN_UNCERTAIN]]


def reason_text(reason: str | None, lang: str = "en") -> str:
    """A REASON_* code from edgedigits.reading as advice in words: 'Move closer.'"""
    table = word_table(lang)
    return _sentence(table.reasons.get(reason, table.cannot_read) if reason else table.cannot_read)


def problem_text(problem: str, country: str, lang: str = "en") -> str:
    """A PROBLEM_* from phone.py as a sentence: 'This is not a valid number for Netherlands.'"""
    table = word_table(lang)
    return _sentence(table.problems.get(problem, table.problems[PROBLEM_INVALID]).format(country=country))


def speech_text(reading: Reading, lang: str = "en", *, problem: str | None = None,
                country: str | None = None) -> str:
    """Everything said for one Reading, in `lang`.

    problem/country: from phone.check_reading, to say that the number is not valid for the
    region ("This number is too short for the Netherlands.").
    """
    if not isinstance(reading, Reading):
        raise TypeError(f"expected an edgedigits.Reading, got {type(reading).__name__}")
    sentences = []
    if reading.digits:
        if not reading.digits.isdigit():
            raise ValueError(f"expected Reading.digits to hold digits only, got {reading.digits!r}")
        said = digits_text(spoken_groups(reading), lang)
        if reading.plus:  # "+31 6 ...": an international number
            said = f"{word_table(lang).plus} {said}"
        sentences.append(_sentence(said))
        sentences.extend(uncertain_sentences(reading, lang))
        if problem is not None and (country or problem == PROBLEM_NO_COUNTRY):
            sentences.append(problem_text(problem, country or "", lang))
        if reading.reason == REASON_MARK_MAY_BE_DIGIT and reading.doubtful_marks:
            sentences.extend(mark_sentences(reading, lang))
        elif reading.reason:  # partial reading: say why the rest is missing
            sentences.append(reason_text(reading.reason, lang))
    else:
        sentences.append(reason_text(reading.reason, lang))
    return " ".join(sentences)
