"""Sending through the real sendgrid client, pointed at the local fake SendGrid API."""

import base64
import hashlib
import socket
from datetime import timedelta

import pytest
from python_http_client.exceptions import HTTPError

from campaign import jobs
from campaign.extensions import db
from campaign.mail import PermanentFailure, TemporaryFailure
from campaign.mail.outbox import (
    MAX_ATTEMPTS,
    queue_email,
    retry,
    send_email,
)
from campaign.mail.sendgrid import _failure
from campaign.mail.sweep import sweep_outbox
from campaign.models import Blob, OutboundEmail, utcnow

PDF = b"%PDF-1.7\n% a signed letter\n%%EOF\n"


@pytest.fixture
def sendgrid(app, sendgrid, monkeypatch):
    """The shared fake SendGrid, with this module's sender address and name."""
    monkeypatch.setitem(app.config, "MAIL_FROM", "letters@coalition.test")
    monkeypatch.setitem(app.config, "MAIL_FROM_NAME", "Coalition Letters")
    return sendgrid


def _blob(data: bytes = PDF) -> Blob:
    sha = hashlib.sha256(data).hexdigest()
    blob = Blob(sha256=sha, mime="application/pdf", size=len(data), data=data)
    db.session.add(blob)
    db.session.flush()
    return blob


def _queue(**overrides) -> OutboundEmail:
    fields = {
        "kind": "letter",
        "to_email": "ceo@bigcorp.test",
        "to_name": "Dana CEO",
        "subject": "Stop selling face surveillance to police",
        "text_body": "Dear Dana, ...",
        "html_body": "<p>Dear Dana, ...</p>",
    }
    fields.update(overrides)
    return queue_email(**fields)


