"""Text to speech with the real espeak-ng, and the printed fallback where it is missing."""
import os
import subprocess
import sys
import textwrap

import pytest

from edgedigits import tts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_espeak = pytest.mark.skipif(tts.espeak_path() is None,
                                  reason="espeak-ng is not installed (Debian package espeak-ng)")

NUMBER_EN = "Zero six, one two three four, five six seven eight."
NUMBER_NL = "Nul zes, één twee drie vier, vijf zes zeven acht."


@needs_espeak
@pytest.mark.parametrize("lang, text", [("en", NUMBER_EN), ("nl", NUMBER_NL)])
def test_wav_written_with_plausible_duration(tmp_path, lang, text):
    wav = tmp_path / f"number-{lang}.wav"
    result = tts.speak(text, lang, wav=wav)
    assert result.spoken and result.warning is None
    seconds = tts.wav_duration(wav)
    # Ten digits said one by one at 150 words per minute, with two pauses: 3-8 s.
    assert 3.0 < seconds < 8.0, seconds


@needs_espeak
def test_longer_text_gives_longer_audio(tmp_path):
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    tts.speak("Zero six.", "en", wav=short)
    tts.speak(NUMBER_EN + " The fifth digit may be a three or a nine.", "en", wav=long)
    assert tts.wav_duration(long) > 3 * tts.wav_duration(short)


@needs_espeak
def test_voices_listed():
    assert {"en", "nl"} <= tts.languages()
    assert tts.has_voice("pt-BR") and not tts.has_voice("xx")
    assert tts.voice_for("nl_NL") == "nl"  # no nl-nl voice: the base language's


@needs_espeak
def test_regional_tag_uses_the_base_voice(tmp_path):
    result = tts.speak(NUMBER_NL, "nl-NL", wav=tmp_path / "nl.wav")
    assert result.spoken and 3.0 < tts.wav_duration(tmp_path / "nl.wav") < 8.0


@needs_espeak
def test_unknown_voice_prints_text_and_warns(tmp_path, capsys):
    result = tts.speak("1 2 3", "xx", wav=tmp_path / "x.wav")
    out, err = capsys.readouterr()
    assert not result.spoken and out.strip() == "1 2 3"
    assert "espeak-ng failed" in err and len(err.strip().splitlines()) == 1


def test_missing_espeak_prints_text_and_names_the_package(tmp_path):
    # PATH is an empty folder: espeak-ng cannot be found, as on a machine without it.
    empty = tmp_path / "bin"
    empty.mkdir()
    code = textwrap.dedent(f"""
        from edgedigits import tts
        assert tts.espeak_path() is None
        r = tts.speak({NUMBER_EN!r}, "en", wav={str(tmp_path / 'n.wav')!r})
        assert not r.spoken and r.warning
        s = tts.Speaker("en")
        assert s.say("one") is False
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PATH=str(empty)), cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == NUMBER_EN
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 2 and all("espeak-ng" in w and "install the Debian package 'espeak-ng'" in w
                                      for w in warnings)
    assert not (tmp_path / "n.wav").exists()


def test_text_must_be_a_string():
    with pytest.raises(TypeError, match="str"):
        tts.speak(612345678)


@needs_espeak
def test_speaker_warns_once_then_stops_where_it_cannot_speak():
    import io
    err = io.StringIO()
    speaker = tts.Speaker("en", err=err)
    assert speaker.say("zero six, one two three four")  # started in the background
    speaker.wait()
    assert not speaker.busy()
    warned = err.getvalue().splitlines()
    if warned:  # no sound device (CI, the development machine): one line, then silence
        assert len(warned) == 1 and "cannot speak" in warned[0]
        assert speaker.say("five six", interrupt=True) is False
        speaker.wait()
        assert len(err.getvalue().splitlines()) == 1
    speaker.close()
