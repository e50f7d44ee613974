"""The ``sampleaudio`` command line.

Subcommands import what they need when they run, so ``sampleaudio --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

# argument types: every number is checked where it enters (one argparse line naming the option, exit code 2)
from sampleaudio.cli_types import fraction as _fraction
from sampleaudio.cli_types import non_negative_int as _non_negative_int
from sampleaudio.cli_types import number as _number
from sampleaudio.cli_types import positive_float as _positive_float
from sampleaudio.cli_types import positive_int as _positive_int
from sampleaudio.cli_types import unit_interval as _unit_interval
from sampleaudio.model_registry import ARCHITECTURES

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (the usage block is what ``--help`` is for); exit code 2 as argparse's."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _cmd_prep(args: argparse.Namespace) -> int:
    from sampleaudio.data_prep import REAL, SYNTHETIC, get_converter
    from sampleaudio.inspect_store import summarize

    conv = get_converter(args.dataset)
    workers = args.workers
    if args.runner != "local":
        try:
            from sampleaudio.data_prep.beam import BeamWorkers
        except ImportError as exc:
            print(f"sampleaudio prep: --runner {args.runner}: {exc}", file=sys.stderr)
            return 2
        workers = BeamWorkers(runner=args.runner, options=tuple(args.beam_options), num_workers=args.workers)
    if args.dataset in REAL:
        if not args.src:
            print(f"sampleaudio prep {args.dataset}: --src DIR is required (the dataset's download folder)",
                  file=sys.stderr)
            return 2
        conv.convert(args.src, args.out, workers=workers, progress=not args.quiet)
    else:
        assert args.dataset in SYNTHETIC
        from sampleaudio.data_prep.synthetic import require_synth

        require_synth(args.dataset)
        conv.convert(args.out, size=args.size, seed=args.seed, workers=workers, progress=not args.quiet)
    print(summarize(args.out))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from sampleaudio.inspect_store import summarize

    print(summarize(args.dir, max_skipped=args.max_skipped))
    return 0


#: config fields whose `train` flag has another name (section, field) -> argparse dest
_FLAG_DEST = {("data", "data_dir"): "data", ("eval", "split"): "eval_split", ("eval", "batch_size"): "eval_batch_size"}


def _config_section(cls, args: argparse.Namespace):
    """One section of the run configuration from the `train` flags: every field has its flag (a test checks
    both directions), so the command line cannot drift from the configuration."""
    import dataclasses

    section = cls.__name__.removesuffix("Config").lower()
    values = {f.name: getattr(args, _FLAG_DEST.get((section, f.name), f.name)) for f in dataclasses.fields(cls)}
    if section == "data":
        values["data_dir"] = os.path.abspath(values["data_dir"])
    if section == "train" and values["num_negatives"] is None:  # each objective's own default
        values["num_negatives"] = 1 if values["objective"] == "coembedding" else 4
    return cls(**values)


def _cmd_train(args: argparse.Namespace) -> int:
    from sampleaudio import cpu

    # before TensorFlow is imported: the measured CPU winner for the width being trained (or the user's choice)
    cpu.apply(cpu.choose(init_features=args.init_features, onednn=args.onednn), force_onednn=args.onednn != "auto")
    from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, ModelConfig, TrainConfig
    from sampleaudio.train import train

    config = ExperimentConfig(name=os.path.basename(os.path.normpath(args.run_dir)),
                              data=_config_section(DataConfig, args), model=_config_section(ModelConfig, args),
                              train=_config_section(TrainConfig, args), eval=_config_section(EvalConfig, args))
    result = train(config, args.run_dir, verbose=0 if args.quiet else 1)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sampleaudio.evaluate import evaluate_run

    print(json.dumps(evaluate_run(args.run_dir, split=args.split, data_dir=args.data), indent=2))
    return 0


def _add_train_parser(sub) -> None:
    p = sub.add_parser(
        "train", help="train a model on a converted store (staged SGD schedule of the papers)",
        description="Train SampleCNN (or a baseline) on a store made by `sampleaudio prep`, with the papers' "
                    "protocol by default: SGD + Nesterov 0.9, batch 23, lr 0.01 divided by 5 over up to 5 stages, "
                    "each ending after 2 epochs without validation-loss improvement. The run directory records "
                    "config, versions, git commit, history, TensorBoard logs, the best model and test metrics; "
                    "a killed run resumes from its last epoch when started again with the same arguments.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", required=True, help="store folder (from `sampleaudio prep`)")
    p.add_argument("--run-dir", required=True, help="where the run is written (and resumed from)")
    g = p.add_argument_group("model", "each architecture takes only some of these flags (the run's config.json "
                                      "records those); another one set to other than its default is refused")
    g.add_argument("--architecture", default="samplecnn", choices=list(ARCHITECTURES),
                   help="; ".join(f"{s.name}: {s.paper}" for s in ARCHITECTURES.values()))
    g.add_argument("--block", default="se", choices=["basic", "se", "res1", "res2", "rese1", "rese2"])
    g.add_argument("--multi", action="store_true", help="multi-level aggregation of the last 3 blocks")
    g.add_argument("--num-blocks", type=_positive_int, default=None,
                   help="default: Kim 2019's for the dataset (9 MTAT, 8 SCD/DCASE), else the most the segment allows")
    g.add_argument("--init-features", type=_positive_int, default=128, help="width of the first layers")
    g.add_argument("--amplifying-ratio", type=_positive_float, default=0.125, help="SE hidden width / channels")
    g.add_argument("--dropout", type=_fraction, default=0.5)
    g.add_argument("--window", type=_positive_int, default=3, help="first-layer window (mel/strided/frame)")
    g.add_argument("--hop", type=_positive_int, default=3, help="first-layer hop (mel/strided)")
    g.add_argument("--bn-momentum", type=_fraction, default=None,
                   help="momentum of every batch norm's moving statistics (default: Keras' 0.99); short runs "
                        "need less (0.9), since evaluation uses these statistics")
    g.add_argument("--initializer", default="jstsp", choices=["jstsp", "he_uniform"],
                   help="conv initialiser: the JSTSP 2019 code's, or he_uniform (ICASSP 2018 / SMC 2017 code)")
    g = p.add_argument_group("data")
    g.add_argument("--segment", type=_positive_int, default=None, help="input samples (default: the task's)")
    g.add_argument("--batch-size", type=_positive_int, default=23)
    g.add_argument("--standardize", default="manifest", choices=["manifest", "paper", "none"],
                   help="store's train mean/std, the original's constants (real data), or none (SMC 2017)")
    g.add_argument("--train-examples", default="fixed", choices=["fixed", "random_crop"],
                   help="fixed: each clip's non-overlapping segments, each once per epoch (the papers); "
                        "random_crop: one random crop per clip and pass (augmentation)")
    g.add_argument("--shuffle-buffer", type=_positive_int, default=2048,
                   help="shuffle buffer in segments (fixed; the original used 10,000) or clips (random_crop)")
    g.add_argument("--max-eval-segments", type=_positive_int, default=None, help="cap segments per clip in the final test")
    g.add_argument("--max-valid-segments", type=_positive_int, default=None, help="cap segments per clip in validation")
    g = p.add_argument_group("optimisation")
    g.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    g.add_argument("--lr", type=_positive_float, default=0.01)
    g.add_argument("--momentum", type=_fraction, default=0.9)
    g.add_argument("--lr-decay", type=_number(float, low=0, high=1, low_open=True), default=0.2, help="factor between stages")
    g.add_argument("--time-decay", type=_number(float, low=0), default=1e-6,
                   help="the original's per-step inverse time decay (SGD decay=1e-6) within a stage")
    g.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"],
                   help="within a stage: constant (the papers), or warm-up then cosine decay to 0 at the stage's "
                        "last step (short fixed budgets, e.g. the demo)")
    g.add_argument("--warmup-steps", type=_non_negative_int, default=0,
                   help="linear warm-up steps of the cosine schedule")
    g.add_argument("--num-stages", type=_positive_int, default=5)
    g.add_argument("--patience", type=_positive_int, default=2, help="epochs without improvement that end a stage")
    g.add_argument("--max-epochs-per-stage", type=_positive_int, default=100)
    g.add_argument("--steps-per-epoch", type=_positive_int, default=None, help="default: one pass over the segments")
    g.add_argument("--loss", default="keras", choices=["keras", "clipped"],
                   help="keras: cross-entropy from logits; clipped: the original's (probabilities clipped to "
                        "[1e-7, 1-1e-7], TF 1.10 Keras)")
    g.add_argument("--mixed-precision", default="auto", choices=["auto", "off", "float16", "bfloat16"],
                   help="auto: float16 on a GPU; on a CPU with bfloat16 dot products (AVX-512 BF16) bfloat16 for "
                        "a waveform SampleCNN (measured ~1.6x less CPU time at width 128); float32 otherwise")
    g.add_argument("--onednn", default="auto", choices=["auto", "on", "off"],
                   help="TensorFlow's oneDNN CPU kernels: auto = the measured winner for this CPU and "
                        "--init-features (sampleaudio.cpu); with auto, TF_ENABLE_ONEDNN_OPTS or SAMPLEAUDIO_ONEDNN "
                        "in the environment decide")
    g.add_argument("--distribute", default="none", choices=["none", "mirrored", "multiworker"],
                   help="tf.distribute strategy: mirrored = all local GPUs; multiworker = one process per worker, "
                        "each with its own TF_CONFIG and the same arguments (custom training loop)")
    g.add_argument("--jit-compile", default="auto", choices=["auto", "on", "off"],
                   help="XLA-compile the train step (auto: on GPU only, where it pays off)")
    g.add_argument("--seed", type=_non_negative_int, default=0)
    g.add_argument("--objective", default="classification", choices=["classification", "siamese", "coembedding"],
                   help="siamese: Park 2018's artist triplets (needs artist_id in the records) and max-margin loss; "
                        "coembedding: Choi 2019's audio-word co-embedding for zero-shot tagging")
    g.add_argument("--num-negatives", type=_positive_int, default=None,
                   help="negatives per anchor (default: siamese 4, coembedding 1)")
    g.add_argument("--margin", type=_positive_float, default=0.4, help="siamese: max-margin loss margin")
    g = p.add_argument_group("final evaluation")
    g.add_argument("--word-vectors", default="glove-6b-50d",
                   help="coembedding: glove-6b-50d (the zeroshot extra's wheel), random:<dim> (the control) or a "
                        "GloVe .txt file")
    g.add_argument("--unseen-fraction", type=_fraction, default=0.2, help="coembedding: share of tags held out")
    g.add_argument("--split-seed", type=_non_negative_int, default=0, help="coembedding: seed of the tag/track split")
    g.add_argument("--oov-tags", default="error", choices=["error", "drop"],
                   help="coembedding: a tag without any word vector stops the run, or is dropped (and recorded)")
    g.add_argument("--threshold", type=_unit_interval, default=None, help="decision threshold (default: the task's)")
    g.add_argument("--eval-split", default="test", choices=["train", "valid", "test"], help="split scored at the end")
    g.add_argument("--eval-batch-size", type=_positive_int, default=64, help="segments per batch when scoring")
    p.add_argument("--quiet", action="store_true", help="no Keras progress bars")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a run's best model on a split (clip-level metrics)",
                       description="Average each clip's segment predictions and compute macro ROC-AUC, PR-AUC, "
                                   "argmax accuracy, the original's exact-match accuracy and the instance F-score, "
                                   "plus per-class scores; written into the run directory.")
    p.add_argument("run_dir", help="a finished `sampleaudio train` run")
    p.add_argument("--split", default="test", choices=["train", "valid", "test"])
    p.add_argument("--data", default=None, help="another store with the same labels (default: the run's)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_export(args: argparse.Namespace) -> int:
    from sampleaudio.export import export_run

    print(export_run(args.run_dir, args.out, overwrite=args.overwrite, weights=args.weights,
                     max_request_seconds=args.max_request_seconds))
    return 0


def _add_export_parser(sub) -> None:
    p = sub.add_parser("export", help="export a run as a TF Serving SavedModel",
                       description="Write a SavedModel whose serving_default signature takes a batch of "
                                   "variable-length float32 waveforms at 22,050 Hz with their lengths, cuts "
                                   "segments in the graph and returns clip-level probabilities and the tag "
                                   "vocabulary (an asset); an `embed` signature returns clip embeddings.")
    p.add_argument("run_dir", help="a finished `sampleaudio train` run folder, or a registered pretrained model name")
    p.add_argument("--weights", help="weights file of a pretrained model whose weights the user supplies")
    p.add_argument("--out", required=True, help="version folder for TF Serving, e.g. models/tagger/1")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing export (only a SavedModel sampleaudio wrote; never anything else)")
    p.add_argument("--max-request-seconds", type=_positive_float, default=600.0,
                   help="most audio one serving request may carry, all clips together (seconds)")
    p.set_defaults(func=_cmd_export)


def build_parser() -> argparse.ArgumentParser:
    from sampleaudio.data_prep import CONVERTERS

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
    p.add_argument("dataset", choices=list(CONVERTERS), metavar="DATASET",
                   help="one of: " + ", ".join(CONVERTERS))
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

    _add_train_parser(sub)
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
    parser = build_parser()
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
