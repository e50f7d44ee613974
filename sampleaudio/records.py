"""The TFRecord store: one ``tf.train.Example`` per clip, sharded, atomic and resumable.

Layout of a converted dataset folder::

    OUT/
      plan.json                          which clip goes into which shard (written first)
      train-00000-of-00012.tfrecord      shards: split and index in the name
      train-00000-of-00012.tfrecord.json sidecar: per-shard statistics and skipped files
      ...
      manifest.json                      dataset, labels, counts, durations, train mean/std, skips
      clips.csv                          one row per written clip (id, split, shard, samples, labels)

Each clip is stored whole, as 16-bit PCM at the store's rate (22,050 Hz unless converted at another, recorded in the
manifest); segmenting happens in tf.data
(:mod:`sampleaudio.pipeline`), so one store serves every segment length (the original code cut
segments on disk, which ties a store to one model).

Every shard is written to a temporary name, flushed to disk (``fsync``) and renamed when complete; its sidecar
(with the shard's size and SHA-256) is renamed last, so a shard counts as done only when its sidecar exists. A
conversion killed at any point and started again skips the complete shards, rewrites the others and produces
the same bytes as an uninterrupted run. Only the converter's own temporaries (a known output name followed by
``.tmp-<pid>``) are ever removed; a lock file keeps two conversions out of one folder.

The manifest records every shard's clip count, size and SHA-256 (as tensorflow-datasets records checksums):
:func:`shard_paths` refuses a store whose shards are missing or have another size than recorded, and
:func:`verify_store` also checks the checksums (training does so before it starts).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sampleaudio.audio import SAMPLE_RATE, from_pcm16, load, to_pcm16
from sampleaudio.errors import AudioDecodeError, DatasetLayoutError, ParameterError
from sampleaudio.fileio import atomic_open, temporary_name, write_text_atomic
from sampleaudio.logs import inherit_quiet

__all__ = [
    "SPLITS",
    "Clip",
    "FileLoader",
    "Manifest",
    "ShardWorkers",
    "encode_example",
    "parse_example",
    "write_dataset",
    "read_manifest",
    "read_index",
    "shard_paths",
    "verify_store",
]

#: The three splits every store has, in this order.
SPLITS = ("train", "valid", "test")
MANIFEST = "manifest.json"
PLAN = "plan.json"
INDEX = "clips.csv"
LOCK = ".sampleaudio-prep.lock"
#: 2: the manifest records each shard's clip count, byte size and SHA-256 (``shards``). Version-1 stores
#: (without them) are still read; only their shard sizes and checksums cannot be checked.
_FORMAT_VERSION = 2


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
    """

    clip_id: str
    split: str
    labels: tuple[int, ...]
    source: str
    artist_id: str = ""
    track_id: str = ""
    duration: float | None = None


@dataclasses.dataclass(frozen=True)
class FileLoader:
    """Decode a clip's ``source`` file with :func:`sampleaudio.audio.load` (picklable for worker pools)."""

    sr: int = SAMPLE_RATE

    def __call__(self, clip: Clip) -> np.ndarray:
        return load(clip.source, sr=self.sr, duration=clip.duration)


@dataclasses.dataclass
class Manifest:
    """What a converted store holds (``manifest.json``)."""

    dataset: str
    labels: list[str]
    multi_label: bool
    sample_rate: int
    splits: dict[str, dict[str, Any]]
    mean: float
    std: float
    skipped: list[dict[str, str]]
    converter: str
    converter_version: str
    format_version: int = _FORMAT_VERSION
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    shards: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in fields})


@runtime_checkable
class ShardWorkers(Protocol):
    """Who writes the shards when not local processes: ``write_dataset(..., workers=ShardWorkers)``.

    ``write_shards`` must leave every shard of ``shards`` in ``out_dir`` exactly as :func:`write_shard` writes
    it (shard, then sidecar); the plan and the manifest stay with :func:`write_dataset`. Implemented by
    :class:`sampleaudio.data_prep.beam.BeamWorkers` (Apache Beam runners).
    """

    def write_shards(self, out_dir: str, shards: dict[str, list[Clip]],
                     loader: Callable[[Clip], np.ndarray]) -> None: ...


# --------------------------------------------------------------------------------------------- schema


