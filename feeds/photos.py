"""Photos from phones: checked by their content (not their name), and a public copy
without the EXIF block (which holds the position where the photo was taken).

Failure: PhotoRefused (an InvalidInput) names the photo and the problem. Large pixel
counts (decompression bombs) are refused before decoding.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from command_center.errors import InvalidInput

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone camera


class PhotoRefused(InvalidInput):
    code = "photo_refused"


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    media_type: str
    width: int
    height: int
    original: bytes
    public_copy: bytes  # same format, orientation applied, no EXIF/XMP metadata
    had_location: bool  # the original carried GPS EXIF data


def check_photo(content: bytes, *, label: str, max_bytes: int) -> CheckedPhoto:
    """Accept a JPEG, PNG or WebP photo by its bytes; refuse anything else by `label`."""
    if not content:
        raise PhotoRefused(f"{label} is empty")
    if len(content) > max_bytes:
        raise PhotoRefused(f"{label} is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as probe:
                kind = probe.format or ""
                if kind not in ALLOWED:
                    raise PhotoRefused(f"{label} is not a JPEG, PNG or WebP image")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoRefused(f"{label} has too many pixels")
                probe.verify()
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                had_location = _has_gps(image)
                public = _without_metadata(image, kind)
                size = image.size
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(f"{label} has too many pixels") from None
    except UnidentifiedImageError:
        raise PhotoRefused(f"{label} is not a JPEG, PNG or WebP image") from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRefused(f"{label} is damaged or truncated") from None
    return CheckedPhoto(ALLOWED[kind], size[0], size[1], content, public, had_location)


def _has_gps(image: Image.Image) -> bool:
    gps_ifd = 0x8825
    try:
        return bool(image.getexif().get_ifd(gps_ifd))
    except (KeyError, ValueError, OSError):
        return False


def _without_metadata(image: Image.Image, kind: str) -> bytes:
    """Pixels only, copied into a new image: no EXIF, XMP, ICC or comments survive."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in {"RGB", "RGBA", "L", "LA"}:
        upright = upright.convert("RGBA" if "transparency" in upright.info else "RGB")
    if kind == "JPEG" and upright.mode not in {"RGB", "L"}:
        upright = upright.convert("RGB")
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 90} if kind in {"JPEG", "WEBP"} else {}
    clean.save(out, format=kind, **options)
    return out.getvalue()
