"""``sampleaudio index`` / ``similar`` / ``plot-embeddings``: song retrieval from the command line (Park 2018).

``index`` embeds a library file by file into an :class:`~sampleaudio.retrieval.IndexBuilder` (resumable,
committed atomically every ``--commit-every`` files and at the end); ``similar`` (and ``search``, ``neighbours``)
print their results as a table, CSV or JSON (``--format``).
"""

from __future__ import annotations

import argparse
import os
import sys

from sampleaudio.cli_types import add_top_k, non_negative_int, positive_int

__all__ = ["add_retrieval_parsers", "add_format_option", "print_rows", "print_results"]


def add_format_option(p) -> None:
    p.add_argument("--format", choices=["table", "csv", "json"], default="table",
                   help="table: aligned text; csv: one row per result with a header; json: a list of objects "
                        "(scores rounded to 4 decimals in csv and json)")


def print_rows(rows: list[dict], fmt: str) -> None:
    """Rows as ``csv`` or ``json`` on stdout (:func:`sampleaudio.outputs.format_rows`)."""
    from sampleaudio.outputs import format_rows

    print(format_rows(rows, fmt))


def print_results(queries: list[tuple[str, list[dict]]], fmt: str) -> None:
    """Ranked songs of each query (``[(query, rows)]``, rows from :meth:`EmbeddingIndex.query`) as ``table``
    (``query: ...`` then ``rank  score  path  key=value ...``), ``csv`` or ``json`` (one row per result, the
    query in a column)."""
    if fmt != "table":
        print_rows([{"query": q, **row} for q, rows in queries for row in rows], fmt)
        return
    for query, rows in queries:
        print(f"query: {query}")
        for row in rows:
            extra = "  ".join(f"{k}={v}" for k, v in row.items() if k not in ("rank", "score", "path"))
            print(f"{row['rank']:>3}  {row['score']:.4f}  {row['path']}" + (f"  {extra}" if extra else ""))


def _cmd_index(args: argparse.Namespace) -> int:
    from sampleaudio.inference import Tagger, scan_inputs
    from sampleaudio.inference_cli import finish, model_params, print_notes
    from sampleaudio.outputs import Summary, check_output_folder
    from sampleaudio.retrieval import IndexBuilder, metadata_table, song_metadata

    check_output_folder(args.out, resume=args.resume, overwrite=args.overwrite,
                        marker=("index.json", IndexBuilder.JOURNAL))
    table = metadata_table(args.metadata)
    Tagger.check_reference(args.model)
    sources, notes = scan_inputs(args.files)
    print_notes(notes)
    tagger = Tagger.from_path(args.model, weights=args.weights, batch_size=args.batch_size,
                              max_seconds=args.max_seconds, precision=args.precision, hop=args.hop)
    params = {**model_params(args.model, args.weights, tagger), "layer": args.layer,
              "weights_path": os.path.abspath(args.weights) if args.weights else None}
    builder = IndexBuilder(args.out, params, backend=args.backend, resume=args.resume,
                           commit_every=args.commit_every)
    todo, done_before = builder.plan(sources)
    summary = Summary(skipped=done_before)
    finished = False
    try:
        for r in tagger.iter_embed(todo, layer=args.layer, progress=not args.quiet) if todo else ():
            if r.error:
                summary.failed += 1
                print(f"{r.source}\tERROR: {r.error}", file=sys.stderr)
                builder.fail(r.source, r.error)
                continue
            builder.add(r.source, r.embedding, song_metadata(r.source, table))
            summary.done += 1
        finished = True
    finally:
        builder.close(finished=finished)
    if not builder.count:
        from sampleaudio.errors import ParameterError

        raise ParameterError(f"no file could be embedded, nothing indexed in '{args.out}'")
    return finish(summary, "index", f"{args.out} ({builder.count:,} songs, {builder.dim}-d, {args.backend})",
                  args.quiet)


