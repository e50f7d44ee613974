"""``sampleaudio search`` / ``neighbours`` and ``tag --vocab``: text-to-music retrieval, annotation with any words
and the learned word space of a co-embedding run (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 5).

A co-embedding run (``sampleaudio train --objective coembedding``) holds the audio branch (``best.keras``) and the
word branch (``word_branch.npz``, with the name of its word vectors). Any phrase whose words have vectors maps into
the joint space (mean of its words' vectors, then the word branch), so queries and vocabularies are not limited to
the training tags.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from sampleaudio.cli_types import add_top_k, non_negative_int
from sampleaudio.errors import ParameterError

__all__ = ["ZeroShotSpace", "add_zeroshot_parsers", "tag_with_vocab", "read_vocab"]


class ZeroShotSpace:
    """The word side of a finished co-embedding run: phrase -> joint-space vector."""

    def __init__(self, run_dir: str, word_vectors: str | None = None):
        from sampleaudio.families.zeroshot.coembedding import load_word_branch

        self.run_dir = run_dir
        self.kernel, self.bias, self.info = load_word_branch(run_dir)
        self.source = word_vectors or self.info["word_vectors"]
        self.seed = int(self.info.get("vector_seed", 0))

    def vectors(self, phrases: list[str], *, full: bool = False):
        """:class:`~sampleaudio.wordvectors.TagVectors` of ``phrases`` in the run's word-vector space (``full``: load
        the whole table, for neighbours over its words)."""
        from sampleaudio.wordvectors import load_word_vectors, tag_vectors, tag_words

        table = load_word_vectors(self.source, None if full else [w for p in phrases for w in tag_words(p)],
                                  seed=self.seed)
        if table.dim != self.kernel.shape[0]:
            raise ParameterError(f"word vectors '{self.source}' are {table.dim}-d but the run's word branch takes "
                                 f"{self.kernel.shape[0]}-d")
        return tag_vectors(phrases, table), table

    def embed(self, phrases: list[str]) -> tuple[np.ndarray, list[str], str]:
        """``(joint-space vectors of the phrases that have one, those phrases, a report of the others)``."""
        tv, _ = self.vectors(phrases)
        keep = [i for i, p in enumerate(phrases) if p not in set(tv.oov)]
        return tv.matrix[keep] @ self.kernel + self.bias, [phrases[i] for i in keep], tv.report()


def read_vocab(path: str) -> list[str]:
    """One word or phrase per line (blank lines and ``#`` comments skipped), duplicates removed in order."""
    try:
        with open(path, encoding="utf-8") as f:
            words = [line.strip() for line in f]
    except OSError as exc:
        raise ParameterError(f"--vocab '{path}': {exc.strerror or exc}") from exc
    words = list(dict.fromkeys(w for w in words if w and not w.startswith("#")))
    if not words:
        raise ParameterError(f"--vocab '{path}' lists no words")
    return words


def _unit(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _cmd_search(args: argparse.Namespace) -> int:
    from sampleaudio.retrieval import EmbeddingIndex
    from sampleaudio.retrieval_cli import print_results

    index = EmbeddingIndex.load(args.index)
    if not index.model or not os.path.isdir(index.model):
        raise ParameterError(f"index '{args.index}' was not built from a co-embedding run folder (its model is "
                             f"{index.model!r}); build one with `sampleaudio index RUN FILES --out DIR`")
    space = ZeroShotSpace(index.model, args.word_vectors)
    emb, found, report = space.embed([args.query])
    if not found:
        raise ParameterError(f"query {args.query!r}: no word has a vector in '{space.source}'")
    if report:
        print(f"note: {report}", file=sys.stderr)
    print_results([(args.query, index.query(emb[0], args.top))], args.format)
    return 0


def tag_with_vocab(args: argparse.Namespace, sources: list) -> int:
    """``sampleaudio tag RUN FILES [--vocab words.txt]``: rank the vocabulary's words (default: the run's tags) by
    cosine with each file; the word-over-time cosines are its taggram. Written as ``tag`` writes (any --out
    format, --resume, --plot)."""
    from sampleaudio.inference import Tagger, TagResult
    from sampleaudio.inference_cli import model_params, stream_tags

    if not os.path.isdir(args.model):
        raise ParameterError(f"--vocab needs a co-embedding run folder, not {args.model!r}")
    space = ZeroShotSpace(args.model, getattr(args, "word_vectors", None))
    words = read_vocab(args.vocab) if args.vocab else list(space.info["tags"])
    emb, found, report = space.embed(words)
    if not found:
        raise ParameterError(f"--vocab '{args.vocab}': no word has a vector in '{space.source}'")
    if report:
        print(f"note: {report}", file=sys.stderr)
    words_unit = _unit(emb)
    tagger = Tagger.from_path(args.model, batch_size=args.batch_size, max_seconds=args.max_seconds,
                              precision=args.precision, hop=args.hop)

    def results(todo):
        for r in tagger.iter_embed(todo, progress=not args.quiet):
            if r.error:
                yield TagResult(r.source, found, None, None, None, error=r.error)
                continue
            yield TagResult(r.source, found, words_unit @ _unit(r.embedding),
                            _unit(r.segment_embeddings) @ words_unit.T, r.times, top_k=args.top_k,
                            duration=r.duration)

    params = {**model_params(args.model, None, tagger), "scores": "cosine", "vocab": args.vocab}
    return stream_tags(sources, results, labels=found, params=params, out=args.out, resume=args.resume,
                       decimals=args.decimals, top_k=args.top_k, plot=args.plot, quiet=args.quiet,
                       plot_title=os.path.basename(os.path.normpath(args.model)))


def _cmd_neighbours(args: argparse.Namespace) -> int:
    from sampleaudio.retrieval_cli import print_rows

    if args.run:  # the earlier spelling: the one positional is the word
        args.model, args.word = args.run, args.model
    if not args.word:
        raise ParameterError("give the word: sampleaudio neighbours MODEL WORD")
    space = ZeroShotSpace(args.model, args.word_vectors)
    candidates = list(dict.fromkeys(space.info["tags"] + (read_vocab(args.vocab) if args.vocab else [])))
    if args.vector_top:
        tv, table = space.vectors([args.word], full=True)
        candidates = list(dict.fromkeys(candidates + table.words[:args.vector_top]))
    phrases = [args.word] + [c for c in candidates if c != args.word]
    tv, _ = space.vectors(phrases, full=bool(args.vector_top))
    if args.word in tv.oov:
        raise ParameterError(f"{args.word!r} has no vector in '{space.source}'")
    keep = [i for i, p in enumerate(phrases) if p not in set(tv.oov)]
    raw = tv.matrix[keep]
    names = [phrases[i] for i in keep]
    joint = raw @ space.kernel + space.bias
    learned, glove = _unit(joint[1:]) @ _unit(joint[0]), _unit(raw[1:]) @ _unit(raw[0])
    seen, unseen = set(space.info["seen_tags"]), set(space.info["unseen_tags"])
    rows = []
    for rank, i in enumerate(np.argsort(-learned, kind="stable")[:args.top], start=1):
        name = names[i + 1]
        kind = "seen tag" if name in seen else "unseen tag" if name in unseen else ""
        rows.append({"word": args.word, "rank": rank, "score": float(learned[i]), "word_vector_score":
                     float(glove[i]), "neighbour": name, "kind": kind})
    if args.format != "table":
        print_rows(rows, args.format)
        return 0
    print(f"nearest words of {args.word!r} in the learned audio-word space of {args.model} "
          f"(beside: cosine of the input word vectors, {space.source})")
    for row in rows:
        print(f"{row['rank']:>3}  {row['score']:.4f}  (word vectors {row['word_vector_score']:.4f})  "
              f"{row['neighbour']}  {row['kind']}".rstrip())
    return 0


def add_zeroshot_parsers(sub) -> None:
    """Add the ``search`` and ``neighbours`` subcommands (``tag --vocab`` lives on ``tag``)."""
    from sampleaudio.retrieval_cli import add_format_option

    p = sub.add_parser("search", help="text-to-music search over an index of a co-embedding run",
                       description="Rank the songs of an index (built with `sampleaudio index RUN ...` from a run "
                                   "trained with --objective coembedding) by cosine with a free-text query: the "
                                   "mean of its words' vectors through the run's word branch (Choi et al., ISMIR "
                                   "2019). Any words with a vector work, not only the training tags.")
    p.add_argument("query", help="words, e.g. \"calm piano\"")
    p.add_argument("--index", required=True, help="a folder written by `sampleaudio index RUN FILES`")
    add_top_k(p, 10, "songs to list")
    p.add_argument("--word-vectors", help="override the run's word vectors (same dimension), e.g. a GloVe .txt")
    add_format_option(p)
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("neighbours", help="nearest words of a word in a co-embedding run's learned space",
                       description="The words nearest to WORD after the run's word branch (an acoustically "
                                   "informed word embedding), with their cosine in the input word vectors beside. "
                                   "Candidates: the run's tags, --vocab words and the --vector-top most frequent "
                                   "words of the word vectors.")
    p.add_argument("model", metavar="MODEL", help="a finished co-embedding run folder")
    p.add_argument("word", nargs="?", help="a word or phrase")
    p.add_argument("--run", help=argparse.SUPPRESS)  # earlier versions: neighbours WORD --run MODEL
    add_top_k(p, 10, "neighbours to list")
    p.add_argument("--vocab", help="file of extra candidate words, one per line")
    p.add_argument("--vector-top", type=non_negative_int, default=0,
                   help="also the N most frequent words of the word vectors (GloVe is frequency-ordered)")
    p.add_argument("--word-vectors", help="override the run's word vectors (same dimension)")
    add_format_option(p)
    p.set_defaults(func=_cmd_neighbours)
