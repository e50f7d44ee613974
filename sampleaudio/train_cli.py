"""``sampleaudio train``, ``evaluate`` and ``models``: their flags come from the declarations.

Every flag of ``train`` is generated from a declared parameter (:mod:`sampleaudio.params`): the data, schedule and
evaluation sections (:mod:`sampleaudio.config`), every registered architecture's parameters and every objective's
(:mod:`sampleaudio.families`), so a new family's knobs appear here without an edit. A flag the chosen architecture
or objective does not take is refused in one line naming the ones it takes; ``train --architecture fcn --help``
lists only FCN's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from sampleaudio import families
from sampleaudio.config import DataConfig, EvalConfig, TrainConfig
from sampleaudio.params import add_arguments, closest, given

__all__ = ["add_train_parsers", "chosen"]

_SECTIONS = {"data": DataConfig, "train": TrainConfig, "eval": EvalConfig}


def chosen(argv: list[str] | None, flag: str) -> str | None:
    """The value of ``flag`` on a command line, read before the parsers are built (for ``--help``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _cmd_train(args: argparse.Namespace) -> int:
    from sampleaudio import cpu

    model_given = given(args, "model__")
    # before TensorFlow is imported: the measured CPU winner for the width being trained (or the user's choice)
    cpu.apply(cpu.choose(init_features=model_given.get("init_features", 128), onednn=args.onednn),
              force_onednn=args.onednn != "auto")
    from sampleaudio.config import ExperimentConfig
    from sampleaudio.errors import ParameterError
    from sampleaudio.train import train

    run_dir = args.run or args.run_dir
    if not run_dir:
        raise ParameterError("give the run folder to write (and resume): sampleaudio train RUN --data STORE")
    sections = {name: cls(**given(args, f"{name}__")) for name, cls in _SECTIONS.items()}
    if not sections["data"].data_dir:
        raise ParameterError("give the store to train on: --data STORE (a folder made by `sampleaudio prep`)")
    sections["data"].data_dir = os.path.abspath(sections["data"].data_dir)
    config = ExperimentConfig(
        name=os.path.basename(os.path.normpath(run_dir)), **sections,
        model=_params("architecture", args.architecture, model_given, families.model_params),
        objective=_params("objective", args.objective or families.architecture(args.architecture).objectives[0],
                          given(args, "objective__"), families.objective_params))
    result = train(config, run_dir, verbose=0 if args.quiet else 1)
    print(json.dumps(result, indent=2))
    return 0


def _params(kind: str, name: str, values: dict, make):
    """The parameters of the chosen architecture or objective; a flag it does not take is one line."""
    from sampleaudio.errors import ParameterError

    try:
        return make(name, **values)
    except ParameterError as exc:
        key = str(exc).split(" ", 1)[0].split(".", 1)[-1]
        if key in values:
            flag = "--" + key.replace("_", "-")
            taken = sorted(families.parameter_names(name) if kind == "architecture"
                           else families.objective_parameter_names(name))
            raise ParameterError(f"{flag} is not a parameter of {kind} '{name}' (it takes "
                                 f"{', '.join('--' + t.replace('_', '-') for t in taken) or 'none'})"
                                 f"{closest(key, taken)}") from None
        raise


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sampleaudio.evaluate import evaluate_run

    print(json.dumps(evaluate_run(args.model, split=args.split, data_dir=args.data), indent=2))
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    """Every trainable architecture and pretrained name, with its paper, input rate and length."""
    rows = []
    for family in families.families().values():
        for a in family.architectures:
            rate = f"{a.input.sample_rate} Hz" if a.input.sample_rate else "any rate"
            length = (f"{a.input.segment:,} samples" if a.input.segment else
                      "Kim 2019's per dataset" if a.input.segments else "from its parameters")
            rows.append(("train", a.name, family.name, f"{rate}, {length}", a.paper))
        for p in family.pretrained:
            rows.append(("pretrained", p.name, family.name, f"{p.sample_rate} Hz, {p.segment:,} samples",
                         f"{p.paper}; needs: {p.needs}" if p.needs else p.paper))
    if args.format == "json":
        print(json.dumps([dict(zip(("kind", "name", "family", "input", "about"), r)) for r in rows], indent=2))
        return 0
    width = max(len(r[1]) for r in rows)
    for kind, name, _, inp, about in rows:
        print(f"{kind:<10}  {name:<{width}}  {inp:<32}  {about}")
    return 0


def add_train_parsers(sub, argv: list[str] | None = None) -> None:
    """``train``, ``evaluate`` and ``models`` (``argv``: the command line, so ``--help`` lists the chosen
    architecture's and objective's flags only)."""
    archs, objs = families.architectures(), families.objectives()
    arch = chosen(argv, "--architecture")
    obj = chosen(argv, "--objective")
    p = sub.add_parser(
        "train", help="train a model on a converted store (the papers' schedules)",
        description="Train an architecture on a store made by `sampleaudio prep`, with the papers' protocol by "
                    "default: SGD + Nesterov 0.9, batch 23, lr 0.01 divided by 5 over up to 5 stages, each ending "
                    "after 2 epochs without validation-loss improvement. The run folder records config, versions, "
                    "git commit, history, TensorBoard logs, the best model, its card and the final metrics; a "
                    "killed run resumes from its last epoch when started again with the same arguments. "
                    "`sampleaudio train --architecture NAME --help` lists only that architecture's flags.")
    p.add_argument("run", nargs="?", metavar="RUN", help="the run folder to write (and resume from)")
    p.add_argument("--run-dir", help=argparse.SUPPRESS)  # the older spelling of RUN
    g = p.add_argument_group("data")
    add_arguments(g, [DataConfig], prefix="data__")
    g = p.add_argument_group("model", "each architecture takes only its own flags (its config.json records them)")
    g.add_argument("--architecture", default=families.DEFAULT_ARCHITECTURE, choices=list(archs), metavar="NAME",
                   help="; ".join(f"{a.name}: {a.paper}" for a in archs.values()))
    add_arguments(g, list(dict.fromkeys(a.params for a in archs.values())), prefix="model__",
                  shown=None if arch not in archs else [archs[arch].params],
                  who=lambda cls: "/".join(a.name for a in archs.values() if a.params is cls))
    g = p.add_argument_group("objective")
    g.add_argument("--objective", default=None, choices=list(objs), metavar="NAME",
                   help="default: the architecture's first (classification, or the one it trains with); "
                        + "; ".join(f"{o.name}: {o.paper}" for o in objs.values()))
    trains_with = archs[arch].objectives if arch in archs else ()
    shown_objectives = [objs[obj].params] if obj in objs else \
        [objs[o].params for o in trains_with if o in objs] if trains_with else None
    add_arguments(g, [o.params for o in objs.values()], prefix="objective__",
                  shown=shown_objectives,
                  who=lambda cls: "/".join(o.name for o in objs.values() if o.params is cls))
    g = p.add_argument_group("optimisation")
    add_arguments(g, [TrainConfig], prefix="train__")
    g.add_argument("--onednn", default="auto", choices=["auto", "on", "off"],
                   help="TensorFlow's oneDNN CPU kernels: auto = the measured winner for this CPU and width "
                        "(sampleaudio.cpu); with auto, TF_ENABLE_ONEDNN_OPTS or SAMPLEAUDIO_ONEDNN decide")
    g = p.add_argument_group("final evaluation")
    add_arguments(g, [EvalConfig], prefix="eval__")
    p.add_argument("--quiet", action="store_true", help="no Keras progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a run's best model on a split (clip-level metrics)",
                       description="Pool each clip's segment predictions as the model card says and compute "
                                   "macro ROC-AUC, PR-AUC, argmax accuracy, the original's exact-match accuracy "
                                   "and the instance F-score, plus per-class scores; written into the run folder.")
    p.add_argument("model", metavar="MODEL", help="a finished `sampleaudio train` run folder")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--data", default=None, help="another store with the same labels (default: the run's)")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("models", help="list what can be trained (--architecture) and loaded by name",
                       description="Every trainable architecture and every registered pretrained model, with its "
                                   "family, input (sample rate, length) and paper.")
    p.add_argument("--format", default="table", choices=["table", "json"])
    p.set_defaults(func=_cmd_models)
