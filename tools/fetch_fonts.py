#!/usr/bin/env python3
"""Fetch the handwriting font families of training/fonts.json into a cache folder, verified.

    python tools/fetch_fonts.py                      # every family, into the fonts cache
    python tools/fetch_fonts.py caveat kalam         # only these
    python tools/fetch_fonts.py --cache some/folder  # or set EDGEDIGITS_FONTS
    python tools/fetch_fonts.py --record --split heldout some-family[@VERSION] ...

Source: the `@fontsource/<family>` packages of the npm registry (self-hosted copies of open
font families), fetched with `npm pack <package>@<version>`, versions pinned in the manifest.
Only families whose package licence is OFL-1.1 or Apache-2.0 are accepted. Of each tarball
only the latin-subset .woff files of the weights in WEIGHTS, the package's LICENSE and its
package.json are kept, in <cache>/<family>/<version>/. The tarball's SHA-256 and every kept
file's are in the manifest; every run checks them all and stops, naming the file, at the first
mismatch. Files are written to a temporary folder and renamed, so an interrupted fetch never
leaves a half-filled family.

--record adds manifest entries for families not yet in it (version: the one given, else the
latest), after checking the licence with `npm view`; --split says whether they are trained on
or held out (only measured). Nothing fetched goes into the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from training.fonts import (  # noqa: E402  (after the path set-up above)
    ENV_VAR, LICENCES, MANIFEST, SPLITS, FontCacheError, cache_dir, family_dir, load_manifest,
    verify_family)

SCOPE = "@fontsource/"
SUBSET = "latin"
# Weights kept where the family has them: regular, and bold for a broader pen.
WEIGHTS = ("400", "700")
KEPT_META = ("LICENSE", "package.json")
NPM_TIMEOUT_S = 120.0


class FetchError(RuntimeError):
    """npm is missing, failed, or a package is not what the manifest says."""


def npm() -> str:
    path = shutil.which("npm")
    if not path:
        raise FetchError(f"npm not found: install Node.js, or copy a fonts cache fetched on another "
                         f"machine and point --cache or ${ENV_VAR} at it")
    return path


def run_npm(args: list[str], cwd: str | None = None) -> str:
    try:
        out = subprocess.run([npm()] + args, capture_output=True, text=True, cwd=cwd,
                             timeout=NPM_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise FetchError(f"npm {' '.join(args)} took longer than {NPM_TIMEOUT_S:.0f}s") from None
    if out.returncode != 0:
        raise FetchError(f"npm {' '.join(args)} failed: {(out.stderr or out.stdout).strip()[-400:]}")
    return out.stdout


def npm_view(spec: str) -> dict:
    """{"version": ..., "license": ...} of a package spec (name or name@version)."""
    info = json.loads(run_npm(["view", spec, "version", "license", "--json"]) or "{}")
    if isinstance(info, list):  # a range matching several versions: the last is the newest
        info = info[-1]
    return info


def npm_pack(spec: str, workdir: str) -> str:
    """Path of the tarball of `spec`, packed into workdir."""
    out = json.loads(run_npm(["pack", spec, "--json", "--pack-destination", workdir]))
    return os.path.join(workdir, out[0]["filename"])


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wanted(family: str, member: str) -> str | None:
    """The name a tarball member is kept under, or None if it is not kept."""
    if not member.startswith("package/"):
        return None
    rel = member[len("package/"):]
    if rel in KEPT_META:
        return rel
    for w in WEIGHTS:
        if rel == f"files/{family}-{SUBSET}-{w}-normal.woff":
            return os.path.basename(rel)
    return None


def read_kept(family: str, tgz: str) -> dict[str, bytes]:
    """The kept files of a tarball, by name (read from the archive, never extracted by path)."""
    kept = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar.getmembers():
            name = wanted(family, member.name)
            if name and member.isfile():
                kept[name] = tar.extractfile(member).read()
    return kept


def check_licence(spec: str, licence: str) -> None:
    if licence not in LICENCES:
        raise FetchError(f"{spec}: licence {licence!r} is not one of {', '.join(LICENCES)}")


def fetch_family(family: str, entry: dict, cache: str, log=print) -> str:
    """Make sure the family's verified files are in the cache; returns their folder."""
    folder = family_dir(family, entry, cache)
    if os.path.isdir(folder):
        verify_family(family, entry, cache)  # raises, naming the file, on a mismatch
        return folder
    spec = f"{entry['package']}@{entry['version']}"
    check_licence(spec, entry["license"])
    with tempfile.TemporaryDirectory() as work:
        tgz = npm_pack(spec, work)
        with open(tgz, "rb") as f:
            got = sha256_bytes(f.read())
        if got != entry["tarball_sha256"]:
            raise FontCacheError(f"{spec}: tarball SHA-256 {got} differs from "
                                 f"{entry['tarball_sha256']} in training/fonts.json")
        kept = read_kept(family, tgz)
    licence = json.loads(kept["package.json"]).get("license")
    check_licence(spec, licence)
    for name, expected in sorted(entry["files"].items()):
        if name not in kept:
            raise FontCacheError(f"{spec}: {name} is not in the package")
        got = sha256_bytes(kept[name])
        if got != expected:
            raise FontCacheError(f"{spec}: {name} SHA-256 {got} differs from {expected} "
                                 f"in training/fonts.json")
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        for name in entry["files"]:
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(kept[name])
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"{family}: {spec} ({len(entry['files'])} files)")
    return folder