def _cmd_similar(args: argparse.Namespace) -> int:
    from sampleaudio.errors import ParameterError
    from sampleaudio.inference import Tagger
    from sampleaudio.retrieval import EmbeddingIndex

    index = EmbeddingIndex.load(args.index, backend=args.backend)
    if not index.model:
        raise ParameterError(f"index '{args.index}' does not record its model; rebuild it with `sampleaudio index`")
    tagger = Tagger.from_path(index.model, weights=args.weights or index.weights, hop=index.hop_seconds)
    status, found = 0, []
    for result in tagger.iter_embed(args.query, layer=index.layer):
        if result.error:
            print(f"{result.source}\tERROR: {result.error}", file=sys.stderr)
            status = 1
            continue
        rows = index.query(result.embedding, args.top, exclude=None if args.keep_self else result.source)
        if args.format == "table":
            print_results([(result.source, rows)], "table")
        else:
            found.append((result.source, rows))
    if args.format != "table":
        print_results(found, args.format)
    return status


def _cmd_plot(args: argparse.Namespace) -> int:
    from sampleaudio.retrieval import check_figure_path, load_points, plot_index

    check_figure_path(args.out)  # before the index is read and the map computed

    print(plot_index(load_points(args.index), args.out, color_by=args.color_by, method=args.method, seed=args.seed))
    return 0


def add_retrieval_parsers(sub) -> None:
    """Add the ``index``, ``similar`` and ``plot-embeddings`` subcommands."""
    from sampleaudio.inference_cli import add_model_arguments, add_run_options, pretrained_help

    p = sub.add_parser("index", help="build a song embedding index for similarity search",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=pretrained_help(),
                       description="Embed audio files (song-level features, e.g. `park2018-artist` with --weights, "
                                   "or a run folder) into a cosine-search index for `sampleaudio similar`: a vectors "
                                   "file and index.json (paths, sizes and times, metadata, the model), committed "
                                   "together every --commit-every files and at the end, so a kill never pairs new "
                                   "vectors with old paths; --resume continues a killed run.")
    add_model_arguments(p)
    p.add_argument("--out", required=True, help="index folder (created; its parent must exist)")
    p.add_argument("--layer", default="penultimate", help="embedding layer (as `sampleaudio embed`)")
    p.add_argument("--metadata", help="CSV with a 'path' column (relative to the CSV) and any other columns "
                                      "(artist, genre, ...) stored per song; the parent folder is stored as 'folder'")
    p.add_argument("--backend", choices=["exact", "faiss", "faiss-ivf"], default="exact",
                   help="search backend saved with the index (faiss ones need the faiss extra)")
    p.add_argument("--commit-every", type=positive_int, default=1000,
                   help="files between commits of the index (a commit rewrites it)")
    add_run_options(p, what="the index")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("similar", help="list the songs of an index most similar to a query file",
                       description="Embed the query file(s) with the index's model (and hop) and print the --top-k "
                                   "most similar songs with their cosine similarity and metadata (the query itself "
                                   "is skipped if it is in the index).")
    p.add_argument("query", nargs="+", help="query audio file(s), or images (album covers) for a model whose card "
                                            "names an image input")
    p.add_argument("--index", required=True, help="a folder written by `sampleaudio index`")
    add_top_k(p, 5, "songs to list per query")
    p.add_argument("--weights", help="override the weights file recorded in the index")
    p.add_argument("--backend", choices=["exact", "faiss", "faiss-ivf"], help="override the index's backend")
    p.add_argument("--keep-self", action="store_true", help="do not skip the query file itself")
    add_format_option(p)
    p.set_defaults(func=_cmd_similar)

    p = sub.add_parser("plot-embeddings", help="t-SNE map of an index coloured by artist, genre or folder",
                       description="A 2-D t-SNE (cosine, scikit-learn) or PCA map of the songs of an index (or of "
                                   "an `embed` output folder), coloured by a metadata field, as Park 2018 Fig. 3.")
    p.add_argument("--index", required=True, help="a folder written by `sampleaudio index` or `sampleaudio embed`")
    p.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--color-by", default="folder", help="metadata field to colour by (artist, genre, folder)")
    p.add_argument("--method", choices=["tsne", "pca"], default="tsne")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(func=_cmd_plot)
