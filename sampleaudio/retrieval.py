"""A song-level embedding index: cosine retrieval of similar songs (Park et al., ISMIR 2018, Sec. 5.3, Table 4).

:class:`EmbeddingIndex` holds L2-normalised song embeddings with each song's path and metadata (artist, genre,
...), searches by cosine similarity and saves to / loads from a folder:

- ``vectors.npy``: ``[N, D]`` float32, unit rows;
- ``index.json``: the paths, metadata, the model (run folder or pretrained name) and layer that made them, so
  ``sampleaudio similar`` embeds a query file with the same model.

Search is exact by default (one matrix product; the right default up to ~10^6 songs, ``benchmarks/retrieval.py``).
``backend="faiss"`` (exact inner product, ``IndexFlatIP``) or ``"faiss-ivf"`` (inverted lists, approximate,
``nprobe`` lists visited) use faiss-cpu behind the same interface: ``pip install sampleaudio[faiss]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["EmbeddingIndex", "BACKENDS", "build_index", "plot_index"]

BACKENDS = ("exact", "faiss", "faiss-ivf")
_FORMAT = 1


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
        """Write ``vectors.npy`` and ``index.json`` into ``folder``; returns the folder."""
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "vectors.npy"), self.vectors)
        with open(os.path.join(folder, "index.json"), "w") as f:
            json.dump({"format": _FORMAT, "model": self.model, "layer": self.layer, "weights": self.weights,
                       "backend": self.backend, "nlist": self.nlist, "nprobe": self.nprobe, "seed": self.seed,
                       "paths": self.paths, "metadata": self.metadata}, f, indent=1)
        return folder

    @classmethod
    def load(cls, folder: str, *, backend: str | None = None) -> EmbeddingIndex:
        """Read an index written by :meth:`save` (``backend`` overrides the saved one)."""
        meta_path, vec_path = os.path.join(folder, "index.json"), os.path.join(folder, "vectors.npy")
        if not (os.path.isfile(meta_path) and os.path.isfile(vec_path)):
            raise ParameterError(f"'{folder}' is not an embedding index (needs index.json and vectors.npy; "
                                 "build one with `sampleaudio index`)")
        with open(meta_path) as f:
            meta = json.load(f)
        return cls(np.load(vec_path), meta["paths"], meta["metadata"], model=meta.get("model"),
                   layer=meta.get("layer", "penultimate"), weights=meta.get("weights"),
                   backend=backend or meta.get("backend", "exact"), nlist=meta.get("nlist"),
                   nprobe=meta.get("nprobe", 16), seed=meta.get("seed", 0))


def _metadata_table(path: str | None) -> dict[str, dict]:
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


def build_index(model: str, files, *, weights: str | None = None, layer: str = "penultimate",
                metadata_csv: str | None = None, backend: str = "exact", batch_size: int = 32,
                progress: bool = False) -> tuple[EmbeddingIndex, list]:
    """Embed ``files`` (paths, folders, globs) with ``model`` and index them; returns ``(index, errors)``.

    Each song's metadata is its CSV row (``metadata_csv``, matched by path) and ``folder`` (its parent folder's
    name, e.g. the genre in GTZAN's layout)."""
    from sampleaudio.inference import Tagger

    tagger = Tagger.from_path(model, weights=weights, batch_size=batch_size)
    table = _metadata_table(metadata_csv)
    results = tagger.embed(files, layer=layer, progress=progress)
    ok = [r for r in results if r.embedding is not None]
    errors = [(r.source, r.error) for r in results if r.embedding is None]
    if not ok:
        raise ParameterError("no file could be embedded: " + "; ".join(f"{s}: {e}" for s, e in errors[:3]))
    meta = [{"folder": os.path.basename(os.path.dirname(os.path.abspath(r.source))),
             **table.get(os.path.abspath(r.source), {})} for r in ok]
    model_ref = model if not os.path.exists(model) else os.path.abspath(model)
    index = EmbeddingIndex(np.stack([r.embedding for r in ok]), [r.source for r in ok], meta, model=model_ref,
                           layer=layer, weights=os.path.abspath(weights) if weights else None, backend=backend)
    return index, errors


def plot_index(index: EmbeddingIndex, out: str, *, color_by: str = "folder", method: str = "tsne",
               seed: int = 0, perplexity: float = 30.0) -> str:
    """A 2-D map of the index's songs coloured by a metadata field (t-SNE, scikit-learn; or PCA), as Park 2018
    Fig. 3. Writes ``out`` (png/pdf/svg) and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
