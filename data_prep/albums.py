"""Albums for the stores of Oramas et al.'s datasets (MuMu, MSD-I) and their proxy: each track with its album's
cover (Oramas et al., TISMIR 2018), and where a release's tracks and covers are found on disk.

A store keeps each track's cover as encoded image bytes (the ``cover`` feature, :data:`COVER_FEATURE`), so that a
model's input path decodes it (``tf.io.decode_image``) and resizes it to the size its network takes. What is
stored is checked here, in the conversion, with Pillow (a dependency of matplotlib, which the package requires):

- a JPEG or PNG in RGB of at most :data:`MAX_SIDE` pixels a side is stored byte for byte;
- CMYK, greyscale, palette and 16-bit images are converted to RGB; transparency (RGBA, LA, a palette's
  transparent colour) is composited over white; a cover larger than :data:`MAX_SIDE` is scaled down (its aspect
  kept); other formats (GIF, BMP, TIFF, WebP, ...) are re-encoded. Each conversion is one line of
  :func:`cover_note`, which the converters record in the manifest (``cover_notes``);
- a file that cannot be read, is not an image, is damaged, or declares more than :data:`MAX_PIXELS` pixels
  (a decompression bomb, or a scan no cover needs) raises :class:`~sampleaudio.errors.FeatureDecodeError`: the
  track is skipped and listed with that reason, and nothing else is lost.
"""

from __future__ import annotations

import io
import os
import warnings

from sampleaudio.errors import FeatureDecodeError
from sampleaudio.stores import Feature

__all__ = ["MAX_SIDE", "MAX_PIXELS", "IMAGE_SUFFIXES", "AUDIO_SUFFIXES", "COVER_FEATURE", "ALBUM_FEATURE",
           "read_cover", "cover_note", "find_cover", "album_cover", "find_audio", "read_audio_index", "audio_index_of",
           "track_sources", "read_id_list"]