def record(spec: str, split: str) -> tuple[str, dict]:
    """A manifest entry for a family given as NAME or NAME@VERSION."""
    family, _, version = spec.partition("@")
    package = SCOPE + family
    info = npm_view(f"{package}@{version}" if version else package)
    version = info["version"]
    full = f"{package}@{version}"
    check_licence(full, info.get("license"))
    with tempfile.TemporaryDirectory() as work:
        tgz = npm_pack(full, work)
        with open(tgz, "rb") as f:
            tarball = sha256_bytes(f.read())
        kept = read_kept(family, tgz)
    check_licence(full, json.loads(kept["package.json"]).get("license"))
    if f"{family}-{SUBSET}-400-normal.woff" not in kept:
        raise FetchError(f"{full}: no {SUBSET} weight-400 normal .woff")
    missing = [m for m in KEPT_META if m not in kept]
    if missing:
        raise FetchError(f"{full}: no {', '.join(missing)} in the package")
    return family, {
        "package": package,
        "version": version,
        "license": info["license"],
        "split": split,
        "tarball_sha256": tarball,
        "files": {name: sha256_bytes(data) for name, data in sorted(kept.items())},
    }


def write_manifest(manifest: dict, path: str = MANIFEST) -> None:
    manifest["families"] = dict(sorted(manifest["families"].items()))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("families", nargs="*", help="families to fetch (default: all in the manifest)"
                    "; with --record, NAME or NAME@VERSION to add")
    ap.add_argument("--cache", help=f"cache folder (default: ${ENV_VAR}, else the user cache)")
    ap.add_argument("--record", action="store_true",
                    help="add manifest entries for these families, then fetch them")
    ap.add_argument("--split", choices=SPLITS, default="train",
                    help="with --record: train on the new families, or hold them out")
    args = ap.parse_args(argv)
    cache = cache_dir(args.cache)
    try:
        manifest = load_manifest()
    except FileNotFoundError:
        manifest = {"families": {}}
    fams = manifest["families"]
    t0 = time.perf_counter()
    try:
        if args.record:
            if not args.families:
                ap.error("--record needs the families to add")
            names = []
            for spec in args.families:
                name = spec.partition("@")[0]
                if name in manifest.get("dropped", {}):
                    raise FetchError(f"{name} was looked at and dropped: "
                                     f"{manifest['dropped'][name]} (see training/fonts.json)")
                if name in fams:
                    print(f"{name}: already in the manifest ({fams[name]['version']})")
                else:
                    name, entry = record(spec, args.split)
                    fams[name] = entry
                    print(f"{name}: recorded {entry['package']}@{entry['version']} "
                          f"{entry['license']} ({args.split})")
                names.append(name)
            write_manifest(manifest)
        else:
            names = args.families or sorted(fams)
            unknown = [n for n in names if n not in fams]
            if unknown:
                raise FetchError(f"not in training/fonts.json: {', '.join(unknown)} "
                                 f"(add them with --record)")
        for name in names:
            fetch_family(name, fams[name], cache)
    except (FetchError, FontCacheError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(names)} families verified in {cache} ({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
