"""The event webhook accepts only fresh posts signed with the configured SendGrid key."""

import base64
import io
import json
import logging
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from campaign.extensions import db
from campaign.mail.sendgrid import verify_event_signature
from campaign.models import EmailEvent, OutboundEmail
from tests.fake_sendgrid import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSigner,
)

URL = "/webhooks/sendgrid"


@pytest.fixture
def email(app):
    row = OutboundEmail(
        kind="letter",
        to_email="ceo@bigcorp.test",
        subject="Our letter",
        text_body="Dear CEO",
        status="sent",
        provider="sendgrid",
        provider_message_id="msg1",
    )
    db.session.add(row)
    db.session.commit()
    return row


def _body(email) -> bytes:
    return json.dumps(
        [
            {
                "event": "bounce",
                "sg_event_id": "evt-1",
                "sg_message_id": "msg1.filter.0",
                "outbound_id": str(email.id),
                "timestamp": int(time.time()),
            }
        ]
    ).encode()


def _nothing_recorded(email) -> bool:
    db.session.expire_all()
    return db.session.query(EmailEvent).count() == 0 and email.status == "sent"


def test_correctly_signed_post_is_accepted(client, webhook_signer, email):
    body = _body(email)
    assert client.post(URL, data=body, headers=webhook_signer.headers(body)).status_code == 204
    db.session.expire_all()
    assert email.status == "bounce"


def test_tampered_body_is_refused(client, webhook_signer, email):
    body = _body(email)
    headers = webhook_signer.headers(body)
    tampered = body.replace(b'"bounce"', b'"click"')

    assert client.post(URL, data=tampered, headers=headers).status_code == 403
    assert _nothing_recorded(email)


def test_whitespace_change_breaks_the_signature(client, webhook_signer, email):
    body = _body(email)
    headers = webhook_signer.headers(body)
    assert client.post(URL, data=body + b"\n", headers=headers).status_code == 403


def test_tampered_timestamp_is_refused(client, webhook_signer, email):
    body = _body(email)
    headers = webhook_signer.headers(body)
    headers[TIMESTAMP_HEADER] = str(int(headers[TIMESTAMP_HEADER]) + 1)
    assert client.post(URL, data=body, headers=headers).status_code == 403
    assert _nothing_recorded(email)


@pytest.mark.parametrize("missing", [SIGNATURE_HEADER, TIMESTAMP_HEADER, "both"])
def test_missing_headers_are_refused(client, webhook_signer, email, missing):
    body = _body(email)
    headers = webhook_signer.headers(body)
    for name in [SIGNATURE_HEADER, TIMESTAMP_HEADER] if missing == "both" else [missing]:
        del headers[name]
    assert client.post(URL, data=body, headers=headers).status_code == 403
    assert _nothing_recorded(email)


@pytest.mark.parametrize(
    "signature",
    [
        "!!!not base64!!!",
        "QUJD",  # valid base64, not a DER signature
        "=",
        "é",
        base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode(),  # r = s = 1
        base64.b64encode(b"\x00" * 72).decode(),
    ],
)
def test_garbage_signature_is_refused(client, webhook_signer, email, signature):
    body = _body(email)
    headers = webhook_signer.headers(body)
    headers[SIGNATURE_HEADER] = signature
    assert client.post(URL, data=body, headers=headers).status_code == 403
    assert _nothing_recorded(email)


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "-5", "1e9", "99999999999999999999", " 17", "17²", "1.5"]
)
def test_garbage_timestamp_is_refused(client, webhook_signer, email, timestamp):
    body = _body(email)
    headers = webhook_signer.headers(body)
    headers[TIMESTAMP_HEADER] = timestamp
    headers[SIGNATURE_HEADER] = webhook_signer.signature(body, timestamp)
    assert client.post(URL, data=body, headers=headers).status_code == 403


def test_signature_from_another_key_is_refused(client, webhook_signer, email):
    body = _body(email)
    impostor = WebhookSigner()
    assert client.post(URL, data=body, headers=impostor.headers(body)).status_code == 403
    assert _nothing_recorded(email)


