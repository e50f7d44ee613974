"""Tag and embed audio with a trained model: ``sampleaudio.tag`` / ``sampleaudio.embed`` and their CLIs.

Inputs are files, folders, glob patterns and arrays (:mod:`sampleaudio.sources`). Files are decoded in a thread pool and the
segments of many files share batches (musicnn and openl3 users asked for exactly that: no batch of one, no
one-file-at-a-time). At most ``workers`` files are decoded ahead of the model (a bounded queue), and a file
longer than ``max_seconds`` is refused, so memory does not grow with the number or length of the inputs.
Each clip is cut, standardised and pooled as its model card says (:mod:`sampleaudio.segments`, the same
implementation as evaluation and the exported SavedModel): by default every non-overlapping segment, short clips
tiled, clip scores the mean over segments; the per-segment scores form the tag-over-time matrix (a "taggram").

A file that cannot be decoded (or anything else that goes wrong with one input, out-of-memory included, or a model
output that is NaN) does not stop the others: its result carries the error.

:meth:`Tagger.iter_tag` and :meth:`Tagger.iter_embed` yield each input's result as soon as its segments have been
through the model, in input order: the command line writes them as they come (:mod:`sampleaudio.outputs`), so
memory does not grow with the number of files, results included. :meth:`Tagger.tag` / :func:`tag` collect them in
a list (fine for a few hundred files). ``hop`` (seconds; the CLIs' ``--hop``) cuts a window every ``hop`` seconds
instead of the card's chunking, overlapping when it is shorter than the model's segment.

Why one module of about 500 lines: the :class:`Tagger`'s decode pool, its fixed-size batcher (one input shape, so a
file's numbers do not depend on its batch neighbours) and its heads share one object's state.
"""

from __future__ import annotations

import collections
import dataclasses
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from sampleaudio import sources as _sources
from sampleaudio.audio import MAX_SECONDS
from sampleaudio.cards import ImageSpec
from sampleaudio.errors import AudioDecodeError, ParameterError, SampleAudioError
from sampleaudio.outputs import DECIMALS
from sampleaudio.runs import named_input
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
from sampleaudio.sources import AUDIO_EXTENSIONS, expand_inputs, scan_inputs, source_name

__all__ = ["Tagger", "TagResult", "EmbedResult", "tag", "embed", "iter_tag", "iter_embed", "expand_inputs",
           "scan_inputs", "write_tags", "write_embeddings", "AUDIO_EXTENSIONS"]


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
    duration: float | None = None  # seconds of audio decoded (before short clips are tiled)

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
    duration: float | None = None  # seconds of audio decoded (before short clips are tiled)


@dataclasses.dataclass
class _Pending:
    """A file waiting for the network: its segments, how many are done, their outputs so far (or its error)."""

    k: int
    segs: np.ndarray | None = None
    times: np.ndarray | None = None
    seconds: float | None = None
    error: str | None = None
    done_segments: int = 0
    outputs: list = dataclasses.field(default_factory=list)

    @property
    def todo(self) -> int:
        return 0 if self.segs is None else self.segs.shape[0] - self.done_segments


class _Segments(np.ndarray):
    """A clip's segments ``[n, segment]`` with their start samples (``starts``) and the clip's length (``length``,
    samples before tiling)."""

    starts: np.ndarray | None = None
    length: int | None = None


