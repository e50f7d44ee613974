"""Every docstring example (``>>>``) in the package and the converters runs and prints what it shows.

Modules are found by their text, so an example added anywhere is tested without touching this file.
"""

from __future__ import annotations

import doctest
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def modules_with_examples() -> list[str]:
    out = []
    for top, name in (("sampleaudio", "sampleaudio"), ("data_prep", "sampleaudio.data_prep")):  # pyproject package-dir
        for path in sorted((ROOT / top).rglob("*.py")):
            if ">>>" in path.read_text(encoding="utf-8"):
                parts = list(path.relative_to(ROOT / top).with_suffix("").parts)
                out.append(".".join([name, *(parts[:-1] if parts[-1] == "__init__" else parts)]))
    return out


def test_the_examples_are_found():
    found = modules_with_examples()
    assert {"sampleaudio.fileio", "sampleaudio.families.samplecnn.model", "sampleaudio.families.zeroshot.model"} <= set(found)


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has '>>>' but doctest ran no example"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (see the output above)"
