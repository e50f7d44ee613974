"""What a wheel holds (pyproject.toml): every package of the source tree, the converters under the project's own
name (``sampleaudio.data_prep``, from the top-level ``data_prep/`` folder), no generic top-level name."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_folder_is_listed_under_its_import_name():
    tool = _pyproject()["tool"]["setuptools"]
    package_dir = tool["package-dir"]
    assert package_dir == {"sampleaudio.data_prep": "data_prep"}
    folders = {"sampleaudio": "sampleaudio", **{v: k for k, v in package_dir.items()}}
    found = set()
    for folder, name in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            found.add(".".join([name, *init.parent.relative_to(ROOT / folder).parts]))
    assert set(tool["packages"]) == found
    assert all(p.split(".")[0] == "sampleaudio" for p in tool["packages"])


def test_the_published_numbers_travel_as_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["sampleaudio"]
    assert any((ROOT / "sampleaudio").glob(pattern) for pattern in data)
