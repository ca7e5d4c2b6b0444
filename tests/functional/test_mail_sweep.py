"""Claims, leases and the sweep (`flask tick`): nothing lost, nothing sent twice."""

import threading
from datetime import timedelta

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import retry
from campaign.mail.sending import _finish, claim
from campaign.mail.sweep import sweep_outbox
from campaign.models import EmailEvent, OutboundEmail, utcnow
from tests import factories

_queue = factories.queued_email
_reload = factories.reload_email


def _past(seconds: int = 5):
    return utcnow() - timedelta(seconds=seconds)


def _set(email_id: int, **values) -> None:
    db.session.execute(
        OutboundEmail.__table__.update().where(OutboundEmail.id == email_id).values(**values)
    )
    db.session.commit()


def test_a_claimed_email_cannot_be_claimed_again(app):
    email_id = _queue().id
    db.session.commit()

    token, first = claim(OutboundEmail.id == email_id, provider="local")
    _, second = claim(OutboundEmail.id == email_id, provider="local")

    assert [e.id for e in first] == [email_id] and second == []
    email = _reload(email_id)
    assert email.status == "sending" and email.claim_token == token
    assert email.lease_until > utcnow() and email.attempts == 1


def test_an_email_waiting_for_its_backoff_is_not_claimed(app):
    email_id = _queue().id
    db.session.commit()
    _set(email_id, next_attempt_at=utcnow() + timedelta(minutes=5))

    assert claim(OutboundEmail.id == email_id, provider="local")[1] == []
    _set(email_id, next_attempt_at=_past())
    assert len(claim(OutboundEmail.id == email_id, provider="local")[1]) == 1


def test_concurrent_workers_claim_disjoint_sets(app):
    for i in range(120):
        _queue(to_email=f"p{i}@group.test")
    db.session.commit()
    db.session.info.pop(jobs.READY, None)
    claimed: list[list[int]] = []
    errors = []

    def worker():
        try:
            with app.app_context():
                while True:
                    _, emails = claim(limit=7, provider="local")
                    if not emails:
                        break
                    claimed.append([e.id for e in emails])
                db.session.remove()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    ids = [i for batch in claimed for i in batch]
    assert len(ids) == len(set(ids)) == 120


def test_tick_sends_queued_emails_whose_job_never_ran(app):
    email_id = _queue().id
    db.session.commit()
    db.session.info.pop(jobs.READY, None)  # the process died right after the commit

    report = sweep_outbox()
    assert report.claimed == 1
    assert _reload(email_id).status == "sent"
    assert sweep_outbox().claimed == 0  # idempotent


def test_expired_local_claim_is_simply_sent_again(app):
    email_id = _queue().id
    db.session.commit()
    db.session.info.pop(jobs.READY, None)
    claim(OutboundEmail.id == email_id, provider="local")
    _set(email_id, lease_until=_past())

    report = sweep_outbox()
    assert report.expired == 1
    email = _reload(email_id)
    assert email.status == "sent" and email.attempts == 2


def _dead_sendgrid_claim() -> tuple[int, str]:
    email_id = _queue().id
    db.session.commit()
    db.session.info.pop(jobs.READY, None)
    token, _ = claim(OutboundEmail.id == email_id, provider="sendgrid")
    _set(email_id, lease_until=_past())
    return email_id, token


def test_expired_sendgrid_claim_becomes_unknown_and_stays_without_webhooks(app):
    email_id, _ = _dead_sendgrid_claim()

    assert sweep_outbox().expired == 1
    email = _reload(email_id)
    assert email.status == "unknown" and "processed" in email.error
    _set(email_id, status_at=_past(3600))
    sweep_outbox()
    # Nothing can tell whether SendGrid has it: a person decides (Retry button).
    assert _reload(email_id).status == "unknown"


def test_unknown_is_sent_again_when_no_event_came_within_the_window(app, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", "configured")
    email_id, _ = _dead_sendgrid_claim()
    sweep_outbox()
    assert _reload(email_id).status == "unknown"  # still inside the window

    _set(email_id, status_at=_past(3600))
    report = sweep_outbox()
    assert report.requeued == 1
    email = _reload(email_id)
    assert email.status == "sent" and email.provider == "local"


def test_unknown_with_a_stored_event_is_settled_as_sent(app, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", "configured")
    email_id, _ = _dead_sendgrid_claim()
    db.session.add(
        EmailEvent(
            sg_event_id="evt-1",
            email_id=email_id,
            event="processed",
            occurred_at=utcnow(),
            payload={},
        )
    )
    db.session.commit()
    _set(email_id, status="unknown", status_at=_past(3600))

    report = sweep_outbox()
    assert (report.reconciled, report.requeued, report.claimed) == (1, 0, 0)
    assert _reload(email_id).status == "sent"


def test_a_slow_worker_still_records_its_answer_after_the_sweep_gave_up(app):
    email_id, token = _dead_sendgrid_claim()
    sweep_outbox()
    assert _reload(email_id).status == "unknown"

    _finish(token, [email_id], "sent", provider_message_id="late-1")
    db.session.commit()
    email = _reload(email_id)
    assert email.status == "sent" and email.provider_message_id == "late-1"


def test_a_stale_worker_cannot_overwrite_a_row_claimed_again(app):
    email_id, stale = _dead_sendgrid_claim()
    _set(email_id, status="queued", claim_token=None, lease_until=None)
    fresh, _ = claim(OutboundEmail.id == email_id, provider="sendgrid")

    _finish(stale, [email_id], "failed", error="stale")
    db.session.commit()
    email = _reload(email_id)
    assert email.status == "sending" and email.claim_token == fresh and email.error is None


def test_retry_takes_an_unknown_email_too(app):
    email_id, _ = _dead_sendgrid_claim()
    sweep_outbox()
    retry(email_id)
    db.session.commit()
    jobs.run_ready()
    assert _reload(email_id).status == "sent"


def test_tick_command_prints_what_it_did(app):
    _queue()
    db.session.commit()
    db.session.info.pop(jobs.READY, None)
    result = app.test_cli_runner().invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "1 emails sent" in result.output


def test_a_worker_skips_rows_the_sweep_took_over_and_renews_its_lease(app):
    from campaign.mail.local import LocalBackend
    from campaign.mail.sending import send_claimed

    ids = [_queue(to_email=f"p{i}@group.test").id for i in range(2)]
    db.session.commit()
    db.session.info.pop(jobs.READY, None)
    token, emails = claim(provider="local")
    # The first lease is nearly up, and the sweep already took the second row over.
    _set(ids[0], lease_until=utcnow() + timedelta(seconds=1))
    _set(ids[1], status="unknown")
    leases = []

    class Watching(LocalBackend):
        def send(self, email):
            leases.append(db.session.get(OutboundEmail, email.id).lease_until)
            return super().send(email)

    send_claimed(Watching(), token, emails)

    assert [_reload(i).status for i in ids] == ["sent", "unknown"]
    assert len(leases) == 1 and leases[0] > utcnow() + timedelta(seconds=60)