def _make_due(*email_ids: int) -> None:
    """Let the backoff pass, as the clock would."""
    db.session.execute(
        OutboundEmail.__table__.update()
        .where(OutboundEmail.id.in_(email_ids))
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def _deliver(email_id: int) -> OutboundEmail:
    db.session.commit()
    jobs.run_ready()
    db.session.expire_all()
    return db.session.get(OutboundEmail, email_id)


def test_committed_email_is_sent_once_with_everything(sendgrid):
    blob = _blob()
    email = _queue(attachment=("signed-letter.pdf", blob.sha256))
    email_id = email.id

    email = _deliver(email_id)

    assert len(sendgrid.requests) == 1
    request = sendgrid.requests[0]
    assert request.path == "/v3/mail/send"
    assert request.headers["Authorization"] == "Bearer SG.test"
    body = request.body
    assert body["from"] == {"email": "letters@coalition.test", "name": "Coalition Letters"}
    assert body["personalizations"][0]["to"] == [{"email": "ceo@bigcorp.test", "name": "Dana CEO"}]
    assert body["subject"] == "Stop selling face surveillance to police"
    assert body["content"] == [
        {"type": "text/plain", "value": "Dear Dana, ..."},
        {"type": "text/html", "value": "<p>Dear Dana, ...</p>"},
    ]
    assert body["custom_args"] == {"outbound_id": str(email_id)}
    assert body["tracking_settings"]["click_tracking"]["enable"] is False
    assert body["tracking_settings"]["open_tracking"]["enable"] is False
    [attachment] = body["attachments"]
    assert base64.b64decode(attachment["content"]) == PDF
    assert attachment["filename"] == "signed-letter.pdf"
    assert attachment["type"] == "application/pdf"
    assert attachment["disposition"] == "attachment"

    assert email.status == "sent"
    assert email.provider == "sendgrid"
    assert email.provider_message_id == "fake000001"
    assert email.attempts == 1
    assert email.sent_at is not None and email.status_at is not None
    assert email.error is None


def test_plain_text_only_email_and_tracking_when_asked(sendgrid):
    email = _queue(html_body=None, to_name="", tracking=True)
    email = _deliver(email.id)

    body = sendgrid.requests[0].body
    assert body["content"] == [{"type": "text/plain", "value": "Dear Dana, ..."}]
    assert body["personalizations"][0]["to"] == [{"email": "ceo@bigcorp.test"}]
    assert body["tracking_settings"]["click_tracking"]["enable"] is True
    assert body["tracking_settings"]["open_tracking"]["enable"] is True
    assert "attachments" not in body
    assert email.status == "sent"


def test_rolled_back_email_is_never_sent(sendgrid):
    _queue()
    db.session.rollback()

    assert jobs.run_ready() == 0
    assert sendgrid.requests == []
    assert db.session.query(OutboundEmail).count() == 0


def test_rejected_email_is_failed_with_sendgrid_reason(sendgrid):
    sendgrid.error(
        400,
        "The from address does not match a verified Sender Identity.",
        field_name="from",
    )
    email = _deliver(_queue().id)

    assert email.status == "failed"
    assert "does not match a verified Sender Identity" in email.error
    assert "from" in email.error and "400" in email.error
    assert email.provider_message_id is None
    assert len(sendgrid.requests) == 1


def test_unauthorised_key_is_a_permanent_failure(sendgrid):
    sendgrid.error(401, "The provided authorization grant is invalid, expired, or revoked")
    email = _deliver(_queue().id)
    assert email.status == "failed"
    assert "authorization grant" in email.error


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_leaves_email_queued_with_the_error(sendgrid, status):
    sendgrid.error(status, "internal trouble")
    email = _deliver(_queue().id)

    assert email.status == "queued"
    assert "internal trouble" in email.error
    assert email.attempts == 1
    # Not retried in a loop in-process: the sweep picks it up once the backoff has passed.
    assert email.next_attempt_at > utcnow() + timedelta(seconds=10)
    assert email.claim_token is None and email.lease_until is None
    assert len(sendgrid.requests) == 1


def test_rate_limit_leaves_email_queued(sendgrid):
    sendgrid.rate_limit(retry_after=60)
    email = _deliver(_queue().id)

    assert email.status == "queued"
    assert "429" in email.error
    # Retry-After is honoured even when the backoff would be shorter.
    assert email.next_attempt_at >= utcnow() + timedelta(seconds=55)
    assert len(sendgrid.requests) == 1


def test_requeued_email_is_sent_on_the_next_attempt(sendgrid):
    sendgrid.error(500, "try later")
    email_id = _queue().id
    _deliver(email_id)

    send_email(email_id)  # not due yet: nothing happens
    assert len(sendgrid.requests) == 1
    _make_due(email_id)
    send_email(email_id)
    email = _deliver(email_id)

    assert email.status == "sent"
    assert email.attempts == 2
    assert email.error is None
    assert len(sendgrid.requests) == 2


def test_gives_up_after_max_attempts(sendgrid):
    email = _queue()
    email.attempts = MAX_ATTEMPTS - 1
    sendgrid.error(503, "still down")
    email = _deliver(email.id)

    assert email.status == "failed"
    assert "gave up" in email.error and "still down" in email.error


def test_timeout_after_the_request_was_sent_is_unknown_not_resent(sendgrid, app, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_TIMEOUT_SECONDS", 0.3)
    sendgrid.slow(2.0)
    email = _deliver(_queue().id)

    assert email.status == "unknown"
    assert "no answer from SendGrid" in email.error and "processed" in email.error
    sweep_outbox()
    send_email(email.id)
    # SendGrid may have it: nothing is sent again until its events say otherwise.
    assert len(sendgrid.requests) == 1


def test_connection_refused_is_temporary(sendgrid, app, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", f"http://127.0.0.1:{port}")
    email = _deliver(_queue().id)

    assert email.status == "queued"
    assert "could not reach SendGrid" in email.error


def test_sending_twice_calls_the_api_once(sendgrid):
    email_id = _queue().id
    db.session.commit()

    send_email(email_id)
    send_email(email_id)
    jobs.run_ready()

    assert len(sendgrid.requests) == 1
    email = db.session.get(OutboundEmail, email_id)
    assert email.status == "sent"
    assert email.attempts == 1


def test_retry_sends_a_failed_email_again(sendgrid):
    sendgrid.error(400, "bad from")
    email_id = _queue().id
    assert _deliver(email_id).status == "failed"

    retry(email_id)
    email = _deliver(email_id)

    assert email.status == "sent"
    assert len(sendgrid.requests) == 2


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, PermanentFailure),
        (401, PermanentFailure),
        (403, PermanentFailure),
        (404, PermanentFailure),
        (413, PermanentFailure),
        (408, TemporaryFailure),
        (429, TemporaryFailure),
        (500, TemporaryFailure),
        (502, TemporaryFailure),
        (503, TemporaryFailure),
    ],
)
def test_http_errors_map_to_failure_kinds(status, kind):
    error = HTTPError(status, "reason", b'{"errors": [{"message": "nope"}]}', {"Retry-After": "7"})
    failure = _failure(error)
    assert type(failure) is kind
    assert failure.reason == f"SendGrid {status}: nope"
    if kind is TemporaryFailure:
        assert failure.retry_after == 7


def test_unreadable_error_body_still_gives_a_reason():
    failure = _failure(HTTPError(400, "Bad Request", b"<html>oops</html>", {}))
    assert failure.reason == "SendGrid 400: no reason given"


def test_429_then_500_then_202_sends_exactly_one(sendgrid):
    sendgrid.rate_limit(retry_after=1)
    sendgrid.error(500, "hiccup")
    sendgrid.accept("accepted-1")
    email_id = _queue().id
    _deliver(email_id)
    for _ in range(5):
        _make_due(email_id)
        sweep_outbox()

    email = db.session.get(OutboundEmail, email_id)
    assert [r.path for r in sendgrid.requests] == ["/v3/mail/send"] * 3
    assert email.status == "sent" and email.provider_message_id == "accepted-1"
    assert email.attempts == 3 and email.error is None


def test_backoff_doubles_with_jitter_and_honours_retry_after(app, monkeypatch):
    from campaign.mail.sending import MAX_BACKOFF_SECONDS, backoff

    monkeypatch.setitem(app.config, "MAIL_RETRY_BASE_SECONDS", 10)
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (20, MAX_BACKOFF_SECONDS)]:
        delays = {backoff(attempts) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered
    assert backoff(1, retry_after=300) == 300
