"""MkDocs hook: the command-line reference in docs/cli.md, rendered at build time from sampleaudio's own parser.

docs/cli.md holds the line ``<!-- cli-reference -->``; this hook replaces it with ``sampleaudio --help`` and every
subcommand's ``--help``, so the page cannot drift from the code. Building the parser imports ``sampleaudio.cli``
and numpy, not TensorFlow (subcommands import what they need when they run), so the docs build needs the package
installed (``pip install -e ".[docs]"``) but no TensorFlow.
"""

from __future__ import annotations

import argparse
import os

MARKER = "<!-- cli-reference -->"
#: argparse wraps help text to the terminal width; a fixed width keeps the page the same on every machine
WIDTH = "100"
#: defaults computed from the machine that builds the docs, shown as the rule that computes them
MACHINE_DEFAULTS = {("prep", "workers"): "min(4, CPU cores)"}


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise RuntimeError("sampleaudio's parser has no subcommands")


def _fence(text: str) -> list[str]:
    return ["```text", text.rstrip(), "```", ""]


def render() -> str:
    try:
        from sampleaudio.cli import build_parser
    except ImportError as exc:  # the parser lives in the installed package (sampleaudio.data_prep is mapped there)
        from mkdocs.exceptions import PluginError

        raise PluginError(f"the CLI reference needs sampleaudio installed: pip install -e \".[docs]\" ({exc})") from exc

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        parser = build_parser()
        sub = _subcommands(parser)
        summary = {choice.dest: choice.help for choice in sub._choices_actions}
        parts = ["### `sampleaudio`", "", *_fence(parser.format_help())]
        for name, subparser in sub.choices.items():
            for action in subparser._actions:
                if (name, action.dest) in MACHINE_DEFAULTS:
                    action.default = MACHINE_DEFAULTS[name, action.dest]
            line = (summary.get(name) or "").strip()
            parts += [f"### `sampleaudio {name}`", "", line[:1].upper() + line[1:], "",
                      *_fence(subparser.format_help())]
        return "\n".join(parts)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
