"""Audio decoding and resampling.

Two decoders, each where it is the better one:

- ``soundfile`` (libsndfile: WAV, FLAC, OGG/Vorbis, Opus in Ogg, MP3, AIFF) is a core dependency and decodes its
  formats faster than FFmpeg does (``docs/tagging.md``: 1.5-1.7x on a FLAC, with identical samples);
- PyAV (FFmpeg, bundled in the ``av`` wheel; ``pip install 'sampleaudio[formats]'``) reads what libsndfile cannot:
  AAC and ALAC in MP4/M4A, WMA, Opus or Vorbis in WebM/Matroska, raw AAC. It is used for those extensions, and for
  any file libsndfile refuses, when it is installed; without it such a file is an error that names the extra.

Both feed the same block-by-block downmix (the mean of the channels) and the same ``soxr`` resampling at high
quality, so a file decodes to the same samples whichever container holds it. ``tensorflow-io`` is deliberately not
used: its native ops do not load against TensorFlow 2.21.

Everything that goes wrong while reading a file raises :class:`~sampleaudio.errors.AudioDecodeError`,
which names the file and the cause, so dataset converters can skip and report the file.
"""

from __future__ import annotations

import errno
import math
import numbers
import os
import stat

import numpy as np
import soundfile as sf
import soxr

from sampleaudio.errors import AudioDecodeError, ParameterError

__all__ = ["SAMPLE_RATE", "MAX_SECONDS", "RESAMPLE_QUALITY", "SOUNDFILE_EXTENSIONS", "FFMPEG_EXTENSIONS",
           "AUDIO_EXTENSIONS", "DECODERS", "have_ffmpeg", "load", "resample", "resample_stream", "to_pcm16",
           "from_pcm16"]

#: The sample rate every model and TFRecord store of sampleaudio uses (Lee 2017; Kim 2019).
SAMPLE_RATE = 22050

#: Longest audio :func:`load` decodes by default, in seconds (one hour: 318 MB of mono float32 at 22,050 Hz).
#: A longer file is refused with a per-file error before any sample is decoded; pass ``max_seconds`` (CLI:
#: ``--max-seconds``) to raise the limit, or ``duration`` to read part of the file.
MAX_SECONDS = 3600.0

#: soxr quality of every resampling in sampleaudio (files, arrays, synthesised speech): "HQ", 20-bit precision
RESAMPLE_QUALITY = "HQ"

#: Extensions libsndfile decodes (``soundfile``, a core dependency).
SOUNDFILE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".opus", ".aiff", ".aif", ".aifc", ".au", ".w64",
                        ".caf")
#: Extensions only FFmpeg decodes (PyAV, the ``formats`` extra): AAC/ALAC in MP4, WMA, WebM/Matroska, raw AAC, ...
FFMPEG_EXTENSIONS = (".m4a", ".m4b", ".mp4", ".aac", ".alac", ".wma", ".asf", ".webm", ".mka", ".ac3", ".amr",
                     ".3gp", ".ape", ".wv", ".mpc")
#: Every extension a folder is searched for (:func:`sampleaudio.sources.scan_inputs`).
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS + FFMPEG_EXTENSIONS
#: ``load(decoder=...)``: ``auto`` (libsndfile for its extensions, FFmpeg for the others and for files libsndfile
#: refuses), or one of the two.
DECODERS = ("auto", "soundfile", "ffmpeg")
_FORMATS_HINT = "pip install 'sampleaudio[formats]' (PyAV, which bundles FFmpeg)"

# A file whose decoder returns fewer frames than its header announces, by more than this fraction,
# is treated as truncated (MP3 frame counts are estimates, so allow a little slack; FFmpeg's durations also count
# an encoder's priming samples, which its decoders drop: 312 for Opus, up to 2,112 for AAC).
_TRUNCATION_TOLERANCE = 0.02
_PRIMING_FRAMES = 4096
# Frames decoded (and downmixed and resampled) at a time: peak memory is the result plus one block, never the
# whole file at its native rate and channel count.
_BLOCK_FRAMES = 1 << 18


def _check_number(name: str, value, *, allow_none: bool = False, minimum: float = 0.0, strict: bool = True):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or \
            (value <= minimum if strict else value < minimum):
        raise ParameterError(f"{name} must be a finite number {'>' if strict else '>='} {minimum:g}"
                             f"{' or None' if allow_none else ''}. Received: {name}={value!r}")


