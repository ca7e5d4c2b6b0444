"""Suppression: addresses that unsubscribed or reported spam get no more partner mail.

SendGrid's `unsubscribe`, `group_unsubscribe` and `spamreport` events add the address;
the outbox then records partner emails to it as 'suppressed' instead of sending them.
Letters to targets are not partner mail and are never suppressed here.
"""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..errors import NotFound
from ..extensions import db
from ..models.mail import Suppression

#: SendGrid events after which a person must not get partner mail from us again.
SUPPRESSING_EVENTS = {"unsubscribe", "group_unsubscribe", "spamreport"}
#: The outbox status of an email that was not sent because its address is suppressed.
SUPPRESSED = "suppressed"
LOOKUP_CHUNK = 500
#: Partner mail that carries an unsubscribe link and List-Unsubscribe headers.
UNSUBSCRIBABLE_KINDS = frozenset({"invitation", "reminder"})


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


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe")


def unsubscribe_url(email: str) -> str:
    """A link that unsubscribes this address; its signature proves we issued it."""
    token = _serializer().dumps(email.strip().lower())
    return f"{current_app.config['BASE_URL']}/u/{token}"


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