class Tagger:
    """A trained model with what it needs to tag raw audio (labels and the card's input path: segment length,
    standardisation, sample rate, chunking, pooling; :class:`sampleaudio.segments.InputSpec`).

    Build it from a run directory (``best.keras`` + ``model_card.json``) with :meth:`from_path`.
    """

    def __init__(self, model: keras.Model, labels: Sequence[str], *, segment: int, mean: float, std: float,
                 sample_rate: int = DEFAULT_SAMPLE_RATE, batch_size: int = 32, workers: int = 4,
                 max_seconds: float | None = MAX_SECONDS, embedding_layer: str | None = None,
                 clip_pooling: str = "mean", chunking: str = "consecutive", chunks: int = WON2020_CHUNKS,
                 precision: str = "float32", hop: float | None = None, embeddings: dict | None = None,
                 image: dict | None = None):
        from sampleaudio.export import check_card
        from sampleaudio.runs import in_precision

        check_card({"labels": list(labels), "segment": segment, "mean": mean, "std": std,
                    "sample_rate": sample_rate, "embedding_layer": embedding_layer}, model, where="tagger")
        for name, value in (("batch_size", batch_size), ("workers", workers)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name} must be a positive integer. Received: {name}={value!r}")
        if max_seconds is not None and not max_seconds > 0:
            raise ParameterError(f"max_seconds must be positive or None. Received: max_seconds={max_seconds!r}")
        if hop is not None and (isinstance(hop, bool) or not isinstance(hop, (int, float)) or not np.isfinite(hop)
                                or int(round(hop * sample_rate)) < 1):
            raise ParameterError(f"hop must be a positive number of seconds (at least one sample). Received: "
                                 f"hop={hop!r}")
        self.max_seconds = max_seconds
        # windows every `hop` seconds instead of the card's chunking (None: the card's; the default)
        self.hop = None if hop is None else int(round(hop * sample_rate))
        self.spec = InputSpec(segment=int(segment), mean=float(mean), std=float(std), sample_rate=int(sample_rate),
                              chunking=chunking, chunks=chunks, pooling=clip_pooling,
                              embedding_layer=embedding_layer)
        # float32 by default, so that tags equal the exported SavedModel's and the evaluation's; bfloat16 needs
        # about 1.5x less CPU time at full width on CPUs with bfloat16 dot products (docs/performance.md)
        self.precision = precision
        self.model = in_precision(model, precision)
        self.embedding_layer = embedding_layer  # the card's "penultimate" layer, when it names one
        # the card's named embeddings (name -> layer); a model of several inputs names one per input ("audio",
        # "image": Oramas et al.'s shared space) and takes the waveform through its input named "waveform"
        self.embeddings = dict(embeddings or {})
        self.image = None if not image else ImageSpec(**image)
        self.waveform_input = named_input(self.model, "waveform") if len(self.model.inputs) > 1 else \
            self.model.inputs[0]
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
                   chunking=spec.chunking, chunks=spec.chunks, embeddings=card.get("embeddings"),
                   image=card.get("image"), **kwargs)

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
        cls.check_reference(path)

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

    @staticmethod
    def check_reference(path: str) -> None:
        """Refuse, before anything is loaded, a model reference that is no path and no registered name (the error
        lists the pretrained names and what each needs)."""
        from sampleaudio.pretrained import is_pretrained, summary

        if not is_pretrained(path) and not os.path.exists(path) and os.sep not in path and \
                not os.path.splitext(path)[1]:
            from sampleaudio.params import closest
            from sampleaudio.pretrained import PRETRAINED

            raise ParameterError(f"'{path}' is neither a run folder nor a registered pretrained model"
                                 f"{closest(path, PRETRAINED)}; pretrained models (and what they need): {summary()}")

    def _head(self, layer: str) -> keras.Model:
        from sampleaudio.export import embedding_layer_name

        if layer not in self._heads:
            name = self.embeddings.get(layer, layer)
            if layer == "penultimate":
                name = self.embeddings.get("audio") or self.embedding_layer or embedding_layer_name(self.model)
            names = [la.name for la in self.model.layers]
            if name not in names:
                from sampleaudio.params import closest

                raise ParameterError(f"layer '{name}' is not in the model{closest(name, names)} (multi-level "
                                     "features need a model trained with multi=True); its embeddings: "
                                     f"{', '.join(self.embeddings) or 'penultimate'}; its layers: {', '.join(names)}")
            out = reduce_time(self.model.get_layer(name).output, self.clip_pooling)  # a time axis: mean or max
            self._heads[layer] = keras.Model(self.waveform_input, out)
        return self._heads[layer]

    def _image_head(self) -> keras.Model:
        """The image input's path to the card's ``image`` embedding (a model of several inputs)."""
        if "image" not in self._heads:
            if self.image is None or "image" not in self.embeddings:
                raise ParameterError("this model takes no image (its card names no image input and embedding)")
            self._heads["image"] = keras.Model(named_input(self.model, "image"),
                                               self.model.get_layer(self.embeddings["image"]).output)
        return self._heads["image"]

    def _iter_images(self, sources: list, batch: int = 16) -> Iterator[EmbedResult]:
        """The image embedding of each image file, in order (one line per unreadable file, as audio)."""
        from sampleaudio.images import load_image

        network = self._image_head()
        for start in range(0, len(sources), batch):
            chunk = sources[start:start + batch]
            arrays, errors = [], []
            for source in chunk:
                try:
                    arrays.append(load_image(source, self.image.height, self.image.width))
                    errors.append(None)
                except SampleAudioError as exc:
                    errors.append(str(exc))
            out = np.asarray(network(np.stack(arrays).astype(np.float32), training=False)) if arrays else []
            it = iter(out)
            for source, error in zip(chunk, errors):
                name = os.fspath(source)
                yield EmbedResult(name, None, None, None, error=error) if error else \
                    EmbedResult(name, next(it).astype(np.float32), None, None)

    def _cut(self, audio: np.ndarray) -> np.ndarray:
        """The segments of one clip as the card's chunking (or ``hop``) cuts them, with their start samples in
        ``.starts`` and the clip's length in ``.length``."""
        spec = self.spec
        segs = clip_segments_np(audio, spec.segment, chunking=spec.chunking, chunks=spec.chunks,
                                hop=self.hop).view(_Segments)
        segs.starts = segment_starts_np(audio.shape[0], spec.segment, chunking=spec.chunking, chunks=spec.chunks,
                                        hop=self.hop)
        segs.length = int(audio.shape[0])
        return segs

    @property
    def hop_seconds(self) -> float | None:
        """The hop between windows in seconds (``None``: the card's chunking)."""
        return None if self.hop is None else self.hop / self.sample_rate

    def settings(self) -> dict:
        """What decides the numbers this tagger computes (outputs record it; ``--resume`` compares it)."""
        return {"sample_rate": self.sample_rate, "segment_seconds": round(self.segment / self.sample_rate, 6),
                "hop_seconds": None if self.hop is None else round(self.hop / self.sample_rate, 6),
                "chunking": self.spec.chunking if self.hop is None else "hop", "clip_pooling": self.clip_pooling,
                "precision": self.precision}

    def _decoded(self, sources: list) -> Iterator[tuple[np.ndarray | None, str | None]]:
        """``(segments, None)`` or ``(None, error)`` per source, in order, decoded in a thread pool with at most
        ``workers`` files ahead of the consumer (a bounded queue: memory does not depend on ``len(sources)``)."""
        def decode(source):
            try:
                return self._cut(_sources.decode_source(source, self.sample_rate, self.max_seconds)), None
            except AudioDecodeError as exc:
                return None, str(exc)
            except MemoryError:
                return None, f"'{source_name(source, 0)}': out of memory while decoding (lower --max-seconds)"
            except Exception as exc:  # any per-file failure is that file's error, never the batch's
                return None, f"'{source_name(source, 0)}': {type(exc).__name__}: {exc}"

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

    def _run(self, sources: list, network: keras.Model, progress: bool) -> Iterator[tuple[int, object]]:
        """``(k, (segment outputs, segment start times in seconds, clip seconds))`` or ``(k, error)`` for each source
        ``k``, in order, as soon as all its segments have been through ``network``.

        Segments of many sources share batches, and every batch has exactly ``batch_size`` segments (the last one
        padded with zeros, whose outputs are dropped): the network sees one input shape, so a segment's output
        does not depend on which files it was batched with (a resumed run computes the same numbers as an
        uninterrupted one), and the CPU kernels and their caches are built once (memory stays flat).
        """
        import tensorflow as tf
        from tqdm.auto import tqdm

        bs = self.batch_size
        predict = tf.function(lambda x: tf.cast(network(x, training=False), tf.float32),
                              input_signature=[tf.TensorSpec([bs, *network.input_shape[1:-1], 1], tf.float32)])
        ready: collections.deque = collections.deque()  # (k, result) in input order, errors included
        pending: collections.deque = collections.deque()  # _Pending files (or errors), in input order
        queued = 0  # segments of `pending` not yet through the network

        def run(final: bool):
            """Put the queued segments through the network in whole batches (``final``: all, the last padded), and
            move the files that are complete to ``ready``."""
            nonlocal queued
            take = queued if final else queued - queued % bs
            parts, left = [], take
            for item in pending:
                if left == 0:
                    break
                if item.error is None and item.todo:
                    n = min(left, item.todo)
                    parts.append(item.segs[item.done_segments:item.done_segments + n])
                    left -= n
            if take:
                x = standardise_np(np.concatenate(parts), self.mean, self.std)[..., None]
                pad = -take % bs
                if pad:
                    x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
                y = np.concatenate([np.asarray(predict(x[i:i + bs])) for i in range(0, x.shape[0], bs)])[:take]
                pos = 0
                for item in pending:
                    if pos == take:
                        break
                    if item.error is None and item.todo:
                        n = min(take - pos, item.todo)
                        item.outputs.append(y[pos:pos + n])
                        item.done_segments += n
                        pos += n
                queued -= take
            while pending and (pending[0].error is not None or not pending[0].todo):
                item = pending.popleft()
                if item.error is not None:
                    ready.append((item.k, item.error))
                    continue
                out = np.concatenate(item.outputs) if len(item.outputs) > 1 else item.outputs[0]
                ready.append((item.k, (out, item.times, item.seconds) if np.all(np.isfinite(out)) else
                              "the model's output is NaN or Inf for this input (a diverged or broken model?)"))

        for k, (segs, error) in enumerate(tqdm(self._decoded(sources), total=len(sources), unit="file",
                                               disable=not progress, desc="audio")):
            if error:
                pending.append(_Pending(k, error=error))
            else:
                # where each segment begins (consecutive segments where a decoder does not say)
                starts = getattr(segs, "starts", None)
                length = getattr(segs, "length", None)
                times = (np.arange(segs.shape[0]) * self.segment if starts is None else starts) / self.sample_rate
                seconds = None if length is None else length / self.sample_rate
                pending.append(_Pending(k, np.asarray(segs), times, seconds))
                queued += segs.shape[0]
            if queued >= 4 * bs or (queued == 0 and pending):
                run(final=False)
            while ready:
                yield ready.popleft()
        run(final=True)
        while ready:
            yield ready.popleft()

    def iter_tag(self, inputs, *, top_k: int | None = None, progress: bool = False) -> Iterator[TagResult]:
        """:meth:`tag`, one result at a time as soon as it is computed (in input order): memory does not grow
        with the number of inputs."""
        if not self.labels:
            raise ParameterError("this model is an embedding model with no tag outputs: use embed() (`sampleaudio "
                                 "embed`); a co-embedding run tags with words (`sampleaudio tag RUN FILES --vocab`)")
        sources = expand_inputs(inputs)
        for k, out in self._run(sources, self.model, progress):
            name = source_name(sources[k], k)
            if isinstance(out, str):
                yield TagResult(name, self.labels, None, None, None, error=out, top_k=top_k)
                continue
            out, times, seconds = out
            clip = pool_np(out, None, self.clip_pooling)[1][0].astype(out.dtype)
            yield TagResult(name, self.labels, clip, out, times, top_k=top_k, duration=seconds)

    def tag(self, inputs, *, top_k: int | None = None, progress: bool = False) -> list[TagResult]:
        """Clip-level tag scores and taggrams of every input (``top_k`` only limits :meth:`TagResult.top`)."""
        return list(self.iter_tag(inputs, top_k=top_k, progress=progress))

    def iter_embed(self, inputs, *, layer: str = "penultimate", progress: bool = False) -> Iterator[EmbedResult]:
        """:meth:`embed`, one result at a time as soon as it is computed (in input order). For a model that takes
        images too (its card names an image input), image files are embedded through the image input, into the
        same space."""
        sources = expand_inputs(inputs)
        from sampleaudio.images import is_image_path

        pictures = {k for k, s in enumerate(sources) if self.image is not None and is_image_path(s)}
        if not pictures:
            yield from self._iter_embed_audio(sources, layer, progress)
            return
        audio = self._iter_embed_audio([s for k, s in enumerate(sources) if k not in pictures], layer, progress)
        images = self._iter_images([s for k, s in enumerate(sources) if k in pictures])
        for k in range(len(sources)):
            yield next(images) if k in pictures else next(audio)

    def _iter_embed_audio(self, sources: list, layer: str, progress: bool) -> Iterator[EmbedResult]:
        if not sources:
            return
        network = self._head(layer)
        for k, out in self._run(sources, network, progress):
            name = source_name(sources[k], k)
            if isinstance(out, str):
                yield EmbedResult(name, None, None, None, error=out)
                continue
            out, times, seconds = out
            clip = pool_np(out, None, self.clip_pooling)[1][0].astype(out.dtype)
            yield EmbedResult(name, clip, out, times, duration=seconds)

    def embed(self, inputs, *, layer: str = "penultimate", progress: bool = False) -> list[EmbedResult]:
        """Clip and segment embeddings: ``penultimate`` (the head's hidden layer), ``multi`` (the multi-level
        features) or any layer name (time-averaged when it has a time axis)."""
        return list(self.iter_embed(inputs, layer=layer, progress=progress))