def have_ffmpeg() -> bool:
    """Whether PyAV (FFmpeg) is installed, i.e. AAC/M4A/ALAC/WMA files can be decoded (the ``formats`` extra)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def load(
    path: str | os.PathLike,
    *,
    sr: int = SAMPLE_RATE,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    max_seconds: float | None = MAX_SECONDS,
    decoder: str = "auto",
) -> np.ndarray:
    """Decode an audio file to float32 samples in [-1, 1].

    The file is decoded, downmixed and resampled block by block, so memory stays near the size of the result.

    Args:
        path: an audio file: WAV, FLAC, OGG, MP3, AIFF (libsndfile); with the ``formats`` extra also AAC/ALAC in
            M4A/MP4, WMA, WebM and anything else FFmpeg reads.
        sr: target sample rate in Hz; the audio is resampled (:func:`resample_stream`) when it differs.
        mono: average the channels; when False the result has shape ``(channels, samples)``.
        offset: start reading this many seconds into the file.
        duration: read at most this many seconds (``None``: to the end).
        max_seconds: refuse to decode more than this many seconds (default :data:`MAX_SECONDS`; ``None``: no
            limit). The limit applies to what would be read (after ``offset``/``duration``).
        decoder: ``auto`` (libsndfile for :data:`SOUNDFILE_EXTENSIONS`, FFmpeg for other extensions and for a file
            libsndfile refuses, when PyAV is installed), ``soundfile`` or ``ffmpeg``.

    Returns:
        ``float32`` array of shape ``(samples,)`` (mono) or ``(channels, samples)``.

    Raises:
        AudioDecodeError: the file is missing, unreadable, not a regular file, empty, truncated, corrupt,
            unsupported (naming the ``formats`` extra where FFmpeg would read it), longer than ``max_seconds``,
            holds no samples in the requested range, or decodes to non-finite values.
        ParameterError: ``sr``, ``offset``, ``duration``, ``max_seconds`` or ``decoder`` is invalid.
    """
    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or sr <= 0:
        raise ParameterError(f"sr must be a positive integer. Received: sr={sr!r}")
    _check_number("offset", offset, strict=False)
    _check_number("duration", duration, allow_none=True)
    _check_number("max_seconds", max_seconds, allow_none=True)
    if decoder not in DECODERS:
        raise ParameterError(f"decoder must be one of {DECODERS}. Received: decoder={decoder!r}")
    sr = int(sr)

    path = os.fspath(path)
    _check_regular_file(path)
    request = (path, sr, mono, offset, duration, max_seconds)
    if decoder == "ffmpeg" or (decoder == "auto" and path.lower().endswith(FFMPEG_EXTENSIONS)):
        try:
            return _guarded(path, _decode_ffmpeg, *request)
        except _Refused as refused:
            raise AudioDecodeError(path, f"unsupported or corrupt audio (FFmpeg: {refused.reason})") from None
    try:
        _check_riff_complete(path)
        return _guarded(path, _decode, *request)
    except _Refused as refused:  # libsndfile does not know the container: FFmpeg may
        if decoder == "soundfile":
            raise AudioDecodeError(path, f"unsupported or corrupt audio ({refused.reason})") from None
        if not have_ffmpeg():
            raise AudioDecodeError(path, f"unsupported or corrupt audio ({refused.reason}); if it is AAC, ALAC, WMA "
                                         f"or another FFmpeg format: {_FORMATS_HINT}") from None
        try:
            return _guarded(path, _decode_ffmpeg, *request)
        except _Refused as also:
            raise AudioDecodeError(path, f"unsupported or corrupt audio (libsndfile: {refused.reason}; FFmpeg: "
                                         f"{also.reason})") from None


class _Refused(Exception):
    """A decoder could not open or parse the file (another decoder may); ``reason`` is its one-line cause."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _guarded(path: str, decode, *request) -> np.ndarray:
    """Run ``decode`` and turn what goes wrong into :class:`AudioDecodeError` (or :class:`_Refused` where the
    decoder did not recognise the file at all)."""
    try:
        return decode(*request)
    except (AudioDecodeError, _Refused):
        raise
    except MemoryError as exc:
        raise AudioDecodeError(path, "out of memory while decoding (lower max_seconds / --max-seconds)") from exc
    except sf.LibsndfileError as exc:
        text = str(exc.error_string if hasattr(exc, "error_string") else exc)
        if "possibly a pipe" in text or "not a regular file" in text:
            text = "libsndfile cannot parse it: truncated, corrupt, or not audio"
        raise _Refused(text) from exc
    except (RuntimeError, ValueError, TypeError) as exc:
        if _is_ffmpeg_error(exc):
            raise _Refused(_ffmpeg_reason(exc, path)) from exc
        raise AudioDecodeError(path, f"unsupported or corrupt audio ({exc})") from exc
    except OSError as exc:
        if _is_ffmpeg_error(exc):
            raise _Refused(_ffmpeg_reason(exc, path)) from exc
        raise AudioDecodeError(path, f"cannot read file ({exc.strerror or exc})") from exc


