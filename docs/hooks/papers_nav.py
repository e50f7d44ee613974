"""MkDocs hook: the "Papers" section of the navigation is every page of docs/papers/, titled by its first heading.

A new model family or reproduction adds its page there and nothing else: mkdocs.yml's nav names the section
(``- Papers: papers/``) and this hook fills it in, sorted by title, so the nav and the folder cannot disagree.
"""

from __future__ import annotations

import os


def _title(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                return line[2:].strip()
    return os.path.splitext(os.path.basename(path))[0]


def on_config(config, **kwargs):
    docs = config["docs_dir"]
    folder = os.path.join(docs, "papers")
    pages = sorted((_title(os.path.join(folder, name)), f"papers/{name}") for name in os.listdir(folder)
                   if name.endswith(".md"))
    for i, entry in enumerate(config["nav"]):
        if isinstance(entry, dict) and entry.get("Papers") == "papers/":
            config["nav"][i] = {"Papers": [{title: page} for title, page in pages]}
    return config