def _tagger(model, weights: str | None = None) -> Tagger:
    return model if isinstance(model, Tagger) else Tagger.from_path(os.fspath(model), weights=weights)


def tag(inputs, model, top_k: int | None = None, *, weights: str | None = None, **kwargs) -> list[TagResult]:
    """Tag ``inputs`` (files, folders, globs, arrays) with ``model`` (a run folder, a registered pretrained model
    name or a :class:`Tagger`)."""
    return _tagger(model, weights).tag(inputs, top_k=top_k, **kwargs)


def iter_tag(inputs, model, top_k: int | None = None, *, weights: str | None = None,
             **kwargs) -> Iterator[TagResult]:
    """:func:`tag` one result at a time, as soon as each input is done (for libraries: memory does not grow with the
    number of files; write each result with :class:`sampleaudio.outputs.TagWriter`)."""
    return _tagger(model, weights).iter_tag(inputs, top_k=top_k, **kwargs)


def iter_embed(inputs, model, layer: str = "penultimate", *, weights: str | None = None,
               **kwargs) -> Iterator[EmbedResult]:
    """:func:`embed` one result at a time, as soon as each input is done."""
    return _tagger(model, weights).iter_embed(inputs, layer=layer, **kwargs)


def embed(inputs, model, layer: str = "penultimate", *, weights: str | None = None, **kwargs) -> list[EmbedResult]:
    """Embed ``inputs`` with ``model`` (a run folder, a registered pretrained model name or a :class:`Tagger`);
    see :meth:`Tagger.embed`."""
    return _tagger(model, weights).embed(inputs, layer=layer, **kwargs)


