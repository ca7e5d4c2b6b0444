"""The inbound reply endpoint and the reply pages against forged, oversized and foreign input."""

import io
import json
import re

import pytest
from werkzeug.test import encode_multipart

from campaign.extensions import db
from campaign.mail import inbound as inbound_parse
from campaign.mail.reply_address import reply_address
from campaign.models import Blob, InboundReply, Target
from campaign.services import campaigns, inbox
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.inbound import DOMAIN, SECRET, URL, post_reply


@pytest.fixture
def inbound(app, monkeypatch):
    """Inbound Parse configured with a small body cap, so size tests stay quick."""
    monkeypatch.setitem(app.config, "INBOUND_DOMAIN", DOMAIN)
    monkeypatch.setitem(app.config, "INBOUND_SECRET", SECRET)
    monkeypatch.setitem(app.config, "INBOUND_MAX_BYTES", 64 * 1024)


def _count() -> int:
    return db.session.scalar(db.select(db.func.count(InboundReply.id)))


def _fields(**extra) -> dict:
    return {
        "to": "someone@example.test",
        "from": "x@example.test",
        "subject": "hello",
        "text": "hi",
        "envelope": json.dumps({"to": ["someone@example.test"], "from": "x@example.test"}),
        **extra,
    }


def test_without_a_configured_secret_every_post_is_refused(client, app, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "INBOUND_SECRET", None)
    for secret in ("", "None", SECRET):
        response = client.post(
            f"/webhooks/sendgrid/inbound/{secret or 'x'}",
            data=_fields(),
            content_type="multipart/form-data",
        )
        assert response.status_code == 403
        assert response.get_data(as_text=True) == "forbidden\n"
    assert _count() == 0
    assert "INBOUND_SECRET is not set" in caplog.text


def test_wrong_or_missing_secret_is_refused_without_saying_why(client, app, inbound):
    for secret in ("wrong", SECRET[:-1], SECRET + "x", SECRET.upper()):
        response = client.post(
            f"/webhooks/sendgrid/inbound/{secret}",
            data=_fields(),
            content_type="multipart/form-data",
        )
        # The same answer as "not configured": a prober learns nothing about the setup.
        assert response.status_code == 403
        assert response.get_data(as_text=True) == "forbidden\n"
    missing = client.post(
        "/webhooks/sendgrid/inbound", data=_fields(), content_type="multipart/form-data"
    )
    assert missing.status_code == 404
    assert client.get(URL).status_code == 405
    assert _count() == 0


def test_endpoint_needs_no_csrf_token(client, app, inbound):
    assert client.post(URL, data=_fields(), content_type="multipart/form-data").status_code == 200
    assert _count() == 1


def test_oversize_body_is_refused_before_parsing(client, app, inbound):
    big = _fields(text="x" * (64 * 1024))
    response = client.post(URL, data=big, content_type="multipart/form-data")
    assert response.status_code == 413
    assert _count() == 0


def test_oversize_chunked_body_is_refused(client, app, inbound):
    boundary, body = encode_multipart(_fields(text="x" * (64 * 1024)))
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
        # What gunicorn and the dev server set when they de-chunk the body themselves.
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert _count() == 0


def test_chunked_body_within_the_cap_is_accepted(client, app, inbound):
    boundary, body = encode_multipart(_fields(text="short and chunked"))
    response = client.post(
        URL,
        input_stream=io.BytesIO(body),
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert db.session.scalar(db.select(InboundReply.text)) == "short and chunked"


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data; boundary=xyz", b"garbage, not multipart", "no 'envelope'"),
        ("multipart/form-data", b"--x\r\nno boundary given\r\n", "no 'envelope'"),
        ("application/json", b'{"to": "x"}', "expected multipart/form-data"),
        ("text/plain", b"hello", "expected multipart/form-data"),
    ],
)
def test_malformed_bodies_are_bad_requests(client, app, inbound, content_type, body, reason):
    response = client.post(URL, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert reason in response.get_data(as_text=True)
    assert _count() == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"envelope": "{not json"}, "envelope: is not valid JSON"),
        ({"envelope": "[1, 2]"}, "envelope: must be a JSON object"),
        ({"envelope": '{"to": [1, 2]}'}, "envelope: 'to' must be a list"),
        ({"envelope": '{"to": {"a": "b"}}'}, "envelope: 'to' must be a list"),
        ({"envelope": "[" * 30_000}, "envelope: is not valid JSON"),
        ({"attachment-info": "{broken"}, "attachment-info: is not valid JSON"),
        ({"attachment-info": '"a string"'}, "attachment-info: must be a JSON object"),
        ({"email": "From: x\r\n\r\nraw", "text": "", "html": ""}, "raw MIME"),
    ],
)
def test_malformed_fields_are_bad_requests_not_errors(client, app, inbound, fields, reason):
    response = client.post(URL, data=_fields(**fields), content_type="multipart/form-data")
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert _count() == 0


