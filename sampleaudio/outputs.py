"""Streaming, resumable outputs of ``sampleaudio tag`` / ``embed`` (and the journal of ``index``).

A music library is tens of thousands of files and hours of CPU: results are written as each file finishes, never
held until the end, and a run that is killed continues where it stopped (``--resume``). The mechanism is the same
for every output:

- **a manifest**, one JSON line per input file with its ``source``, ``size`` and ``mtime_ns`` (a file is *done* when
  all three match) and either where its result lies (a byte range of the tag file, or the ``.npz`` it was written
  to) or its ``error``. Its first line records the parameters of the run (model, labels, hop, ...); resuming with
  other parameters is refused. A result is written and flushed first, its manifest line second, so a kill between
  the two leaves a result that the manifest does not know: ``--resume`` cuts it off and computes it again.
- **failed files are not results**: they are reported (stderr, the summary line, the manifest) and tried again by
  the next ``--resume``. The data files hold successes only, in input order, so an interrupted and resumed run
  writes the same bytes as an uninterrupted one.
- **nothing run-dependent** is written (no dates, no timings, zip entries with a fixed date), for the same reason.

Tag files (:class:`TagWriter`):

- ``.csv``: a header ``source,row,start,end,<one column per label>``; per file one ``clip`` row (start 0, end the
  file's duration, the clip-level scores) followed by one ``segment`` row per window (its start and end in
  seconds, the taggram). ``pandas.read_csv(f).query("row == 'clip'")`` is the classic one-row-per-file table.
- ``.jsonl``: a header line (``labels``, ``sample_rate``, ``segment_seconds``, ``hop_seconds``, ``decimals``, the
  model), then one line per file: ``source``, ``duration``, ``scores`` (every label), ``times`` (segment starts, s),
  ``taggram`` (``[segments][labels]``).
- ``.json``: the same header fields and ``"files": [...]`` holding the same records, one per line.
- ``.npz``: ``labels``, ``sources``, ``scores [N, C]``, ``durations``, ``taggram_<i>`` and ``times_<i>``; written
  as files finish too (a zip written entry by entry), but not resumable.

Scores in CSV and JSON are rounded to ``decimals`` (default 4: ``0.0234``, not ``0.023439999669790268``), times to
milliseconds. The manifest of ``tags.csv`` is ``tags.csv.manifest.jsonl``; an embedding folder's is
``manifest.jsonl`` inside it.

Why one module of about 580 lines: every output format of ``tag``, ``embed`` and ``index`` is written through the
one resume manifest they share (path, size and mtime of each input done), so that a kill loses nothing and a resumed
run writes the same bytes; splitting the formats would split that guarantee.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import signal
import tempfile
import zipfile
from collections.abc import Iterable, Sequence

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["TAG_FORMATS", "DECIMALS", "Manifest", "TagWriter", "EmbeddingWriter", "check_output_file",
           "check_output_folder", "file_identity", "output_name", "save_npz", "format_rows", "Summary"]

#: Tag output extensions: resumable text formats and the binary one.
TAG_FORMATS = (".csv", ".jsonl", ".json", ".npz")
#: Default decimals of scores in CSV and JSON outputs.
DECIMALS = 4
_TIME_DECIMALS = 3
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # zip entries carry no run-dependent date


# ----------------------------------------------------------------------------------------------------- checks


def _check_parent(path: str, what: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ParameterError(f"{what} '{path}': folder '{parent}' does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} '{path}': folder '{parent}' is not writable")


def check_output_file(path: str, *, formats: Sequence[str] = TAG_FORMATS, resume: bool = False,
                      overwrite: bool = False, what: str = "--out") -> str:
    """Refuse, before any work, an output file that cannot be written: unknown extension, missing or read-only
    folder, a folder in its place, or an existing file without ``resume`` / ``overwrite``. Returns the extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in formats:
        raise ParameterError(f"{what} '{path}': the extension must be one of {', '.join(formats)}")
    _check_parent(path, what)
    if os.path.isdir(path):
        raise ParameterError(f"{what} '{path}' is a folder, not a file")
    if resume and overwrite:
        raise ParameterError("--resume and --overwrite exclude each other")
    if resume and ext == ".npz":
        raise ParameterError(f"{what} '{path}': an .npz cannot be resumed; write .csv, .json or .jsonl")
    exists = os.path.exists(path) and os.path.getsize(path) > 0
    if exists and not (resume or overwrite):
        raise ParameterError(f"{what} '{path}' exists: pass --resume to continue it or --overwrite to replace it")
    if exists and not os.access(path, os.W_OK):
        raise ParameterError(f"{what} '{path}' is not writable")
    return ext


