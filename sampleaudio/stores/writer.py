"""Writing a store: one ``tf.train.Example`` per clip, sharded, atomic and resumable.

Layout of a converted dataset folder::

    OUT/
      plan.json                          which clip goes into which shard (written first)
      train-00000-of-00012.tfrecord      shards: split and index in the name
      train-00000-of-00012.tfrecord.json sidecar: per-shard statistics and skipped files
      ...
      manifest.json                      dataset, labels, task, features, counts, durations, train mean/std, skips
      clips.csv                          one row per written clip (id, split, shard, samples, labels)

Each clip is stored whole, as 16-bit PCM at the store's rate (22,050 Hz unless converted at another, recorded in
the manifest), with the standard features and those its dataset declares (:mod:`sampleaudio.stores.schema`);
segmenting happens in tf.data (:mod:`sampleaudio.pipeline`), so one store serves every segment length (the
original code cut segments on disk, which ties a store to one model).

Every shard is written to a temporary name, flushed to disk (``fsync``) and renamed when complete; its sidecar
(with the shard's size and SHA-256) is renamed last, so a shard counts as done only when its sidecar exists. A
conversion killed at any point and started again skips the complete shards, rewrites the others and produces
the same bytes as an uninterrupted run. Only the converter's own temporaries (a known output name followed by
``.tmp-<pid>``) are ever removed; a lock file keeps two conversions out of one folder. A full disk removes the
temporaries and raises :class:`~sampleaudio.errors.DiskFullError` naming the folder; the same conversion
resumes once there is space.

Why one module of about 500 lines: planning the shards, the lock, writing and fsyncing them, the sidecars and the
manifest are the steps of one atomic, resumable write, whose invariants are easiest to read together.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sampleaudio.audio import SAMPLE_RATE, from_pcm16, load, to_pcm16
from sampleaudio.errors import (
    AudioDecodeError,
    DatasetLayoutError,
    DiskFullError,
    FeatureDecodeError,
    ParameterError,
)
from sampleaudio.fileio import atomic_open, temporary_name, write_text_atomic
from sampleaudio.logs import inherit_quiet
from sampleaudio.stores.reader import INDEX, MANIFEST, Manifest, file_digest
from sampleaudio.stores.schema import (
    SPLITS,
    STANDARD_FEATURES,
    DatasetInfo,
    Feature,
    check_value,
    encode_example,
)

__all__ = ["Clip", "FileLoader", "ShardWriter", "ShardWorkers", "write_shard", "write_dataset", "is_disk_full"]

PLAN = "plan.json"
LOCK = ".sampleaudio-prep.lock"


@dataclasses.dataclass(frozen=True)
class Clip:
    """One clip to convert.

    Attributes:
        clip_id: unique, stable identifier (the dataset's own id: MTAT ``clip_id``, Speech Commands
            ``word/file.wav``, DCASE ``YouTubeID_start_end``).
        split: ``train``, ``valid`` or ``test``.
        labels: label indices into the dataset's vocabulary.
        source: where the audio comes from: a file path for real datasets, a recipe for synthesised ones.
        artist_id: who produced the audio (MTAT artist, Speech Commands speaker), or ``""``.
        track_id: the recording it was cut from (MTAT track), or ``""``.
        duration: read at most this many seconds of the source (``None``: all).
        features: the clip's source values of the features its dataset declares (name -> value, e.g. the path
            of its cover image), each turned into the stored value by the feature's loader; a declared feature
            without a value stores its default.
    """

    clip_id: str
    split: str
    labels: tuple[int, ...]
    source: str
    artist_id: str = ""
    track_id: str = ""
    duration: float | None = None
    features: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)


@dataclasses.dataclass(frozen=True)
class FileLoader:
    """Decode a clip's ``source`` file with :func:`sampleaudio.audio.load` (picklable for worker pools)."""

    sr: int = SAMPLE_RATE

    def __call__(self, clip: Clip) -> np.ndarray:
        return load(clip.source, sr=self.sr, duration=clip.duration)


@dataclasses.dataclass(frozen=True)
class ShardWriter:
    """Writes one shard with :func:`write_shard`: everything a worker needs (the audio loader, the store's rate,
    the dataset's declared features), in one picklable object. ``writer(path, clips)`` returns the sidecar."""

    loader: Callable[[Clip], np.ndarray]
    sample_rate: int = SAMPLE_RATE
    features: tuple[Feature, ...] = ()

    def __call__(self, path: str, clips: Sequence[Clip]) -> dict[str, Any]:
        return write_shard(path, clips, self.loader, self.sample_rate, features=self.features)


