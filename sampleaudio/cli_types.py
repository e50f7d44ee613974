"""Argument types of the command lines (``sampleaudio`` and its subcommand modules).

Every number is checked where it enters, so a bad one is one line from argparse naming the option (exit code 2)
instead of a hang, a silent default or a traceback later. Shared by :mod:`sampleaudio.cli`,
:mod:`sampleaudio.retrieval_cli` and :mod:`sampleaudio.zeroshot_cli` (which sit below the CLI's layer).

>>> positive_int("3"), non_negative_int("0")
(3, 0)
>>> positive_int("0")
Traceback (most recent call last):
    ...
argparse.ArgumentTypeError: must be in [1, inf), got 0
"""

from __future__ import annotations

import argparse
import math

__all__ = ["number", "positive_int", "non_negative_int", "positive_float", "seconds", "unit_interval", "fraction",
           "add_top_k"]


def number(kind, *, low=None, high=None, low_open=False, high_open=False):
    """An argparse ``type``: ``kind`` (int or float) parsed from text and checked against the bounds (``low`` /
    ``high``, inclusive unless ``low_open`` / ``high_open``); floats must be finite."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if low is not None and (value <= low if low_open else value < low) or \
                high is not None and (value >= high if high_open else value > high):
            lo = "" if low is None else f"{'(' if low_open else '['}{low:g}"
            hi = "" if high is None else f"{high:g}{')' if high_open else ']'}"
            where = f"in {lo or '(-inf'}, {hi or 'inf)'}"
            raise argparse.ArgumentTypeError(f"must be {where}, got {text}")
        return value

    parse.__name__ = "positive integer" if kind is int and low == 1 else kind.__name__
    return parse


positive_int = number(int, low=1)
non_negative_int = number(int, low=0)
positive_float = number(float, low=0, low_open=True)
#: seconds of audio: positive, at most a week (a longer "file" is a mistake, and a bound keeps sample counts finite)
seconds = number(float, low=0, high=7 * 24 * 3600, low_open=True)
unit_interval = number(float, low=0, high=1)  # thresholds
fraction = number(float, low=0, high=1, high_open=True)  # dropout, momentum


def add_top_k(parser, default: int, what: str) -> None:
    """``--top-k N``, the one spelling every command uses for how many results to list (``--top``, the spelling of
    earlier versions, still works and is not shown)."""
    parser.add_argument("--top-k", dest="top", type=positive_int, default=default, metavar="N",
                        help=f"{what} (default: {default})")
    parser.add_argument("--top", dest="top", type=positive_int, help=argparse.SUPPRESS)
