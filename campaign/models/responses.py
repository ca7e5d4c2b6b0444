"""What comes back: targets' replies (matched or not) and alerts for organisers."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class InboundReply(db.Model):
    """An email received through SendGrid Inbound Parse, matched to a target or not yet."""

    __tablename__ = "inbound_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Both None until an organiser assigns an unmatched reply.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(320), default="")
    from_email: Mapped[str] = mapped_column(String(254), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime | None]

    attachments: Mapped[list["InboundAttachment"]] = relationship(
        back_populates="reply",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="InboundAttachment.id",
    )
    target: Mapped["Target | None"] = relationship()  # noqa: F821


class InboundAttachment(db.Model):
    """A file attached to a reply, stored as a blob under its sha256."""

    __tablename__ = "inbound_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(
        ForeignKey("inbound_replies.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))

    reply: Mapped[InboundReply] = relationship(back_populates="attachments")


class Alert(db.Model):
    """Something an organiser must see on the campaign page: a bounce, a reply."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: bounce, reply, ...
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_emails.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_at: Mapped[datetime | None]
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
