"""Which address mail to a target goes to: one rule for the letter and every follow-up.

A target has an address and may have a fallback. Once mail to an address bounced (or
SendGrid dropped it), later mail to that target goes to the next address that has not,
so a follow-up reaches the inbox the letter finally reached instead of the one that
bounced. An address the organiser corrects afterwards is a new address, tried first again.
"""

from sqlalchemy import select

from ..extensions import db
from ..mail.events import BOUNCE_EVENTS
from ..models import OutboundEmail, Target


def bounced_addresses(target: Target) -> set[str]:
    """The addresses (lower-cased) where mail to this target bounced or was dropped."""
    rows = db.session.scalars(
        select(OutboundEmail.to_email).where(
            OutboundEmail.target_id == target.id, OutboundEmail.status.in_(BOUNCE_EVENTS)
        )
    )
    return {address.strip().lower() for address in rows}


def working_address(target: Target) -> str:
    """Where the next email to this target goes: its address, else its fallback if that works.

    When both bounced there is nothing better than the target's own address, so mail goes
    there (and the bounce alerts say why it does not arrive).
    """
    bounced = bounced_addresses(target)
    for address in (target.email, target.fallback_email):
        address = (address or "").strip()
        if address and address.lower() not in bounced:
            return address
    return target.email