def test_odd_but_harmless_input_is_stored_cleanly(client, app, inbound):
    c = f.published(f.user())
    target = c.targets[0]
    response = post_reply(
        client,
        to=f"=?utf-8?q?broken <<<{reply_address(target.id)}",
        text="nul\x00 byte and \x07bell",
        subject="s\x00" + "ü" * 400,
        envelope=json.dumps({"to": reply_address(target.id), "from": 5}),
        **{"from": "\x00<<<>>>"},
        files={"attachment1": ("../../etc/passwd", "not a mime type", b"root:x:0:0")},
    )
    assert response.status_code == 200
    reply = db.session.scalar(db.select(InboundReply))
    assert reply.target_id == target.id
    assert reply.text == "nul byte and bell"
    assert len(reply.subject) == 300 and "\x00" not in reply.subject
    [attachment] = reply.attachments
    assert attachment.filename == "passwd"
    assert attachment.mime == "application/octet-stream"


def test_attachments_are_capped_in_number_and_size(client, app, inbound, monkeypatch):
    monkeypatch.setattr(inbound_parse, "MAX_ATTACHMENTS", 2)
    monkeypatch.setattr(inbound_parse, "MAX_ATTACHMENT_BYTES", 100)
    files = {
        "attachment1": ("small.txt", "text/plain", b"a" * 10),
        "attachment2": ("huge.bin", "application/octet-stream", b"b" * 101),
        "attachment3": ("second.txt", "text/plain", b"c" * 10),
        "attachment4": ("third.txt", "text/plain", b"d" * 10),
    }
    assert post_reply(client, to="x@example.test", files=files).status_code == 200
    reply = db.session.scalar(db.select(InboundReply))
    assert [a.filename for a in reply.attachments] == ["small.txt", "second.txt"]
    assert reply.text.endswith("[Not kept (too many or too large): huge.bin, third.txt]")


def test_an_attachment_claiming_to_be_an_image_is_never_served_as_one(client, app, inbound):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    files = {"attachment1": ("logo.svg", "image/svg+xml", svg)}
    post_reply(client, to="x@example.test", files=files)
    attachment = db.session.scalar(db.select(InboundReply)).attachments[0]
    assert attachment.mime == "image/svg+xml"  # shown to organisers as what it claims to be
    assert db.session.get(Blob, attachment.blob_sha256).mime == "application/octet-stream"
    # The public logo route serves images only; this blob is not one.
    assert client.get(f"/blobs/{attachment.blob_sha256}").status_code == 404


def test_replies_and_attachments_are_visible_only_inside_their_campaign(client, app, inbound):
    owner, stranger, co_lead = f.user(), f.user(), f.user()
    c = f.published(owner)
    theirs = f.published(stranger, title="Another campaign")
    campaigns.add_member(c, co_lead, role="co_lead")
    f.commit()
    files = {"attachment1": ("secret.pdf", "application/pdf", b"%PDF-1.7 secret")}
    post_reply(client, to=reply_address(c.targets[0].id), text="Confidential answer", files=files)
    reply = db.session.scalar(db.select(InboundReply))
    url = f"/c/{c.slug}/replies/{reply.id}/attachments/{reply.attachments[0].id}"

    assert client.get(url).status_code == 302  # to the login page
    f.login(client, stranger)
    assert client.get(f"/c/{c.slug}/replies").status_code == 404
    assert client.get(url).status_code == 404
    # The stranger's own campaign in the URL does not unlock another campaign's file.
    own = f"/c/{theirs.slug}/replies/{reply.id}/attachments/{reply.attachments[0].id}"
    assert client.get(own).status_code == 404
    assert "Confidential" not in client.get(f"/c/{theirs.slug}/replies").get_data(as_text=True)
    colead_browser = app.test_client()
    f.login(colead_browser, co_lead)
    assert colead_browser.get(f"/c/{c.slug}/replies").status_code == 404
    assert colead_browser.get(url).status_code == 404
    owner_browser = app.test_client()
    f.login(owner_browser, owner)
    assert owner_browser.get(url).status_code == 200
    wrong_reply = f"/c/{c.slug}/replies/{reply.id + 1}/attachments/{reply.attachments[0].id}"
    assert owner_browser.get(wrong_reply).status_code == 404


