"""The outbox: emails are rows written in the request's transaction, sent after commit.

`queue_email` adds a row and schedules a send with `jobs.after_commit`, so a rolled-back
request sends nothing. `queue_batch` queues many emails sharing a template (each with its
own substitutions) as batches that go out as one API request per 1,000 recipients.
Claiming, retries and outcomes live in `sending`; the sweep (`flask tick`) in `sweep`.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import insert, update

from .. import jobs
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import EmailStatus, OutboundEmail, utcnow
from ..models.mail import UNKNOWN, OutboundBatch
from .sending import MAX_ATTEMPTS, backend, claim, send_claimed
from .suppression import SUPPRESSED, suppressed
from .suppression import reason as suppression_reason

log = logging.getLogger(__name__)

__all__ = [
    "MAX_ATTEMPTS",
    "BatchItem",
    "backend",
    "queue_batch",
    "queue_email",
    "retry",
    "send_batch",
    "send_email",
]


def queue_email(
    *,
    kind: str,
    to_email: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    to_name: str = "",
    campaign_id: int | None = None,
    target_id: int | None = None,
    partner_id: int | None = None,
    attachment: tuple[str, str] | None = None,
    tracking: bool = False,
    reply_to: str | None = None,
) -> OutboundEmail:
    """Add an email to the outbox; it is sent only once the current transaction commits."""
    filename, sha256 = attachment if attachment else (None, None)
    # Subjects and names come from organisers' templates; an overlong one must not turn the
    # whole request into a database error on PostgreSQL, which enforces column lengths.
    email = OutboundEmail(
        kind=kind,
        to_email=to_email,
        to_name=(to_name or "")[:200],
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        campaign_id=campaign_id,
        target_id=target_id,
        partner_id=partner_id,
        attachment_name=filename[:200] if filename else None,
        attachment_sha256=sha256,
        tracking=tracking,
        reply_to=reply_to or None,
        status=EmailStatus.QUEUED,
        attempts=0,
    )
    blocked = suppressed([to_email]).get(to_email.strip().lower()) if partner_id else None
    if blocked is not None:
        email.status = SUPPRESSED
        email.error = suppression_reason(blocked)
    db.session.add(email)
    db.session.flush()
    if blocked is None:
        jobs.after_commit(send_email, email.id)
    return email


@dataclass
class BatchItem:
    """One plain-text email of a batch: its own text, and the template + values it fills."""

    to_email: str
    to_name: str
    subject: str
    text_body: str
    template: str
    substitutions: dict[str, str]
    partner_id: int | None = None
    target_id: int | None = None
    #: Reply-To is per message in SendGrid's API, so an item with one is sent on its own.
    reply_to: str | None = None


def queue_batch(
    kind: str, items: list[BatchItem], *, campaign_id: int | None = None, tracking: bool = False
) -> int:
    """Queue many emails at once; those sharing a template go out as one request per 1,000.

    An item whose text is not exactly its template with its substitutions applied is
    queued on its own, so batching never changes what anyone receives. Returns how many
    emails joined a batch.
    """
    now = utcnow()
    batches: dict[str, int] = {}
    rows = []
    blocked = suppressed([item.to_email for item in items if item.partner_id])
    for item in items:
        alone = not _batchable(item) or item.reply_to
        if alone or (item.partner_id and item.to_email.strip().lower() in blocked):
            # queue_email also records a suppressed address as such, without sending.
            queue_email(
                kind=kind,
                to_email=item.to_email,
                to_name=item.to_name,
                subject=item.subject,
                text_body=item.text_body,
                campaign_id=campaign_id,
                partner_id=item.partner_id,
                target_id=item.target_id,
                tracking=tracking,
                reply_to=item.reply_to,
            )
            continue
        if item.template not in batches:
            batch = OutboundBatch(kind=kind, campaign_id=campaign_id, text_template=item.template)
            db.session.add(batch)
            db.session.flush()
            batches[item.template] = batch.id
            jobs.after_commit(send_batch, batch.id)
        rows.append(
            {
                "kind": kind,
                "campaign_id": campaign_id,
                "partner_id": item.partner_id,
                "target_id": item.target_id,
                "to_email": item.to_email,
                "to_name": (item.to_name or "")[:200],
                "subject": item.subject[:300],
                "text_body": item.text_body,
                "tracking": bool(tracking),
                "status": EmailStatus.QUEUED,
                "attempts": 0,
                "created_at": now,
                "batch_id": batches[item.template],
                "substitutions": dict(item.substitutions),
            }
        )
    if rows:
        # One multi-row INSERT: ORM objects one by one cost seconds for thousands of rows.
        db.session.execute(insert(OutboundEmail), rows)
    return len(rows)


def substitute(template: str, substitutions: dict[str, str]) -> str:
    """Apply substitutions the way SendGrid does: every occurrence of each key."""
    text = template
    for key, value in substitutions.items():
        text = text.replace(key, value)
    return text


def _batchable(item: BatchItem) -> bool:
    """Whether SendGrid, given the template and substitutions, would send exactly text_body."""
    keys = list(item.substitutions)
    values = [*item.substitutions.values(), item.subject, item.to_name or ""]
    # A value holding a key would be substituted again, or not, depending on order.
    if any(key in value for key in keys for value in values):
        return False
    return substitute(item.template, item.substitutions) == item.text_body


@jobs.job
def send_email(email_id: int) -> None:
    """Send one queued email if it is due; a second call for the same id does nothing."""
    sender = backend()
    token, emails = claim(OutboundEmail.id == email_id, limit=1, provider=sender.name)
    if not emails:
        log.info("email %s is not due (sent, failed, waiting or taken by a worker)", email_id)
        return
    send_claimed(sender, token, emails)


@jobs.job
def send_batch(batch_id: int) -> None:
    """Send the due emails of one batch, up to 1,000 per API request."""
    sender = backend()
    while True:
        token, emails = claim(OutboundEmail.batch_id == batch_id, provider=sender.name)
        if not emails:
            return
        send_claimed(sender, token, emails)


def retry(email_id: int, campaign_id: int | None = None) -> OutboundEmail:
    """Put a failed (or unknown) email back in the queue and send it again after commit."""
    email = db.session.get(OutboundEmail, email_id)
    if email is None or (campaign_id is not None and email.campaign_id != campaign_id):
        raise NotFound(f"no email {email_id}")
    moved = db.session.execute(
        update(OutboundEmail)
        .where(
            OutboundEmail.id == email_id, OutboundEmail.status.in_((EmailStatus.FAILED, UNKNOWN))
        )
        .values(
            status=EmailStatus.QUEUED,
            attempts=0,
            error=None,
            status_at=utcnow(),
            next_attempt_at=None,
            claim_token=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise Conflict("Only an email that failed, or whose outcome is unknown, can be sent again.")
    db.session.refresh(email)
    jobs.after_commit(send_email, email_id)
    return email
