"""Handwriting fonts as a training source: the manifest (training/fonts.json), the verified
cache (tools/fetch_fonts.py) and the renderer (training/fonts.py).

The manifest tests always run. Those that need the fetched fonts skip when the cache is absent
(CI has none: `python tools/fetch_fonts.py` makes it); those that render also need Pillow (the
`train` extra)."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil

import numpy as np
import pytest

from edgedigits import classes
from training import fonts

HEX64 = re.compile(r"^[0-9a-f]{64}$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")  # pinned: an exact version, no range
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fetch_tool():
    spec = importlib.util.spec_from_file_location(
        "fetch_fonts", os.path.join(ROOT, "tools", "fetch_fonts.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_manifest_is_well_formed():
    with open(fonts.MANIFEST, encoding="utf-8") as f:
        manifest = json.load(f)
    fams = manifest["families"]
    for name, e in fams.items():
        assert e["package"] == "@fontsource/" + name, name
        assert VERSION.match(e["version"]), (name, e["version"])
        assert e["license"] in ("OFL-1.1", "Apache-2.0"), (name, e["license"])
        assert e["split"] in ("train", "heldout"), (name, e["split"])
        assert HEX64.match(e["tarball_sha256"]), name
        files = e["files"]
        assert {"LICENSE", "package.json", f"{name}-latin-400-normal.woff"} <= set(files), name
        assert all(HEX64.match(h) for h in files.values()), name
        assert all(n in ("LICENSE", "package.json") or n.endswith(".woff") for n in files), name
        assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in files), name
    train, heldout = fonts.families("train"), fonts.families("heldout")
    assert len(train) + len(heldout) >= 40
    assert len(heldout) >= 6
    assert not set(train) & set(heldout)
    assert sorted(train + heldout) == fonts.families("all") == sorted(fams)
    # a family looked at and dropped is not also used
    assert not set(manifest.get("dropped", {})) & set(fams)
    with pytest.raises(ValueError, match="split"):
        fonts.families("test")


def test_labels_and_letter_rule():
    assert [fonts.label_of(c) for c in fonts.DIGITS] == list(range(10))
    assert [fonts.label_of(c) for c in fonts.SEPARATORS] == list(classes.SEPARATOR_CLASSES)
    assert {fonts.label_of(c) for c in fonts.LETTERS} == {classes.JUNK}
    assert {fonts.label_of(w) for w in fonts.WORDS} == {classes.JUNK}
    # letters that read as a digit or a separator once size-normalised are not junk examples
    assert not set("OoDQIilJjZzSsBbGgqTtyCca") & set(fonts.LETTERS)


def test_cache_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "env"))
    assert fonts.cache_dir() == str(tmp_path / "env")
    assert fonts.cache_dir(str(tmp_path / "arg")) == str(tmp_path / "arg")
    monkeypatch.delenv(fonts.ENV_VAR)
    assert fonts.cache_dir().endswith(os.path.join("edgedigits", "fonts"))


def test_missing_family_names_the_fetch_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="tools/fetch_fonts.py"):
        fonts.font_files(fonts.families("all")[0], cache=str(tmp_path))


def test_fetch_without_npm_says_so(monkeypatch, tmp_path):
    tool = _fetch_tool()
    monkeypatch.setattr(tool.shutil, "which", lambda name: None)
    with pytest.raises(tool.FetchError, match="npm not found: install Node.js"):
        tool.npm_pack("@fontsource/caveat@5.3.0", str(tmp_path))


def _cached(split: str) -> list[str]:
    names = fonts.families(split)
    try:
        for name in names:
            fonts.font_files(name)
    except FileNotFoundError as exc:
        pytest.skip(f"fonts cache absent: {exc}")
    return names


@pytest.fixture(scope="module")
def train_families() -> list[str]:
    return _cached("train")


@pytest.fixture(scope="module")
def pil():
    return pytest.importorskip("PIL", reason="Pillow (the train extra) is not installed")


def _smallest_family(names: list[str]) -> str:
    manifest = fonts.load_manifest()
    return min(names, key=lambda n: sum(os.path.getsize(p) for p in fonts.verify_family(
        n, manifest["families"][n])))


def test_tampered_cached_file_is_refused(train_families, tmp_path):
    name = _smallest_family(train_families)
    entry = fonts.load_manifest()["families"][name]
    src = fonts.family_dir(name, entry)
    dst = fonts.family_dir(name, entry, str(tmp_path))
    shutil.copytree(src, dst)
    good = fonts.font_files(name, cache=str(tmp_path))
    assert good and all(p.startswith(str(tmp_path)) for p in good)
    victim = good[0]
    with open(victim, "r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(fonts.FontCacheError, match=re.escape(os.path.basename(victim))):
        fonts.font_files(name, cache=str(tmp_path))
    # the fetch tool refuses the tampered cache too, instead of using or overwriting it
    with pytest.raises(fonts.FontCacheError, match=re.escape(os.path.basename(victim))):
        _fetch_tool().fetch_family(name, entry, str(tmp_path), log=lambda *a: None)


def test_render_shapes_labels_and_seed(train_families, pil):
    chars = fonts.DIGITS + fonts.SEPARATORS + fonts.LETTERS
    g = fonts.render(chars, 200, np.random.default_rng(7), train_families)
    assert g.images.shape == (200, 28, 28) and g.images.dtype == np.uint8
    assert g.labels.shape == (200,) and g.labels.dtype == np.int64
    assert g.chars.shape == (200,) and g.family.shape == (200,)
    assert g.names == tuple(train_families)
    assert g.family.min() >= 0 and g.family.max() < len(g.names)
    assert all(im.any() for im in g.images)
    assert min(im.max() for im in g.images) >= 160  # contrast stretched: strokes near white
    for text, label in zip(g.chars, g.labels):
        if text in fonts.LETTERS:
            assert label == classes.JUNK, text
        else:
            assert label == classes.class_index(text), text
    assert set(g.chars) <= set(chars)
    again = fonts.render(chars, 200, np.random.default_rng(7), train_families)
    np.testing.assert_array_equal(g.images, again.images)
    np.testing.assert_array_equal(g.labels, again.labels)
    np.testing.assert_array_equal(g.family, again.family)
    other = fonts.render(chars, 200, np.random.default_rng(8), train_families)
    assert not np.array_equal(g.images, other.images)


def test_words_are_junk_and_missing_characters_are_skipped(train_families, pil):
    g = fonts.render(fonts.WORDS, 20, np.random.default_rng(1), train_families)
    assert set(g.labels) == {classes.JUNK} and set(g.chars) <= set(fonts.WORDS)
    # the latin subsets have no CJK: every glyph drawn is the 5, none is a .notdef box
    g = fonts.render(["\u4e00", "5"], 30, np.random.default_rng(2), train_families)
    assert set(g.chars) == {"5"} and set(g.labels) == {5}
    path = fonts.font_files(train_families[0])[0]
    assert not fonts._has_char(path, "\u4e00") and fonts._has_char(path, "5")