def check_output_folder(path: str, *, resume: bool = False, overwrite: bool = False, what: str = "--out",
                        marker: str | Sequence[str] = ()) -> None:
    """Refuse, before any work, an output folder that cannot be written: its parent missing or read-only, a file
    in its place, or (where ``marker`` names the file(s) an output holds) an existing output without ``resume`` /
    ``overwrite``."""
    if resume and overwrite:
        raise ParameterError("--resume and --overwrite exclude each other")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ParameterError(f"{what} '{path}' is a file, not a folder")
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            raise ParameterError(f"{what} '{path}' is not writable")
        found = [m for m in ([marker] if isinstance(marker, str) else marker) if os.path.exists(os.path.join(path, m))]
        if found and not (resume or overwrite):
            raise ParameterError(f"{what} '{path}' already holds an output ({found[0]}): pass --resume to continue "
                                 "it or --overwrite to replace it")
        return
    _check_parent(os.path.normpath(path), what)


# ------------------------------------------------------------------------------------------- file identities


def file_identity(path) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of a file (what ``--resume`` compares), or ``None`` for an array or a missing file."""
    if not isinstance(path, str):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def output_name(source: str, suffix: str) -> str:
    """A file name for one input's output (embedding, plot): its stem and a hash of its path, so that files of the
    same name in different folders do not collide and the name does not depend on the order of the inputs."""
    stem = os.path.splitext(os.path.basename(str(source)))[0] or "audio"
    digest = hashlib.sha1(str(source).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{stem}-{digest}{suffix}"


def _test_kill(stage: str, count: int) -> None:
    """Stand-in for ``kill -9`` at a chosen point, for the kill/resume tests: ``SAMPLEAUDIO_KILL_AT=<stage>:<n>``
    kills this process (SIGKILL: nothing is flushed or cleaned up) when ``stage`` is reached for the ``n``-th time.
    Stages: ``result`` (a result written, its manifest line not yet), ``manifest`` (both written), ``commit`` (an
    index's vectors written, its ``index.json`` not yet)."""
    spec = os.environ.get("SAMPLEAUDIO_KILL_AT")
    if spec and spec == f"{stage}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------------------------------------- manifest


class Manifest:
    """The JSON-lines journal of an output: a header (the run's parameters) and one entry per input file.

    Entries are appended and flushed one at a time; reading one back drops a torn last line (a kill while it was
    written). Later entries of a source supersede earlier ones.
    """

    def __init__(self, path: str, header: dict, *, resume: bool, overwrite: bool = False):
        self.path = path
        self.header = header
        self.entries: dict[str, dict] = {}
        if resume and os.path.exists(path):
            self._read()
        else:
            with open(path, "w", encoding="ascii") as f:
                f.write(_json_line(header, ascii_only=True))
        self._file = open(path, "a", encoding="ascii")  # ASCII JSON: any file name round-trips

    def _read(self) -> None:
        good, lines = 0, []
        with open(self.path, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    break
                good += len(raw)
        if not lines or not isinstance(lines[0], dict) or "params" not in lines[0]:
            raise ParameterError(f"--resume: '{self.path}' is not a sampleaudio manifest (rerun with --overwrite)")
        if os.path.getsize(self.path) != good:
            os.truncate(self.path, good)
        theirs, ours = lines[0]["params"], self.header["params"]
        changed = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        if changed:
            detail = "; ".join(f"{k}: {_short(theirs.get(k))} then, {_short(ours.get(k))} now" for k in changed[:3])
            raise ParameterError(f"--resume: '{self.path}' was written with other settings ({detail}); use the "
                                 "same arguments, or --overwrite to start again")
        self.header = lines[0]
        for entry in lines[1:]:
            self.entries[entry["source"]] = entry

    def add(self, entry: dict) -> None:
        self._file.write(_json_line(entry, ascii_only=True))
        self._file.flush()
        self.entries[entry["source"]] = entry

    def is_done(self, source, identity) -> bool | None:
        """``True``: done and unchanged; ``False``: not done (or failed: tried again); ``None``: done, but the file
        has changed since (its result must be replaced)."""
        entry = self.entries.get(source)
        if entry is None or "error" in entry:
            return False
        if identity is None or [entry.get("size"), entry.get("mtime_ns")] != list(identity):
            return None
        return True

    def plan(self, sources: Sequence) -> tuple[list, int, set]:
        """``(sources still to do, how many are done, the done ones whose file has changed since)``; the changed
        ones are in the to-do list too (their old result must go)."""
        todo, done, stale = [], 0, set()
        for source in sources:
            state = self.is_done(source, file_identity(source))
            if state:
                done += 1
                continue
            if state is None:
                stale.add(source)
            todo.append(source)
        return todo, done, stale

    def rewrite(self, entries: Iterable[dict]) -> None:
        """Replace the entries (atomically: a kill leaves the old manifest or the new one)."""
        self._file.close()
        self.entries = {}
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(_json_line(self.header, ascii_only=True))
            for entry in entries:
                f.write(_json_line(entry, ascii_only=True))
                self.entries[entry["source"]] = entry
        os.replace(tmp, self.path)
        self._file = open(self.path, "a", encoding="ascii")

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_line(obj, *, ascii_only: bool = False) -> str:
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":"), allow_nan=False) + "\n"


