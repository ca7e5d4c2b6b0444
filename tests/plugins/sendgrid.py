"""SendGrid fixtures: the fake mail/send API, a webhook signing key, and signed event posts."""

import json

import pytest

from tests.fake_sendgrid import FakeSendGrid, WebhookSigner

WEBHOOK_URL = "/webhooks/sendgrid"


@pytest.fixture
def webhook_signer(app, monkeypatch):
    """A test signing key whose public half is configured as the webhook's key."""
    signer = WebhookSigner()
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", signer.public_key)
    return signer


@pytest.fixture
def fake_sendgrid():
    """A running fake SendGrid API; tests point SENDGRID_API_HOST at `.url` themselves."""
    fake = FakeSendGrid().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sendgrid(app, fake_sendgrid, monkeypatch):
    """The app configured to send through the fake SendGrid API.

    A module that also needs a sender name overrides this fixture, asking for it by name.
    """
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    return fake_sendgrid


@pytest.fixture
def post_webhook(client, webhook_signer):
    """Post a signed batch of events (a list, or raw bytes) the way SendGrid does."""

    def _post(events, **kwargs):
        body = events if isinstance(events, bytes) else json.dumps(events).encode()
        return client.post(WEBHOOK_URL, data=body, headers=webhook_signer.headers(body), **kwargs)

    return _post


@pytest.fixture
def post_accepted(post_webhook):
    """Post a signed batch of events and insist the webhook accepted it (204)."""

    def _post(events):
        resp = post_webhook(events)
        assert resp.status_code == 204
        return resp

    return _post
