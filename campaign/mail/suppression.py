"""Suppression: addresses that unsubscribed or reported spam get no more partner mail.

SendGrid's `unsubscribe`, `group_unsubscribe` and `spamreport` events add the address;
the outbox then records partner emails to it as 'suppressed' instead of sending them.
`group_resubscribe` lifts a suppression that `group_unsubscribe` made.
Letters to targets are not partner mail and are never suppressed here.
"""

import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..errors import NotFound
from ..extensions import db
from ..links import external_url
from ..models.mail import EmailEvent, Suppression

#: SendGrid events after which a person must not get partner mail from us again.
SUPPRESSING_EVENTS = {"unsubscribe", "group_unsubscribe", "spamreport"}
#: SendGrid's event when someone rejoins an unsubscribe group: lifts a group_unsubscribe.
RESUBSCRIBE = "group_resubscribe"
#: The outbox status of an email that was not sent because its address is suppressed.
SUPPRESSED = "suppressed"
LOOKUP_CHUNK = 500
#: Partner mail that carries an unsubscribe link and List-Unsubscribe headers.
UNSUBSCRIBABLE_KINDS = frozenset({"invitation", "reminder"})


def record_suppressions(events: list[dict]) -> int:
    """Apply subscription events in time order; return how many addresses were suppressed.

    `group_resubscribe` lifts a suppression made by `group_unsubscribe` (the person
    rejoined the group they had left), but never an unsubscribe from everything or a
    spam report. SendGrid does not deliver events in order, so an event older than what
    is already recorded for its address changes nothing.
    """
    items = []
    for event in events:
        address = event.get("email")
        name = event.get("event")
        if (name in SUPPRESSING_EVENTS or name == RESUBSCRIBE) and isinstance(address, str):
            address = address.strip().lower()
            if 0 < len(address) <= 254:
                items.append((_when(event), address, event))
    if not items:
        return 0
    items.sort(key=lambda item: item[0])
    current = suppressed([address for _, address, _ in items])
    rejoined = _resubscribed_since(
        min((when for when, _, e in items if e["event"] == "group_unsubscribe"), default=None)
    )
    made: dict[str, float] = {}  # address -> event time, for rows made by this batch
    for when, address, event in items:
        row = current.get(address)
        if event["event"] == RESUBSCRIBE:
            if row is None or row.reason != "group_unsubscribe":
                continue
            if (made[address] if address in made else _at(row)) > when:
                continue  # the unsubscribe came after this resubscribe
            if address in made:
                db.session.expunge(row)  # made and lifted within this batch
                del made[address]
            else:
                db.session.delete(row)
            del current[address]
            continue
        if row is not None:
            continue
        if event["event"] == "group_unsubscribe" and rejoined.get(address, when) > when:
            continue  # they rejoined after this, and that news came first
        event_id = event.get("sg_event_id")
        row = Suppression(
            email=address,
            reason=str(event["event"])[:32],
            sg_event_id=event_id[:100] if isinstance(event_id, str) else None,
        )
        db.session.add(row)
        current[address] = row
        made[address] = when
    db.session.flush()
    return len(made)


def _when(event: dict) -> float:
    """The event's unix time; an unreadable one counts as now."""
    try:
        return float(event.get("timestamp"))
    except (TypeError, ValueError):
        return time.time()


def _at(row: Suppression) -> float:
    """When the event behind a stored suppression happened, as unix time (0 if unknown)."""
    if not row.sg_event_id:
        return 0.0
    occurred = db.session.scalar(
        select(EmailEvent.occurred_at).where(EmailEvent.sg_event_id == row.sg_event_id)
    )
    return occurred.replace(tzinfo=UTC).timestamp() if occurred else 0.0


def _resubscribed_since(since: float | None) -> dict[str, float]:
    """The latest group_resubscribe time per address among events stored since `since`.

    Only batches holding a group_unsubscribe ask, and resubscribes are rare, so reading
    the stored ones is cheap.
    """
    if since is None:
        return {}
    start = datetime.fromtimestamp(since, UTC).replace(tzinfo=None) - timedelta(seconds=1)
    latest: dict[str, float] = {}
    for payload in db.session.scalars(
        select(EmailEvent.payload).where(
            EmailEvent.event == RESUBSCRIBE, EmailEvent.occurred_at >= start
        )
    ):
        address = payload.get("email") if isinstance(payload, dict) else None
        if isinstance(address, str):
            key = address.strip().lower()
            latest[key] = max(latest.get(key, 0.0), _when(payload))
    return latest


def suppressed(addresses: list[str]) -> dict[str, Suppression]:
    """The suppressions among these addresses, keyed by lower-cased address."""
    lowered = sorted({address.strip().lower() for address in addresses})
    found: dict[str, Suppression] = {}
    for start in range(0, len(lowered), LOOKUP_CHUNK):
        chunk = lowered[start : start + LOOKUP_CHUNK]
        for row in db.session.scalars(
            select(Suppression).where(func.lower(Suppression.email).in_(chunk))
        ):
            found[row.email.lower()] = row
    return found


def reason(row: Suppression) -> str:
    """What the organiser reads on a suppressed email."""
    what = "reported our email as spam" if row.reason == "spamreport" else "unsubscribed"
    return f"Not sent: this address {what} on {row.created_at:%d %b %Y}."


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_url(email: str) -> str:
    """A link that unsubscribes this address; its signature proves we issued it."""
    token = _serializer().dumps(email.strip().lower())
    return external_url("unsubscribe.show", token=token)


def list_unsubscribe_headers(email) -> dict[str, str]:
    """RFC 2369/8058 headers for one-click unsubscribe, for partner mail only."""
    if email.kind not in UNSUBSCRIBABLE_KINDS:
        return {}
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(email.to_email)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def address_for(token: str) -> str:
    """The address an unsubscribe token was made for, or NotFound for a forged one."""
    try:
        address = _serializer().loads(token or "")
    except BadSignature as exc:
        raise NotFound("unsubscribe link") from exc
    if not isinstance(address, str) or "@" not in address:
        raise NotFound("unsubscribe link")
    return address


def unsubscribe(address: str) -> bool:
    """Suppress all further partner mail to this address; False if it already was."""
    if suppressed([address]):
        return False
    db.session.add(Suppression(email=address.lower(), reason="unsubscribe"))
    db.session.flush()
    return True
