"""Inbound webhooks from the mail provider: signed, size-capped, deduplicated."""

import json
import logging
import time

from flask import Blueprint, current_app, request

from ..extensions import csrf
from ..mail import webhook_batches
from ..mail.sendgrid import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_event_signature
from .helpers import capped_body, plain

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# SendGrid cannot send a CSRF token; the ECDSA signature is what authenticates it.
csrf.exempt(bp)

#: SendGrid batches events into posts well under this size.
MAX_BODY_BYTES = 1024 * 1024


def _not_json(name: str):
    """Refuse the non-standard constants Python's json module would otherwise accept."""
    raise ValueError(f"{name} is not JSON")


@bp.post("/sendgrid")
def sendgrid_events():
    """Record a batch of SendGrid events after checking its signature and age."""
    # The raw bytes are what SendGrid signed; read them before anything parses the body.
    body = capped_body(MAX_BODY_BYTES)
    if body is None:
        return plain(413, "payload too large")

    public_key = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not public_key:
        log.warning("SendGrid webhook refused: SENDGRID_WEBHOOK_PUBLIC_KEY is not set")
        return plain(403, "webhook verification is not configured")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    # isascii as well: isdigit() accepts "²", which int() then refuses.
    if not signature or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        log.warning("SendGrid webhook refused: missing or malformed signature headers")
        return plain(403, "missing or malformed signature")
    if not verify_event_signature(public_key, body, signature, timestamp):
        log.warning("SendGrid webhook refused: signature does not match")
        return plain(403, "bad signature")
    # Checked after the signature, so the timestamp is known to be SendGrid's own.
    age = time.time() - int(timestamp)
    max_age = current_app.config["WEBHOOK_MAX_AGE_SECONDS"]
    if abs(age) > max_age:
        log.warning("SendGrid webhook refused: timestamp is %d s off (limit %d s)", age, max_age)
        return plain(403, "stale timestamp")

    try:
        # NaN and Infinity are not JSON, and PostgreSQL refuses them in a JSON column.
        events = json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return plain(400, "body is not JSON")
    if not isinstance(events, list):
        return plain(400, "body is not a list of events")

    # Stored now, applied by a job after the commit: a crash while applying loses nothing.
    batch = webhook_batches.store(body, len(events))
    log.info("SendGrid webhook: stored batch %d with %d events", batch.id, len(events))
    return "", 204
