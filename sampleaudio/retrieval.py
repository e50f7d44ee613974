"""A song-level embedding index: cosine retrieval of similar songs (Park et al., ISMIR 2018, Sec. 5.3, Table 4).

:class:`EmbeddingIndex` holds L2-normalised song embeddings with each song's path and metadata (artist, genre,
...), searches by cosine similarity and saves to / loads from a folder:

- ``vectors-<hash>.npy``: ``[N, D]`` float32, unit rows (named by a hash of its content);
- ``index.json``: the paths, metadata, each file's size and modification time, the model (run folder or pretrained
  name), layer and hop that made them (so ``sampleaudio similar`` embeds a query file with the same model), and the
  name, row count and width of its vectors file.

The two are committed together: the vectors file is written first under its own new name, then ``index.json`` is
replaced atomically, then the old vectors file is removed, so a reader (or a kill at any moment) sees the old pair
or the new one, never new vectors with old paths. An index of the first format (``vectors.npy``) still loads.

:class:`IndexBuilder` builds an index file by file (``sampleaudio index``): each embedding is appended to a journal
in the folder (``journal.f32`` rows and ``journal.jsonl`` lines, as :mod:`sampleaudio.outputs` writes manifests),
the index is committed every ``commit_every`` files and at the end, and ``--resume`` continues from the journal.

Search is exact by default (one matrix product; the right default up to ~10^6 songs, ``benchmarks/retrieval.py``).
``backend="faiss"`` (exact inner product, ``IndexFlatIP``) or ``"faiss-ivf"`` (inverted lists, approximate,
``nprobe`` lists visited) use faiss-cpu behind the same interface: ``pip install sampleaudio[faiss]``.

Why one module of about 520 lines: an index is written (in atomic commits of both its files), read back with its
checks, searched and drawn by the same code that knows its format; the format lives in one place.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence

import numpy as np

from sampleaudio.errors import ParameterError
from sampleaudio.outputs import Manifest

__all__ = ["EmbeddingIndex", "IndexBuilder", "BACKENDS", "build_index", "plot_index", "load_points", "metadata_table",
           "song_metadata"]

BACKENDS = ("exact", "faiss", "faiss-ivf")
_FORMAT = 2
_CHUNK_ROWS = 4096


def _normalise(x) -> np.ndarray:
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ParameterError(f"embeddings must be [N, D]; got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("embeddings contain NaN or Inf")
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _faiss():
    try:
        import faiss
    except ImportError as exc:
        raise ParameterError("the faiss backends need faiss-cpu: pip install 'sampleaudio[faiss]'") from exc
    return faiss


class EmbeddingIndex:
    """Cosine search over song embeddings, with each song's ``path`` and ``metadata``.

    Args:
        vectors: ``[N, D]`` embeddings (normalised here).
        paths: one per row.
        metadata: one dict per row (e.g. ``{"artist": ..., "genre": ...}``); default empty.
        model, layer, weights: what made the embeddings (recorded for ``similar``).
        backend: ``exact`` (default), ``faiss`` or ``faiss-ivf``.
        nlist, nprobe: inverted lists and lists searched for ``faiss-ivf`` (default ``nlist = 4 sqrt(N)``).
    """

    def __init__(self, vectors, paths: Sequence[str], metadata: Sequence[dict] | None = None, *,
                 model: str | None = None, layer: str = "penultimate", weights: str | None = None,
                 backend: str = "exact", nlist: int | None = None, nprobe: int = 16, seed: int = 0):
        if backend not in BACKENDS:
            raise ParameterError(f"backend must be one of {BACKENDS}. Received: {backend!r}")
        self.vectors = _normalise(vectors)
        self.paths = [str(p) for p in paths]
        if len(self.paths) != len(self.vectors):
            raise ParameterError(f"{len(self.vectors)} vectors but {len(self.paths)} paths")
        self.metadata = [dict(m) for m in metadata] if metadata is not None else [{} for _ in self.paths]
        if len(self.metadata) != len(self.paths):
            raise ParameterError(f"{len(self.paths)} paths but {len(self.metadata)} metadata rows")
        self.model, self.layer, self.weights = model, layer, weights
        self.backend, self.nprobe, self.seed = backend, int(nprobe), int(seed)
        self.files: list | None = None  # [size, mtime_ns] of each path, where the index was built from files
        self.hop_seconds: float | None = None
        self.nlist = int(nlist) if nlist else max(1, min(len(self.vectors) // 39, int(4 * np.sqrt(len(self.vectors)))))
        self._faiss_index = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def _build_faiss(self):
        faiss = _faiss()
        if self.backend == "faiss":
            index = faiss.IndexFlatIP(self.dim)
        else:
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, self.nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = self.seed
            index.cp.max_points_per_centroid = 64  # k-means on a sample of <= 64 points per list: minutes, not hours
            index.train(self.vectors)
            index.nprobe = self.nprobe
        index.add(self.vectors)
        self._faiss_index = index

    def search(self, queries, top: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, indices)``, each ``[Q, top]``, best first; scores are cosine similarities."""
        q = _normalise(queries)
        if q.shape[1] != self.dim:
            raise ParameterError(f"query dimension {q.shape[1]} does not match the index's {self.dim}")
        top = max(1, min(int(top), len(self)))
        if self.backend == "exact":
            sims = q @ self.vectors.T
            part = np.argpartition(-sims, top - 1, axis=1)[:, :top] if top < len(self) else np.tile(
                np.arange(len(self)), (len(q), 1))
            part_scores = np.take_along_axis(sims, part, axis=1)
            order = np.argsort(-part_scores, axis=1, kind="stable")
            return np.take_along_axis(part_scores, order, axis=1), np.take_along_axis(part, order, axis=1)
        if self._faiss_index is None:
            self._build_faiss()
        scores, indices = self._faiss_index.search(q, top)
        return scores, indices

    def query(self, embedding, top: int = 5, exclude: str | None = None) -> list[dict]:
        """The ``top`` most similar songs to one embedding: ``[{rank, score, path, **metadata}]``; a song whose
        path is ``exclude`` (the query itself) is skipped."""
        scores, indices = self.search(embedding, top + (1 if exclude else 0))
        out = []
        for s, i in zip(scores[0], indices[0]):
            if i < 0 or (exclude and os.path.abspath(self.paths[i]) == os.path.abspath(exclude)):
                continue
            out.append({"rank": len(out) + 1, "score": float(s), "path": self.paths[i], **self.metadata[i]})
        return out[:top]

    def save(self, folder: str) -> str:
        """Write the vectors and ``index.json`` into ``folder`` (committed together; see the module docstring);
        returns the folder."""
        os.makedirs(folder, exist_ok=True)
        _commit(folder, self._fields(), (self.vectors[i:i + _CHUNK_ROWS] for i in range(0, len(self), _CHUNK_ROWS)),
                len(self), self.dim, self.paths, self.metadata, self.files)
        return folder

    def _fields(self) -> dict:
        return {"model": self.model, "layer": self.layer, "weights": self.weights, "backend": self.backend,
                "nlist": self.nlist, "nprobe": self.nprobe, "seed": self.seed, "hop_seconds": self.hop_seconds}

    @classmethod
    def load(cls, folder: str, *, backend: str | None = None) -> EmbeddingIndex:
        """Read an index written by :meth:`save` or :class:`IndexBuilder` (``backend`` overrides the saved one).

        Raises:
            ParameterError: one line naming the file: not an index, ``index.json`` unreadable, the vectors file
                missing, unreadable, not 2-D, non-finite, or not as many rows as paths.
        """
        meta_path = os.path.join(folder, "index.json")
        if not os.path.isfile(meta_path):
            raise ParameterError(f"'{folder}' is not an embedding index (needs index.json and its vectors file; "
                                 "build one with `sampleaudio index`)")
        meta = _read_meta(meta_path)
        vec_path = os.path.join(folder, meta.get("vectors", "vectors.npy"))
        if not os.path.isfile(vec_path):
            raise ParameterError(f"'{folder}' is not an embedding index: its vectors file '{vec_path}' is missing")
        vectors = _read_vectors(vec_path, meta, meta_path)
        index = cls(vectors, meta["paths"], meta.get("metadata"), model=meta.get("model"),
                    layer=meta.get("layer", "penultimate"), weights=meta.get("weights"),
                    backend=backend or meta.get("backend", "exact"), nlist=meta.get("nlist"),
                    nprobe=meta.get("nprobe", 16), seed=meta.get("seed", 0))
        index.files = meta.get("files") or None
        index.hop_seconds = meta.get("hop_seconds")
        return index