#: the longest side a stored cover keeps (a ResNet takes 224; keras.applications' ImageNet resize is 256)
MAX_SIDE = 512
#: more pixels than this (e.g. 7,000 x 7,000) is refused before decoding
MAX_PIXELS = 50_000_000
#: the cover file names a converter looks for, in this order: ``images/<id><suffix>``
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")
#: the audio file names a converter looks for: ``audio/<track id><suffix>``
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".m4a")
_KEPT_FORMATS = ("JPEG", "PNG")
_TRANSPARENT_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def _open(path: str):
    """The image opened by Pillow (header read, pixels not yet decoded), its size checked."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise FeatureDecodeError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise FeatureDecodeError(path, "empty file, not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: the size is checked below
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise FeatureDecodeError(path, "not an image (Pillow cannot identify the format)") from None
    except Image.DecompressionBombError:
        raise FeatureDecodeError(path, f"declares far more pixels than the {MAX_PIXELS // 1_000_000}-megapixel limit "
                                       "of a cover") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise FeatureDecodeError(path, f"damaged image ({exc})") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise FeatureDecodeError(path, f"image of {width}x{height} pixels")
    if width * height > MAX_PIXELS:
        raise FeatureDecodeError(path, f"{width}x{height} pixels, more than the {MAX_PIXELS // 1_000_000}-megapixel "
                                       "limit of a cover")
    return image, data


def _has_transparency(image) -> bool:
    return image.mode in _TRANSPARENT_MODES or (image.mode == "P" and "transparency" in image.info)


def cover_note(path: str) -> str | None:
    """What storing the cover at ``path`` changes, in one line (``None``: stored as it is); raises
    :class:`~sampleaudio.errors.FeatureDecodeError` as :func:`read_cover` for a file it would refuse (only the
    header is read)."""
    image, _ = _open(path)
    changes = []
    if _has_transparency(image):
        changes.append(f"transparency ({image.mode}) composited over white")
    elif image.mode == "CMYK":
        changes.append("CMYK converted to RGB")
    elif image.mode in ("L", "1", "I", "I;16", "F"):
        changes.append(f"greyscale ({image.mode}) converted to RGB")
    elif image.mode != "RGB":
        changes.append(f"{image.mode} converted to RGB")
    if max(image.size) > MAX_SIDE:
        changes.append(f"{image.size[0]}x{image.size[1]} scaled down to at most {MAX_SIDE} pixels a side")
    if getattr(image, "n_frames", 1) > 1:
        changes.append(f"first of {image.n_frames} frames kept")
    if not changes and image.format not in _KEPT_FORMATS:
        changes.append(f"{image.format} re-encoded as PNG")
    return f"cover '{path}': {'; '.join(changes)}" if changes else None


def read_cover(path: str) -> bytes:
    """The cover at ``path`` as stored: its own bytes when already an RGB JPEG or PNG of at most :data:`MAX_SIDE`
    pixels a side, else an RGB PNG (see the module docstring). The store's ``cover`` feature loader."""
    from PIL import Image

    path = os.fspath(path)
    image, data = _open(path)
    try:
        image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except Exception as exc:  # noqa: BLE001  (Pillow's decoders raise many kinds on a crafted file)
        raise FeatureDecodeError(path, f"damaged image ({exc})") from None
    animated = getattr(image, "n_frames", 1) > 1
    if image.format in _KEPT_FORMATS and image.mode == "RGB" and max(image.size) <= MAX_SIDE and not animated:
        return data
    if animated:
        image.seek(0)
    if _has_transparency(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    elif image.mode in ("I", "I;16", "F"):  # wide greyscale: scaled to 8 bits by its own range
        import numpy as np

        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        values = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
        image = Image.fromarray(values.astype(np.uint8), "L").convert("RGB")
    else:
        image = image.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def find_cover(folder: str, key: str) -> str | None:
    """``folder/<key><suffix>`` for the first :data:`IMAGE_SUFFIXES` that exists (either case), else ``None``."""
    for suffix in IMAGE_SUFFIXES:
        for candidate in (suffix, suffix.upper()):
            path = os.path.join(folder, key + candidate)
            if os.path.exists(path):
                return path
    return None


#: the cover feature every store of these datasets declares
COVER_FEATURE = Feature("cover", "bytes", loader=read_cover, doc="the album's cover: JPEG or PNG bytes, RGB")
#: the album a track belongs to (tracks of one album share their cover and genres)
ALBUM_FEATURE = Feature("album_id", "string", doc="the album's id in the dataset")


def read_audio_index(path: str) -> dict[str, str]:
    """An audio index in the authors' format (``tartarus`` ``index_audio_<dataset>.tsv``): ``id<TAB>path`` per
    line, the path relative to the index's folder."""
    from sampleaudio.errors import DatasetLayoutError

    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or not parts[0] or not parts[1]:
                raise DatasetLayoutError(f"'{path}' line {n}: expected 'id<TAB>path', got {line.strip()!r:.80}")
            out[parts[0]] = os.path.join(os.path.dirname(path), parts[1])
    return out


def find_audio(src: str, track_id: str, index: dict[str, str] | None = None) -> str | None:
    """A track's audio file: ``index[track_id]`` when an index is given, else ``src/audio/<id><suffix>`` or the
    Million Song Dataset's nested ``src/audio/<id[2]>/<id[3]>/<id[4]>/<id><suffix>`` (:data:`AUDIO_SUFFIXES`);
    ``None`` when there is none."""
    if index is not None:
        path = index.get(track_id)
        return path if path and os.path.exists(path) else None
    folders = [os.path.join(src, "audio")]
    if len(track_id) >= 5:
        folders.append(os.path.join(src, "audio", track_id[2], track_id[3], track_id[4]))
    for folder in folders:
        for suffix in AUDIO_SUFFIXES:
            path = os.path.join(folder, track_id + suffix)
            if os.path.exists(path):
                return path
    return None


def read_id_list(path: str) -> list[str]:
    """One id per line (the authors' ``items_index_<split>_<dataset>.tsv``), blank lines ignored."""
    with open(path, encoding="utf-8") as f:
        return [line.strip().split("\t")[0] for line in f if line.strip()]


def album_cover(src: str, key: str, folder: str = "images") -> tuple[str | FeatureDecodeError | None, str | None]:
    """``(cover, note)`` of album ``key`` of the dataset at ``src``: the cover file's path (``None``: there is none;
    a :class:`~sampleaudio.errors.FeatureDecodeError` for one outside ``src`` once links are resolved, or one
    :func:`cover_note` refuses) and what storing it changes (:func:`cover_note`)."""
    from sampleaudio.fileio import is_inside

    path = find_cover(os.path.join(src, folder), key)
    if path is None:
        return None, None
    if not is_inside(src, path):
        return FeatureDecodeError(path, f"is outside --src '{src}' once links are resolved; not opened"), None
    try:
        return path, cover_note(path)
    except FeatureDecodeError as exc:
        return exc, None


def audio_index_of(src: str) -> dict[str, str] | None:
    """``src/index_audio.tsv`` read (:func:`read_audio_index`), or ``None`` when there is none."""
    from sampleaudio.data_prep import require_inside_src

    path = os.path.join(src, "index_audio.tsv")
    return read_audio_index(require_inside_src(src, path)) if os.path.exists(path) else None


def track_sources(src: str, clip_id: str, track: str, cover, *, cover_key: str, album: str,
                  audio_index: dict[str, str] | None) -> tuple[tuple[str, str] | None, dict[str, str] | None]:
    """``((cover path, audio path), None)`` for a track that has both, else ``(None, skipped entry)``: the album's
    cover (:func:`album_cover`'s answer for ``images/<cover_key>``) missing or refused, or the track's audio
    missing (:func:`find_audio`)."""
    if cover is None:
        return None, {"clip_id": clip_id, "path": os.path.join(src, "images", cover_key + ".jpg"),
                      "reason": f"album {album} has no cover (images/{cover_key}.jpg, .png, ...)"}
    if isinstance(cover, FeatureDecodeError):
        return None, {"clip_id": clip_id, "path": cover.path, "reason": f"cover: {cover.reason}"}
    audio = find_audio(src, track, audio_index)
    if audio is None:
        return None, {"clip_id": clip_id, "path": os.path.join(src, "audio", track + ".mp3"),
                      "reason": f"track {track} of album {album} has no audio file"}
    return (cover, audio), None