def encode_example(clip: Clip, pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """Serialise one clip as a ``tf.train.Example`` (16-bit little-endian PCM in ``audio``)."""
    import tensorflow as tf

    pcm = np.asarray(pcm, dtype="<i2")

    def b(v: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))

    def i(vs: Iterable[int]) -> tf.train.Feature:
        return tf.train.Feature(int64_list=tf.train.Int64List(value=list(vs)))

    feature = {
        "clip_id": b(clip.clip_id.encode()),
        "audio": b(pcm.tobytes()),
        "num_samples": i([pcm.shape[0]]),
        "sample_rate": i([sample_rate]),
        "labels": i(clip.labels),
        "split": b(clip.split.encode()),
        "artist_id": b(clip.artist_id.encode()),
        "track_id": b(clip.track_id.encode()),
    }
    # deterministic=True sorts the feature map: the same clip gives the same bytes in every process
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString(deterministic=True)


def parse_example(serialized, num_classes: int) -> dict:
    """Parse one serialised Example (a scalar string tensor) inside tf.data.

    Returns a dict with ``clip_id`` (string), ``audio`` (float32 ``[num_samples]`` in [-1, 1]),
    ``labels`` (float32 multi-hot ``[num_classes]``; one-hot for single-label data), ``num_samples``,
    ``split``, ``artist_id``, ``track_id``.
    """
    import tensorflow as tf

    spec = {
        "clip_id": tf.io.FixedLenFeature([], tf.string),
        "audio": tf.io.FixedLenFeature([], tf.string),
        "num_samples": tf.io.FixedLenFeature([], tf.int64),
        "sample_rate": tf.io.FixedLenFeature([], tf.int64),
        "labels": tf.io.VarLenFeature(tf.int64),
        "split": tf.io.FixedLenFeature([], tf.string),
        "artist_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
        "track_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
    }
    ex = tf.io.parse_single_example(serialized, spec)
    pcm = tf.io.decode_raw(ex["audio"], tf.int16, little_endian=True)
    audio = tf.cast(pcm, tf.float32) / 32767.0
    idx = tf.sparse.to_dense(ex["labels"])
    multi_hot = tf.minimum(tf.reduce_sum(tf.one_hot(idx, num_classes, dtype=tf.float32), axis=0), 1.0)
    return {
        "clip_id": ex["clip_id"],
        "audio": audio,
        "labels": multi_hot,
        "num_samples": ex["num_samples"],
        "split": ex["split"],
        "artist_id": ex["artist_id"],
        "track_id": ex["track_id"],
    }


# --------------------------------------------------------------------------------------------- writing


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


