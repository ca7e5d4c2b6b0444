"""Content-addressed storage and validated image uploads."""

import hashlib
import io
from contextlib import contextmanager

from PIL import Image, ImageChops, ImageFile, UnidentifiedImageError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from ..errors import Invalid
from ..extensions import db
from ..models import Blob

ALLOWED_IMAGE_FORMATS = {"PNG", "JPEG", "WEBP"}
#: Far below Pillow's own decompression-bomb limit (~89 Mpx): a logo never needs more.
MAX_PIXELS = 12_000_000
#: Logos are scaled into this box so a huge upload cannot bloat every PDF.
LOGO_BOX = (600, 300)
#: How far (0-255 per channel) a pixel may be from white, or how opaque it may be, and
#: still count as padding: JPEG noise and anti-aliased edges are not content.
TRIM_TOLERANCE = 24
#: A trimmed logo keeps at least this many pixels a side, so a thin rule stays visible.
MIN_LOGO_SIDE = 8


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


_UPSERT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def store_blob(data: bytes, mime: str) -> Blob:
    """Store bytes under their sha256, reusing an existing identical blob.

    Two requests may store the same new file at once (two partners uploading one logo).
    INSERT ... ON CONFLICT DO NOTHING lets the second wait for the first and then reuse
    its row, where a plain INSERT would fail on the primary key and lose a signature.
    """
    sha = hashlib.sha256(data).hexdigest()
    blob = db.session.get(Blob, sha)
    if blob is not None:
        return blob
    db.session.flush()  # pending rows first, so the INSERT below runs in their order
    make_insert = _UPSERT_INSERTS.get(db.session.get_bind().dialect.name)
    row = {"sha256": sha, "mime": mime, "size": len(data), "data": data}
    if make_insert is not None:
        db.session.execute(make_insert(Blob).values(**row).on_conflict_do_nothing())
    else:
        # Another database: a savepoint keeps a lost race from spoiling the transaction.
        try:
            with db.session.begin_nested():
                db.session.add(Blob(**row))
        except IntegrityError:
            pass
    # Read back whichever row won: ours, or the one a concurrent request committed.
    return db.session.get(Blob, sha)


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
    image = trim_padding(image)
    image.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    # Re-encoding drops metadata (EXIF, GPS, comments) and any trailing payload.
    image.save(out, format="PNG", optimize=True)
    return store_blob(out.getvalue(), "image/png")


def trim_padding(image: Image.Image) -> Image.Image:
    """Crop transparent and near-white margins off an RGBA logo, keeping a minimum size.

    A logo saved on a wide transparent or white canvas would otherwise be scaled into the
    letter's logo box whole, its mark shrunk to a dot.
    """
    alpha = image.getchannel("A").point(lambda v: 255 if v > TRIM_TOLERANCE else 0)
    opaque = alpha.getbbox()
    if opaque is None:
        return image  # fully transparent: nothing to trim to; keep what was sent
    # Distance from white: the largest of the three channels' (255 - value).
    inverted = ImageChops.invert(image.convert("RGB"))
    far = inverted.getchannel("R")
    for band in ("G", "B"):
        far = ImageChops.lighter(far, inverted.getchannel(band))
    far = far.point(lambda v: 255 if v > TRIM_TOLERANCE else 0)
    # A white mark on a transparent canvas (for dark backgrounds) keeps its opaque box.
    content = ImageChops.multiply(alpha, far).getbbox() or opaque
    left, top, right, bottom = _at_least(content, image.size)
    if (left, top, right, bottom) == (0, 0, *image.size):
        return image
    return image.crop((left, top, right, bottom))


def _at_least(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, ...]:
    """`box` grown evenly about its centre to MIN_LOGO_SIDE a side, inside the image."""
    out = list(box)
    for axis, limit in enumerate(size):
        low, high = out[axis], out[axis + 2]
        need = min(MIN_LOGO_SIDE, limit) - (high - low)
        if need > 0:
            low = max(0, low - need // 2)
            high = min(limit, low + min(MIN_LOGO_SIDE, limit))
            low = high - min(MIN_LOGO_SIDE, limit)
        out[axis], out[axis + 2] = low, high
    return tuple(out)