@runtime_checkable
class ShardWorkers(Protocol):
    """Who writes the shards when not local processes: ``write_dataset(..., workers=ShardWorkers)``.

    ``write_shards`` must leave every shard of ``shards`` in ``out_dir`` exactly as ``writer(path, clips)``
    (a :class:`ShardWriter`) writes it (shard, then sidecar); the plan and the manifest stay with
    :func:`write_dataset`. Implemented by :class:`sampleaudio.data_prep.beam.BeamWorkers` (Apache Beam runners).
    """

    def write_shards(self, out_dir: str, shards: dict[str, list[Clip]], writer: ShardWriter) -> None: ...


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) says the disk is full: ``ENOSPC`` or ``EDQUOT``, or
    TensorFlow's ``ResourceExhaustedError`` (how ``tf.io.TFRecordWriter`` reports it)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if type(exc).__name__ == "ResourceExhaustedError" and type(exc).__module__.startswith("tensorflow"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _remove_own_temporaries(out_dir: str, outputs: Iterable[str]) -> list[str]:
    """Delete the leftovers of a killed run: files named exactly ``<one of outputs>.tmp-<digits>``. Nothing else
    in ``out_dir`` is touched (a user's ``notes.tmp-1`` stays)."""
    own = re.compile("^(?:" + "|".join(re.escape(n) for n in sorted(outputs)) + r")\.tmp-[0-9]+$")
    removed = []
    for name in os.listdir(out_dir):
        path = os.path.join(out_dir, name)
        if own.match(name) and os.path.isfile(path) and not os.path.islink(path):
            os.remove(path)
            removed.append(name)
    return removed


@contextlib.contextmanager
def _conversion_lock(out_dir: str):
    """Hold an exclusive lock on ``out_dir`` for one conversion (released by the OS if the process dies)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        yield
        return
    path = os.path.join(out_dir, LOCK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise DatasetLayoutError(f"'{out_dir}' is in use by another conversion (it holds {LOCK}); wait for it "
                                     "to finish or choose another --out") from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def _plan_shards(clips: Sequence[Clip], clips_per_shard: int, seed: int) -> dict[str, list[Clip]]:
    """Deterministic assignment of clips to shards: sort by id, permute with ``seed``, cut in chunks.

    Mixing the clips (rather than writing them in id order) puts every label in every shard, so the
    shard-level interleave of the training pipeline already mixes classes.
    """
    plan: dict[str, list[Clip]] = {}
    for split in SPLITS:
        members = sorted((c for c in clips if c.split == split), key=lambda c: c.clip_id)
        if not members:
            continue
        order = np.random.default_rng(seed).permutation(len(members))
        members = [members[i] for i in order]
        count = -(-len(members) // clips_per_shard)
        for k in range(count):
            plan[_shard_name(split, k, count)] = members[k * clips_per_shard:(k + 1) * clips_per_shard]
    return plan


def _plan_digest(plan: dict[str, list[Clip]], extra: Any) -> str:
    h = hashlib.sha256()
    for name in sorted(plan):
        h.update(name.encode())
        for c in plan[name]:
            d = dataclasses.asdict(c)
            if not d["features"]:  # (absent without declared features: plans written before stay resumable)
                del d["features"]
            h.update(json.dumps(d, sort_keys=True, default=str).encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _load_features(clip: Clip, features: Sequence[Feature]) -> dict[str, Any]:
    """The stored values of ``clip``'s declared features (its source values through their loaders)."""
    values = {}
    for f in features:
        if f.name in clip.features:
            value = clip.features[f.name]
            values[f.name] = check_value(f, f.loader(value) if f.loader is not None else value)
    return values


