"""What comes back: targets' replies (matched or not) and alerts for organisers."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
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
    #: While unmatched: the campaign whose organisers may see and assign it, found by the
    #: reply address it was sent to. None: only admins see it.
    inbox_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    #: SendGrid's SPF result ("pass", "softfail"...) and DKIM results ("{@a.example : pass}").
    spf: Mapped[str] = mapped_column(String(32), default="")
    dkim: Mapped[str] = mapped_column(String(500), default="")
    #: Why the reply waits for an organiser before it counts as the target's answer (its
    #: sender could not be verified); None: it counted when it arrived.
    held_reason: Mapped[str | None] = mapped_column(String(300))
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    attachments: Mapped[list["InboundAttachment"]] = relationship(
        back_populates="reply",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="InboundAttachment.id",
    )
    target: Mapped["Target | None"] = relationship()  # noqa: F821

    @property
    def held(self) -> bool:
        """Whether the reply waits for an organiser to confirm its sender."""
        return self.held_reason is not None and self.released_at is None


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


class FollowUpStep(db.Model):
    """One step of a campaign's follow-up plan: if a target has not responded N days after
    delivery, send them this letter (its own sandboxed template), and tell the coalition."""

    __tablename__ = "followup_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    days_after: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(300))
    #: Markdown with sandboxed merge fields, like the letter.
    body: Mapped[str] = mapped_column(Text)
    notify_coalition: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FollowUpSent(db.Model):
    """A follow-up step done for one target, so `flask tick` never repeats it."""

    __tablename__ = "followups_sent"
    __table_args__ = (UniqueConstraint("step_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("followup_steps.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_emails.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