def _file_digest(path: str) -> tuple[int, str]:
    """``(size in bytes, SHA-256 hex)`` of a file, read in 1 MiB blocks."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


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
            h.update(json.dumps(dataclasses.asdict(c), sort_keys=True).encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    return h.hexdigest()


def write_shard(path: str, clips: Sequence[Clip], loader: Callable[[Clip], np.ndarray],
                sample_rate: int = SAMPLE_RATE) -> dict[str, Any]:
    """Write one shard atomically and then its sidecar; return the sidecar's content.

    A clip whose audio cannot be decoded is skipped and recorded with its reason; it never stops the shard.
    """
    import tensorflow as tf

    tmp = temporary_name(path)
    stats = {"clips": [], "skipped": [], "sum": 0.0, "sumsq": 0.0, "count": 0}
    with tf.io.TFRecordWriter(tmp) as writer:
        for clip in clips:
            try:
                audio = loader(clip)
                if audio.ndim != 1 or audio.shape[0] == 0:
                    raise AudioDecodeError(clip.source, f"loader returned an array of shape {audio.shape}")
            except AudioDecodeError as exc:
                stats["skipped"].append({"clip_id": clip.clip_id, "path": exc.path, "reason": exc.reason})
                continue
            except MemoryError:  # one huge file must not end the conversion of the others
                stats["skipped"].append({"clip_id": clip.clip_id, "path": clip.source,
                                         "reason": "out of memory while decoding"})
                continue
            pcm = to_pcm16(audio)
            writer.write(encode_example(clip, pcm, sample_rate))
            x = from_pcm16(pcm).astype(np.float64)
            stats["sum"] += float(x.sum())
            stats["sumsq"] += float(np.square(x).sum())
            stats["count"] += int(x.shape[0])
            stats["clips"].append([clip.clip_id, clip.split, int(pcm.shape[0]), list(clip.labels)])
    with open(tmp, "rb") as f:  # on disk before the rename: a power cut cannot leave a "complete" short shard
        os.fsync(f.fileno())
    stats["bytes"], stats["sha256"] = _file_digest(tmp)
    os.replace(tmp, path)
    write_text_atomic(path + ".json", json.dumps(stats, sort_keys=True))
    return stats


def _shard_done(path: str) -> bool:
    return os.path.exists(path) and os.path.exists(path + ".json")


def write_dataset(
    clips: Sequence[Clip],
    out_dir: str | os.PathLike,
    *,
    dataset: str,
    labels: Sequence[str],
    multi_label: bool,
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
        clips: every clip of the dataset with its split and labels.
        out_dir: destination folder (created). Re-running into the same folder with the same clips resumes:
            complete shards are kept, incomplete ones rewritten.
        dataset: dataset name recorded in the manifest.
        labels: the label vocabulary, in index order.
        multi_label: multi-hot (tagging) or one-hot (single-label classification) targets.
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
        ParameterError: duplicate clip ids, an unknown split, or a label index out of range.
        DatasetLayoutError: ``out_dir`` already holds a conversion of a different clip list, holds store files
            without a plan, is not a folder, or another conversion is writing into it.
    """
    if clips_per_shard < 1:
        raise ParameterError(f"clips_per_shard must be >= 1. Received: clips_per_shard={clips_per_shard}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1:
        raise ParameterError(f"sample_rate must be a positive integer. Received: sample_rate={sample_rate!r}")
    if isinstance(workers, ShardWorkers) and sample_rate != SAMPLE_RATE:
        raise ParameterError(f"a ShardWorkers writes {SAMPLE_RATE} Hz stores; convert at {sample_rate} Hz with "
                             "local workers")
    if not isinstance(workers, ShardWorkers) and not (isinstance(workers, int) and workers >= 1):
        raise ParameterError(f"workers must be an int >= 1 or a ShardWorkers. Received: workers={workers!r}")
    labels = list(labels)
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
    if not clips:
        raise ParameterError(f"no clips to convert for dataset '{dataset}'")
    loader = loader or FileLoader(sr=sample_rate)
    extra = dict(extra or {})

    out_dir = os.fspath(out_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise DatasetLayoutError(f"--out '{out_dir}' is not a folder") from exc
    plan = _plan_shards(clips, clips_per_shard, seed)
    with _conversion_lock(out_dir):
        return _write_planned(plan, out_dir, dataset=dataset, labels=labels, multi_label=multi_label,
                              converter=converter, converter_version=converter_version, loader=loader,
                              workers=workers, seed=seed, skipped=skipped, extra=extra, progress=progress,
                              sample_rate=sample_rate)


def _write_planned(plan: dict[str, list[Clip]], out_dir: str, *, dataset: str, labels: list[str],
                   multi_label: bool, converter: str, converter_version: str,
                   loader: Callable[[Clip], np.ndarray], workers: int, seed: int,
                   skipped: Sequence[dict[str, str]], extra: dict[str, Any], progress: bool,
                   sample_rate: int = SAMPLE_RATE) -> Manifest:
    from tqdm.auto import tqdm

    settings = {"dataset": dataset, "labels": labels, "seed": seed, "converter_version": converter_version}
    if sample_rate != SAMPLE_RATE:  # (absent at the default rate: plans written before stay resumable)
        settings["sample_rate"] = sample_rate
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
            {"digest": digest, "dataset": dataset, "shards": {k: [c.clip_id for c in v] for k, v in plan.items()}},
            indent=1, sort_keys=True))

    # Leftovers of a killed run: our own temporary files (by exact name), and shards whose sidecar never appeared.
    _remove_own_temporaries(out_dir, [*plan, *(n + ".json" for n in plan), PLAN, MANIFEST, INDEX])
    todo = [name for name in plan if not _shard_done(os.path.join(out_dir, name))]

    bar = tqdm(total=sum(len(plan[n]) for n in todo), unit="clip", desc=f"prep {dataset}",
               disable=not progress, file=sys.stderr)
    try:
        if isinstance(workers, ShardWorkers):
            if todo:
                workers.write_shards(out_dir, {n: plan[n] for n in todo}, loader)
            bar.update(sum(len(plan[n]) for n in todo))
        elif workers == 1 or len(todo) <= 1:
            for name in todo:
                write_shard(os.path.join(out_dir, name), plan[name], loader, sample_rate)
                bar.update(len(plan[name]))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=inherit_quiet) as pool:
                futures = {pool.submit(write_shard, os.path.join(out_dir, n), plan[n], loader, sample_rate): n
                           for n in todo}
                for fut in as_completed(futures):
                    fut.result()
                    bar.update(len(plan[futures[fut]]))
    finally:
        bar.close()

    manifest = _finalise(out_dir, plan, dataset=dataset, labels=labels, multi_label=multi_label,
                         converter=converter, converter_version=converter_version,
                         pre_skipped=list(skipped), extra=extra, sample_rate=sample_rate)
    return manifest