def _rounded(x, decimals: int) -> list:
    return np.round(np.asarray(x, np.float64), decimals).tolist()


# -------------------------------------------------------------------------------------------------- summary


class Summary:
    """Counts of a streaming run: ``done`` (now), ``skipped`` (done before: ``--resume``), ``failed``."""

    def __init__(self, skipped: int = 0):
        self.done, self.skipped, self.failed = 0, skipped, 0

    def line(self, command: str, where: str | None) -> str:
        to = f" -> {where}" if where else ""
        return (f"sampleaudio {command}: {self.done:,} done, {self.skipped:,} skipped (done before), "
                f"{self.failed:,} failed{to}")


# ------------------------------------------------------------------------------------------------ tag files


class TagWriter:
    """Write tag results as they come (``.csv``, ``.jsonl``, ``.json``, ``.npz``; see the module docstring).

    Args:
        path: the output file (checked with :func:`check_output_file` first).
        labels: the model's labels.
        params: the run's settings, recorded in the header and the manifest (``--resume`` compares them).
        decimals: decimals of the scores in text formats.
        resume: continue the file and its manifest; files done and unchanged are skipped (:meth:`plan`).
        manifest: keep a manifest (text formats only; ``False`` for a one-shot write such as
            :func:`sampleaudio.inference.write_tags`).
    """

    def __init__(self, path: str, labels: Sequence[str], params: dict, *, decimals: int = DECIMALS,
                 resume: bool = False, manifest: bool = True):
        self.path, self.labels, self.decimals = path, list(labels), int(decimals)
        self.ext = os.path.splitext(path)[1].lower()
        if self.ext not in TAG_FORMATS:
            raise ParameterError(f"output must end in {', '.join(TAG_FORMATS)}. Received: {path}")
        self.params = {**params, "labels": self.labels, "decimals": self.decimals, "format": self.ext}
        self.count = 0  # results in the file
        if self.ext == ".npz":
            self._npz = _NpzStream(path, self.labels, self.params)
            self.manifest = None
            return
        self._npz = None
        resuming = resume and os.path.exists(path) and os.path.getsize(path) > 0
        header = self._header()
        manifest_path = path + ".manifest.jsonl"
        if resuming and not os.path.exists(manifest_path):
            raise ParameterError(f"--resume: '{path}' has no manifest '{manifest_path}' (it was not written by a "
                                 "streaming run, or the manifest was removed): rerun with --overwrite")
        self.manifest = Manifest(manifest_path, {"sampleaudio": "tags-manifest", "output": os.path.basename(path),
                                                 "params": self.params, "start": len(header)},
                                 resume=resuming) if manifest else None
        if resuming:
            self.count = sum(1 for e in self.manifest.entries.values() if "end" in e)
            end = max((e["end"] for e in self.manifest.entries.values() if "end" in e),
                      default=self.manifest.header["start"])
            if os.path.getsize(path) < end:
                raise ParameterError(f"--resume: '{path}' is shorter than its manifest records (was it edited?): "
                                     "rerun with --overwrite")
            os.truncate(path, end)  # a result whose manifest line was never written, or the JSON trailer
            self._file = open(path, "ab")
        else:
            self._file = open(path, "wb")
            self._file.write(header)
            self._file.flush()

    # the three text formats -------------------------------------------------------------------------------

    def _meta(self) -> dict:
        return {"sampleaudio": "tags", **{k: v for k, v in self.params.items() if k != "format"}}

    def _header(self) -> bytes:
        if self.ext == ".csv":
            return _csv_row(["source", "row", "start", "end", *self.labels])
        if self.ext == ".jsonl":
            return _json_line(self._meta()).encode("utf-8")
        return (json.dumps(self._meta(), ensure_ascii=False, separators=(",", ":"))[:-1] + ',"files":[\n').encode()

    def _record(self, result) -> bytes:
        d = self.decimals
        scores = _rounded(result.scores, d)
        times = _rounded(result.times, _TIME_DECIMALS)
        taggram = _rounded(result.taggram, d)
        duration = round(float(result.duration), _TIME_DECIMALS) if result.duration is not None else None
        if self.ext == ".csv":
            length = self.params.get("segment_seconds") or 0.0
            rows = [[result.source, "clip", 0.0, duration if duration is not None else "", *scores]]
            rows += [[result.source, "segment", t, round(t + length, _TIME_DECIMALS), *row]
                     for t, row in zip(times, taggram)]
            return b"".join(_csv_row(r) for r in rows)
        record = {"source": result.source, "duration": duration, "scores": scores, "times": times,
                  "taggram": taggram}
        text = _json_line(record)
        if self.ext == ".json":
            text = ("," if self.count else "") + text
        return text.encode("utf-8", "surrogateescape")

    # ------------------------------------------------------------------------------------------------------

    def plan(self, sources: Sequence) -> tuple[list, int]:
        """``(sources still to do, how many are done)``; the results of files changed since are removed first."""
        if self.manifest is None:
            return list(sources), 0
        todo, done, stale = self.manifest.plan(sources)
        if stale:
            self._drop(stale)
        return todo, done

    def _drop(self, stale: set) -> None:
        """Remove the results of ``stale`` sources from the file (a copy without their byte ranges)."""
        self._file.close()
        keep = sorted((e for e in self.manifest.entries.values() if "end" in e and e["source"] not in stale),
                      key=lambda e: e["start"])
        tmp = self.path + ".tmp"
        entries, pos = [], self.manifest.header["start"]
        with open(self.path, "rb") as src, open(tmp, "wb") as dst:
            dst.write(src.read(pos))
            for k, e in enumerate(keep):
                src.seek(e["start"])
                data = src.read(e["end"] - e["start"])
                if self.ext == ".json":  # the first record has no leading comma
                    data = data.lstrip(b",") if k == 0 else (data if data.startswith(b",") else b"," + data)
                dst.write(data)
                entries.append({**e, "start": pos, "end": pos + len(data)})
                pos += len(data)
        os.replace(tmp, self.path)
        self.count = len(keep)
        self.manifest.rewrite(entries + [e for e in self.manifest.entries.values() if "error" in e])
        self._file = open(self.path, "ab")

    def add(self, result) -> None:
        """Write one result (an error result goes to the manifest only)."""
        if result.error:
            self.fail(result.source, result.error)
            return
        if self._npz is not None:
            self._npz.add(result)
            self.count += 1
            return
        data = self._record(result)
        start = self._file.tell()
        self._file.write(data)
        self._file.flush()
        self.count += 1
        _test_kill("result", self.count)
        if self.manifest is not None:
            self.manifest.add(_entry(result.source, start=start, end=start + len(data)))
            _test_kill("manifest", self.count)

    def fail(self, source, error: str) -> None:
        if self.manifest is not None:
            self.manifest.add(_entry(source, error=error))

    def close(self) -> None:
        """Finish the file (the JSON trailer; the NPZ's score table) and sync it to disk."""
        if self._npz is not None:
            self._npz.close()
            return
        if self.ext == ".json":
            self._file.write(b"]}\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self.manifest is not None:
            self.manifest.close()


def _entry(source, **fields) -> dict:
    identity = file_identity(source)
    return {"source": str(source), "size": identity and identity[0], "mtime_ns": identity and identity[1], **fields}


def _csv_row(values) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8", "surrogateescape")


class _NpzStream:
    """An ``.npz`` written entry by entry: ``taggram_<i>`` / ``times_<i>`` as results come, the score table (kept in
    a temporary file, not in memory) and the lists at the end; written under a temporary name, renamed when
    complete."""

    def __init__(self, path: str, labels: list[str], params: dict):
        self.path, self.labels, self.params = path, labels, params
        self._tmp = path + ".partial"
        self._zip = zipfile.ZipFile(self._tmp, "w", zipfile.ZIP_STORED, allowZip64=True)
        self._scores = tempfile.TemporaryFile()
        self._sources = tempfile.TemporaryFile()
        self._durations: list[float] = []
        self.count = 0

    def add(self, result) -> None:
        _zip_array(self._zip, f"taggram_{self.count}", np.asarray(result.taggram, np.float32))
        _zip_array(self._zip, f"times_{self.count}", np.asarray(result.times, np.float64))
        self._scores.write(np.asarray(result.scores, np.float32).tobytes())
        self._sources.write(json.dumps(result.source).encode() + b"\n")
        self._durations.append(float(result.duration) if result.duration is not None else np.nan)
        self.count += 1

    def close(self) -> None:
        self._scores.seek(0)
        scores = np.frombuffer(self._scores.read(), np.float32).reshape(self.count, len(self.labels))
        self._sources.seek(0)
        sources = [json.loads(line) for line in self._sources]
        _zip_array(self._zip, "scores", scores)
        _zip_array(self._zip, "sources", np.array(sources, dtype=str))
        _zip_array(self._zip, "labels", np.array(self.labels, dtype=str))
        _zip_array(self._zip, "durations", np.array(self._durations, np.float64))
        _zip_array(self._zip, "params", np.array(json.dumps(self.params)))
        self._zip.close()
        self._scores.close()
        self._sources.close()
        os.replace(self._tmp, self.path)


def _zip_array(zf: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
    with zf.open(info, "w", force_zip64=True) as f:
        np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def save_npz(path: str, **arrays) -> None:
    """``numpy.savez`` with no run-dependent bytes (fixed zip dates), written under a temporary name and renamed:
    the file is complete or absent."""
    tmp = path + ".partial"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            _zip_array(zf, name, np.asanyarray(array))
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------ embedding folder


class EmbeddingWriter:
    """One ``.npz`` per input in a folder (``embedding``, ``segment_embeddings``, ``times``, ``source``,
    ``duration``; named by :func:`output_name`), each complete or absent, and ``manifest.jsonl`` listing every input
    with its file or its error."""

    MANIFEST = "manifest.jsonl"

    def __init__(self, folder: str, params: dict, *, resume: bool = False):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, self.MANIFEST)
        self.manifest = Manifest(path, {"sampleaudio": "embeddings-manifest", "params": params},
                                 resume=resume and os.path.exists(path))
        self.count = sum(1 for e in self.manifest.entries.values() if "file" in e)

    def plan(self, sources: Sequence) -> tuple[list, int]:
        """``(sources still to do, how many are done)`` (a changed file is done again; its ``.npz`` is replaced)."""
        todo, done, _ = self.manifest.plan(sources)
        return todo, done

    def add(self, result) -> str | None:
        """Write one result; returns its file name (``None`` for an error, which goes to the manifest only)."""
        if result.error:
            self.manifest.add(_entry(result.source, error=result.error))
            return None
        name = output_name(result.source, ".npz")
        save_npz(os.path.join(self.folder, name), embedding=np.asarray(result.embedding, np.float32),
                 segment_embeddings=np.asarray(result.segment_embeddings, np.float32),
                 times=np.asarray(result.times, np.float64), source=np.array(str(result.source)),
                 duration=np.float64(result.duration if result.duration is not None else np.nan))
        self.count += 1
        _test_kill("result", self.count)
        self.manifest.add(_entry(result.source, file=name))
        _test_kill("manifest", self.count)
        return name

    def close(self) -> None:
        self.manifest.close()


def read_embedding_folder(folder: str) -> tuple[np.ndarray, list[str]]:
    """``(clip embeddings [N, D], sources)`` of a folder written by :class:`EmbeddingWriter` (its manifest's
    files, in order), e.g. for ``plot-embeddings``."""
    path = os.path.join(folder, EmbeddingWriter.MANIFEST)
    vectors, sources = [], []
    with open(path, encoding="ascii") as f:
        for line in f:
            try:
                entry = json.loads(line)
            except ValueError:
                break  # a torn last line
            if "file" not in entry:
                continue
            npz = os.path.join(folder, entry["file"])
            try:
                with np.load(npz, allow_pickle=False) as z:
                    vectors.append(np.asarray(z["embedding"], np.float32))
            except (OSError, ValueError, KeyError) as exc:
                raise ParameterError(f"embedding file '{npz}' cannot be read ({exc})") from exc
            sources.append(entry["source"])
    if not vectors:
        raise ParameterError(f"'{folder}' holds no embedding (its {EmbeddingWriter.MANIFEST} lists none)")
    dims = {v.shape for v in vectors}
    if len(dims) != 1 or len(next(iter(dims))) != 1:
        raise ParameterError(f"'{folder}': the embeddings are not vectors of one size ({sorted(dims)[:3]})")
    return np.stack(vectors), sources


# ------------------------------------------------------------------------------------- retrieval result rows


def format_rows(rows: Sequence[dict], fmt: str, *, columns: Sequence[str] | None = None,
                decimals: int = DECIMALS) -> str:
    """Result rows of ``similar`` / ``search`` / ``neighbours`` as ``csv`` (a header, ``columns`` first, then every
    other key in the order met) or ``json`` (a list of objects); floats rounded to ``decimals``."""
    def clean(value):
        return round(float(value), decimals) if isinstance(value, (float, np.floating)) else value

    rows = [{k: clean(v) for k, v in row.items()} for row in rows]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    if fmt != "csv":
        raise ParameterError(f"format must be 'table', 'csv' or 'json'. Received: {fmt!r}")
    keys = list(dict.fromkeys([*(columns or []), *(k for row in rows for k in row)]))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().rstrip("\n")
