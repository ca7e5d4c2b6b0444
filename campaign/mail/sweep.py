"""The outbox sweep behind `flask tick`: idempotent, safe to run every minute from cron.

It takes over the claims of dead workers (as 'unknown'), settles unknown outcomes
against SendGrid's events, and sends every queued email that is due, including retries
whose backoff has passed and emails whose after-commit job never ran.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from .. import jobs
from ..extensions import db
from ..models import EmailEvent, EmailStatus, OutboundEmail, utcnow
from ..models.mail import UNKNOWN
from .sending import backend, claim, send_claimed, setting

log = logging.getLogger(__name__)

#: A cron run stops claiming new work after this long; the next run carries on.
MAX_RUN_SECONDS = 50


@dataclass
class SweepReport:
    """What one sweep did."""

    expired: int = 0
    reconciled: int = 0
    requeued: int = 0
    sent_requests: int = 0
    claimed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.claimed} emails sent in {self.sent_requests} rounds; "
            f"{self.expired} expired claims, {self.reconciled} settled by events, "
            f"{self.requeued} sent again"
        )


@jobs.job
def sweep_outbox() -> SweepReport:
    """Run one sweep of the outbox; return what it did."""
    report = SweepReport()
    report.expired = expire_leases()
    report.reconciled, report.requeued = reconcile_unknown()
    db.session.commit()
    sender = backend()
    started = utcnow()
    while utcnow() - started < timedelta(seconds=MAX_RUN_SECONDS):
        token, emails = claim(provider=sender.name)
        if not emails:
            break
        report.claimed += len(emails)
        report.sent_requests += 1
        send_claimed(sender, token, emails)
    log.info("outbox sweep: %s", report)
    return report


def expire_leases() -> int:
    """Turn 'sending' rows whose worker's lease ran out into 'unknown'; return how many."""
    now = utcnow()
    expired = (OutboundEmail.status == EmailStatus.SENDING) & (OutboundEmail.lease_until < now)
    # The local outbox never left this machine: a dead worker there sent nothing.
    local = db.session.execute(
        update(OutboundEmail)
        .where(expired, OutboundEmail.provider == "local")
        .values(status=EmailStatus.QUEUED, claim_token=None, lease_until=None, status_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    remote = db.session.execute(
        update(OutboundEmail)
        .where(expired)
        .values(
            status=UNKNOWN,
            status_at=now,
            error="the worker stopped before recording SendGrid's answer; "
            "waiting for its 'processed' event before sending again",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return local + remote


def reconcile_unknown() -> tuple[int, int]:
    """Settle 'unknown' emails: sent if SendGrid reported them, else queued again in time.

    Returns (settled as sent, queued again). Without a webhook key nothing can tell, so the
    emails stay 'unknown' for the organiser to check and retry by hand.
    """
    now = utcnow()
    unknown = OutboundEmail.status == UNKNOWN
    reported = exists().where(EmailEvent.email_id == OutboundEmail.id)
    # Normally the webhook itself already moved these on; this catches events stored
    # before the row turned 'unknown'.
    settled = db.session.execute(
        update(OutboundEmail)
        .where(unknown, reported)
        .values(
            status=EmailStatus.SENT, status_at=now, error=None, claim_token=None, lease_until=None
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY"):
        return settled, 0
    window = timedelta(seconds=setting("MAIL_RECONCILE_SECONDS", 900))
    stale = db.session.scalars(
        select(OutboundEmail.id).where(unknown, ~reported, OutboundEmail.status_at <= now - window)
    ).all()
    requeued = 0
    if stale:
        requeued = db.session.execute(
            update(OutboundEmail)
            .where(OutboundEmail.id.in_(stale), unknown)
            .values(
                status=EmailStatus.QUEUED,
                status_at=now,
                next_attempt_at=None,
                claim_token=None,
                lease_until=None,
                error="SendGrid never reported the earlier attempt; sending again",
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return settled, requeued
