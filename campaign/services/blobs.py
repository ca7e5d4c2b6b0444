"""Content-addressed storage and validated image uploads."""

import hashlib
import io
from contextlib import contextmanager

from PIL import Image, ImageFile, UnidentifiedImageError

from ..errors import Invalid
from ..extensions import db
from ..models import Blob

ALLOWED_IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}
#: Far below Pillow's own decompression-bomb limit (~89 Mpx): a logo never needs more.
MAX_PIXELS = 12_000_000
#: Logos are scaled into this box so a huge upload cannot bloat every PDF.
LOGO_BOX = (600, 300)


@contextmanager
def _strict_decoding():
    """Refuse truncated images while decoding an upload.

    WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import, which would
    let half a file through as a logo. Stored logos are always re-encoded, so turning it
    off for a moment cannot break a render.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def store_blob(data: bytes, mime: str) -> Blob:
    """Store bytes under their sha256, reusing an existing identical blob."""
    sha = hashlib.sha256(data).hexdigest()
    blob = db.session.get(Blob, sha)
    if blob is None:
        blob = Blob(sha256=sha, mime=mime, size=len(data), data=data)
        db.session.add(blob)
        db.session.flush()
    return blob


def store_logo(data: bytes, *, field: str = "logo", max_bytes: int = 2 * 1024 * 1024) -> Blob:
    """Check an uploaded logo, re-encode it as a clean PNG and store it."""
    if not data:
        raise Invalid(field, "the file is empty; choose a PNG, JPEG or WebP image")
    if len(data) > max_bytes:
        raise Invalid(field, f"the file is larger than {max_bytes // (1024 * 1024)} MB")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_IMAGE_FORMATS:
                raise Invalid(
                    field, f"{fmt or 'this'} files are not accepted; use PNG, JPEG or WebP"
                )
            if width * height > MAX_PIXELS:
                raise Invalid(
                    field, f"the image is {width}×{height} pixels; keep it under 12 megapixels"
                )
            # Decode every pixel now, so a truncated or malicious file fails here, not in a PDF.
            with _strict_decoding():
                probe.load()
            image = probe.convert("RGBA")
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise Invalid(field, "this is not a readable PNG, JPEG or WebP image") from exc
    image.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    # Re-encoding drops metadata (EXIF, GPS, comments) and any trailing payload.
    image.save(out, format="PNG", optimize=True)
    return store_blob(out.getvalue(), "image/png")