def _check_regular_file(path: str) -> None:
    """Name what is wrong with ``path`` before anything opens it (opening a FIFO would block)."""
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        if os.path.islink(path):
            raise AudioDecodeError(path, "is a dangling symbolic link (its target does not exist)") from exc
        raise AudioDecodeError(path, "file does not exist") from exc
    except PermissionError as exc:
        raise AudioDecodeError(path, "permission denied") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioDecodeError(path, "is a symbolic link loop") from exc
        raise AudioDecodeError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise AudioDecodeError(path, "is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) \
            else "a device"
        raise AudioDecodeError(path, f"is {kind}, not a regular audio file")
    if st.st_size == 0:
        raise AudioDecodeError(path, "file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioDecodeError(path, "permission denied")


def _decode(path: str, sr: int, mono: bool, offset: float, duration: float | None,
            max_seconds: float | None) -> np.ndarray:
    with sf.SoundFile(path) as f:
        native_sr, declared, channels = f.samplerate, f.frames, f.channels
        start, wanted, expected, limit = _plan(path, native_sr, declared, offset, duration, max_seconds)
        if start:
            f.seek(start)
        blocks = f.blocks(blocksize=_BLOCK_FRAMES, frames=wanted, dtype="float32", always_2d=True)
        return _collect(path, blocks, native_sr, channels, sr, mono, limit, max_seconds, declared, expected, 1)


def _decode_ffmpeg(path: str, sr: int, mono: bool, offset: float, duration: float | None,
                   max_seconds: float | None) -> np.ndarray:
    try:
        import av
    except ImportError:
        raise AudioDecodeError(path, f"decoding this format needs FFmpeg: {_FORMATS_HINT}") from None
    with av.open(path, metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise _Refused("FFmpeg finds no audio stream in it")
        stream = container.streams.audio[0]
        native_sr, channels = stream.rate, stream.channels
        if not native_sr or not channels:
            raise _Refused("FFmpeg finds no sample rate or channel count")
        if stream.duration and stream.time_base:
            declared = int(stream.duration * stream.time_base * native_sr)
        else:  # some containers only know the total duration (microseconds), or nothing (a raw AAC stream)
            declared = int((container.duration or 0) * native_sr / 1_000_000)
        start, wanted, expected, limit = _plan(path, native_sr, declared, offset, duration, max_seconds)
        # packed float32 at the stream's own rate and layout: the downmix and resampling are ours, as for libsndfile
        layout = stream.layout.name if stream.layout else None
        resampler = av.AudioResampler(format="flt", layout=layout, rate=native_sr)

        def frames():
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1, channels)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1, channels)

        blocks = _window(frames(), start, wanted)
        return _collect(path, blocks, native_sr, channels, sr, mono, limit, max_seconds, declared, expected,
                        _PRIMING_FRAMES)


def _is_ffmpeg_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("av.")


def _ffmpeg_reason(exc: BaseException, path: str) -> str:
    """FFmpeg's message without its error number and the file name (the error names the file once)."""
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).replace(f": '{path}'", "").split())


def _plan(path: str, native_sr: int, declared: int, offset: float, duration: float | None,
          max_seconds: float | None) -> tuple[int, int, int, int | None]:
    """``(start frame, frames wanted or -1, frames expected, frame limit)``; refuses an offset past the end and a
    file the header says is longer than ``max_seconds``."""
    start = int(round(offset * native_sr))
    if declared > 0 and start >= declared:
        raise AudioDecodeError(path, f"offset {offset} s is beyond the end of the file "
                                     f"({declared / native_sr:.3f} s)")
    wanted = -1 if duration is None else max(1, int(round(duration * native_sr)))
    expected = declared - start if wanted < 0 else min(wanted, declared - start)
    limit = None if max_seconds is None else int(math.ceil(max_seconds * native_sr))
    if limit is not None and declared > 0 and expected > limit:
        raise AudioDecodeError(path, f"lasts {_clock(expected / native_sr)}, more than the limit of "
                                     f"{max_seconds:g} s (raise max_seconds / --max-seconds to decode it)")
    return start, wanted, expected, limit


