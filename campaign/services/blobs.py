"""Content-addressed storage and validated image uploads."""

import hashlib
import io
from contextlib import contextmanager

from PIL import Image, ImageFile, UnidentifiedImageError
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
    image.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    # Re-encoding drops metadata (EXIF, GPS, comments) and any trailing payload.
    image.save(out, format="PNG", optimize=True)
    return store_blob(out.getvalue(), "image/png")