def write_shard(path: str, clips: Sequence[Clip], loader: Callable[[Clip], np.ndarray],
                sample_rate: int = SAMPLE_RATE, *, features: Sequence[Feature] = ()) -> dict[str, Any]:
    """Write one shard atomically and then its sidecar; return the sidecar's content.

    ``features``: the dataset's declared features (:class:`~sampleaudio.stores.DatasetInfo`), beside the
    standard ones. A clip whose audio cannot be decoded, or whose declared feature's loader refuses its source,
    is skipped and recorded with its reason; it never stops the shard. A full disk removes the temporary shard
    and raises :class:`~sampleaudio.errors.DiskFullError`.
    """
    import tensorflow as tf

    schema = STANDARD_FEATURES + tuple(features)
    tmp = temporary_name(path)
    stats = {"clips": [], "skipped": [], "sum": 0.0, "sumsq": 0.0, "count": 0}
    try:
        with tf.io.TFRecordWriter(tmp) as writer:
            for clip in clips:
                try:
                    audio = loader(clip)
                    if audio.ndim != 1 or audio.shape[0] == 0:
                        raise AudioDecodeError(clip.source, f"loader returned an array of shape {audio.shape}")
                    values = _load_features(clip, features)
                except (AudioDecodeError, FeatureDecodeError) as exc:
                    stats["skipped"].append({"clip_id": clip.clip_id, "path": exc.path, "reason": exc.reason})
                    continue
                except MemoryError:  # one huge file must not end the conversion of the others
                    stats["skipped"].append({"clip_id": clip.clip_id, "path": clip.source,
                                             "reason": "out of memory while decoding"})
                    continue
                pcm = to_pcm16(audio)
                values.update(clip_id=clip.clip_id, audio=pcm.tobytes(), num_samples=int(pcm.shape[0]),
                              sample_rate=sample_rate, labels=clip.labels, split=clip.split,
                              artist_id=clip.artist_id, track_id=clip.track_id)
                writer.write(encode_example(values, schema))
                x = from_pcm16(pcm).astype(np.float64)
                stats["sum"] += float(x.sum())
                stats["sumsq"] += float(np.square(x).sum())
                stats["count"] += int(x.shape[0])
                stats["clips"].append([clip.clip_id, clip.split, int(pcm.shape[0]), list(clip.labels)])
        with open(tmp, "rb") as f:  # on disk before the rename: a power cut cannot leave a "complete" short shard
            os.fsync(f.fileno())
        stats["bytes"], stats["sha256"] = file_digest(tmp)
        os.replace(tmp, path)
        write_text_atomic(path + ".json", json.dumps(stats, sort_keys=True))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError(os.path.dirname(path) or ".") from exc
        raise
    return stats


def _shard_done(path: str) -> bool:
    return os.path.exists(path) and os.path.exists(path + ".json")


