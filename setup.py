"""The wheel's packages, found rather than listed: every folder under ``sampleaudio/`` (a new model family's folder
included, with no edit here or in pyproject.toml), and the converters of ``data_prep/`` installed under the
project's own name, ``sampleaudio.data_prep`` (no generic top-level name in site-packages). Everything else about
the package is in pyproject.toml."""

from setuptools import find_namespace_packages, setup


def packages() -> list[str]:
    found = find_namespace_packages(include=["sampleaudio", "sampleaudio.*", "data_prep", "data_prep.*"])
    return sorted("sampleaudio." + p if p.startswith("data_prep") else p for p in found if "__pycache__" not in p)


if __name__ == "__main__":
    setup(packages=packages(), package_dir={"sampleaudio.data_prep": "data_prep"})