def _window(blocks, start: int, wanted: int):
    """The frames ``[start, start + wanted)`` (``wanted < 0``: to the end) of a stream of ``(frames, channels)``
    blocks, for decoders that cannot seek to a frame."""
    pos, end = 0, None if wanted < 0 else start + wanted
    for block in blocks:
        lo, hi = max(start - pos, 0), block.shape[0] if end is None else min(block.shape[0], end - pos)
        pos += block.shape[0]
        if hi > lo:
            yield block[lo:hi]
        if end is not None and pos >= end:
            return


def _collect(path: str, blocks, native_sr: int, channels: int, sr: int, mono: bool, limit: int | None,
             max_seconds: float | None, declared: int, expected: int, slack: int) -> np.ndarray:
    """Downmix (the mean of the channels) and resample decoded ``(frames, channels)`` float32 blocks, checking the
    length limit, non-finite samples and truncation (fewer frames than the header announced, beyond ``slack``)."""
    out_channels = 1 if mono else channels
    stream = resample_stream(native_sr, sr, out_channels) if native_sr != sr else None
    parts, got = [], 0
    for block in blocks:
        got += block.shape[0]
        if limit is not None and got > limit:  # the header did not say how long the file is
            raise AudioDecodeError(path, f"lasts more than the limit of {max_seconds:g} s "
                                         "(raise max_seconds / --max-seconds to decode it)")
        if not np.all(np.isfinite(block)):
            raise AudioDecodeError(path, "decoded samples contain NaN or infinity")
        block = block.mean(axis=1, keepdims=True) if mono else block
        parts.append(stream.resample_chunk(block, last=False) if stream is not None else block.copy())
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros((0, out_channels), np.float32), last=True))
    if got == 0:
        raise AudioDecodeError(path, "contains no audio samples")
    if declared > 0 and got < expected * (1.0 - _TRUNCATION_TOLERANCE) - slack:
        raise AudioDecodeError(path, f"truncated: header announces {expected} frames from the offset, "
                                     f"only {got} could be decoded")
    audio = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]
    audio = audio[:, 0] if mono else audio.T
    return np.ascontiguousarray(audio, dtype=np.float32)


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a whole signal from ``orig_sr`` to ``target_sr`` Hz with soxr at :data:`RESAMPLE_QUALITY`.

    ``audio`` is ``(samples,)`` or ``(samples, channels)``; the result keeps its dtype (float32, float64 or
    int16). Equal rates return ``audio`` unchanged.

    >>> import numpy as np
    >>> resample(np.zeros(44100, np.float32), 44100, 22050).shape
    (22050,)
    """
    if orig_sr == target_sr:
        return audio
    return soxr.resample(audio, orig_sr, target_sr, quality=RESAMPLE_QUALITY)


def resample_stream(orig_sr: int, target_sr: int, channels: int = 1) -> soxr.ResampleStream:
    """A float32 soxr stream with the settings of :func:`resample`, for signals decoded block by block.

    Feed it ``(frames, channels)`` blocks with ``resample_chunk(block, last=False)`` and finish with an empty
    block and ``last=True``; the concatenated output equals :func:`resample` of the whole signal.
    """
    return soxr.ResampleStream(orig_sr, target_sr, channels, dtype="float32", quality=RESAMPLE_QUALITY)


def _clock(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d} ({seconds:.0f} s)"


def _check_riff_complete(path: str) -> None:
    """Raise if a RIFF/WAVE file's ``data`` chunk claims more bytes than the file holds.

    libsndfile quietly shortens such a file to what is there, which would hide a truncated download.
    Sizes of 0 and 0xFFFFFFFF (streaming writers that never patched the header) are accepted.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            chunk_id, chunk_size = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if chunk_id == b"data":
                if chunk_size not in (0, 0xFFFFFFFF) and pos + 8 + chunk_size > size:
                    raise AudioDecodeError(path, f"truncated: WAV data chunk announces {chunk_size} bytes, "
                                                 f"only {size - pos - 8} are present")
                return
            pos += 8 + chunk_size + (chunk_size & 1)


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Quantise float audio in [-1, 1] to 16-bit PCM (clipping what lies outside)."""
    audio = np.asarray(audio, dtype=np.float32)
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype("<i2")


def from_pcm16(pcm: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_pcm16`: 16-bit PCM to float32 in [-1, 1]."""
    return np.asarray(pcm, dtype=np.float32) / 32767.0