def _finalise(out_dir: str, plan: dict[str, list[Clip]], *, dataset: str, labels: list[str], multi_label: bool,
              converter: str, converter_version: str, pre_skipped: list[dict[str, str]],
              extra: dict[str, Any], sample_rate: int = SAMPLE_RATE) -> Manifest:
    import pandas as pd

    rows, skipped = [], list(pre_skipped)
    shards: dict[str, dict[str, Any]] = {}
    total = {"sum": 0.0, "sumsq": 0.0, "count": 0}
    splits: dict[str, dict[str, Any]] = {}
    for name in sorted(plan):
        with open(os.path.join(out_dir, name + ".json")) as f:
            st = json.load(f)
        split = name.split("-", 1)[0]
        info = splits.setdefault(split, {"clips": 0, "seconds": 0.0, "shards": []})
        info["shards"].append(name)
        info["clips"] += len(st["clips"])
        info["seconds"] += sum(n for _, _, n, _ in st["clips"]) / sample_rate
        skipped.extend(st["skipped"])
        shards[name] = {"clips": len(st["clips"]), "bytes": st.get("bytes"), "sha256": st.get("sha256")}
        for clip_id, sp, n, lab in st["clips"]:
            rows.append({"clip_id": clip_id, "split": sp, "shard": name, "num_samples": n,
                         "labels": " ".join(map(str, lab))})
        if split == "train":
            for k in total:
                total[k] += st[k]
    for info in splits.values():
        info["seconds"] = round(info["seconds"], 3)
    if total["count"]:
        mean = total["sum"] / total["count"]
        std = float(np.sqrt(max(total["sumsq"] / total["count"] - mean * mean, 0.0)))
    else:
        mean, std = 0.0, 1.0
    if std == 0.0:
        std = 1.0
    manifest = Manifest(dataset=dataset, labels=labels, multi_label=multi_label, sample_rate=sample_rate,
                        splits=splits, mean=float(mean), std=std, skipped=skipped, converter=converter,
                        converter_version=converter_version, extra=extra, shards=shards)
    index = pd.DataFrame(rows, columns=["clip_id", "split", "shard", "num_samples", "labels"])
    with atomic_open(os.path.join(out_dir, INDEX), "w", newline="") as f:
        index.to_csv(f, index=False)
    write_text_atomic(os.path.join(out_dir, MANIFEST), manifest.to_json())
    return manifest


# --------------------------------------------------------------------------------------------- reading


def read_manifest(data_dir: str | os.PathLike) -> Manifest:
    """Read ``manifest.json`` of a converted store, with a clear error when it is not one (missing, corrupt,
    written by a newer format, or inconsistent)."""
    path = os.path.join(os.fspath(data_dir), MANIFEST)
    if not os.path.exists(path):
        raise DatasetLayoutError(f"'{data_dir}' is not a converted sampleaudio store: no {MANIFEST} "
                                 "(run `sampleaudio prep` first, or the conversion did not finish)")
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        if not isinstance(raw, dict):
            raise ParameterError("not a JSON object")
        manifest = Manifest.from_dict(raw)
    except (ValueError, TypeError, UnicodeDecodeError, OSError) as exc:
        raise DatasetLayoutError(f"'{path}' is not a readable sampleaudio manifest ({exc})") from exc
    _check_manifest(manifest, path)
    return manifest


