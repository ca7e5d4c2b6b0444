"""SendGrid event webhook payloads applied to the outbox: deduplicated, forward only.

SendGrid retries webhook deliveries and does not keep events in order, so every event
is stored once (keyed on `sg_event_id`) and an email's status only ever moves forward.
"""

from datetime import UTC, datetime

from sqlalchemy import select

from .. import jobs
from ..extensions import db
from ..models import PROGRESS, TERMINAL, EmailEvent, EmailStatus, OutboundEmail, utcnow
from .suppression import record_suppressions

#: The SendGrid event types that may change an email's status; others are only stored.
STATUS_EVENTS = {
    EmailStatus.PROCESSED,
    EmailStatus.DEFERRED,
    EmailStatus.DELIVERED,
    EmailStatus.OPEN,
    EmailStatus.CLICK,
    EmailStatus.BOUNCE,
    EmailStatus.DROPPED,
    EmailStatus.SPAMREPORT,
    EmailStatus.UNSUBSCRIBE,
}
#: Events meaning a letter did not arrive (see services/alerts.py, which handles them).
BOUNCE_EVENTS = (EmailStatus.BOUNCE, EmailStatus.DROPPED)
MAX_EVENT_ID_CHARS = 100
MAX_REASON_CHARS = 2000
LOOKUP_CHUNK = 500


def record_events(events: list[dict]) -> int:
    """Store new SendGrid events, advance their emails' statuses; return how many were new."""
    items = [event for event in events if isinstance(event, dict) and _event_id(event)]
    seen = _already_stored({_event_id(event) for event in items})
    emails: dict[tuple[str, object], OutboundEmail | None] = {}
    _preload([event for event in items if _event_id(event) not in seen], emails)
    stored = 0
    fresh = []
    bounced: set[int] = set()
    for event in items:
        event_id = _event_id(event)
        if event_id in seen:
            continue
        # Also catches a duplicate inside this same batch.
        seen.add(event_id)
        name = str(event.get("event") or "")[:32]
        occurred_at = _occurred_at(event.get("timestamp"))
        email = _find_email(event, emails)
        db.session.add(
            EmailEvent(
                sg_event_id=event_id,
                email=email,
                event=name,
                occurred_at=occurred_at,
                reason=_reason(event),
                payload=event,
            )
        )
        if email is not None:
            _advance(email, name, occurred_at)
            if name in BOUNCE_EVENTS and email.kind == "letter" and email.target_id is not None:
                bounced.add(email.id)
        stored += 1
        fresh.append(event)
    record_suppressions(fresh)
    db.session.flush()
    # A bounced letter means alerts, organiser emails and maybe a fallback copy: a job per
    # email after this commit, so ingesting stays fast and a failure there loses no event.
    # The job is idempotent, and `flask tick` catches any whose job was lost.
    for email_id in sorted(bounced):
        jobs.after_commit("campaign.tasks.handle_bounce", email_id)
    return stored


def _event_id(event: dict) -> str | None:
    """Return the event's sg_event_id when it is a plausible one."""
    value = event.get("sg_event_id")
    if isinstance(value, str) and 0 < len(value) <= MAX_EVENT_ID_CHARS:
        return value
    return None


def _already_stored(event_ids: set[str]) -> set[str]:
    """Return which of these event ids are already in the database."""
    ids = sorted(event_ids)
    found: set[str] = set()
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        found.update(
            db.session.scalars(
                select(EmailEvent.sg_event_id).where(EmailEvent.sg_event_id.in_(chunk))
            )
        )
    return found


def _find_email(event: dict, cache: dict) -> OutboundEmail | None:
    """Find the email an event is about: by our outbound_id, else by SendGrid's message id."""
    message_id = _message_id(event)
    outbound_id = _positive_int(event.get("outbound_id"))
    if outbound_id is not None:
        email = _locked(cache, ("id", outbound_id), OutboundEmail.id == outbound_id)
        # Another deployment sharing the SendGrid account numbers its rows the same way; a
        # message id that disagrees means the event is about someone else's email.
        mismatch = (
            email is not None
            and email.provider_message_id
            and message_id
            and email.provider_message_id != message_id
        )
        if email is not None and not mismatch:
            return email
    if message_id:
        return _locked(
            cache, ("message", message_id), OutboundEmail.provider_message_id == message_id
        )
    return None


def _preload(events: list[dict], cache: dict) -> None:
    """Load and lock every email a batch names in a few queries instead of one per event.

    Rows are locked in id order, so two batches about the same emails wait for each other
    instead of deadlocking.
    """
    ids = sorted({i for i in (_positive_int(e.get("outbound_id")) for e in events) if i})
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        for key in chunk:
            cache[("id", key)] = None
        for email in _lock_rows(OutboundEmail.id.in_(chunk)):
            cache[("id", email.id)] = email
    # Message ids only for events our own id did not settle (older or foreign emails).
    wanted = set()
    for event in events:
        outbound = cache.get(("id", _positive_int(event.get("outbound_id"))))
        message_id = _message_id(event)
        if message_id and (outbound is None or outbound.provider_message_id != message_id):
            wanted.add(message_id)
    wanted = sorted(wanted)
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        for key in chunk:
            cache[("message", key)] = None
        for email in _lock_rows(OutboundEmail.provider_message_id.in_(chunk)):
            # Like the single lookup: the first row with that message id (lowest id).
            if cache[("message", email.provider_message_id)] is None:
                cache[("message", email.provider_message_id)] = email


def _lock_rows(condition) -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            select(OutboundEmail)
            .where(condition)
            .order_by(OutboundEmail.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _locked(cache: dict, key: tuple, condition) -> OutboundEmail | None:
    """Load an email once per batch, locking its row so concurrent batches cannot race."""
    if key not in cache:
        cache[key] = db.session.scalars(
            select(OutboundEmail)
            .where(condition)
            .with_for_update()
            .execution_options(populate_existing=True)
            .limit(1)
        ).first()
    return cache[key]


def _message_id(event: dict) -> str | None:
    """Return the X-Message-Id part of sg_message_id ("<x-message-id>.<filter...>")."""
    value = event.get("sg_message_id")
    if not isinstance(value, str) or not value:
        return None
    return value.split(".", 1)[0] or None


def _positive_int(value) -> int | None:
    """Parse a custom arg that should be one of our row ids."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value) or None
    return None


def _occurred_at(timestamp) -> datetime:
    """Convert SendGrid's unix timestamp to naive UTC; an unreadable one means now."""
    try:
        return datetime.fromtimestamp(int(float(timestamp)), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()


def _reason(event: dict) -> str:
    """Return the human-readable reason SendGrid gave (bounce reason or SMTP response)."""
    value = event.get("reason") or event.get("response") or ""
    return str(value)[:MAX_REASON_CHARS]


def _advance(email: OutboundEmail, event: str, occurred_at: datetime) -> None:
    """Move the email's status forward for this event; never backward, never out of TERMINAL."""
    if event not in STATUS_EVENTS or email.status in TERMINAL:
        return
    if event not in TERMINAL:
        current = PROGRESS.index(email.status) if email.status in PROGRESS else -1
        if PROGRESS.index(event) <= current:
            return
    email.status = event
    email.status_at = occurred_at
