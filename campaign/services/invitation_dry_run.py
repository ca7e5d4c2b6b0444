"""The invitation dry run: who would be invited, who is skipped, before anything is queued.

A bulk send can go out in slices (`limit`); the rest stays uninvited, so sending again
resumes where the last slice stopped and nobody gets two invitations.
"""

from ..errors import Invalid
from ..mail.suppression import reason, suppressed
from ..models import Campaign
from .partners import invitation_subject, invitation_text, uninvited

#: The dry run lists this many recipients in full; the count covers everyone.
SHOWN = 200


def parse_limit(raw: str | None) -> int | None:
    """Read the optional "send to the first N only" field; empty means everyone."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise Invalid("limit", "enter a whole number of invitations, at least 1, or leave it empty")
    return int(raw)


def invitation_plan(campaign: Campaign, limit: int | None = None, access=None) -> dict:
    """What "Send invitations" would do now: recipients, skipped addresses and the email.

    With a co-lead's `access`, only the partners they added (their own network).
    """
    pending = [p for p in uninvited(campaign) if access is None or access.owns(p)]
    blocked = suppressed([p.contact_email for p in pending])
    skipped = [
        (p, reason(blocked[p.contact_email.lower()]))
        for p in pending
        if p.contact_email.lower() in blocked
    ]
    sendable = [p for p in pending if p.contact_email.lower() not in blocked]
    chosen = sendable[:limit] if limit else sendable
    sample = None
    if chosen:
        first = chosen[0]
        values = {
            "name": first.contact_name or "",
            "organisation": first.organisation,
            "url": "[a personal signing link for this partner]",
            "unsubscribe": "[a one-click unsubscribe link]",
        }
        sample = {
            "to": first.contact_email,
            "subject": invitation_subject(campaign, first),
            "text": invitation_text(campaign, values),
        }
    return {
        "recipients": chosen,
        "shown": chosen[:SHOWN],
        "count": len(chosen),
        "remaining": len(sendable) - len(chosen),
        "skipped": skipped,
        "sample": sample,
        "limit": limit,
        "tracking": campaign.tracking_enabled,
    }
