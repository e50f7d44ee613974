"""Audio decoding and resampling.

Files are decoded with `soundfile` (libsndfile: WAV, FLAC, OGG/Vorbis, Opus and MP3) and resampled with
`soxr` at high quality. ``tensorflow-io`` is deliberately not used: its native ops do not load against
TensorFlow 2.21.

Everything that goes wrong while reading a file raises :class:`~sampleaudio.errors.AudioDecodeError`,
which names the file and the cause, so dataset converters can skip and report the file.
"""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf
import soxr

from sampleaudio.errors import AudioDecodeError, ParameterError

__all__ = ["SAMPLE_RATE", "load", "to_pcm16", "from_pcm16"]

#: The sample rate every model and TFRecord store of sampleaudio uses (Lee 2017; Kim 2019).
SAMPLE_RATE = 22050

# A file whose decoder returns fewer frames than its header announces, by more than this fraction,
# is treated as truncated (MP3 frame counts are estimates, so allow a little slack).
_TRUNCATION_TOLERANCE = 0.02


def load(
    path: str | os.PathLike,
    sr: int = SAMPLE_RATE,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Decode an audio file to float32 samples in [-1, 1].

    Args:
        path: an audio file (WAV, FLAC, OGG, MP3, anything libsndfile reads).
        sr: target sample rate in Hz; the audio is resampled with soxr (``HQ``) when it differs.
        mono: average the channels; when False the result has shape ``(channels, samples)``.
        offset: start reading this many seconds into the file.
        duration: read at most this many seconds (``None``: to the end).

    Returns:
        ``float32`` array of shape ``(samples,)`` (mono) or ``(channels, samples)``.

    Raises:
        AudioDecodeError: the file is missing, empty, truncated, corrupt, unsupported, holds no samples
            in the requested range, or decodes to non-finite values.
        ParameterError: ``sr``, ``offset`` or ``duration`` is invalid.
    """
    if sr <= 0:
        raise ParameterError(f"sr must be positive. Received: sr={sr}")
    if offset < 0:
        raise ParameterError(f"offset must be >= 0. Received: offset={offset}")
    if duration is not None and duration <= 0:
        raise ParameterError(f"duration must be positive or None. Received: duration={duration}")

    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioDecodeError(path, "file does not exist")
    if os.path.isdir(path):
        raise AudioDecodeError(path, "is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioDecodeError(path, "file is empty (0 bytes)")
    _check_riff_complete(path)

    try:
        with sf.SoundFile(path) as f:
            native_sr = f.samplerate
            declared = f.frames
            start = int(round(offset * native_sr))
            if declared > 0 and start >= declared:
                raise AudioDecodeError(path, f"offset {offset} s is beyond the end of the file "
                                             f"({declared / native_sr:.3f} s)")
            if start:
                f.seek(start)
            wanted = -1 if duration is None else int(round(duration * native_sr))
            data = f.read(frames=wanted, dtype="float32", always_2d=True)
    except AudioDecodeError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioDecodeError(path, f"unsupported or corrupt audio ({exc})") from exc
    except OSError as exc:
        raise AudioDecodeError(path, f"cannot read file ({exc})") from exc

    got = data.shape[0]
    if got == 0:
        raise AudioDecodeError(path, "contains no audio samples")
    expected = declared - start if duration is None else min(wanted, declared - start)
    if declared > 0 and got < expected * (1.0 - _TRUNCATION_TOLERANCE) - 1:
        raise AudioDecodeError(path, f"truncated: header announces {expected} frames from the offset, "
                                     f"only {got} could be decoded")
    if not np.all(np.isfinite(data)):
        raise AudioDecodeError(path, "decoded samples contain NaN or infinity")

    audio = data.T  # (channels, samples)
    if mono:
        audio = audio.mean(axis=0)
    if native_sr != sr:
        if mono:
            audio = soxr.resample(audio, native_sr, sr, quality="HQ")
        else:
            audio = soxr.resample(audio.T, native_sr, sr, quality="HQ").T
    return np.ascontiguousarray(audio, dtype=np.float32)


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