def write_dataset(
    clips: Sequence[Clip],
    out_dir: str | os.PathLike,
    *,
    info: DatasetInfo,
    labels: Sequence[str],
    converter: str,
    converter_version: str,
    loader: Callable[[Clip], np.ndarray] | None = None,
    workers: int | ShardWorkers = 1,
    clips_per_shard: int = 256,
    seed: int = 123,
    skipped: Sequence[dict[str, str]] = (),
    extra: dict[str, Any] | None = None,
    progress: bool = True,
    sample_rate: int = SAMPLE_RATE,
) -> Manifest:
    """Convert ``clips`` into a sharded TFRecord store at ``out_dir`` and write its manifest.

    Args:
        clips: every clip of the dataset with its split, labels and declared features' source values.
        out_dir: destination folder (created). Re-running into the same folder with the same clips resumes:
            complete shards are kept, incomplete ones rewritten.
        info: what the dataset is (:class:`~sampleaudio.stores.DatasetInfo`: its name, its task, whose
            ``multi_label`` makes the targets multi-hot or one-hot, the features its clips carry beyond the standard
            ones, its sources), recorded in the manifest with the task's ``num_classes`` set to ``len(labels)``.
        labels: the label vocabulary, in index order.
        converter, converter_version: who wrote the store, recorded for provenance.
        loader: returns a clip's float32 mono audio at ``sample_rate``; default decodes ``clip.source`` as a
            file at that rate. Must be picklable when ``workers > 1``.
        workers: worker processes (``spawn`` context: TensorFlow is not fork-safe), or a :class:`ShardWorkers`
            that writes the shards elsewhere (e.g. ``sampleaudio.data_prep.beam.BeamWorkers`` on an Apache Beam runner).
        clips_per_shard: clips in each shard.
        seed: seed of the deterministic clip-to-shard assignment.
        skipped: files the converter already rejected before decoding (e.g. known-broken lists), recorded
            in the manifest beside the ones that fail to decode.
        extra: dataset-specific facts for the manifest (e.g. the split rule).
        progress: show a tqdm progress bar.
        sample_rate: the store's rate (22,050 Hz, the rate of sampleaudio's stores, unless a model family needs
            another: Won 2020 and musicnn run at 16 kHz), recorded in every example and the manifest.

    Raises:
        ParameterError: duplicate clip ids, an unknown split, a label index out of range, or a clip value of a
            feature the dataset does not declare.
        DatasetLayoutError: ``out_dir`` already holds a conversion of a different clip list, holds store files
            without a plan, is not a folder, or another conversion is writing into it.
        DiskFullError: the disk filled up; the temporaries are removed and the same call resumes once there is
            space.
    """
    if clips_per_shard < 1:
        raise ParameterError(f"clips_per_shard must be >= 1. Received: clips_per_shard={clips_per_shard}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
        raise ParameterError(f"sample_rate must be a positive integer. Received: sample_rate={sample_rate!r}")
    if not isinstance(workers, ShardWorkers) and (isinstance(workers, bool) or not isinstance(workers, int)
                                                  or workers < 1):
        raise ParameterError(f"workers must be an int >= 1 or a ShardWorkers. Received: workers={workers!r}")
    if not isinstance(info, DatasetInfo):
        raise ParameterError(f"info must be a DatasetInfo. Received: info={info!r}")
    labels = list(labels)
    declared = {f.name for f in info.features}
    seen: set[str] = set()
    for c in clips:
        if c.clip_id in seen:
            raise ParameterError(f"duplicate clip id '{c.clip_id}'")
        seen.add(c.clip_id)
        if c.split not in SPLITS:
            raise ParameterError(f"clip '{c.clip_id}' has unknown split '{c.split}' (expected one of {SPLITS})")
        bad = [i for i in c.labels if not 0 <= i < len(labels)]
        if bad:
            raise ParameterError(f"clip '{c.clip_id}' has label indices {bad} outside [0, {len(labels)})")
        undeclared = sorted(set(c.features) - declared)
        if undeclared:
            raise ParameterError(f"clip '{c.clip_id}' has values for feature(s) {undeclared} that dataset "
                                 f"'{info.name}' does not declare (it declares {sorted(declared)})")
    if not clips:
        raise ParameterError(f"no clips to convert for dataset '{info.name}'")
    writer = ShardWriter(loader or FileLoader(sr=sample_rate), sample_rate, info.features)
    extra = dict(extra or {})

    out_dir = os.fspath(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise DatasetLayoutError(f"--out '{out_dir}' is not a folder") from exc
    plan = _plan_shards(clips, clips_per_shard, seed)
    outputs = [*plan, *(n + ".json" for n in plan), PLAN, MANIFEST, INDEX]
    with _conversion_lock(out_dir):
        try:
            return _write_planned(plan, out_dir, info=info, labels=labels, converter=converter,
                                  converter_version=converter_version, writer=writer, workers=workers, seed=seed,
                                  skipped=skipped, extra=extra, progress=progress, outputs=outputs)
        except BaseException as exc:
            if not is_disk_full(exc):
                raise
            with contextlib.suppress(OSError):
                _remove_own_temporaries(out_dir, outputs)
            raise DiskFullError(out_dir) from exc


def _write_planned(plan: dict[str, list[Clip]], out_dir: str, *, info: DatasetInfo, labels: list[str],
                   converter: str, converter_version: str, writer: ShardWriter, workers: int | ShardWorkers,
                   seed: int, skipped: Sequence[dict[str, str]], extra: dict[str, Any], progress: bool,
                   outputs: list[str]) -> Manifest:
    from tqdm.auto import tqdm

    settings = {"dataset": info.name, "labels": labels, "seed": seed, "converter_version": converter_version}
    if writer.sample_rate != SAMPLE_RATE:  # (absent at the default rate: plans written before stay resumable)
        settings["sample_rate"] = writer.sample_rate
    if info.features:  # (likewise absent without declared features)
        settings["features"] = [f.to_dict() for f in info.features]
    digest = _plan_digest(plan, settings)
    plan_path = os.path.join(out_dir, PLAN)
    if os.path.exists(plan_path):
        try:
            with open(plan_path) as f:
                old = json.load(f)
            if not isinstance(old, dict):
                raise ParameterError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            raise DatasetLayoutError(f"'{plan_path}' is corrupt ({exc}); convert into an empty folder") from exc
        if old.get("digest") != digest:
            raise DatasetLayoutError(
                f"'{out_dir}' already holds a conversion of a different clip list or settings "
                f"(plan digest {str(old.get('digest', '?'))[:12]} != {digest[:12]}); convert into an empty folder")
    else:
        foreign = sorted(n for n in os.listdir(out_dir)
                         if n in (MANIFEST, INDEX) or n.endswith((".tfrecord", ".tfrecord.json")))
        if foreign:
            raise DatasetLayoutError(
                f"'{out_dir}' holds store files ({', '.join(foreign[:3])}) but no {PLAN}: they are not a "
                "resumable conversion of this dataset; convert into an empty folder")
        write_text_atomic(plan_path, json.dumps(
            {"digest": digest, "dataset": info.name,
             "shards": {k: [c.clip_id for c in v] for k, v in plan.items()}}, indent=1, sort_keys=True))

    # Leftovers of a killed run: our own temporary files (by exact name), and shards whose sidecar never appeared.
    _remove_own_temporaries(out_dir, outputs)
    todo = [name for name in plan if not _shard_done(os.path.join(out_dir, name))]

    bar = tqdm(total=sum(len(plan[n]) for n in todo), unit="clip", desc=f"prep {info.name}",
               disable=not progress, file=sys.stderr)
    try:
        if isinstance(workers, ShardWorkers):
            if todo:
                workers.write_shards(out_dir, {n: plan[n] for n in todo}, writer)
            bar.update(sum(len(plan[n]) for n in todo))
        elif workers == 1 or len(todo) <= 1:
            for name in todo:
                writer(os.path.join(out_dir, name), plan[name])
                bar.update(len(plan[name]))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=inherit_quiet) as pool:
                futures = {pool.submit(writer, os.path.join(out_dir, n), plan[n]): n for n in todo}
                try:
                    for fut in as_completed(futures):
                        fut.result()
                        bar.update(len(plan[futures[fut]]))
                except BaseException:
                    for fut in futures:  # the shards not started yet are not started at all
                        fut.cancel()
                    raise
    finally:
        bar.close()

    return _finalise(out_dir, plan, info=info, labels=labels, converter=converter,
                     converter_version=converter_version, pre_skipped=list(skipped), extra=extra,
                     sample_rate=writer.sample_rate)


def _finalise(out_dir: str, plan: dict[str, list[Clip]], *, info: DatasetInfo, labels: list[str], converter: str,
              converter_version: str, pre_skipped: list[dict[str, str]], extra: dict[str, Any],
              sample_rate: int) -> Manifest:
    import pandas as pd

    rows, skipped = [], list(pre_skipped)
    shards: dict[str, dict[str, Any]] = {}
    total = {"sum": 0.0, "sumsq": 0.0, "count": 0}
    splits: dict[str, dict[str, Any]] = {}
    for name in sorted(plan):
        with open(os.path.join(out_dir, name + ".json")) as f:
            st = json.load(f)
        split = name.split("-", 1)[0]
        entry = splits.setdefault(split, {"clips": 0, "seconds": 0.0, "shards": []})
        entry["shards"].append(name)
        entry["clips"] += len(st["clips"])
        entry["seconds"] += sum(n for _, _, n, _ in st["clips"]) / sample_rate
        skipped.extend(st["skipped"])
        shards[name] = {"clips": len(st["clips"]), "bytes": st.get("bytes"), "sha256": st.get("sha256")}
        for clip_id, sp, n, lab in st["clips"]:
            rows.append({"clip_id": clip_id, "split": sp, "shard": name, "num_samples": n,
                         "labels": " ".join(map(str, lab))})
        if split == "train":
            for k in total:
                total[k] += st[k]
    for entry in splits.values():
        entry["seconds"] = round(entry["seconds"], 3)
    if total["count"]:
        mean = total["sum"] / total["count"]
        std = float(np.sqrt(max(total["sumsq"] / total["count"] - mean * mean, 0.0)))
    else:
        mean, std = 0.0, 1.0
    if std == 0.0:
        std = 1.0
    task = dataclasses.replace(info.task, num_classes=len(labels))  # the store's own label count
    manifest = Manifest(dataset=info.name, labels=labels, multi_label=task.multi_label, sample_rate=sample_rate,
                        splits=splits, mean=float(mean), std=std, skipped=skipped, converter=converter,
                        converter_version=converter_version, extra=extra, shards=shards,
                        features=[f.to_dict() for f in info.schema], task=dataclasses.asdict(task),
                        info=info.sources())
    index = pd.DataFrame(rows, columns=["clip_id", "split", "shard", "num_samples", "labels"])
    with atomic_open(os.path.join(out_dir, INDEX), "w", newline="") as f:
        index.to_csv(f, index=False)
    write_text_atomic(os.path.join(out_dir, MANIFEST), manifest.to_json())
    return manifest