@pytest.mark.parametrize("age", [601, 3600, -601])
def test_stale_or_future_timestamp_is_refused(client, webhook_signer, email, age, caplog):
    body = _body(email)
    headers = webhook_signer.headers(body, int(time.time()) - age)
    with caplog.at_level(logging.WARNING):
        assert client.post(URL, data=body, headers=headers).status_code == 403
    assert "timestamp" in caplog.text
    assert _nothing_recorded(email)


def test_timestamp_inside_the_window_is_accepted(client, webhook_signer, email):
    body = _body(email)
    headers = webhook_signer.headers(body, int(time.time()) - 500)
    assert client.post(URL, data=body, headers=headers).status_code == 204


def test_no_key_configured_refuses_and_logs(client, app, email, caplog):
    assert not app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    body = _body(email)
    with caplog.at_level(logging.WARNING):
        response = client.post(URL, data=body, headers=WebhookSigner().headers(body))
    assert response.status_code == 403
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY" in caplog.text
    assert _nothing_recorded(email)


@pytest.mark.parametrize("key", ["not a key", "QUJD", "-----BEGIN PUBLIC KEY-----\n!!\n"])
def test_garbage_configured_key_refuses_without_error(client, app, email, monkeypatch, key):
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", key)
    body = _body(email)
    response = client.post(URL, data=body, headers=WebhookSigner().headers(body))
    assert response.status_code == 403


def test_rsa_key_configured_refuses_without_error(client, app, email, monkeypatch):
    der = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", base64.b64encode(der).decode())
    body = _body(email)
    assert client.post(URL, data=body, headers=WebhookSigner().headers(body)).status_code == 403


def test_signed_body_that_is_not_utf8_is_refused(client, webhook_signer):
    body = b'[{"event": "\xff\xfe"}]'
    assert client.post(URL, data=body, headers=webhook_signer.headers(body)).status_code == 403


def test_oversize_body_is_refused_before_verification(client, webhook_signer):
    body = b"[" + b" " * (1024 * 1024 + 10) + b"]"
    headers = webhook_signer.headers(body)
    assert client.post(URL, data=body, headers=headers).status_code == 413


def test_oversize_chunked_body_is_refused(client, webhook_signer):
    body = b"[" + b" " * (1024 * 1024) + b"]"
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={**webhook_signer.headers(body), "Transfer-Encoding": "chunked"},
        # What gunicorn and the dev server set when they de-chunk the body themselves.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_chunked_body_within_the_cap_is_accepted(client, webhook_signer, email):
    body = _body(email)
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={**webhook_signer.headers(body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 204


class TestVerifyEventSignature:
    """The adapter's verifier, over raw bytes, never raising."""

    def setup_method(self):
        self.signer = WebhookSigner()
        self.body = '[{"event":"delivered","note":"naïve ✓"}]'.encode()
        self.stamp = "1700000000"
        self.signature = self.signer.signature(self.body, self.stamp)

    def test_valid(self):
        assert verify_event_signature(self.signer.public_key, self.body, self.signature, self.stamp)

    def test_pem_key_is_accepted_too(self):
        pem = self.signer.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        assert verify_event_signature(pem.decode(), self.body, self.signature, self.stamp)

    @pytest.mark.parametrize(
        "change",
        [
            {"payload": b"[]"},
            {"timestamp": "1700000001"},
            {"signature": "AAAA"},
            {"signature": ""},
            {"signature": None},
            {"timestamp": ""},
            {"timestamp": None},
            {"payload": "not bytes"},
            {"public_key": ""},
            {"public_key": "%%%"},
        ],
    )
    def test_anything_off_is_false(self, change):
        args = {
            "public_key": self.signer.public_key,
            "payload": self.body,
            "signature": self.signature,
            "timestamp": self.stamp,
        }
        args.update(change)
        assert verify_event_signature(**args) is False


def test_forged_unsubscribe_cannot_silence_a_partner(client, webhook_signer):
    from campaign.models.mail import Suppression

    body = json.dumps(
        [{"event": "spamreport", "email": "ally@group.test", "sg_event_id": "forged-1"}]
    ).encode()
    impostor = WebhookSigner()  # the attacker's own key, not the configured one
    assert client.post(URL, data=body, headers=impostor.headers(body)).status_code == 403
    assert (
        client.post(URL, data=body, headers={"Content-Type": "application/json"}).status_code == 403
    )
    assert db.session.query(Suppression).count() == 0
