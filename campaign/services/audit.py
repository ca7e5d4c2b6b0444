"""Writing to the audit log."""

from ..extensions import db
from ..models import AuditEvent


def record(action: str, *, campaign=None, user=None, actor: str = "", **details) -> AuditEvent:
    """Append an audit event in the current transaction."""
    event = AuditEvent(
        campaign_id=campaign.id if campaign is not None else None,
        user_id=user.id if user is not None else None,
        actor=actor or (user.email if user is not None else ""),
        action=action,
        details=details,
    )
    db.session.add(event)
    db.session.flush()
    return event
