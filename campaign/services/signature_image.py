"""A signer's own signature: typed words, or a drawing checked like any uploaded image.

A drawing arrives as a PNG data: URI from the signing page's canvas (or, without
JavaScript, as an uploaded picture). Either way it goes through blobs.store_logo: the
same format allow-list, pixel cap, full decode, re-encoding and metadata stripping as a
logo, so a drawn signature cannot smuggle anything a logo could not.
"""

import base64
import binascii
import re

from ..errors import Invalid
from ..models import Blob
from .blobs import store_logo

#: A canvas signature is a few kilobytes; this leaves room for a large, detailed one.
MAX_DRAWN_BYTES = 512 * 1024
_DATA_URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")


def drawn(data_uri: str) -> bytes | None:
    """The PNG bytes of a canvas drawing ("" means nothing was drawn)."""
    data_uri = (data_uri or "").strip()
    if not data_uri:
        return None
    match = _DATA_URI.fullmatch(data_uri)
    if match is None or len(data_uri) > MAX_DRAWN_BYTES * 4 // 3 + 100:
        raise Invalid("signature_drawn", "the drawing could not be read; clear it and draw again")
    try:
        return base64.b64decode(match.group(1), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise Invalid(
            "signature_drawn", "the drawing could not be read; clear it and draw again"
        ) from exc


def store(drawing: bytes | None, upload: bytes | None) -> Blob | None:
    """Check and store the drawn (or uploaded) signature; None when there is none."""
    if drawing:
        return store_logo(drawing, field="signature_drawn", max_bytes=MAX_DRAWN_BYTES)
    if upload:
        return store_logo(upload, field="signature_file", max_bytes=2 * 1024 * 1024)
    return None


def typed(value: str | None) -> str:
    """A typed signature: the words, trimmed, on one line."""
    return " ".join((value or "").split())[:200]
