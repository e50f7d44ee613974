"""The ``sampleaudio`` command line.

Subcommands import what they need when they run, so ``sampleaudio --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys

# argument types: every number is checked where it enters (one argparse line naming the option, exit code 2)
from sampleaudio.cli_types import non_negative_int as _non_negative_int
from sampleaudio.cli_types import positive_int as _positive_int
from sampleaudio.cli_types import seconds

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (the usage block is what ``--help`` is for); exit code 2 as argparse's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _cmd_prep(args: argparse.Namespace) -> int:
    from sampleaudio.data_prep import get_converter
    from sampleaudio.errors import DiskFullError
    from sampleaudio.inspect_store import summarize
    from sampleaudio.stores import is_disk_full

    conv = get_converter(args.dataset)
    workers = args.workers
    if args.runner != "local":
        try:
            from sampleaudio.data_prep.beam import BeamWorkers
        except ImportError as exc:
            print(f"sampleaudio prep: --runner {args.runner}: {exc}", file=sys.stderr)
            return 2
        workers = BeamWorkers(runner=args.runner, options=tuple(args.beam_options), num_workers=args.workers)
    try:
        if conv.INFO.proxy_of is None:
            if not args.src:
                print(f"sampleaudio prep {args.dataset}: --src DIR is required (the dataset's download folder)",
                      file=sys.stderr)
                return 2
            conv.convert(args.src, args.out, workers=workers, progress=not args.quiet)
        else:
            from sampleaudio.data_prep.synthetic import require_synth

            require_synth(args.dataset)
            conv.convert(args.out, size=args.size, seed=args.seed, workers=workers, progress=not args.quiet)
    except Exception as exc:  # a full disk, however TensorFlow, a worker or a Beam runner reports it: one line
        if not is_disk_full(exc):
            raise
        print(f"sampleaudio prep: error: {DiskFullError(args.out)}", file=sys.stderr)
        return 1
    print(summarize(args.out))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from sampleaudio.inspect_store import summarize

    print(summarize(args.dir, max_skipped=args.max_skipped))
    return 0




def _cmd_export(args: argparse.Namespace) -> int:
    from sampleaudio.export import export_run

    print(export_run(args.model, args.out, overwrite=args.overwrite, weights=args.weights,
                     max_request_seconds=args.max_request_seconds))
    return 0


def _add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a run as a TF Serving SavedModel",
                       description="Write a SavedModel whose serving_default signature takes a batch of "
                                   "variable-length float32 waveforms at the model card's sample rate (22,050 Hz "
                                   "for the package's runs, 16 kHz for musicnn and the Won 2020 models: "
                                   "`sampleaudio models` lists each) with their lengths, cuts segments in the graph "
                                   "and returns clip-level probabilities and the tag vocabulary (an asset); an "
                                   "`embed` signature returns clip embeddings.")
    p.add_argument("model", metavar="MODEL",
                   help="a finished `sampleaudio train` run folder, or a registered pretrained model name")
    p.add_argument("--weights", help="weights file of a pretrained model whose weights the user supplies")
    p.add_argument("--out", required=True, help="version folder for TF Serving, e.g. models/tagger/1")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing export (only a SavedModel sampleaudio wrote; never anything else)")
    p.add_argument("--max-request-seconds", type=seconds, default=600.0,
                   help="most audio one serving request may carry, all clips together (seconds)")
    p.set_defaults(func=_cmd_export)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command (``argv``: the command line, which ``train --help`` lists flags for)."""
    from sampleaudio.data_prep import converters

    datasets = list(converters())
    parser = _Parser(
        prog="sampleaudio",
        description="Sample-level CNNs (SampleCNN and its SE/Res/ReSE blocks) for audio classification from "
                    "raw waveforms: convert datasets, train, evaluate, tag, embed and export.")
    from sampleaudio._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "prep", help="convert a dataset (or build a synthetic proxy) into a TFRecord store",
        description="Convert a dataset in its release layout into sharded TFRecords of 22,050 Hz 16-bit PCM, "
                    "one Example per clip, with the papers' splits. Real datasets need --src; the mini-* "
                    "proxies are synthesised from pip-installed material. Killed runs resume when started "
                    "again with the same arguments. With --runner the shards are written by an Apache Beam "
                    "pipeline (pip install 'sampleaudio[beam]'); options this command does not know, such as "
                    "--flink_master=HOST:8081 or --project=P --region=R --temp_location=gs://..., go to the "
                    "Beam runner unchanged. The store is the same, byte for byte, on every runner.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("dataset", choices=datasets, metavar="DATASET", help="one of: " + ", ".join(datasets))
    p.add_argument("--src", help="the dataset's download folder (real datasets only)")
    p.add_argument("--out", required=True, help="output folder for shards and manifest.json")
    p.add_argument("--workers", type=_positive_int, default=max(1, min(4, os.cpu_count() or 1)),
                   help="decoding worker processes (with --runner direct: the direct runner's worker processes)")
    p.add_argument("--runner", choices=["local", "direct", "flink", "spark", "dataflow"], default="local",
                   help="local: this machine's worker processes; otherwise the Apache Beam runner that writes "
                        "the shards (the dataset and --out must be on a file system every worker sees)")
    p.add_argument("--size", choices=["small", "default"], default="default",
                   help="size of a synthetic proxy (small: for tests, seconds to build)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of a synthetic proxy")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prep)

    p = sub.add_parser("inspect", help="summarise a converted store",
                       description="Print dataset, splits (clips, hours, shards), standardisation statistics, "
                                   "label frequencies and skipped files of a store made by `sampleaudio prep`.")
    p.add_argument("dir", help="a folder written by `sampleaudio prep`")
    p.add_argument("--max-skipped", type=_non_negative_int, default=10, help="skipped files to list")
    p.set_defaults(func=_cmd_inspect)

    from sampleaudio.train_cli import add_train_parsers

    add_train_parsers(sub, argv)
    from sampleaudio.inference_cli import add_inference_parsers
    from sampleaudio.zeroshot_cli import tag_with_vocab

    add_inference_parsers(sub, tag_with_vocab=tag_with_vocab)
    _add_export_parser(sub)
    from sampleaudio.retrieval_cli import add_retrieval_parsers

    add_retrieval_parsers(sub)
    from sampleaudio.zeroshot_cli import add_zeroshot_parsers

    add_zeroshot_parsers(sub)
    for command in sub.choices.values():
        command.add_argument("--verbose", action="store_true",
                             help="keep TensorFlow's own log lines (hidden by default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not (args.command == "prep" and args.runner != "local"):
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")  # only Beam runners take extra options
    args.beam_options = unknown
    from sampleaudio.errors import SampleAudioError
    from sampleaudio.logs import quiet_tensorflow

    quiet_tensorflow(verbose=args.verbose)
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as exc:
        if exc.name not in ("tensorflow", "keras"):
            raise
        print(f"sampleaudio {args.command}: error: {exc.name} is not installed: pip install 'sampleaudio[cpu]' "
              "(or 'sampleaudio[gpu]' on a CUDA machine)", file=sys.stderr)
        return 1
    except SampleAudioError as exc:
        print(f"sampleaudio {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the user named: missing, unreadable, full disk
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"sampleaudio {args.command}: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sampleaudio {args.command}: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":
    sys.exit(main())
