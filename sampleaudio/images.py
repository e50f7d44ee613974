"""Images a model takes (album covers, Oramas et al. 2018): decoded with Pillow, checked, made RGB and resized.

Every image a user or a dataset gives goes through :func:`load_image`: any format Pillow reads (JPEG, PNG, WebP,
BMP, GIF, TIFF), any mode (greyscale, palette, CMYK, an alpha channel composited over white) becomes 8-bit RGB of
the size the model card says (:class:`sampleaudio.cards.ImageSpec`), and a file that cannot be read, is not an
image, or declares more pixels than :data:`MAX_PIXELS` (a decompression bomb) is one line naming it
(:class:`~sampleaudio.errors.ImageDecodeError`), never a traceback.
"""

from __future__ import annotations

import os

import numpy as np

from sampleaudio.errors import ImageDecodeError

__all__ = ["IMAGE_EXTENSIONS", "MAX_PIXELS", "is_image_path", "load_image", "decode_image"]

#: file extensions taken as images (anything else is audio)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
#: the most pixels an image may declare (about 16,000 x 16,000; an album cover is a few megapixels)
MAX_PIXELS = 256_000_000


def is_image_path(source) -> bool:
    """Whether ``source`` is a path with an image extension."""
    try:
        return os.path.splitext(os.fspath(source))[1].lower() in IMAGE_EXTENSIONS
    except TypeError:
        return False


def decode_image(data: bytes, height: int, width: int, *, where: str = "image") -> np.ndarray:
    """``[height, width, 3]`` uint8 RGB from encoded image ``data`` (see the module docstring)."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageDecodeError(where, f"declares {img.width} x {img.height} pixels, more than "
                                              f"{MAX_PIXELS:,}")
            img.load()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(background, rgba)
            rgb = img.convert("RGB").resize((width, height), Image.BILINEAR)
    except ImageDecodeError:
        raise
    except UnidentifiedImageError:
        raise ImageDecodeError(where, "not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(where, f"cannot be decoded ({exc})") from None
    return np.asarray(rgb, np.uint8)


def load_image(path: str | os.PathLike, height: int, width: int) -> np.ndarray:
    """``[height, width, 3]`` uint8 RGB of the image file ``path``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ImageDecodeError(path, "no such file" if not os.path.exists(path) else "not a regular file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PIXELS)  # a bound on what is read, whatever the file claims
    except OSError as exc:
        raise ImageDecodeError(path, exc.strerror or str(exc)) from None
    return decode_image(data, height, width, where=path)
