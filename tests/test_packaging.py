"""What a wheel holds (pyproject.toml, setup.py): every package of the source tree, found rather than listed (a
new family's folder needs no edit), the converters under the project's own name (``sampleaudio.data_prep``, from
the top-level ``data_prep/`` folder), no generic top-level name."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _setup_packages() -> list[str]:
    import os
    import runpy

    cwd = os.getcwd()
    os.chdir(ROOT)  # setup.py finds the packages from the repository's root, as the build runs it
    try:
        return runpy.run_path(str(ROOT / "setup.py"))["packages"]()
    finally:
        os.chdir(cwd)


def test_every_package_folder_is_found_under_its_import_name():
    folders = {"sampleaudio": "sampleaudio", "data_prep": "sampleaudio.data_prep"}
    found = set()
    for folder, name in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(".".join([name, *init.parent.relative_to(ROOT / folder).parts]))
    packages = set(_setup_packages())
    assert found <= packages  # every package, a new family's folder included
    assert "sampleaudio.data" in packages  # the published numbers' folder (package data only)
    assert all(p.split(".")[0] == "sampleaudio" for p in packages)
    assert "setuptools" not in _pyproject()["tool"] or "packages" not in _pyproject()["tool"]["setuptools"]


def test_the_published_numbers_travel_as_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["sampleaudio.data"]
    assert any((ROOT / "sampleaudio" / "data").glob(pattern) for pattern in data)


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.startswith("python3 -m venv")]


def test_readme_test_command_is_what_ci_runs():
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line.startswith("python3 -m venv")]
    assert len(ci) == 1
    assert ci[0] in _readme_commands()


def test_every_install_command_uses_the_constraints():
    commands = _readme_commands() + [(ROOT / ".ci" / "run").read_text(encoding="utf-8")]
    for command in commands:
        for install in command.split("pip install")[1:]:
            assert "-c constraints.txt" in install.split("&&")[0], install


def test_the_package_itself_depends_on_no_tensorflow_distribution():
    project = _pyproject()["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith(("tensorflow", "tf-"))]
    extras = project["optional-dependencies"]
    assert extras["gpu"] == ["tensorflow[and-cuda]>=2.21,<2.22"]
    assert {d.split(">=")[0] for d in extras["cpu"]} == {"tensorflow-cpu", "tensorflow"}
    for name, deps in extras.items():  # no other extra brings a TensorFlow of its own
        if name not in ("cpu", "gpu"):
            assert not [d for d in deps if d.lower().startswith("tensorflow")], name


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name)] = version.strip()
    return pins


def _canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def test_constraints_pin_everything_the_test_environment_resolved():
    """Every distribution that sampleaudio[cpu,synth,test] needs, transitively, is pinned at the version installed
    here (CI installs with -c constraints.txt, so this holds there; a stale file fails it)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    pins = _pins()
    seen: dict[str, str] = {}
    todo = [(r, ("cpu", "synth", "test")) for r in md.requires("sampleaudio") or []]
    while todo:
        req, extras = todo.pop()
        req = Requirement(req)
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (*extras, "")):
            continue
        name = _canonical(req.name)
        if name in seen:
            continue
        try:
            seen[name] = md.version(req.name)
        except md.PackageNotFoundError:
            pytest.fail(f"{req.name} is required by the test environment but not installed")
        todo += [(r, tuple(req.extras)) for r in md.requires(req.name) or []]
    assert len(seen) > 50
    unpinned = {n: v for n, v in seen.items() if pins.get(n) != v}
    assert not unpinned, f"installed but not pinned at that version in constraints.txt: {unpinned}"
