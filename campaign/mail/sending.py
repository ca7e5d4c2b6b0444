"""Claiming and sending outbox rows: leases, backoff, and recording what the provider said.

A worker claims rows by moving them from 'queued' to 'sending' with its own random token
and a lease, and commits that before any network call. The claim is one UPDATE whose
subquery locks with `FOR UPDATE SKIP LOCKED` on PostgreSQL, and is a compare-and-set on
`status = 'queued'` everywhere (SQLite runs one writer at a time), so two workers never
hold the same row. Outcomes are written only where the row still carries the token.
"""

import logging
import os
import random
import secrets
import time
from datetime import timedelta
from itertools import groupby

from flask import current_app
from sqlalchemy import case, func, select, update

from ..config import SENDGRID_DEFAULT_HOST
from ..extensions import db
from ..models import EmailStatus, OutboundEmail, utcnow
from ..models.mail import UNKNOWN, OutboundBatch
from .failures import PermanentFailure, TemporaryFailure, UnknownOutcome
from .local import LocalBackend

log = logging.getLogger(__name__)

#: After this many temporary failures in a row the email is marked failed for a person.
MAX_ATTEMPTS = 5
#: SendGrid takes at most 1,000 personalizations in one mail/send request.
MAX_BATCH = 1000
MAX_BACKOFF_SECONDS = 3600
#: Test hook: "before_send:SECONDS" or "after_send:SECONDS" makes a worker pause there,
#: so a test can kill it at a known point. Unset in any real deployment.
PAUSE_ENV = "UNDERSIGNED_MAIL_TEST_PAUSE"


def setting(name: str, default: float) -> float:
    """A numeric mail setting from the app config, else its default."""
    value = current_app.config.get(name)
    return default if value in (None, "") else float(value)


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


def _due(now):
    return (OutboundEmail.next_attempt_at.is_(None)) | (OutboundEmail.next_attempt_at <= now)


def hourly_allowance(now) -> int:
    """How many more emails may go out now under MAIL_MAX_PER_HOUR (0 there: no limit).

    A new sender's reputation suffers when thousands of emails leave at once, so a large
    send can be spread out: whatever is over the rate stays queued for a later tick. Two
    workers counting at the same moment may overshoot by one batch; the rate is a guide
    for reputation, not a contract.
    """
    rate = int(setting("MAIL_MAX_PER_HOUR", 0))
    if rate <= 0:
        return MAX_BATCH
    recent = db.session.scalar(
        select(func.count(OutboundEmail.id)).where(
            (OutboundEmail.sent_at >= now - timedelta(hours=1))
            | (OutboundEmail.status == EmailStatus.SENDING)
        )
    )
    return max(rate - recent, 0)


def claim(*conditions, limit: int = MAX_BATCH, provider: str) -> tuple[str, list[OutboundEmail]]:
    """Claim up to `limit` due queued emails matching `conditions`; commit; return them."""
    token = secrets.token_hex(16)
    now = utcnow()
    limit = min(limit, hourly_allowance(now))
    if limit <= 0:
        return token, []  # over the hourly rate: the queue waits for a later tick
    candidates = (
        select(OutboundEmail.id)
        .where(OutboundEmail.status == EmailStatus.QUEUED, _due(now), *conditions)
        .order_by(OutboundEmail.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped rather than waited for.
        candidates = candidates.with_for_update(skip_locked=True)
    # The ids are fetched first, not used as a subquery: PostgreSQL may run a LIMITed
    # subquery inside UPDATE more than once and so claim more rows than the limit.
    ids = db.session.scalars(candidates).all()
    if not ids:
        db.session.commit()
        return token, []
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(ids), OutboundEmail.status == EmailStatus.QUEUED)
        .values(
            status=EmailStatus.SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=setting("MAIL_LEASE_SECONDS", 120)),
            attempts=OutboundEmail.attempts + 1,
            status_at=now,
            provider=provider,
        )
        .execution_options(synchronize_session=False)
    )
    # Committed before the network call, so a concurrent worker sees the claim at once.
    db.session.commit()
    emails = db.session.scalars(
        select(OutboundEmail)
        .where(OutboundEmail.claim_token == token, OutboundEmail.status == EmailStatus.SENDING)
        .order_by(OutboundEmail.id)
        .execution_options(populate_existing=True)
    ).all()
    return token, list(emails)


def send_claimed(sender, token: str, emails: list[OutboundEmail]) -> None:
    """Send claimed emails, one request per batch of up to MAX_BATCH, and record outcomes."""

    def batch_of(email):
        return email.batch_id if email.substitutions is not None else None

    for batch_id, group in groupby(sorted(emails, key=lambda e: batch_of(e) or 0), batch_of):
        group = list(group)
        if batch_id is None:
            for email in group:
                _send_group(sender, token, None, [email])
            continue
        batch = db.session.get(OutboundBatch, batch_id)
        for start in range(0, len(group), MAX_BATCH):
            _send_group(sender, token, batch, group[start : start + MAX_BATCH])