def _read_meta(meta_path: str) -> dict:
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ParameterError(f"index file '{meta_path}' cannot be read as JSON ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("paths"), list) or \
            not all(isinstance(p, str) for p in meta["paths"]):
        raise ParameterError(f"index file '{meta_path}' has no list of paths: not written by `sampleaudio index`")
    if meta.get("metadata") is not None and (not isinstance(meta["metadata"], list) or
                                             not all(isinstance(m, dict) for m in meta["metadata"])):
        raise ParameterError(f"index file '{meta_path}': 'metadata' must be a list of objects")
    return meta


def _read_vectors(vec_path: str, meta: dict, meta_path: str) -> np.ndarray:
    try:
        vectors = np.load(vec_path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ParameterError(f"index vectors '{vec_path}' cannot be read as a NumPy array file "
                             f"({' '.join(str(exc).split())})") from exc
    if not isinstance(vectors, np.ndarray) or vectors.dtype.kind not in "fiu":
        raise ParameterError(f"index vectors '{vec_path}' are not a numeric array")
    if vectors.ndim != 2:
        raise ParameterError(f"index vectors '{vec_path}' are {vectors.ndim}-D with shape {vectors.shape}, not "
                             "[songs, dimensions]")
    if not np.all(np.isfinite(vectors)):
        raise ParameterError(f"index vectors '{vec_path}' hold NaN or Inf")
    if vectors.shape[0] != len(meta["paths"]) or meta.get("count", vectors.shape[0]) != vectors.shape[0]:
        raise ParameterError(f"index vectors '{vec_path}' have {vectors.shape[0]} rows but '{meta_path}' lists "
                             f"{len(meta['paths'])} paths: the two files do not belong together")
    return vectors


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit(folder: str, fields: dict, chunks: Iterable[np.ndarray], count: int, dim: int, paths: Iterable[str],
            metadata: Iterable[dict], files: Iterable | None, *, kill_count: int = 0) -> str:
    """Write ``vectors-<hash>.npy`` (unit rows, from ``chunks``) and then replace ``index.json`` atomically; remove
    the vectors files it no longer names. Returns the vectors file's name."""
    from sampleaudio.outputs import _test_kill

    tmp = os.path.join(folder, "vectors.npy.partial")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(count, dim))
    pos = 0
    for chunk in chunks:
        chunk = _normalise(chunk)
        out[pos:pos + len(chunk)] = chunk
        pos += len(chunk)
    if pos != count:
        raise ParameterError(f"index: {pos} vectors written, {count} expected")
    out.flush()
    del out
    digest = hashlib.sha256()
    with open(tmp, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
        os.fsync(f.fileno())
    name = f"vectors-{digest.hexdigest()[:16]}.npy"
    os.replace(tmp, os.path.join(folder, name))
    _test_kill("commit", kill_count)
    meta_tmp = os.path.join(folder, "index.json.partial")
    with open(meta_tmp, "w", encoding="utf-8") as f:
        head = {"format": _FORMAT, **fields, "vectors": name, "count": count, "dim": dim}
        f.write(json.dumps(head, ensure_ascii=False)[:-1])
        for key, values in (("paths", paths), ("metadata", metadata), ("files", files or ())):
            f.write(f', "{key}": [')
            for k, value in enumerate(values):
                f.write(("," if k else "") + "\n " + json.dumps(value, ensure_ascii=False))
            f.write("]")
        f.write("}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(meta_tmp, os.path.join(folder, "index.json"))
    _fsync_dir(folder)
    for other in os.listdir(folder):  # vectors no index.json names any more (an older commit's, an orphan)
        if other != name and (other == "vectors.npy" or (other.startswith("vectors-") and other.endswith(".npy"))):
            os.remove(os.path.join(folder, other))
    return name


class IndexBuilder:
    """Build an index folder one embedding at a time, resumably (``sampleaudio index``).

    Each result is appended to ``journal.f32`` (its raw vector) and then to ``journal.jsonl`` (its path, size,
    modification time, metadata and row); every ``commit_every`` files and at :meth:`close` the journal is committed
    as ``index.json`` + ``vectors-<hash>.npy`` (see the module docstring). :meth:`close` removes the journal; a later
    ``resume`` rebuilds it from the committed index, so an index can be extended with new files.

    Args:
        folder: the index folder (created).
        params: the model, layer, weights and input settings (recorded; ``resume`` compares them).
        backend: the search backend recorded in the index.
        resume: continue the journal (or the committed index) instead of starting again.
        commit_every: files between commits (each commit rewrites the index: O(N)).
    """

    JOURNAL = "journal.jsonl"
    ROWS = "journal.f32"

    def __init__(self, folder: str, params: dict, *, backend: str = "exact", resume: bool = False,
                 commit_every: int = 1000):
        if backend not in BACKENDS:
            raise ParameterError(f"backend must be one of {BACKENDS}. Received: {backend!r}")
        self.folder, self.params, self.backend = folder, dict(params), backend
        self.commit_every = int(commit_every)
        os.makedirs(folder, exist_ok=True)
        journal = os.path.join(folder, self.JOURNAL)
        self.rows_path = os.path.join(folder, self.ROWS)
        if resume and not os.path.exists(journal) and os.path.exists(os.path.join(folder, "index.json")):
            self._seed(journal)
        resuming = resume and os.path.exists(journal)
        self.journal = Manifest(journal, {"sampleaudio": "index-journal", "params": self.params},
                                resume=resuming)
        rows = sorted((e for e in self.journal.entries.values() if "row" in e), key=lambda e: e["row"])
        self.count = len(rows)
        self.dim = rows[0]["dim"] if rows else None
        if [e["row"] for e in rows] != list(range(self.count)):
            raise ParameterError(f"--resume: '{journal}' is inconsistent (rows out of order): rerun with --overwrite")
        size = self.count * (self.dim or 0) * 4
        if not resuming or not os.path.exists(self.rows_path):
            open(self.rows_path, "wb").close()
        if os.path.getsize(self.rows_path) < size:
            raise ParameterError(f"--resume: '{self.rows_path}' is shorter than '{journal}' records: rerun with "
                                 "--overwrite")
        os.truncate(self.rows_path, size)  # a vector whose journal line was never written
        self._rows = open(self.rows_path, "ab")
        self._since_commit = 0
        self._commits = 0

    def _seed(self, journal: str) -> None:
        """A journal holding a committed index (to extend it): its rows and paths, sizes and times."""
        index = EmbeddingIndex.load(self.folder)
        files = index.files or [[None, None]] * len(index)
        with open(self.rows_path, "wb") as rows:
            rows.write(np.ascontiguousarray(index.vectors, np.float32).tobytes())
        # the settings the index was built with, so that the resume compares them with this run's
        params = _read_meta(os.path.join(self.folder, "index.json")).get("params", self.params)
        seeded = Manifest(journal, {"sampleaudio": "index-journal", "params": params}, resume=False)
        for k, (path, meta, (size, mtime)) in enumerate(zip(index.paths, index.metadata, files)):
            seeded.add({"source": path, "size": size, "mtime_ns": mtime, "row": k, "dim": index.dim,
                        "metadata": meta})
        seeded.close()

    def plan(self, sources: Sequence) -> tuple[list, int]:
        """``(sources still to do, how many are done)``; the rows of files changed since are removed first."""
        todo, done, stale = self.journal.plan(sources)
        if stale:
            self._drop(stale)
        return todo, done

    def _drop(self, stale: set) -> None:
        self._rows.close()
        keep = sorted((e for e in self.journal.entries.values() if "row" in e and e["source"] not in stale),
                      key=lambda e: e["row"])
        old = np.memmap(self.rows_path, np.float32, "r", shape=(self.count, self.dim)) if self.count else None
        tmp = self.rows_path + ".tmp"
        with open(tmp, "wb") as f:
            for e in keep:
                f.write(np.asarray(old[e["row"]]).tobytes())
        del old
        os.replace(tmp, self.rows_path)
        entries = [{**e, "row": k} for k, e in enumerate(keep)]
        self.journal.rewrite(entries + [e for e in self.journal.entries.values() if "error" in e])
        self.count = len(keep)
        self._rows = open(self.rows_path, "ab")

    def add(self, source: str, embedding: np.ndarray, metadata: dict | None = None) -> None:
        """Append one song's clip embedding (committing when ``commit_every`` files have come since the last)."""
        from sampleaudio.outputs import _entry, _test_kill

        if "row" in self.journal.entries.get(source, {}):
            raise ParameterError(f"'{source}' is in the index already")
        vector = np.asarray(embedding, np.float32).reshape(-1)
        if self.dim is None:
            self.dim = int(vector.shape[0])
        if vector.shape[0] != self.dim:
            raise ParameterError(f"'{source}': a {vector.shape[0]}-d embedding in a {self.dim}-d index")
        self._rows.write(vector.tobytes())
        self._rows.flush()
        _test_kill("result", self.count + 1)
        self.journal.add(_entry(source, row=self.count, dim=self.dim, metadata=metadata or {}))
        self.count += 1
        _test_kill("manifest", self.count)
        self._since_commit += 1
        if self._since_commit >= self.commit_every:
            self.commit()

    def fail(self, source: str, error: str) -> None:
        from sampleaudio.outputs import _entry

        self.journal.add(_entry(source, error=error))

    def _entries(self) -> list[dict]:
        return sorted((e for e in self.journal.entries.values() if "row" in e), key=lambda e: e["row"])

    def commit(self) -> None:
        """Write the index of every row so far (nothing when there is none)."""
        self._since_commit = 0
        if not self.count:
            return
        self._rows.flush()
        rows = np.memmap(self.rows_path, np.float32, "r", shape=(self.count, self.dim))
        entries = self._entries()
        self._commits += 1
        fields = {"model": self.params.get("model"), "layer": self.params.get("layer", "penultimate"),
                  "weights": self.params.get("weights_path"), "backend": self.backend, "nlist": None, "nprobe": 16,
                  "seed": 0, "hop_seconds": self.params.get("hop_seconds"), "params": self.params}
        _commit(self.folder, fields, (rows[i:i + _CHUNK_ROWS] for i in range(0, self.count, _CHUNK_ROWS)),
                self.count, self.dim, (e["source"] for e in entries), (e.get("metadata", {}) for e in entries),
                ([e.get("size"), e.get("mtime_ns")] for e in entries), kill_count=self._commits)
        del rows

    def close(self, *, finished: bool = True) -> None:
        """Commit, and (when ``finished``: every input was tried) remove the journal."""
        self.commit()
        self._rows.close()
        self.journal.close()
        if finished and self.count:
            for name in (self.ROWS, self.JOURNAL):
                os.remove(os.path.join(self.folder, name))


def metadata_table(path: str | None) -> dict[str, dict]:
    """``{absolute path: row}`` from a CSV with a ``path`` column (other columns: the metadata)."""
    if not path:
        return {}
    import pandas as pd

    table = pd.read_csv(path, dtype=str).fillna("")
    if "path" not in table.columns:
        raise ParameterError(f"--metadata '{path}': needs a 'path' column; has {list(table.columns)}")
    base = os.path.dirname(os.path.abspath(path))
    return {os.path.abspath(os.path.join(base, row["path"])): {k: v for k, v in row.items() if k != "path"}
            for row in table.to_dict("records")}


def song_metadata(source: str, table: dict[str, dict]) -> dict:
    """A song's metadata: ``folder`` (its parent folder's name, e.g. the genre in GTZAN's layout) and its row of
    the ``--metadata`` table."""
    path = os.path.abspath(source)
    return {"folder": os.path.basename(os.path.dirname(path)), **table.get(path, {})}


def build_index(model: str, files, *, weights: str | None = None, layer: str = "penultimate",
                metadata_csv: str | None = None, backend: str = "exact", batch_size: int = 32,
                progress: bool = False) -> tuple[EmbeddingIndex, list]:
    """Embed ``files`` (paths, folders, globs) with ``model`` and index them in memory; returns ``(index,
    errors)`` (for a library, ``sampleaudio index`` streams into an :class:`IndexBuilder` instead).

    Each song's metadata is :func:`song_metadata` (``metadata_csv`` matched by path)."""
    from sampleaudio.inference import Tagger

    tagger = Tagger.from_path(model, weights=weights, batch_size=batch_size)
    table = metadata_table(metadata_csv)
    vectors, paths, meta, errors = [], [], [], []
    for r in tagger.iter_embed(files, layer=layer, progress=progress):
        if r.embedding is None:
            errors.append((r.source, r.error))
            continue
        vectors.append(r.embedding)
        paths.append(r.source)
        meta.append(song_metadata(r.source, table))
    if not vectors:
        raise ParameterError("no file could be embedded: " + "; ".join(f"{s}: {e}" for s, e in errors[:3]))
    model_ref = model if not os.path.exists(model) else os.path.abspath(model)
    index = EmbeddingIndex(np.stack(vectors), paths, meta, model=model_ref, layer=layer,
                           weights=os.path.abspath(weights) if weights else None, backend=backend)
    return index, errors


def load_points(folder: str) -> EmbeddingIndex:
    """An index folder, or an ``embed`` output folder (its ``manifest.jsonl`` and ``.npz`` files) as an in-memory
    index of the clip embeddings (metadata: the parent folder), e.g. for :func:`plot_index`."""
    from sampleaudio.outputs import EmbeddingWriter, read_embedding_folder

    if os.path.isfile(os.path.join(folder, EmbeddingWriter.MANIFEST)) and \
            not os.path.isfile(os.path.join(folder, "index.json")):
        vectors, sources = read_embedding_folder(folder)
        return EmbeddingIndex(vectors, sources, [song_metadata(s, {}) for s in sources], model=None)
    return EmbeddingIndex.load(folder)


def check_figure_path(out: str) -> None:
    """Refuse, before any work, a figure path matplotlib cannot write: an unknown extension or a missing folder."""
    import matplotlib.figure

    kinds = matplotlib.figure.Figure().canvas.get_supported_filetypes()
    ext = os.path.splitext(out)[1].lower().lstrip(".")
    if ext not in kinds:
        raise ParameterError(f"--out '{out}': a figure is written as {', '.join('.' + k for k in sorted(kinds))} "
                             f"(by its extension), not '.{ext}'" if ext else f"--out '{out}' has no extension")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise ParameterError(f"--out '{out}': the folder '{folder}' does not exist")


def plot_index(index: EmbeddingIndex, out: str, *, color_by: str = "folder", method: str = "tsne",
               seed: int = 0, perplexity: float = 30.0) -> str:
    """A 2-D map of the index's songs coloured by a metadata field (t-SNE, scikit-learn; or PCA), as Park 2018
    Fig. 3. Writes ``out`` (png/pdf/svg) and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_figure_path(out)
    if len(index) < 3:
        raise ParameterError(f"an index of {len(index)} song(s) is too small to plot")
    labels = [str(m.get(color_by, "?")) for m in index.metadata]
    if all(lab == "?" for lab in labels):
        fields = sorted({k for m in index.metadata for k in m})
        raise ParameterError(f"--color-by '{color_by}' is in no song's metadata; fields: {fields}")
    if method == "tsne":
        from sklearn.manifold import TSNE

        xy = TSNE(2, perplexity=min(perplexity, (len(index) - 1) / 3), metric="cosine", init="pca",
                  random_state=seed).fit_transform(index.vectors)
    elif method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(2, random_state=seed).fit_transform(index.vectors)
    else:
        raise ParameterError(f"method must be 'tsne' or 'pca'. Received: {method!r}")
    fig, ax = plt.subplots(figsize=(7, 6))
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab20" if len(names) > 10 else "tab10")
    for k, name in enumerate(names):
        sel = np.array([lab == name for lab in labels])
        ax.scatter(xy[sel, 0], xy[sel, 1], s=12, color=cmap(k % cmap.N), label=name)
    if len(names) <= 20:
        ax.legend(fontsize=7, markerscale=1.5, loc="best")
    ax.set_title(f"{method.upper()} of {len(index)} songs ({index.model}), coloured by {color_by}")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
