"""Tag and embed audio with a trained model: ``sampleaudio.tag`` / ``sampleaudio.embed`` and their CLIs.

Inputs may be file paths, folders (searched recursively for audio files), glob patterns, numpy arrays
(mono, at the model card's ``sample_rate``: 22,050 Hz for sampleaudio's runs) or ``(array, sample_rate)`` pairs
(resampled to the card's rate, as files are). An existing path is always a path (``Song [Live].wav`` is not
a pattern); a pattern or folder that matches no file is an error. Files are decoded in a thread pool and the
segments of many files share batches (musicnn and openl3 users asked for exactly that: no batch of one, no
one-file-at-a-time). At most ``workers`` files are decoded ahead of the model (a bounded queue), and a file
longer than ``max_seconds`` is refused, so memory does not grow with the number or length of the inputs.
Each clip is cut, standardised and pooled as its model card says (:mod:`sampleaudio.segments`, the same
implementation as evaluation and the exported SavedModel): by default every non-overlapping segment, short clips
tiled, clip scores the mean over segments; the per-segment scores form the tag-over-time matrix (a "taggram").

A file that cannot be decoded (or anything else that goes wrong with one input, out-of-memory included, or a model
output that is NaN) does not stop the others: its result carries the error.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from sampleaudio.audio import MAX_SECONDS, load, resample
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.segments import (
    DEFAULT_SAMPLE_RATE,
    WON2020_CHUNKS,
    InputSpec,
    clip_segments_np,
    pool_np,
    reduce_time,
    segment_starts_np,
    standardise_np,
)

__all__ = ["Tagger", "TagResult", "EmbedResult", "tag", "embed", "expand_inputs", "write_tags", "write_embeddings"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".opus", ".aiff", ".aif", ".au")


@dataclasses.dataclass
class TagResult:
    """Tags of one input: clip-level ``scores`` [C], the ``taggram`` [segments, C] and segment start ``times``."""

    source: str
    labels: list[str]
    scores: np.ndarray | None
    taggram: np.ndarray | None
    times: np.ndarray | None
    error: str | None = None
    top_k: int | None = None

    def top(self, k: int | None = None) -> list[tuple[str, float]]:
        """The ``k`` (default: the ``top_k`` asked for, else all) highest-scoring tags with their scores."""
        if self.scores is None:
            return []
        order = np.argsort(-self.scores, kind="stable")[: k or self.top_k or len(self.labels)]
        return [(self.labels[i], float(self.scores[i])) for i in order]


@dataclasses.dataclass
class EmbedResult:
    """Embedding of one input: clip-level ``embedding`` [D], per-segment ``segment_embeddings`` and ``times``."""

    source: str
    embedding: np.ndarray | None
    segment_embeddings: np.ndarray | None
    times: np.ndarray | None
    error: str | None = None


def expand_inputs(inputs) -> list:
    """Files, folders (recursive), globs, arrays and ``(array, sr)`` pairs -> a flat list of sources, in order.

    An existing path is taken as it is, even when its name holds ``*?[``; a non-existing file stays in the list
    (its result will say it does not exist).

    Raises:
        ParameterError: a folder holds no audio file, or a glob pattern matches nothing.
    """
    if isinstance(inputs, (str, os.PathLike, np.ndarray, tuple)):
        inputs = [inputs]
    out = []
    for item in inputs:
        if isinstance(item, (np.ndarray, tuple)):
            out.append(item)
            continue
        try:
            item = os.fspath(item)
        except TypeError as exc:
            raise ParameterError(f"an input must be a path, an array or an (array, sample_rate) pair. "
                                 f"Received: {type(item).__name__}") from exc
        if os.path.isdir(item):
            found = sorted(os.path.join(d, f) for d, _, files in os.walk(item) for f in files
                           if f.lower().endswith(AUDIO_EXTENSIONS))
            if not found:
                raise ParameterError(f"folder '{item}' holds no audio file ({', '.join(AUDIO_EXTENSIONS)})")
            out.extend(found)
        elif not os.path.lexists(item) and any(ch in item for ch in "*?["):
            found = sorted(p for p in glob.glob(item, recursive=True) if not os.path.isdir(p))
            if not found:
                raise ParameterError(f"pattern '{item}' matches no file")
            out.extend(found)
        else:
            out.append(item)
    return out


def _name(source, k: int) -> str:
    return source if isinstance(source, str) else f"array{k}"


def _decode(source, sample_rate: int = DEFAULT_SAMPLE_RATE, max_seconds: float | None = MAX_SECONDS) -> np.ndarray:
    if isinstance(source, str):
        return load(source, sr=sample_rate, max_seconds=max_seconds)
    if isinstance(source, tuple):
        if len(source) != 2:
            raise AudioDecodeError("<array>", "expected an (array, sample_rate) pair")
        audio, sr = source
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise AudioDecodeError("<array>", f"sample rate must be a positive integer, got {sr!r}")
        audio = np.asarray(audio, dtype=np.float32)
        audio = resample(audio, sr, sample_rate)
    else:
        audio = np.asarray(source, dtype=np.float32)
    if audio.ndim != 1:
        raise AudioDecodeError("<array>", f"expected a mono 1-D waveform, got shape {audio.shape}")
    if audio.shape[0] == 0 or not np.all(np.isfinite(audio)):
        raise AudioDecodeError("<array>", "empty, or holds NaN/Inf")
    return audio


class _Segments(np.ndarray):
    """A clip's segments ``[n, segment]`` with their start samples (``starts``)."""

    starts: np.ndarray | None = None


def _segments(audio: np.ndarray, segment: int) -> np.ndarray:
    """Every consecutive segment, short clips tiled (:func:`sampleaudio.segments.clip_segments_np`)."""
    return clip_segments_np(audio, segment)


class Tagger:
    """A trained model with what it needs to tag raw audio (labels and the card's input path: segment length,
    standardisation, sample rate, chunking, pooling; :class:`sampleaudio.segments.InputSpec`).

    Build it from a run directory (``best.keras`` + ``model_card.json``) with :meth:`from_path`.
    """

    def __init__(self, model: keras.Model, labels: Sequence[str], *, segment: int, mean: float, std: float,
                 sample_rate: int = DEFAULT_SAMPLE_RATE, batch_size: int = 32, workers: int = 4,
                 max_seconds: float | None = MAX_SECONDS, embedding_layer: str | None = None,
                 clip_pooling: str = "mean", chunking: str = "consecutive", chunks: int = WON2020_CHUNKS,
                 precision: str = "float32"):
        from sampleaudio.export import check_card
        from sampleaudio.runs import in_precision

        check_card({"labels": list(labels), "segment": segment, "mean": mean, "std": std,
                    "sample_rate": sample_rate, "embedding_layer": embedding_layer}, model, where="tagger")
        for name, value in (("batch_size", batch_size), ("workers", workers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if max_seconds is not None and not max_seconds > 0:
            raise ParameterError(f"max_seconds must be positive or None. Received: max_seconds={max_seconds!r}")
        self.max_seconds = max_seconds
        self.spec = InputSpec(segment=int(segment), mean=float(mean), std=float(std), sample_rate=int(sample_rate),
                              chunking=chunking, chunks=chunks, pooling=clip_pooling,
                              embedding_layer=embedding_layer)
        # float32 by default, so that tags equal the exported SavedModel's and the evaluation's; bfloat16 needs
        # about 1.5x less CPU time at full width on CPUs with bfloat16 dot products (docs/performance.md)
        self.precision = precision
        self.model = in_precision(model, precision)
        self.embedding_layer = embedding_layer  # the card's "penultimate" layer, when it names one
        self.clip_pooling = clip_pooling  # segments -> clip: mean, max over time then mean, or the first segment's
        self.sample_rate = int(sample_rate)
        self.labels = list(labels)
        self.segment = int(segment)
        self.mean, self.std = float(mean), float(std)
        self.batch_size = int(batch_size)
        self.workers = int(workers)
        self._heads: dict[str, keras.Model] = {}

    @classmethod
    def from_card(cls, model: keras.Model, card: dict, **kwargs) -> Tagger:
        """From a model and its model card (``labels``, ``segment``, ``mean``, ``std``, and where the card has them
        ``sample_rate``, ``embedding_layer``, ``clip_pooling``, ``chunking``, ``chunks``; an old card without them
        reads as 22,050 Hz, consecutive segments, mean pooling)."""
        from sampleaudio.export import check_card

        check_card(card, model)
        spec = InputSpec.from_card(card)
        return cls(model, card["labels"], segment=spec.segment, mean=spec.mean, std=spec.std,
                   sample_rate=spec.sample_rate, embedding_layer=spec.embedding_layer, clip_pooling=spec.pooling,
                   chunking=spec.chunking, chunks=spec.chunks, **kwargs)

    @classmethod
    def from_path(cls, path: str, *, weights: str | None = None, **kwargs) -> Tagger:
        """From a training run folder, a ``.keras`` file with ``model_card.json`` beside it, or the name of a
        registered pretrained model (:mod:`sampleaudio.pretrained`; ``weights`` is its weights file, where the
        user supplies one)."""
        import sampleaudio.models  # noqa: F401  (custom objects for load_model)
        from sampleaudio.export import check_card
        from sampleaudio.pretrained import is_pretrained, load_pretrained
        from sampleaudio.runs import read_model_card

        if is_pretrained(path):
            return cls.from_card(*load_pretrained(path, weights), **kwargs)

        folder, file = (path, os.path.join(path, "best.keras")) if os.path.isdir(path) else (
            os.path.dirname(path), path)
        card_path = os.path.join(folder, "model_card.json")
        if not os.path.exists(file) or not os.path.exists(card_path):
            raise ParameterError(f"'{path}' is not a finished sampleaudio run (needs best.keras and "
                                 "model_card.json); for an exported SavedModel use TF Serving or tf.saved_model.load")
        card = read_model_card(folder)
        check_card(card, where=card_path)
        try:
            model = keras.saving.load_model(file)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ParameterError(f"'{file}' cannot be loaded as a Keras model ({exc})") from exc
        return cls.from_card(model, card, **kwargs)

    def _head(self, layer: str) -> keras.Model:
        from sampleaudio.export import embedding_layer_name

        if layer not in self._heads:
            name = (self.embedding_layer or embedding_layer_name(self.model)) if layer == "penultimate" else layer
            names = [la.name for la in self.model.layers]
            if name not in names:
                raise ParameterError(f"layer '{name}' is not in the model (multi-level features need a model "
                                     f"trained with multi=True); layers: {names[-8:]}")
            out = reduce_time(self.model.get_layer(name).output, self.clip_pooling)  # a time axis: mean or max
            self._heads[layer] = keras.Model(self.model.inputs, out)
        return self._heads[layer]

    def _cut(self, audio: np.ndarray) -> np.ndarray:
        """The segments of one clip as the card's chunking cuts them (their start samples in ``.starts``)."""
        spec = self.spec
        segs = clip_segments_np(audio, spec.segment, chunking=spec.chunking, chunks=spec.chunks).view(_Segments)
        segs.starts = segment_starts_np(audio.shape[0], spec.segment, chunking=spec.chunking, chunks=spec.chunks)
        return segs

    def _decoded(self, sources: list) -> Iterator[tuple[np.ndarray | None, str | None]]:
        """``(segments, None)`` or ``(None, error)`` per source, in order, decoded in a thread pool with at most
        ``workers`` files ahead of the consumer (a bounded queue: memory does not depend on ``len(sources)``)."""
        def decode(source):
            try:
                return self._cut(_decode(source, self.sample_rate, self.max_seconds)), None
            except AudioDecodeError as exc:
                return None, str(exc)
            except MemoryError:
                return None, f"'{_name(source, 0)}': out of memory while decoding (lower --max-seconds)"
            except Exception as exc:  # any per-file failure is that file's error, never the batch's
                return None, f"'{_name(source, 0)}': {type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            queue: collections.deque = collections.deque()
            rest = iter(sources)
            for source in rest:
                queue.append(pool.submit(decode, source))
                if len(queue) >= self.workers:
                    break
            while queue:
                result = queue.popleft().result()
                for source in rest:  # refill one: decoding stays `workers` files ahead
                    queue.append(pool.submit(decode, source))
                    break
                yield result

    def _run(self, sources: list, network: keras.Model, progress: bool):
        """``(segment outputs, segment start times in seconds)`` per source (or the error), batching segments
        across sources."""
        import tensorflow as tf
        from tqdm.auto import tqdm

        # one trace for every batch size (a full batch and the last, shorter one)
        predict = tf.function(lambda x: tf.cast(network(x, training=False), tf.float32),
                              input_signature=[tf.TensorSpec([None, *network.input_shape[1:-1], 1], tf.float32)])
        outputs: list = [None] * len(sources)
        pending: list[tuple[int, np.ndarray]] = []
        pending_count = 0
        times: dict[int, np.ndarray] = {}

        def flush():
            nonlocal pending, pending_count
            if not pending:
                return
            x = np.concatenate([s for _, s in pending])
            x = standardise_np(x, self.mean, self.std)[..., None]
            y = np.concatenate([np.asarray(predict(x[i:i + self.batch_size]))
                                for i in range(0, x.shape[0], self.batch_size)])
            start = 0
            for k, segs in pending:
                out = y[start:start + segs.shape[0]]
                outputs[k] = (out, times[k]) if np.all(np.isfinite(out)) else \
                    "the model's output is NaN or Inf for this input (a diverged or broken model?)"
                start += segs.shape[0]
            pending, pending_count = [], 0

        for k, (segs, error) in enumerate(tqdm(self._decoded(sources), total=len(sources), unit="file",
                                               disable=not progress, desc="audio")):
            if error:
                outputs[k] = error
                continue
            # where each segment begins (consecutive segments where a decoder does not say)
            starts = getattr(segs, "starts", None)
            times[k] = (np.arange(segs.shape[0]) * self.segment if starts is None else starts) / self.sample_rate
            segs = np.asarray(segs)
            pending.append((k, segs))
            pending_count += segs.shape[0]
            if pending_count >= 4 * self.batch_size:
                flush()
        flush()
        return outputs

    def tag(self, inputs, *, top_k: int | None = None, progress: bool = False) -> list[TagResult]:
        """Clip-level tag scores and taggrams of every input (``top_k`` only limits :meth:`TagResult.top`)."""
        if not self.labels:
            raise ParameterError("this model is an embedding model with no tag outputs: use embed() (`sampleaudio "
                                 "embed`); a co-embedding run tags with words (`sampleaudio tag RUN FILES --vocab`)")
        sources = expand_inputs(inputs)
        results = []
        for k, (source, out) in enumerate(zip(sources, self._run(sources, self.model, progress))):
            if isinstance(out, str):
                results.append(TagResult(_name(source, k), self.labels, None, None, None, error=out, top_k=top_k))
                continue
            out, times = out
            clip = pool_np(out, None, self.clip_pooling)[1][0].astype(out.dtype)
            results.append(TagResult(_name(source, k), self.labels, clip, out, times, top_k=top_k))
        return results

    def embed(self, inputs, *, layer: str = "penultimate", progress: bool = False) -> list[EmbedResult]:
        """Clip and segment embeddings: ``penultimate`` (the head's hidden layer), ``multi`` (the multi-level
        features) or any layer name (time-averaged when it has a time axis)."""
        sources = expand_inputs(inputs)
        results = []
        for k, (source, out) in enumerate(zip(sources, self._run(sources, self._head(layer), progress))):
            if isinstance(out, str):
                results.append(EmbedResult(_name(source, k), None, None, None, error=out))
                continue
            out, times = out
            clip = pool_np(out, None, self.clip_pooling)[1][0].astype(out.dtype)
            results.append(EmbedResult(_name(source, k), clip, out, times))
        return results


def _tagger(model, weights: str | None = None) -> Tagger:
    return model if isinstance(model, Tagger) else Tagger.from_path(os.fspath(model), weights=weights)


def tag(inputs, model, top_k: int | None = None, *, weights: str | None = None, **kwargs) -> list[TagResult]:
    """Tag ``inputs`` (files, folders, globs, arrays) with ``model`` (a run folder, a registered pretrained model
    name or a :class:`Tagger`)."""
    return _tagger(model, weights).tag(inputs, top_k=top_k, **kwargs)


def embed(inputs, model, layer: str = "penultimate", *, weights: str | None = None, **kwargs) -> list[EmbedResult]:
    """Embed ``inputs`` with ``model`` (a run folder, a registered pretrained model name or a :class:`Tagger`);
    see :meth:`Tagger.embed`."""
    return _tagger(model, weights).embed(inputs, layer=layer, **kwargs)


def write_tags(results: Iterable[TagResult], path: str, top_k: int | None = None) -> None:
    """Write tag results as CSV (one row per input, a column per tag), JSON (top tags and taggram) or NPZ."""
    results = list(results)
    ext = os.path.splitext(path)[1].lower()
    labels = next((r.labels for r in results), [])
    if ext not in (".csv", ".json", ".npz"):
        raise ParameterError(f"output must end in .csv, .json or .npz. Received: {path}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ParameterError(f"--out '{path}': folder '{folder}' does not exist")
    if ext == ".csv":
        import pandas as pd

        rows = [{"source": r.source, "error": r.error or "",
                 **({lab: float(s) for lab, s in zip(labels, r.scores)} if r.scores is not None else {})}
                for r in results]
        pd.DataFrame(rows, columns=["source", "error", *labels]).to_csv(path, index=False)
    elif ext == ".json":
        with open(path, "w") as f:
            json.dump([{"source": r.source, "error": r.error, "top_tags": r.top(top_k),
                        "taggram": None if r.taggram is None else r.taggram.round(5).tolist(),
                        "times": None if r.times is None else r.times.tolist()} for r in results], f, indent=1)
    elif ext == ".npz":
        ok = [r for r in results if r.scores is not None]
        arrays = {"labels": np.array(labels), "sources": np.array([r.source for r in ok]),
                  "scores": np.stack([r.scores for r in ok]) if ok else np.zeros((0, len(labels)))}
        for i, r in enumerate(ok):
            arrays[f"taggram_{i}"] = r.taggram
        np.savez_compressed(path, **arrays)
    else:
        raise ParameterError(f"output must end in .csv, .json or .npz. Received: {path}")


def write_embeddings(results: Iterable[EmbedResult], out_dir: str) -> list[str]:
    """One ``.npz`` per input in ``out_dir`` (``embedding``, ``segment_embeddings``, ``times``), like openl3."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for i, r in enumerate(results):
        if r.embedding is None:
            continue
        stem = os.path.splitext(os.path.basename(r.source))[0] if os.path.exists(r.source) else r.source
        path = os.path.join(out_dir, f"{i:05d}_{stem}.npz")
        np.savez(path, embedding=r.embedding, segment_embeddings=r.segment_embeddings, times=r.times,
                 source=np.array(r.source))
        written.append(path)
    return written
