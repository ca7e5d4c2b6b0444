"""Stored images (logos) by content hash, for letter previews."""

import re

from flask import Blueprint, Response, abort

from ..extensions import db
from ..models import Blob

bp = Blueprint("blobs", __name__)
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/blobs/<sha>")
def show(sha):
    """Serve a stored image; only images, never PDFs or other stored bytes."""
    if not SHA_RE.match(sha):
        abort(404)
    blob = db.session.get(Blob, sha)
    if blob is None or not blob.mime.startswith("image/"):
        abort(404)
    return Response(
        blob.data,
        mimetype=blob.mime,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
