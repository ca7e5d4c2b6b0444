"""Append-only audit log of who did what to a campaign, chained by sha256 per campaign."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class AuditEvent(db.Model):
    """A recorded action: letter published, partner signed, letter delivered..."""

    __tablename__ = "audit_events"
    #: A second entry with the same place in a campaign's chain would fork it.
    __table_args__ = (UniqueConstraint("campaign_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Who acted when there is no account: e.g. "partner 12 (Digital Rights Watch)".
    actor: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Position in the campaign's chain, from 1; None for events outside any campaign.
    seq: Mapped[int | None] = mapped_column(Integer)
    #: entry_sha256 of the previous entry in the chain ("" before the first).
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    #: sha256 of prev_sha256 followed by this entry's canonical JSON content.
    entry_sha256: Mapped[str | None] = mapped_column(String(64))
