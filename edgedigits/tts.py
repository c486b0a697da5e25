"""Text to speech with espeak-ng: speak aloud, or write a WAV file.

espeak-ng is a separate program (Debian package `espeak-ng`), run as a subprocess: it is
offline, small, and has voices for about a hundred languages. Where it is missing, or has no
voice for the language, or the machine has no sound device, the text is printed instead with a
one-line warning: a reader for a blind user must still give its answer, and never crash.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TextIO

PROGRAM = "espeak-ng"
DEBIAN_PACKAGE = "espeak-ng"
# Words per minute: a little slower than espeak-ng's 175, so digits can be written down.
RATE_WPM = 150
# A phone number with doubts takes ~10 s to say; anything near this means espeak-ng is stuck.
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SpeechResult:
    """What happened to one text: spoken (or written to `wav`), or printed with `warning`."""

    text: str
    spoken: bool
    wav: str | None = None
    warning: str | None = None


def espeak_path() -> str | None:
    """The espeak-ng executable on PATH, or None."""
    return shutil.which(PROGRAM)


@functools.lru_cache(maxsize=4)
def _languages(program: str) -> frozenset[str]:
    try:
        out = subprocess.run([program, "--voices"], capture_output=True, text=True,
                             timeout=TIMEOUT_S, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    langs = set()
    for line in out.splitlines()[1:]:
        # "Pty Language Age/Gender VoiceName File Other Languages": "5  nl  --/M  Dutch  gmw/nl"
        fields = line.split()
        if len(fields) >= 2:
            tag = fields[1].lower()
            langs.update((tag, tag.split("-")[0]))  # "en-gb" also answers for "en"
    return frozenset(langs)


def languages() -> frozenset[str]:
    """Language codes espeak-ng has voices for ('en', 'nl', 'pt-br', ...); empty if missing."""
    program = espeak_path()
    return _languages(program) if program else frozenset()


def has_voice(lang: str) -> bool:
    tag = lang.lower().replace("_", "-")
    langs = languages()
    return tag in langs or tag.split("-")[0] in langs


def voice_for(lang: str) -> str:
    """The espeak-ng voice to use for `lang`: the tag itself, else its base ('nl-nl' -> 'nl')."""
    tag = lang.lower().replace("_", "-")
    langs = languages()
    if tag in langs or not langs:
        return tag
    base = tag.split("-")[0]
    return base if base in langs else tag


def missing_warning() -> str:
    return (f"warning: {PROGRAM} not found; printing instead of speaking "
            f"(install the Debian package '{DEBIAN_PACKAGE}')")


def espeak_command(lang: str, wav: str | None = None, rate: int = RATE_WPM) -> list[str]:
    """The espeak-ng command line; the text goes to its stdin (so a leading '-' is no option)."""
    program = espeak_path() or PROGRAM
    cmd = [program, "-v", voice_for(lang), "-s", str(int(rate)), "--stdin"]
    if wav is not None:
        cmd += ["-w", os.fspath(wav)]
    return cmd


def _fallback(text: str, warning: str, echo: bool, out: TextIO | None, err: TextIO | None) -> SpeechResult:
    if echo:
        print(text, file=out or sys.stdout)
    print(warning, file=err or sys.stderr)
    return SpeechResult(text=text, spoken=False, warning=warning)


def speak(text: str, lang: str = "en", *, wav: str | os.PathLike | None = None, echo: bool = True,
          rate: int = RATE_WPM, out: TextIO | None = None, err: TextIO | None = None) -> SpeechResult:
    """Say `text` in `lang` aloud, or write it to the WAV file `wav`.

    On any failure (no espeak-ng, no voice, no sound device, time-out) the text is printed to
    `out` (unless echo=False: the caller printed it already) and a one-line warning to `err`.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected the text to speak as str, got {type(text).__name__}")
    if espeak_path() is None:
        return _fallback(text, missing_warning(), echo, out, err)
    wav_path = os.fspath(wav) if wav is not None else None
    try:
        proc = subprocess.run(espeak_command(lang, wav_path, rate), input=text, capture_output=True,
                              text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return _fallback(text, f"warning: {PROGRAM} failed ({e}); printing instead of speaking",
                         echo, out, err)
    problem = _espeak_problem(proc)
    if problem:
        what = "writing the WAV file" if wav_path else "speaking"
        return _fallback(text, f"warning: {PROGRAM} failed {what} in language {lang!r} ({problem}); "
                         "printing instead", echo, out, err)
    if wav_path is not None and not (os.path.isfile(wav_path) and os.path.getsize(wav_path) > 44):
        return _fallback(text, f"warning: {PROGRAM} wrote no audio to {wav_path}; printing instead",
                         echo, out, err)
    return SpeechResult(text=text, spoken=True, wav=wav_path)


def _espeak_problem(proc: subprocess.CompletedProcess) -> str | None:
    """espeak-ng exits 0 even when it cannot open the sound device: read its stderr too."""
    lines = [line.strip() for line in (proc.stderr or "").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    if proc.returncode != 0:
        return (errors or lines or [f"exit status {proc.returncode}"])[-1]
    if errors:
        if any("ALSA" in line or "PCM" in line for line in lines):
            return "no sound device"
        return errors[-1]
    return None


def wav_duration(path: str | os.PathLike) -> float:
    """Length of a WAV file in seconds."""
    import wave
    with wave.open(os.fspath(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class Speaker:
    """Non-blocking speech for camera mode: guidance must not stall the frame loop.

    say(text, interrupt=False) starts espeak-ng in the background and returns at once. While a
    text is still being spoken a new one is dropped, unless `interrupt` (a number found): then
    the current text is cut off. Falls back to printing like speak().
    """

    def __init__(self, lang: str = "en", rate: int = RATE_WPM, err: TextIO | None = None):
        self.lang = lang
        self.rate = rate
        self.err = err
        self._proc: subprocess.Popen | None = None
        self._warned = False
        self._mute = False  # espeak-ng ran but could not speak: stop trying

    def busy(self) -> bool:
        if self._proc is None:
            return False
        if self._proc.poll() is None:
            return True
        self._check_finished()
        return False

    def _check_finished(self) -> None:
        """Warn once when a finished espeak-ng could not speak (no sound device, no voice)."""
        proc, self._proc = self._proc, None
        if proc is None or self._warned or proc.stderr is None:
            return
        problem = _espeak_problem(subprocess.CompletedProcess(proc.args, proc.returncode, "",
                                                              proc.stderr.read()))
        proc.stderr.close()
        if problem:
            print(f"warning: {PROGRAM} cannot speak in language {self.lang!r} ({problem}); "
                  "printing only", file=self.err or sys.stderr)
            self._warned = self._mute = True

    def say(self, text: str, interrupt: bool = False) -> bool:
        """Start saying `text`; False when dropped or printed instead."""
        if espeak_path() is None:
            if not self._warned:
                print(missing_warning(), file=self.err or sys.stderr)
                self._warned = True
            return False
        busy = self.busy()  # also notices a finished text that could not be spoken
        if self._mute:
            return False
        if busy:
            if not interrupt:
                return False
            self.close()
        try:
            # stderr is read once it ends (_check_finished); its few lines fit in the pipe
            self._proc = subprocess.Popen(espeak_command(self.lang, None, self.rate),
                                          stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True)
            self._proc.stdin.write(text)
            self._proc.stdin.close()
        except (OSError, ValueError) as e:
            if not self._warned:
                print(f"warning: {PROGRAM} failed ({e}); printing instead of speaking",
                      file=self.err or sys.stderr)
                self._warned = True
            return False
        return True

    def wait(self, timeout: float = TIMEOUT_S) -> None:
        """Let the current text finish (then warn if it could not be spoken)."""
        if self._proc is not None:
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.close()
                return
            self._check_finished()

    def close(self) -> None:
        """Cut off what is being said."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        self._proc = None