def _check_manifest(m: Manifest, path: str) -> None:
    def bad(why: str) -> DatasetLayoutError:
        return DatasetLayoutError(f"'{path}' is corrupt: {why}")

    if not isinstance(m.format_version, int) or m.format_version < 1:
        raise bad(f"format_version {m.format_version!r}")
    if m.format_version > _FORMAT_VERSION:
        raise DatasetLayoutError(f"'{path}' has format_version {m.format_version}, newer than this sampleaudio "
                                 f"reads ({_FORMAT_VERSION}); upgrade sampleaudio or convert again")
    if not isinstance(m.labels, list) or not m.labels or not all(isinstance(x, str) for x in m.labels):
        raise bad("labels must be a non-empty list of strings")
    if len(set(m.labels)) != len(m.labels):
        raise bad("labels are not unique")
    for name, value in (("mean", m.mean), ("std", m.std)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad(f"{name} is {value!r}")
    if m.std <= 0:
        raise bad(f"std must be positive, is {m.std}")
    if isinstance(m.sample_rate, bool) or not isinstance(m.sample_rate, int) or m.sample_rate < 1:
        raise bad(f"sample_rate {m.sample_rate!r} (a positive number of samples per second)")
    if not isinstance(m.splits, dict) or not set(m.splits) <= set(SPLITS):
        raise bad(f"splits must be a subset of {SPLITS}")
    for split, info in m.splits.items():
        if not isinstance(info, dict) or not isinstance(info.get("shards"), list) or \
                not isinstance(info.get("clips"), int) or info["clips"] < 0:
            raise bad(f"split '{split}' needs a list of shards and a clip count")
        for name in info["shards"]:
            if not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", "..") or \
                    not name.startswith(f"{split}-"):
                raise bad(f"shard name {name!r} of split '{split}'")
        if m.shards:
            recorded = [m.shards.get(n) for n in info["shards"]]
            if any(not isinstance(r, dict) for r in recorded):
                raise bad(f"split '{split}' names shards without a recorded size and checksum")
            if sum(int(r.get("clips", -1)) for r in recorded) != info["clips"]:
                raise bad(f"split '{split}' counts {info['clips']} clips, its shards {sum(r['clips'] for r in recorded)}")


def read_index(data_dir: str | os.PathLike):
    """The per-clip index (``clips.csv``) as a pandas DataFrame."""
    import pandas as pd

    path = os.path.join(os.fspath(data_dir), INDEX)
    try:
        index = pd.read_csv(path, dtype={"clip_id": str, "labels": str}, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetLayoutError(f"'{path}' is missing or not a readable clip index ({exc})") from exc
    missing = {"clip_id", "split", "shard", "num_samples", "labels"} - set(index.columns)
    if missing or not pd.api.types.is_integer_dtype(index["num_samples"]):
        raise DatasetLayoutError(f"'{path}' is not a sampleaudio clip index (columns {sorted(index.columns)})")
    return index


def shard_paths(data_dir: str | os.PathLike, split: str, *, manifest: Manifest | None = None) -> list[str]:
    """Paths of one split's shards, in order, after checking that each is there with its recorded size
    (``manifest``: the store's, when already read)."""
    manifest = read_manifest(data_dir) if manifest is None else manifest
    if split not in manifest.splits:
        raise DatasetLayoutError(f"'{data_dir}' has no '{split}' split (it has {sorted(manifest.splits)})")
    paths = []
    for name in manifest.splits[split]["shards"]:
        path = os.path.join(os.fspath(data_dir), name)
        _check_shard(path, manifest.shards.get(name), checksum=False)
        paths.append(path)
    return paths


def _check_shard(path: str, recorded: dict[str, Any] | None, *, checksum: bool) -> None:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DatasetLayoutError(f"shard '{path}' named by the manifest is missing or unreadable ({exc.strerror})") \
            from exc
    if not stat.S_ISREG(st.st_mode):
        raise DatasetLayoutError(f"shard '{path}' is not a regular file")
    if not recorded or recorded.get("bytes") is None:
        return  # a format-1 store: nothing recorded to compare with
    if st.st_size != recorded["bytes"]:
        raise DatasetLayoutError(f"shard '{path}' has {st.st_size} bytes, the manifest recorded {recorded['bytes']}: "
                                 "it is truncated or was replaced; convert the store again")
    if checksum:
        try:
            _, digest = _file_digest(path)
        except OSError as exc:
            raise DatasetLayoutError(f"shard '{path}' cannot be read ({exc.strerror})") from exc
        if digest != recorded.get("sha256"):
            raise DatasetLayoutError(f"shard '{path}' does not match the SHA-256 recorded in the manifest: it is "
                                     "corrupt or was replaced; convert the store again")


def verify_store(data_dir: str | os.PathLike, splits: Sequence[str] = SPLITS, *, checksum: bool = True,
                 require: Sequence[str] = (), manifest: Manifest | None = None) -> Manifest:
    """Check a store before it is used: a readable manifest, every shard of ``splits`` present with its recorded
    size (and SHA-256 when ``checksum``), and each split of ``require`` present with at least one clip
    (``manifest``: the store's, when already read).

    Raises:
        DatasetLayoutError: naming the store, the shard or the split and what is wrong.
    """
    manifest = read_manifest(data_dir) if manifest is None else manifest
    for split in require:
        if manifest.splits.get(split, {}).get("clips", 0) < 1:
            counts = ", ".join(f"{k}: {v['clips']}" for k, v in manifest.splits.items())
            raise DatasetLayoutError(f"store '{data_dir}' has no clips in its '{split}' split, which this task needs "
                                     f"(it has {counts or 'no splits'})")
    for split in splits:
        for name in manifest.splits.get(split, {}).get("shards", []):
            _check_shard(os.path.join(os.fspath(data_dir), name), manifest.shards.get(name), checksum=checksum)
    return manifest
