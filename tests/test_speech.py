"""Speech text: digits one by one, in the written groups, doubts and reasons in words."""
from dataclasses import replace

import pytest

from edgedigits import speech
from edgedigits.reading import REASONS, REASON_CUT_RIGHT, REASON_NO_WRITING, REASON_TOO_BLURRY, REASON_TOO_SMALL, Reading


def reading(groups, uncertain=(), alternatives=None, reason=None):
    digits = "".join(groups)
    conf = tuple(0.5 if i in uncertain else 0.99 for i in range(len(digits)))
    return Reading(digits=digits, groups=tuple(groups), confidences=conf, uncertain=tuple(uncertain),
                   alternatives=alternatives or {}, reason=reason)


def test_digit_by_digit_in_written_groups():
    text = speech.speech_text(reading(["06", "1234", "5678"]))
    assert text == "Zero six, one two three four, five six seven eight."
    assert "hundred" not in text and "million" not in text


def test_an_international_number_is_said_with_its_plus():
    r = Reading(digits="31612345678", groups=("31", "6", "12345678"), confidences=(0.999,) * 11,
                boxes=((0, 0, 1, 1),) * 11, plus=True)
    assert speech.speech_text(r, "en").startswith("Plus three one, six, one two")
    assert speech.speech_text(r, "nl").startswith("Plus drie één, zes")
    assert speech.speech_text(r, "es").startswith("+ 3 1, 6")  # the voice says it in Spanish
    assert speech.speech_text(replace(r, plus=False), "en").startswith("Three one, six")


def test_dutch_word_table():
    text = speech.speech_text(reading(["06", "1234", "5678"]), lang="nl")
    assert text == "Nul zes, één twee drie vier, vijf zes zeven acht."


def test_uncertain_digit_said_with_alternative():
    r = reading(["06", "1234", "5678"], uncertain=(4,), alternatives={4: (("9", 0.3), ("7", 0.01))})
    text = speech.speech_text(r)
    assert text.endswith("The fifth digit may be a three or a nine.")
    assert "seven" not in text.split(".")[1]  # 0.01 is below MIN_SPOKEN_ALTERNATIVE
    nl = speech.speech_text(r, lang="nl")
    assert nl.endswith("Het vijfde cijfer is misschien een drie of een negen.")


def test_english_article_before_eight():
    r = reading(["12"], uncertain=(0,), alternatives={0: (("8", 0.4),)})
    assert "may be a one or an eight" in speech.speech_text(r)


def test_uncertain_without_alternatives_and_many_doubts():
    r = reading(["123"], uncertain=(1,))
    assert "The second digit is unclear, maybe a two." in speech.speech_text(r)
    many = reading(["1234567"], uncertain=(0, 1, 2, 3, 4))
    text = speech.speech_text(many)
    assert text.count("is unclear") == speech.MAX_SPOKEN_UNCERTAIN
    assert "2 more digits are unclear" in text


@pytest.mark.parametrize("reason, en, nl", [
    (REASON_NO_WRITING, "I see no writing.", "Ik zie geen schrift."),
    (REASON_TOO_SMALL, "Move closer.", "Kom dichterbij."),
    (REASON_TOO_BLURRY, "Hold the phone steady.", "Houd de telefoon stil."),
    (REASON_CUT_RIGHT, "The number is cut off on the right.", "Het nummer valt rechts buiten beeld."),
])
def test_nothing_read_says_the_reason(reason, en, nl):
    assert speech.speech_text(Reading.empty(reason)) == en
    assert speech.speech_text(Reading.empty(reason), lang="nl") == nl


@pytest.mark.parametrize("lang", sorted(speech.WORD_TABLES))
def test_every_reason_has_words_in_every_table(lang):
    table = speech.WORD_TABLES[lang]
    assert set(REASONS) <= set(table.reasons)
    assert len(table.digits) == 10 and len(table.articles) == 10
    assert set(speech.PROBLEMS) <= set(table.problems)
    # distinct words per digit: a listener must be able to tell every digit apart
    assert len(set(table.digits)) == 10


def test_partial_reading_says_digits_then_reason():
    r = reading(["06", "12"], reason=REASON_CUT_RIGHT)
    assert speech.speech_text(r) == "Zero six, one two. The number is cut off on the right."


def test_unbroken_long_run_is_split_for_listening():
    assert speech.split_for_listening("0612345678") == ("061", "234", "5678")
    assert speech.split_for_listening("12345678") == ("1234", "5678")
    assert speech.split_for_listening("12345") == ("12345",)
    for n in range(1, 20):
        parts = speech.split_for_listening("7" * n)
        assert "".join(parts) == "7" * n
        assert all(len(p) <= max(speech.CHUNK, speech.MAX_UNBROKEN_GROUP) for p in parts)
    assert speech.speech_text(reading(["12345678"])) == "One two three four, five six seven eight."


def test_language_without_table_passes_digit_tokens_to_the_voice():
    text = speech.speech_text(reading(["06", "1234"]), lang="pt-br")
    assert text.startswith("0 6, 1 2 3 4.")
    assert not speech.has_word_table("pt") and speech.has_word_table("nl-BE")
    assert speech.speech_text(reading(["06"]), lang="nl_BE").startswith("Nul zes")


def test_invalid_number_sentence():
    text = speech.speech_text(reading(["061234"]), problem=speech.PROBLEM_TOO_SHORT, country="Netherlands")
    assert text.endswith("This number is too short for Netherlands.")


def test_bad_arguments():
    with pytest.raises(ValueError, match="language code"):
        speech.speech_text(reading(["1"]), lang="english please")
    with pytest.raises(TypeError, match="Reading"):
        speech.speech_text("0612345678")
    with pytest.raises(ValueError, match="digits only"):
        speech.speech_text(Reading(digits="06-12", groups=("06-12",)))


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(groups=st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=5),
       lang=st.sampled_from(sorted(speech.WORD_TABLES) + ["pt", "sv"]))
def test_every_digit_said_once_in_order(groups, lang):
    """Whatever the number, the first sentence is its digits, word for word, nothing else."""
    r = reading(groups)
    first = speech.speech_text(r, lang).split(".")[0]
    words = first.replace(",", " ").lower().split()
    table = speech.word_table(lang)
    back = "".join(str([w.lower() for w in table.digits].index(w)) for w in words)
    assert back == r.digits
    assert first.count(",") == len(speech.spoken_groups(r)) - 1