def test_inbox_shows_no_attachments_and_is_closed_to_staff(client, app, inbound):
    files = {"attachment1": ("private-memo.pdf", "application/pdf", b"%PDF-1.7 memo")}
    post_reply(client, to="x@example.test", text="Unmatched answer", files=files)
    reply = db.session.scalar(db.select(InboundReply))
    assert client.get("/inbox").status_code == 302
    staff = f.user(role="staff")
    f.login(client, staff)
    assert client.get("/inbox").status_code == 403
    assert client.post(f"/inbox/{reply.id}/assign").status_code in (400, 403)
    admin = app.test_client()
    f.login(admin, f.user(role="admin"))
    page = admin.get("/inbox").get_data(as_text=True)
    # The list names no file; the reply's own page offers it (test_inbox_scope.py).
    assert "Unmatched answer" in page and "private-memo.pdf" not in page


def _inbox_token(client) -> str:
    page = client.get("/inbox").get_data(as_text=True)
    match = re.search(r'name="reply\d+-csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no assign form on the inbox page"
    return match.group(1)


def test_assigning_needs_csrf_and_an_organiser_of_that_campaign(client, app, inbound):
    # The reply names no campaign, so only an admin may place it; a stranger gets 404.
    owner, stranger = f.user(role="admin"), f.user()
    c = f.published(owner)
    f.published(stranger, title="Stranger's campaign")
    target = c.targets[0]
    post_reply(client, to="x@example.test", text="Whose is this?")
    reply = db.session.scalar(db.select(InboundReply))
    field = f"reply{reply.id}-target_id"

    f.login(client, owner)
    no_token = client.post(f"/inbox/{reply.id}/assign", data={field: str(target.id)})
    assert no_token.status_code == 400
    forged = client.post(
        f"/inbox/{reply.id}/assign",
        data={f"reply{reply.id}-csrf_token": "forged", field: str(target.id)},
    )
    assert forged.status_code == 400

    client = app.test_client()
    f.login(client, stranger)
    token = csrf_from(client.get("/inbox").get_data(as_text=True))
    attempt = client.post(
        f"/inbox/{reply.id}/assign",
        data={f"reply{reply.id}-csrf_token": token, field: str(target.id)},
    )
    assert attempt.status_code == 404
    db.session.refresh(reply)
    assert reply.campaign_id is None
    assert db.session.get(Target, target.id).responded_at is None

    # And the service refuses even when handed the id directly.
    from campaign.errors import NotFound

    with pytest.raises(NotFound):
        inbox.assign(reply.id, target.id, stranger)
    db.session.rollback()


def test_an_assigned_reply_cannot_be_moved_from_the_inbox(client, app, inbound):
    owner = f.user(role="admin")
    c = f.published(owner)
    other = f.published(owner, title="Second campaign")
    post_reply(client, to=reply_address(c.targets[0].id), text="Matched already")
    reply = db.session.scalar(db.select(InboundReply))
    f.login(client, owner)
    # No form for it: the inbox lists only unmatched replies. Posting anyway is refused.
    page = client.get("/inbox").get_data(as_text=True)
    assert "Matched already" not in page
    post_reply(client, to="x@example.test", text="Unmatched")
    token = _inbox_token(client)
    response = client.post(
        f"/inbox/{reply.id}/assign",
        data={
            f"reply{reply.id}-csrf_token": token,
            f"reply{reply.id}-target_id": other.targets[0].id,
        },
        follow_redirects=True,
    )
    assert "already been assigned" in response.get_data(as_text=True)
    db.session.refresh(reply)
    assert reply.campaign_id == c.id
