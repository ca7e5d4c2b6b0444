"""The outbox: queued in the transaction, sent after commit, claimed once."""

import pytest

from campaign import jobs
from campaign.errors import Conflict, NotFound
from campaign.extensions import db
from campaign.mail import outbox
from campaign.mail.local import LocalBackend
from campaign.mail.outbox import backend, retry, send_email
from campaign.mail.sendgrid import SendGridBackend
from campaign.models import Blob, OutboundEmail
from tests import factories

_queue = factories.queued_email
_reload = factories.reload_email


def test_queue_email_writes_a_queued_row_without_committing(app):
    email = _queue(to_name="Pat", tracking=True)

    assert email.id is not None
    assert email.status == "queued"
    assert email.attempts == 0
    assert email.tracking is True
    assert db.session.info.get(jobs.PENDING) == [(send_email, (email.id,))]
    db.session.rollback()
    assert db.session.query(OutboundEmail).count() == 0


def test_rolled_back_email_schedules_nothing(app):
    _queue()
    db.session.rollback()

    assert jobs.run_ready() == 0
    assert db.session.query(OutboundEmail).count() == 0


def test_local_backend_without_api_key_sends_nothing_over_http(
    app,
    fake_sendgrid,
    monkeypatch,
):
    # Even with a host configured, no key means the local outbox.
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    email_id = _queue().id
    db.session.commit()

    assert jobs.run_ready() == 1

    email = _reload(email_id)
    assert email.status == "sent"
    assert email.provider == "local"
    assert email.provider_message_id == f"local-{email_id}"
    assert email.attempts == 1
    assert email.sent_at is not None
    assert fake_sendgrid.requests == []


def test_backend_follows_the_api_key(app, monkeypatch):
    assert isinstance(backend(), LocalBackend)
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", "http://127.0.0.1:9")
    chosen = backend()
    assert isinstance(chosen, SendGridBackend)
    assert chosen.client.host == "http://127.0.0.1:9"


def test_second_send_of_the_same_email_does_nothing(app, monkeypatch):
    calls = []

    class Counting(LocalBackend):
        def send(self, email):
            calls.append(email.id)
            return super().send(email)

    monkeypatch.setattr(outbox, "backend", Counting)
    email_id = _queue().id
    db.session.commit()

    send_email(email_id)
    send_email(email_id)
    jobs.run_ready()

    assert calls == [email_id]
    assert _reload(email_id).attempts == 1


def test_send_of_an_unknown_email_is_a_no_op(app):
    send_email(987654)
    assert db.session.query(OutboundEmail).count() == 0


def test_unexpected_error_marks_failed_instead_of_stuck_sending(app, monkeypatch):
    class Broken:
        name = "broken"

        def send(self, email):
            raise RuntimeError("a bug")

    monkeypatch.setattr(outbox, "backend", Broken)
    email_id = _queue().id
    db.session.commit()
    jobs.run_ready()

    email = _reload(email_id)
    assert email.status == "failed"
    assert "internal error" in email.error
    assert "a bug" not in email.error


def test_outcome_does_not_overwrite_a_status_a_webhook_already_advanced(app, monkeypatch):
    class Racing(LocalBackend):
        def send(self, email):
            # SendGrid's 'processed' event landing before the send is recorded.
            db.session.execute(
                OutboundEmail.__table__.update()
                .where(OutboundEmail.id == email.id)
                .values(status="processed")
            )
            return "msg-1"

    monkeypatch.setattr(outbox, "backend", Racing)
    email_id = _queue().id
    db.session.commit()
    jobs.run_ready()

    email = _reload(email_id)
    assert email.status == "processed"
    assert email.provider_message_id == "msg-1"
    assert email.sent_at is not None


def test_retry_requeues_a_failed_email_and_sends_after_commit(app):
    email = _queue()
    email.status = "failed"
    email.error = "SendGrid 400: bad from"
    email.attempts = 3
    db.session.commit()
    jobs.run_ready()  # the original send finds nothing queued

    retry(email.id)
    assert _reload(email.id).status == "queued"
    db.session.commit()
    jobs.run_ready()

    email = _reload(email.id)
    assert email.status == "sent"
    assert email.error is None
    assert email.attempts == 1


def test_retry_refuses_an_email_that_did_not_fail(app):
    email_id = _queue().id
    db.session.commit()
    jobs.run_ready()

    with pytest.raises(Conflict):
        retry(email_id)


def test_retry_of_a_missing_email_is_not_found(app):
    with pytest.raises(NotFound):
        retry(424242)


def test_overlong_subject_and_name_are_cut_to_fit(app):
    blob = Blob(sha256="0" * 64, mime="application/pdf", size=3, data=b"pdf")
    db.session.add(blob)
    email = _queue(subject="S" * 400, to_name="N" * 300, attachment=("f" * 250, blob.sha256))
    db.session.commit()
    email = _reload(email.id)
    assert len(email.subject) == 300
    assert len(email.to_name) == 200
    assert len(email.attachment_name) == 200