def _send_group(sender, token: str, batch, emails: list[OutboundEmail]) -> None:
    """One API request for `emails` (a batch request when there is more than one)."""
    emails = _renew(token, emails)
    if not emails:
        return
    ids = [email.id for email in emails]
    _pause("before_send")
    try:
        if batch is not None and len(emails) > 1:
            message_ids = sender.send_batch(batch, emails)
        else:
            message_ids = {emails[0].id: sender.send(emails[0])}
    except PermanentFailure as exc:
        _permanent(token, emails, exc)
    except TemporaryFailure as exc:
        _temporary(token, emails, exc)
    except UnknownOutcome as exc:
        log.warning("emails %s: outcome unknown: %s", ids, exc.reason)
        reason = f"{exc.reason}; waiting for SendGrid's 'processed' event before sending again"
        _finish(token, ids, UNKNOWN, error=reason)
    except Exception:
        # A bug must not leave rows stuck in 'sending' until the lease runs out.
        log.exception("emails %s could not be sent", ids)
        db.session.rollback()
        _finish(
            token, ids, EmailStatus.FAILED, error="internal error while sending; see the server log"
        )
    else:
        _pause("after_send")
        now = utcnow()
        by_message: dict[str, list[int]] = {}
        for email_id, message_id in message_ids.items():
            by_message.setdefault(message_id, []).append(email_id)
        # One statement for a whole SendGrid batch: its emails share the X-Message-Id.
        for message_id, sent_ids in by_message.items():
            _finish(
                token,
                sent_ids,
                EmailStatus.SENT,
                provider_message_id=message_id or None,
                sent_at=now,
                error=None,
            )
    db.session.commit()


def _renew(token: str, emails: list[OutboundEmail]) -> list[OutboundEmail]:
    """Extend a lease past its half-life; return (freshly loaded) the emails still held."""
    # A long run of sends can outlast the first lease; the sweep would then take the later
    # rows over while this worker still meant to send them.
    ids = [email.id for email in emails]
    held = OutboundEmail.claim_token == token, OutboundEmail.status == EmailStatus.SENDING
    lease = timedelta(seconds=setting("MAIL_LEASE_SECONDS", 120))
    now = utcnow()
    renewed = db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(ids), *held, OutboundEmail.lease_until < now + lease / 2)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    if renewed:
        db.session.commit()
    # One query reloads the group: an earlier group's commit expired these objects, and
    # touching them one by one would cost a query per email.
    return list(
        db.session.scalars(
            select(OutboundEmail)
            .where(OutboundEmail.id.in_(ids), *held)
            .order_by(OutboundEmail.id)
            .execution_options(populate_existing=True)
        )
    )


def _permanent(token: str, emails: list[OutboundEmail], exc: PermanentFailure) -> None:
    """Fail the emails the provider blamed; the rest of a batch goes back in the queue."""
    blamed = [emails[i] for i in exc.recipients if i < len(emails)]
    if not blamed or len(emails) == 1:
        blamed = emails
    log.warning("emails %s failed permanently: %s", [e.id for e in blamed], exc.reason)
    _finish(token, [e.id for e in blamed], EmailStatus.FAILED, error=exc.reason)
    innocent = [e.id for e in emails if e not in blamed]
    if innocent:
        # Sent again at once without the bad recipients; the attempt is not held against them.
        _finish(
            token,
            innocent,
            EmailStatus.QUEUED,
            attempts=OutboundEmail.attempts - 1,
            next_attempt_at=None,
            error=None,
        )


def _temporary(token: str, emails: list[OutboundEmail], exc: TemporaryFailure) -> None:
    """Requeue with exponential backoff and jitter, or give up after MAX_ATTEMPTS."""
    attempts = max(email.attempts for email in emails)
    if attempts >= MAX_ATTEMPTS:
        log.warning(
            "emails %s gave up after %s attempts: %s", [e.id for e in emails], attempts, exc
        )
        reason = f"gave up after {attempts} attempts: {exc.reason}"
        _finish(token, [e.id for e in emails], EmailStatus.FAILED, error=reason)
        return
    delay = backoff(attempts, exc.retry_after)
    log.info("emails %s retried in %.1f s: %s", [e.id for e in emails], delay, exc.reason)
    _finish(
        token,
        [e.id for e in emails],
        EmailStatus.QUEUED,
        next_attempt_at=utcnow() + timedelta(seconds=delay),
        error=f"attempt {attempts}: {exc.reason}",
    )


def backoff(attempts: int, retry_after: int | None = None) -> float:
    """Seconds to wait before attempt `attempts + 1`: doubling, jittered, >= Retry-After."""
    base = setting("MAIL_RETRY_BASE_SECONDS", 30)
    ceiling = min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1))
    # Jitter spreads out the workers that all failed at the same moment of an outage.
    delay = ceiling * random.uniform(0.5, 1.0)
    return max(delay, float(retry_after or 0))


def _finish(token: str, ids: list[int], status: str, **values) -> None:
    """Record an outcome on rows this claim still holds, unless a webhook moved them on."""
    # SendGrid's 'processed' event can arrive before this commit; keep it if so. 'unknown'
    # counts as still ours: the sweep may have given up on a slow but living worker.
    ours = OutboundEmail.status.in_((EmailStatus.SENDING, UNKNOWN))
    db.session.execute(
        update(OutboundEmail)
        .where(OutboundEmail.id.in_(ids), OutboundEmail.claim_token == token)
        .values(
            status=case((ours, status), else_=OutboundEmail.status),
            status_at=case((ours, utcnow()), else_=OutboundEmail.status_at),
            lease_until=None,
            claim_token=None if status != UNKNOWN else token,
            **values,
        )
        .execution_options(synchronize_session=False)
    )


def _pause(stage: str) -> None:
    """Sleep at `stage` when the test hook asks for it (see PAUSE_ENV)."""
    wanted = os.environ.get(PAUSE_ENV, "")
    name, _, seconds = wanted.partition(":")
    if name == stage:
        log.warning("test hook: pausing %s s at %s", seconds, stage)
        time.sleep(float(seconds or 0))