def write_tags(results: Iterable[TagResult], path: str, top_k: int | None = None, *,
               decimals: int = DECIMALS) -> None:
    """Write tag results as ``.csv``, ``.jsonl``, ``.json`` or ``.npz`` (:class:`sampleaudio.outputs.TagWriter`:
    every label's score, rounded to ``decimals`` in text formats, and the taggram with its segment times). Results
    with an error are left out (they are no result). ``top_k`` is kept for compatibility and not used: every
    label's score is written."""
    from sampleaudio.outputs import TagWriter

    del top_k
    writer = None
    for r in results:
        if r.error:
            continue
        if writer is None:
            writer = TagWriter(path, r.labels, {}, decimals=decimals, manifest=False)
        writer.add(r)
    if writer is None:
        raise ParameterError(f"no result to write to '{path}': every input failed")
    writer.close()


def write_embeddings(results: Iterable[EmbedResult], out_dir: str) -> list[str]:
    """One ``.npz`` per input in ``out_dir`` (``embedding``, ``segment_embeddings``, ``times``, ``source``,
    ``duration``), like openl3, and ``manifest.jsonl`` (:class:`sampleaudio.outputs.EmbeddingWriter`); returns the
    files written."""
    from sampleaudio.outputs import EmbeddingWriter

    writer = EmbeddingWriter(out_dir, {})
    written = [writer.add(r) for r in results]
    writer.close()
    return [os.path.join(out_dir, name) for name in written if name]

