"""Suppression: addresses that unsubscribed or reported spam get no more partner mail.

SendGrid's `unsubscribe`, `group_unsubscribe` and `spamreport` events add the address;
the outbox then records partner emails to it as 'suppressed' instead of sending them.
Letters to targets are not partner mail and are never suppressed here.
"""

from sqlalchemy import func, select

from ..extensions import db
from ..models.mail import Suppression

#: SendGrid events after which a person must not get partner mail from us again.
SUPPRESSING_EVENTS = {"unsubscribe", "group_unsubscribe", "spamreport"}
#: The outbox status of an email that was not sent because its address is suppressed.
SUPPRESSED = "suppressed"
LOOKUP_CHUNK = 500


def record_suppressions(events: list[dict]) -> int:
    """Add the addresses of suppressing events not yet suppressed; return how many."""
    wanted: dict[str, dict] = {}
    for event in events:
        address = event.get("email")
        if event.get("event") in SUPPRESSING_EVENTS and isinstance(address, str):
            address = address.strip().lower()
            if 0 < len(address) <= 254:
                wanted.setdefault(address, event)
    known = suppressed(list(wanted))
    for address, event in wanted.items():
        if address not in known:
            event_id = event.get("sg_event_id")
            db.session.add(
                Suppression(
                    email=address,
                    reason=str(event["event"])[:32],
                    sg_event_id=event_id[:100] if isinstance(event_id, str) else None,
                )
            )
    db.session.flush()
    return len(wanted) - len(known)


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
