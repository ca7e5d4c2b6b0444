"""Verified webhook posts are stored first and applied later, so no event is ever lost.

The request that receives a post only checks its signature and stores the raw body; a
job applies the events. If that job dies, `flask tick` applies the batch later, and
applying twice is harmless because events are deduplicated on `sg_event_id`.
"""

import json
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import jobs
from ..extensions import db
from ..models import WebhookBatch, utcnow
from .events import record_events

#: Applied batches are deleted after this long: the events themselves are kept, the raw
#: posts (addresses, IPs, user agents) are not needed once applied.
KEEP_DAYS = 7
#: A batch still unapplied after this long lost its job; tick applies it.
STALE_AFTER = timedelta(minutes=2)


def store(body: bytes, event_count: int) -> WebhookBatch:
    """Keep a verified post as received and queue the job that applies it (flushes)."""
    batch = WebhookBatch(body=body.decode("utf-8"), event_count=event_count)
    db.session.add(batch)
    db.session.flush()
    jobs.after_commit("campaign.tasks.apply_webhook_batch", batch.id)
    return batch


def apply(batch_id: int) -> int | None:
    """Apply one stored batch's events and commit; returns how many were new."""
    batch = db.session.get(WebhookBatch, batch_id)
    if batch is None or batch.processed_at is not None:
        return None
    events = json.loads(batch.body)
    try:
        new = record_events(events)
        _done(batch, new)
        db.session.commit()
    except IntegrityError:
        # A concurrent batch stored some of the same events first; retrying skips them.
        db.session.rollback()
        batch = db.session.get(WebhookBatch, batch_id)
        new = record_events(events)
        _done(batch, new)
        db.session.commit()
    return new


def _done(batch: WebhookBatch, new: int) -> None:
    batch.processed_at = utcnow()
    batch.new_events = new


def apply_stale(now=None) -> int:
    """Apply batches whose job never ran (a crash or a lost queue); return how many."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookBatch.id)
        .where(WebhookBatch.processed_at.is_(None), WebhookBatch.received_at < now - STALE_AFTER)
        .order_by(WebhookBatch.id)
    ).all()
    for batch_id in ids:
        apply(batch_id)
    return len(ids)


def purge(now=None) -> int:
    """Delete applied batches older than KEEP_DAYS (flushes); return how many."""
    now = now or utcnow()
    result = db.session.execute(
        delete(WebhookBatch).where(
            WebhookBatch.processed_at.is_not(None),
            WebhookBatch.processed_at < now - timedelta(days=KEEP_DAYS),
        )
    )
    db.session.flush()
    return result.rowcount
