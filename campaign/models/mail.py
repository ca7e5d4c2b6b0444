"""Outbound emails (the outbox) and the provider events about them."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class EmailStatus(StrEnum):
    """Where an outbound email is; the values are what the database stores.

    The provider's event names (processed, delivered, bounce...) are statuses too.
    """

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    PROCESSED = "processed"
    DEFERRED = "deferred"
    DELIVERED = "delivered"
    OPEN = "open"
    CLICK = "click"
    FAILED = "failed"
    BOUNCE = "bounce"
    DROPPED = "dropped"
    SPAMREPORT = "spamreport"
    UNSUBSCRIBE = "unsubscribe"
    #: The API call may have gone through (timeout after sending, or a worker died before
    #: it recorded the answer): resolved by SendGrid's 'processed' event before any resend.
    UNKNOWN = "unknown"


S = EmailStatus
#: Statuses in the order they can follow each other; TERMINAL ones never change again.
PROGRESS = (S.QUEUED, S.SENDING, S.SENT, S.PROCESSED, S.DEFERRED, S.DELIVERED, S.OPEN, S.CLICK)
TERMINAL = (S.FAILED, S.BOUNCE, S.DROPPED, S.SPAMREPORT, S.UNSUBSCRIBE)
UNKNOWN = S.UNKNOWN
del S


class OutboundBatch(db.Model):
    """Emails sharing one body template, sent as one API request with a personalization each."""

    __tablename__ = "outbound_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    #: The shared plain-text body; each email's `substitutions` fill in its own values.
    text_template: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundEmail(db.Model):
    """One email, written in the request's transaction and sent after it commits."""

    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: invitation, signed_confirmation, withdrawal_confirmation, letter
    kind: Mapped[str] = mapped_column(String(32))
    to_email: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    #: Optional attachment, stored as a blob (the signed PDF for letters).
    attachment_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="SET NULL"))
    #: Where replies go (a target's per-copy reply address); None: the sender.
    reply_to: Mapped[str | None] = mapped_column(String(254))
    #: The email whose bounce or drop this one replaces (a target's fallback address).
    fallback_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_emails.id", ondelete="SET NULL")
    )
    #: queued -> sending -> sent -> processed/delivered/...; see PROGRESS and TERMINAL.
    status: Mapped[str] = mapped_column(String(16), default=EmailStatus.QUEUED, index=True)
    #: "local" (the in-app outbox) or "sendgrid".
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    #: The provider's reason when sending failed, shown to the organiser.
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Whether SendGrid may add open/click tracking to this email.
    tracking: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    status_at: Mapped[datetime | None]
    #: A queued email is not sent before this time (retry backoff); None means at once.
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Random token of the worker that claimed this email for sending.
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    #: A 'sending' claim older than this belongs to a dead worker; the sweep takes it over.
    lease_until: Mapped[datetime | None]
    #: Set when the email may share an API request with the rest of its batch.
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_batches.id", ondelete="SET NULL"), index=True
    )
    #: Placeholder -> value pairs that turn the batch's text_template into text_body.
    substitutions: Mapped[dict | None] = mapped_column(JSON)

    events: Mapped[list["EmailEvent"]] = relationship(
        back_populates="email", order_by="EmailEvent.occurred_at"
    )


class EmailEvent(db.Model):
    """One event from SendGrid's event webhook, kept for the delivery timeline."""

    __tablename__ = "email_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SendGrid's id for the event; webhooks are retried, so duplicates are dropped on it.
    sg_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbound_emails.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    email: Mapped[OutboundEmail | None] = relationship(back_populates="events")


class WebhookBatch(db.Model):
    """A verified SendGrid webhook post, stored as received before any event is applied.

    The request only checks and stores; a job applies the events. A crash while applying
    leaves the batch unprocessed for `flask tick` to retry, so no event is lost.
    """

    __tablename__ = "webhook_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The signed body as received (JSON text).
    body: Mapped[str] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(index=True)
    #: How many of its events were new (the rest were SendGrid retries).
    new_events: Mapped[int | None] = mapped_column(Integer)


class Suppression(db.Model):
    """An address that asked for no more partner mail (SendGrid unsubscribe or spam report)."""

    __tablename__ = "email_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased, so one address matches however a partner list spells it.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: The SendGrid event that caused it: unsubscribe, group_unsubscribe or spamreport.
    reason: Mapped[str] = mapped_column(String(32))
    sg_event_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
