"""Declared parameters: one declaration per knob gives its default, help, choices and range.

A configuration section (the data, the schedule, a model family's parameters, an objective's) is a dataclass whose
fields are made with :func:`param`. From that one declaration come the checks (:meth:`Params.check`, the same
one-line :class:`~sampleaudio.errors.ParameterError` for the Python API and for a hand-written ``config.json``), the
command line (:func:`add_arguments`: names, defaults, choices, ranges and help of ``sampleaudio train``) and the
reference tables of the documentation, so none of them is typed a second time (tensorflow/models'
``config_definitions`` with the argparse layer generated).

>>> import dataclasses
>>> @dataclasses.dataclass
... class Knobs(Params):
...     width: int = param(16, "channels of the first layer", low=1)
...     rate: float = param(0.5, "dropout", low=0, high=1, high_open=True)
>>> Knobs(width=8).check().width
8
>>> Knobs(rate=1.0).check()
Traceback (most recent call last):
    ...
sampleaudio.errors.ParameterError: rate must be a number in [0, 1). Received: 1.0
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import numbers
import typing
from collections.abc import Mapping
from typing import Any

from sampleaudio.cli_types import number
from sampleaudio.errors import ParameterError

__all__ = ["Declared", "Params", "param", "declared", "add_arguments", "values_from_args", "given", "closest"]


@dataclasses.dataclass(frozen=True)
class Declared:
    """What :func:`param` records about a field (its ``metadata["declared"]``)."""

    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    flag: str | None = None  # the command-line flag, when not ``--<field-with-dashes>``
    cli: bool = True  # False: a knob of the Python API and config.json only

    def span(self) -> str:
        lo = "(-inf" if self.low is None else f"{'(' if self.low_open else '['}{self.low:g}"
        hi = "inf)" if self.high is None else f"{self.high:g}{')' if self.high_open else ']'}"
        return f"{lo}, {hi}"


def param(default: Any, help: str, *, choices=None, low: float | None = None, high: float | None = None,
          low_open: bool = False, high_open: bool = False, flag: str | None = None, cli: bool = True):
    """A dataclass field with its declaration (see the module docstring). ``choices``: the allowed values;
    ``low`` / ``high``: the bounds of a number (inclusive unless ``*_open``)."""
    meta = {"declared": Declared(help, tuple(choices) if choices is not None else None, low, high, low_open,
                                 high_open, flag, cli)}
    if isinstance(default, (list, dict, set)):
        raise ParameterError("param defaults must be immutable")
    return dataclasses.field(default=default, metadata=meta)


def _kind(cls, name: str) -> tuple[type, bool]:
    """``(int | float | str | bool, may be None)`` of a field from its annotation."""
    hint = typing.get_type_hints(cls)[name]
    args = typing.get_args(hint) or (hint,)
    optional = type(None) in args
    base = next(a for a in args if a is not type(None))
    return base, optional


def declared(cls) -> list[tuple[dataclasses.Field, Declared, type, bool]]:
    """``(field, declaration, kind, may be None)`` of every declared field of a :class:`Params` class, in order."""
    out = []
    for f in dataclasses.fields(cls):
        d = f.metadata.get("declared")
        if d is not None:
            out.append((f, d, *_kind(cls, f.name)))
    return out


def closest(name: str, known) -> str:
    """`` (did you mean 'x'?)`` for a mistyped name, or ``""``."""
    found = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""


class Params:
    """Mixin of a dataclass of :func:`param` fields: checks, and a dict form for ``config.json``."""

    def check(self, section: str = ""):
        """Raise :class:`ParameterError` naming the first field (``section.field``) that is out of its declared
        range or choices, or of the wrong type; return ``self``."""
        for f, d, kind, optional in declared(type(self)):
            value, where = getattr(self, f.name), f"{section}.{f.name}" if section else f.name
            if value is None and optional:
                continue
            if d.choices is not None:
                if value not in d.choices:
                    raise ParameterError(f"{where} must be one of {', '.join(map(str, d.choices))}"
                                         f"{closest(value, d.choices)}. Received: {value!r}")
                continue
            if kind is bool:
                if not isinstance(value, bool):
                    raise ParameterError(f"{where} must be true or false. Received: {value!r}")
                continue
            if kind is str:
                if not isinstance(value, str):
                    raise ParameterError(f"{where} must be a string. Received: {value!r}")
                continue
            integer = kind is int
            ok = not isinstance(value, bool) and isinstance(value, numbers.Integral if integer else numbers.Real)
            ok = ok and math.isfinite(value)
            ok = ok and not (d.low is not None and (value < d.low or (d.low_open and value == d.low)))
            ok = ok and not (d.high is not None and (value > d.high or (d.high_open and value == d.high)))
            if not ok:
                raise ParameterError(f"{where} must be {'an integer' if integer else 'a number'} in {d.span()}"
                                     f"{' or None' if optional else ''}. Received: {value!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], section: str = ""):
        """An instance from a ``config.json`` section; an unknown key is one line naming it."""
        if not isinstance(d, Mapping):
            raise ParameterError(f"{section or cls.__name__} must be a JSON object. Received: {d!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ParameterError(f"{section or cls.__name__} has unknown field(s) {unknown}"
                                 f"{closest(unknown[0], names)}")
        return cls(**d)


def _flag(f: dataclasses.Field, d: Declared) -> str:
    return d.flag or "--" + f.name.replace("_", "-")


def add_arguments(group, classes, *, prefix: str = "", shown=None, who=None) -> None:
    """Add one flag per declared command-line field of any of ``classes`` to an argparse parser or group.

    Flags default to ``argparse.SUPPRESS``, so that :func:`values_from_args` gets only what the user typed and
    the declared defaults apply otherwise. ``prefix`` is prepended to each ``dest`` (sections may share a
    parser). A field of several classes gets one flag, its help saying which of them take it (``who(cls)`` names
    a class, e.g. by its architecture) and its default(s). ``shown``: the classes whose flags ``--help`` lists
    (default: all).
    """
    fields: dict[str, list] = {}
    for cls in classes:
        for f, d, kind, _ in declared(cls):
            if d.cli:
                fields.setdefault(f.name, []).append((cls, f, d, kind))
    for name, entries in fields.items():
        cls, f, d, kind = entries[0]
        defaults = {repr(e[1].default) for e in entries}
        text = d.help + (f" (default: {defaults.pop()})" if len(defaults) == 1 else " (default: depends on which)")
        owners = [e[0] for e in entries]
        if who is not None and len(owners) < len(classes):
            text += "; taken by " + ", ".join(dict.fromkeys(who(c) for c in owners))
        visible = shown is None or any(c in shown for c in owners)
        kwargs: dict[str, Any] = {"dest": prefix + name, "default": argparse.SUPPRESS,
                                  "help": text if visible else argparse.SUPPRESS}
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif d.choices is not None:
            kwargs.update(choices=list(d.choices), type=kind)
        elif kind in (int, float):
            kwargs["type"] = number(kind, low=d.low, high=d.high, low_open=d.low_open, high_open=d.high_open)
            kwargs["metavar"] = "N" if kind is int else "X"
        elif kind is str:
            kwargs["metavar"] = name.upper()
        group.add_argument(_flag(f, d), **kwargs)


def values_from_args(cls, args: argparse.Namespace, *, prefix: str = "") -> dict[str, Any]:
    """The fields of ``cls`` that the user gave on a command line parsed with :func:`add_arguments`."""
    return {f.name: getattr(args, prefix + f.name) for f in dataclasses.fields(cls) if hasattr(args, prefix + f.name)}


def given(args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    """Every value the user gave for a section (``prefix``), whichever class declares it."""
    return {k[len(prefix):]: v for k, v in vars(args).items() if k.startswith(prefix)}
