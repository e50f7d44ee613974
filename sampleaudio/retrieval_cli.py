"""``sampleaudio index`` / ``similar`` / ``plot-embeddings``: song retrieval from the command line (Park 2018)."""

from __future__ import annotations

import argparse
import sys

from sampleaudio.cli_types import non_negative_int, positive_int

__all__ = ["add_retrieval_parsers"]


def _cmd_index(args: argparse.Namespace) -> int:
    from sampleaudio.retrieval import build_index

    index, errors = build_index(args.model, args.files, weights=args.weights, layer=args.layer,
                                metadata_csv=args.metadata, backend=args.backend, batch_size=args.batch_size,
                                progress=not args.quiet)
    for source, error in errors:
        print(f"{source}\tERROR: {error}", file=sys.stderr)
    index.save(args.out)
    print(f"indexed {len(index)} song(s) ({index.dim}-d, {index.backend}) in {args.out}")
    return 1 if errors else 0


def _cmd_similar(args: argparse.Namespace) -> int:
    from sampleaudio.errors import ParameterError
    from sampleaudio.inference import Tagger
    from sampleaudio.retrieval import EmbeddingIndex

    index = EmbeddingIndex.load(args.index, backend=args.backend)
    if not index.model:
        raise ParameterError(f"index '{args.index}' does not record its model; rebuild it with `sampleaudio index`")
    tagger = Tagger.from_path(index.model, weights=args.weights or index.weights)
    status = 0
    for result in tagger.embed(args.query, layer=index.layer):
        if result.error:
            print(f"{result.source}\tERROR: {result.error}", file=sys.stderr)
            status = 1
            continue
        print(f"query: {result.source}")
        for row in index.query(result.embedding, args.top, exclude=None if args.keep_self else result.source):
            extra = "  ".join(f"{k}={v}" for k, v in row.items() if k not in ("rank", "score", "path"))
            print(f"{row['rank']:>3}  {row['score']:.4f}  {row['path']}" + (f"  {extra}" if extra else ""))
    return status


def _cmd_plot(args: argparse.Namespace) -> int:
    from sampleaudio.retrieval import EmbeddingIndex, plot_index

    index = EmbeddingIndex.load(args.index)
    print(plot_index(index, args.out, color_by=args.color_by, method=args.method, seed=args.seed))
    return 0


def add_retrieval_parsers(sub) -> None:
    """Add the ``index``, ``similar`` and ``plot-embeddings`` subcommands."""
    p = sub.add_parser("index", help="build a song embedding index for similarity search",
                       description="Embed audio files (song-level features, e.g. `park2018-artist` with --weights, "
                                   "or a run folder) and save a cosine-search index (vectors.npy, index.json with "
                                   "paths, metadata and the model) for `sampleaudio similar`.")
    p.add_argument("model", help="a finished `sampleaudio train` run folder, or a registered pretrained model name")
    p.add_argument("files", nargs="+", help="audio files, folders or glob patterns")
    p.add_argument("--out", required=True, help="index folder")
    p.add_argument("--weights", help="weights file of a pretrained model whose weights the user supplies")
    p.add_argument("--layer", default="penultimate", help="embedding layer (as `sampleaudio embed`)")
    p.add_argument("--metadata", help="CSV with a 'path' column (relative to the CSV) and any other columns "
                                      "(artist, genre, ...) stored per song; the parent folder is stored as 'folder'")
    p.add_argument("--backend", choices=["exact", "faiss", "faiss-ivf"], default="exact",
                   help="search backend saved with the index (faiss ones need the faiss extra)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="segments per forward pass")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("similar", help="list the songs of an index most similar to a query file",
                       description="Embed the query file(s) with the index's model and print the --top most "
                                   "similar songs with their cosine similarity and metadata (the query itself "
                                   "is skipped if it is in the index).")
    p.add_argument("query", nargs="+", help="query audio file(s)")
    p.add_argument("--index", required=True, help="a folder written by `sampleaudio index`")
    p.add_argument("--top", type=positive_int, default=5, help="songs to list per query")
    p.add_argument("--weights", help="override the weights file recorded in the index")
    p.add_argument("--backend", choices=["exact", "faiss", "faiss-ivf"], help="override the index's backend")
    p.add_argument("--keep-self", action="store_true", help="do not skip the query file itself")
    p.set_defaults(func=_cmd_similar)

    p = sub.add_parser("plot-embeddings", help="t-SNE map of an index coloured by artist, genre or folder",
                       description="A 2-D t-SNE (cosine, scikit-learn) or PCA map of an index's songs, coloured "
                                   "by a metadata field, as Park 2018 Fig. 3.")
    p.add_argument("--index", required=True, help="a folder written by `sampleaudio index`")
    p.add_argument("--out", required=True, help="image file (.png, .pdf, .svg)")
    p.add_argument("--color-by", default="folder", help="metadata field to colour by (artist, genre, folder)")
    p.add_argument("--method", choices=["tsne", "pca"], default="tsne")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.set_defaults(func=_cmd_plot)
