"""The outbox: emails are rows written in the request's transaction, sent after commit.

`queue_email` adds a row and schedules `send_email` with `jobs.after_commit`, so a
rolled-back request sends nothing. `send_email` claims the row with a compare-and-set
update, so two workers (or a retried job) never send the same email twice.
"""

import logging

from flask import current_app
from sqlalchemy import case, update

from .. import jobs
from ..config import SENDGRID_DEFAULT_HOST
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import OutboundEmail, utcnow
from . import PermanentFailure, TemporaryFailure
from .local import LocalBackend

log = logging.getLogger(__name__)

#: After this many temporary failures in a row the email is marked failed for a person.
MAX_ATTEMPTS = 5


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
        status="queued",
        attempts=0,
    )
    db.session.add(email)
    db.session.flush()
    jobs.after_commit(send_email, email.id)
    return email


def backend():
    """Return the configured mail backend: SendGrid with an API key, else the local outbox."""
    config = current_app.config
    if config.get("SENDGRID_API_KEY"):
        from .sendgrid import DEFAULT_TIMEOUT_SECONDS, SendGridBackend

        return SendGridBackend(
            config["SENDGRID_API_KEY"],
            config.get("SENDGRID_API_HOST") or SENDGRID_DEFAULT_HOST,
            timeout=config.get("SENDGRID_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
        )
    return LocalBackend()


@jobs.job
def send_email(email_id: int) -> None:
    """Send one queued email; a second call for the same id does nothing."""
    claimed = db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email_id, OutboundEmail.status == "queued")
        .values(status="sending", attempts=OutboundEmail.attempts + 1, status_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    # Committed before the network call, so a concurrent worker sees the claim at once.
    db.session.commit()
    if not claimed:
        log.info("email %s is not queued (sent, failed or taken by another worker)", email_id)
        return

    email = db.session.get(OutboundEmail, email_id)
    try:
        sender = backend()
        message_id = sender.send(email)
    except PermanentFailure as exc:
        log.warning("email %s failed permanently: %s", email_id, exc.reason)
        _finish(email_id, "failed", error=exc.reason)
    except TemporaryFailure as exc:
        if email.attempts >= MAX_ATTEMPTS:
            log.warning("email %s gave up after %s attempts: %s", email_id, email.attempts, exc)
            _finish(email_id, "failed", error=f"gave up after {email.attempts} attempts: {exc}")
        else:
            # Left queued, not re-scheduled here: an in-process retry loop would spin on an
            # outage. A later sweep (with backoff) picks queued emails up again.
            log.info("email %s will be retried: %s", email_id, exc.reason)
            _finish(email_id, "queued", error=f"attempt {email.attempts}: {exc.reason}")
    except Exception:
        # A bug must not leave the row stuck in 'sending' where nothing looks at it again.
        log.exception("email %s could not be sent", email_id)
        db.session.rollback()
        _finish(email_id, "failed", error="internal error while sending; see the server log")
    else:
        _finish(
            email_id,
            "sent",
            provider=sender.name,
            provider_message_id=message_id or None,
            sent_at=utcnow(),
            error=None,
        )
    db.session.commit()


def _finish(email_id: int, status: str, **values) -> None:
    """Record a send's outcome, unless a webhook event has already moved the status on."""
    # SendGrid's 'processed' event can arrive before this commit; keep it if so.
    still_sending = OutboundEmail.status == "sending"
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email_id)
        .values(
            status=case((still_sending, status), else_=OutboundEmail.status),
            status_at=case((still_sending, utcnow()), else_=OutboundEmail.status_at),
            **values,
        )
        .execution_options(synchronize_session=False)
    )


def retry(email_id: int) -> OutboundEmail:
    """Put a failed email back in the queue and send it again after commit."""
    email = db.session.get(OutboundEmail, email_id)
    if email is None:
        raise NotFound(f"no email {email_id}")
    moved = db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id == email_id, OutboundEmail.status == "failed")
        .values(status="queued", attempts=0, error=None, status_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise Conflict("Only an email that failed can be sent again.")
    db.session.refresh(email)
    jobs.after_commit(send_email, email_id)
    return email
