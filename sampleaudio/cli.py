"""The ``sampleaudio`` command line.

Subcommands import what they need when they run, so ``sampleaudio --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser"]


def _cmd_prep(args: argparse.Namespace) -> int:
    from data_prep import REAL, SYNTHETIC, get_converter
    from sampleaudio.inspect_store import summarize

    conv = get_converter(args.dataset)
    if args.dataset in REAL:
        if not args.src:
            print(f"sampleaudio prep {args.dataset}: --src DIR is required (the dataset's download folder)",
                  file=sys.stderr)
            return 2
        conv.convert(args.src, args.out, workers=args.workers, progress=not args.quiet)
    else:
        assert args.dataset in SYNTHETIC
        conv.convert(args.out, size=args.size, seed=args.seed, workers=args.workers, progress=not args.quiet)
    print(summarize(args.out))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from sampleaudio.inspect_store import summarize

    print(summarize(args.dir, max_skipped=args.max_skipped))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from data_prep import CONVERTERS

    parser = argparse.ArgumentParser(
        prog="sampleaudio",
        description="Sample-level CNNs (SampleCNN and its SE/Res/ReSE blocks) for audio classification from "
                    "raw waveforms: convert datasets, train, evaluate, tag, embed and export.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "prep", help="convert a dataset (or build a synthetic proxy) into a TFRecord store",
        description="Convert a dataset in its release layout into sharded TFRecords of 22,050 Hz 16-bit PCM, "
                    "one Example per clip, with the papers' splits. Real datasets need --src; the mini-* "
                    "proxies are synthesised from pip-installed material. Killed runs resume when started "
                    "again with the same arguments.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("dataset", choices=list(CONVERTERS), metavar="DATASET",
                   help="one of: " + ", ".join(CONVERTERS))
    p.add_argument("--src", help="the dataset's download folder (real datasets only)")
    p.add_argument("--out", required=True, help="output folder for shards and manifest.json")
    p.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                   help="decoding worker processes")
    p.add_argument("--size", choices=["small", "default"], default="default",
                   help="size of a synthetic proxy (small: for tests, seconds to build)")
    p.add_argument("--seed", type=int, default=0, help="seed of a synthetic proxy")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prep)

    p = sub.add_parser("inspect", help="summarise a converted store",
                       description="Print dataset, splits (clips, hours, shards), standardisation statistics, "
                                   "label frequencies and skipped files of a store made by `sampleaudio prep`.")
    p.add_argument("dir", help="a folder written by `sampleaudio prep`")
    p.add_argument("--max-skipped", type=int, default=10, help="skipped files to list")
    p.set_defaults(func=_cmd_inspect)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from sampleaudio.errors import SampleAudioError

    try:
        return int(args.func(args) or 0)
    except SampleAudioError as exc:
        print(f"sampleaudio {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
