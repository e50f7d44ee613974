"""``sampleaudio tag`` / ``embed``: tag and embed a music library, writing each file's result as it finishes.

The outputs are :mod:`sampleaudio.outputs`' streaming, resumable files; this module checks where they go before
any work (a missing folder, a read-only one or an unknown extension is one line, not an hour of lost work), lists
what the inputs' folders held and did not take, runs the :class:`~sampleaudio.inference.Tagger`'s iterators,
writes, plots (``--plot``) and ends with one summary line (done, skipped, failed). ``sampleaudio index`` and
``tag --vocab`` run through the same helpers.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence

from sampleaudio.cli_types import positive_int, seconds

__all__ = ["add_inference_parsers", "add_model_arguments", "add_run_options", "print_notes", "model_params", "stream_tags", "finish",
           "pretrained_help"]


def pretrained_help() -> str:
    """The pretrained names with what each needs, for the epilog of ``tag`` / ``embed`` / ``index``."""
    from sampleaudio.pretrained import describe

    return "registered pretrained models (use the name in place of a run folder):\n" + "\n".join(
        f"  {line}" for line in describe().splitlines())


def add_model_arguments(p) -> None:
    """``MODEL``, ``--weights`` and ``FILES``: what every streaming command runs on."""
    p.add_argument("model", metavar="MODEL",
                   help="a finished `sampleaudio train` run folder, or a registered pretrained model name "
                                 "(listed below)")
    p.add_argument("--weights", help="weights file of a pretrained model whose weights the user supplies")
    p.add_argument("files", nargs="+", help="audio files, folders or glob patterns")


def add_run_options(p, *, what: str) -> None:
    """The options every streaming command shares: hop, resume/overwrite, batching, limits, precision, quiet."""
    p.add_argument("--hop", type=seconds, default=None, metavar="SECONDS",
                   help="a window every SECONDS (overlapping when shorter than the model's segment; recorded in the "
                        "outputs); default: the model card's segments, i.e. consecutive non-overlapping windows")
    p.add_argument("--resume", action="store_true",
                   help=f"continue {what}: files already done (same path, size and modification time) are skipped, "
                        "failed ones tried again; the result is the same as an uninterrupted run's")
    p.add_argument("--overwrite", action="store_true", help=f"replace {what} if it exists")
    p.add_argument("--batch-size", type=positive_int, default=32, help="segments per forward pass")
    p.add_argument("--max-seconds", type=seconds, default=3600.0,
                   help="refuse (as that file's error) any file longer than this; memory per file in flight is "
                        "about 88 kB per second of audio")
    p.add_argument("--precision", default="float32", choices=["float32", "bfloat16"],
                   help="arithmetic of the forward pass: float32 (scores equal the exported SavedModel's) or "
                        "bfloat16 (about 1.5x less CPU time at full width on CPUs with AVX-512 BF16 or AMX; scores "
                        "differ by about 0.01)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, and no summary line unless a file failed")


def print_notes(notes: Iterable[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def model_params(model: str, weights: str | None, tagger) -> dict:
    """What an output records about the model and the input path (``--resume`` compares it)."""
    ref = model if not os.path.exists(model) else os.path.abspath(model)
    return {"model": ref, "weights": os.path.basename(weights) if weights else None, **tagger.settings()}


def finish(summary, command: str, where: str | None, quiet: bool) -> int:
    """Print the summary line (unless ``quiet`` and nothing failed); the exit code: 1 if a file failed."""
    if summary.failed or not quiet:
        print(summary.line(command, where), file=sys.stderr)
    return 1 if summary.failed else 0


def stream_tags(sources: Sequence, results: Callable[[list], Iterable], *, labels: Sequence[str], params: dict,
                out: str | None, resume: bool, decimals: int, top_k: int, plot: str | None, quiet: bool,
                command: str = "tag", plot_title: str | None = None) -> int:
    """Run ``results(todo)`` (tag results, in order) over the sources not yet done, print each file's top tags,
    write ``out`` and ``plot`` as they come; returns the exit code (1 if a file failed)."""
    from sampleaudio.outputs import Summary, TagWriter, output_name

    writer = TagWriter(out, labels, params, decimals=decimals, resume=resume) if out else None
    todo, done_before = writer.plan(sources) if writer else (list(sources), 0)
    summary = Summary(skipped=done_before)
    if plot:
        os.makedirs(plot, exist_ok=True)
    step = params.get("hop_seconds") or params.get("segment_seconds")  # what one taggram column spans
    try:
        for r in results(todo) if todo else ():
            if r.error:
                summary.failed += 1
                print(f"{r.source}\tERROR: {r.error}", file=sys.stderr)
                if writer:
                    writer.fail(r.source, r.error)
                continue
            if writer:
                writer.add(r)
            if plot:
                from sampleaudio.taggram import plot_taggram

                plot_taggram(r, os.path.join(plot, output_name(r.source, ".png")), step=step,
                             title=f"{os.path.basename(str(r.source))}  ({plot_title})" if plot_title else None)
            summary.done += 1
            print(f"{r.source}\t" + ", ".join(f"{t} ({s:.3f})" for t, s in r.top(top_k)), flush=True)
    finally:
        if writer:
            writer.close()
    return finish(summary, command, out, quiet)


def _check_outputs(args) -> None:
    """Everything about the output locations that can be refused before the model is loaded."""
    from sampleaudio.errors import ParameterError
    from sampleaudio.outputs import check_output_file, check_output_folder

    if args.out:
        check_output_file(args.out, resume=args.resume, overwrite=args.overwrite)
    elif args.resume:
        raise ParameterError("--resume continues an output: give it with --out FILE")
    if args.plot:
        check_output_folder(args.plot, what="--plot")


def _cmd_tag(args: argparse.Namespace) -> int:
    from sampleaudio.inference import Tagger, scan_inputs

    _check_outputs(args)
    Tagger.check_reference(args.model)
    sources, notes = scan_inputs(args.files)
    print_notes(notes)
    if args.vocab or os.path.exists(os.path.join(args.model, "word_branch.npz")):  # Choi 2019 co-embedding runs
        if args.tag_with_vocab is None:
            from sampleaudio.errors import ParameterError

            raise ParameterError("--vocab: this command line has no co-embedding support")
        return args.tag_with_vocab(args, sources)
    tagger = Tagger.from_path(args.model, weights=args.weights, batch_size=args.batch_size,
                              max_seconds=args.max_seconds, precision=args.precision, hop=args.hop)
    return stream_tags(sources, lambda todo: tagger.iter_tag(todo, top_k=args.top_k, progress=not args.quiet),
                       labels=tagger.labels, params=model_params(args.model, args.weights, tagger), out=args.out,
                       resume=args.resume, decimals=args.decimals, top_k=args.top_k, plot=args.plot,
                       quiet=args.quiet, plot_title=os.path.basename(os.path.normpath(args.model)))


def _cmd_embed(args: argparse.Namespace) -> int:
    from sampleaudio.inference import Tagger, scan_inputs
    from sampleaudio.outputs import EmbeddingWriter, Summary, check_output_folder

    check_output_folder(args.out, resume=args.resume, overwrite=args.overwrite, marker=EmbeddingWriter.MANIFEST)
    Tagger.check_reference(args.model)
    sources, notes = scan_inputs(args.files)
    print_notes(notes)
    tagger = Tagger.from_path(args.model, weights=args.weights, batch_size=args.batch_size,
                              max_seconds=args.max_seconds, precision=args.precision, hop=args.hop)
    params = {**model_params(args.model, args.weights, tagger), "layer": args.layer}
    writer = EmbeddingWriter(args.out, params, resume=args.resume)
    todo, done_before = writer.plan(sources)
    summary = Summary(skipped=done_before)
    try:
        for r in tagger.iter_embed(todo, layer=args.layer, progress=not args.quiet) if todo else ():
            writer.add(r)
            if r.error:
                summary.failed += 1
                print(f"{r.source}\tERROR: {r.error}", file=sys.stderr)
            else:
                summary.done += 1
    finally:
        writer.close()
    return finish(summary, "embed", args.out, args.quiet)


def add_inference_parsers(sub, *, tag_with_vocab: Callable | None = None) -> None:
    """Add the ``tag`` and ``embed`` subcommands (``tag_with_vocab(args, sources)``: what ``tag --vocab`` and a
    co-embedding run folder run, :func:`sampleaudio.zeroshot_cli.tag_with_vocab`)."""
    from sampleaudio.outputs import DECIMALS

    p = sub.add_parser(
        "tag", help="tag audio files with a trained model or a pretrained one",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=pretrained_help(),
        description="Clip-level tag probabilities (the mean over the file's windows) and the tag-over-time matrix "
                    "(taggram) of files, folders (recursive) and globs, decoded in parallel and batched together. "
                    "Prints each file's top tags as soon as it is done. --out writes every label's score and the "
                    f"taggram with its segment times, file by file: .csv, .jsonl or .json (scores rounded to "
                    f"--decimals, default {DECIMALS}), or .npz (float32); --resume continues a killed run. WAV, "
                    "FLAC, OGG, MP3 and Opus decode with libsndfile; AAC/ALAC (.m4a), WMA and WebM need "
                    "pip install 'sampleaudio[formats]'. A file that cannot be tagged is one line on stderr and "
                    "counts as failed in the summary line; the exit code is then 1.")
    add_model_arguments(p)
    p.add_argument("--top-k", type=positive_int, default=5, help="tags to print per file")
    p.add_argument("--vocab", help="co-embedding runs: rank the words of this file (one per line) by cosine with "
                                   "each file: zero-shot annotation with words never seen in training (default: "
                                   "the run's seen and unseen tags)")
    p.add_argument("--out", help="results file: .csv, .jsonl, .json or .npz (written as files finish)")
    p.add_argument("--decimals", type=positive_int, default=DECIMALS, help="decimals of the scores in .csv/.json")
    p.add_argument("--plot", metavar="DIR", help="draw each file's taggram (its top 10 tags over time) as a PNG in "
                                                 "DIR, named <file stem>-<hash of its path>.png")
    add_run_options(p, what="--out")
    p.set_defaults(func=_cmd_tag, tag_with_vocab=tag_with_vocab)

    p = sub.add_parser(
        "embed", help="embed audio files with a trained model or a pretrained one",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=pretrained_help(),
        description="Clip embeddings (pooled over the file's windows) and per-window embeddings, one .npz per file "
                    "in --out (keys: embedding, segment_embeddings, times, source, duration; named <file stem>-<hash "
                    "of its path>.npz), each written when its file is done, and manifest.jsonl listing every input "
                    "with its .npz or its error; --resume continues a killed run.")
    add_model_arguments(p)
    p.add_argument("--out", required=True, help="output folder (created; its parent must exist)")
    p.add_argument("--layer", default="penultimate",
                   help="penultimate (head's hidden layer), multi (multi-level features) or a layer name")
    add_run_options(p, what="the folder's output")
    p.set_defaults(func=_cmd_embed)
