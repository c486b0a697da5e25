"""The C core's own test suites, run from pytest so that CI runs them.

- the C test runner (csrc/tests/ed_test.c) built with csrc/Makefile on golden vectors from
  tools/make_golden.py: every kernel bit-exact, hostile blobs refused; stale golden rejected;
- tools/cross_test.sh: aarch64 and armv7+NEON under qemu-user, Cortex-M4 compile-only;
- tools/sanitize.sh: ASan+UBSan, valgrind memcheck, libFuzzer for FUZZ_SECONDS (default 60).
A target whose toolchain is missing is skipped with the package to install.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
STALE_HINT = "python tools/make_golden.py"


def run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env.get("EDGEDIGITS_DATA"):
        env["EDGEDIGITS_DATA"] = os.path.abspath(env["EDGEDIGITS_DATA"])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)


@pytest.fixture(scope="module")
def c_build(tmp_path_factory) -> str:
    """csrc/ built natively into a temporary folder, with golden files made there."""
    for tool in ("make", "cc"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found: the C suite needs make and a C compiler (apt-get install build-essential)")
    build = str(tmp_path_factory.mktemp("csrc-build"))
    proc = run(["make", "-s", "-C", CSRC, f"BUILD={build}", f"GOLDEN={build}/golden", "all", "golden"], 300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return build


def test_c_runner_bit_exact_on_golden_files(c_build):
    golden = sorted(os.path.join(c_build, "golden", f) for f in os.listdir(os.path.join(c_build, "golden")))
    assert len(golden) >= 6
    proc = run([os.path.join(c_build, "ed_test"), *golden], 300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert " 0 failures" in proc.stdout and "MISMATCH" not in proc.stdout
    assert proc.stdout.count("bit-exact") >= len(golden)


@pytest.mark.parametrize("what", ["version", "magic", "crc", "lut"])
def test_c_runner_rejects_stale_golden(c_build, tmp_path, what):
    src = os.path.join(c_build, "golden", "random-784-37-10.edg")
    data = bytearray(open(src, "rb").read())
    if what == "version":
        struct.pack_into("<I", data, 4, 999)
    elif what == "magic":
        data[0:4] = b"XXXX"
    elif what == "crc":
        data[-40] ^= 1
    else:
        struct.pack_into("<I", data, 12, 0)
    bad = tmp_path / "bad.edg"
    bad.write_bytes(bytes(data))
    proc = run([os.path.join(c_build, "ed_test"), str(bad)], 120)
    assert proc.returncode == 1
    assert STALE_HINT in proc.stdout, proc.stdout[-2000:]


def script_line(script: str, target: str, timeout: float, extra_env: dict | None = None) -> str:
    if shutil.which("bash") is None or shutil.which("make") is None:
        pytest.skip("bash and make are needed")
    env = {**os.environ, **(extra_env or {})}
    proc = subprocess.run(["bash", os.path.join(ROOT, "tools", script), target], capture_output=True,
                          text=True, timeout=timeout, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.split(" ")[0].startswith(target.split("+")[0])]
    line = lines[0] if lines else proc.stdout + proc.stderr
    if "SKIP" in line:
        pytest.skip(line)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return line


@pytest.mark.parametrize("target", ["native", "aarch64", "armv7", "cortex-m4"])
def test_cross_target(target):
    line = script_line("cross_test.sh", target, 600)
    assert "PASS bit-exact" in line or "BUILD OK" in line, line
    if target in ("aarch64", "armv7"):
        assert "neon" in line and " 0 failures" in line, line


@pytest.mark.parametrize("check", ["asan", "valgrind", "fuzz"])
def test_sanitizers(check):
    seconds = os.environ.get("FUZZ_SECONDS", "60")
    line = script_line("sanitize.sh", check, 900, {"FUZZ_SECONDS": seconds})
    assert "PASS" in line, line
