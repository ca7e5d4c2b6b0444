"""Targets' replies through SendGrid Inbound Parse: matched, stored, shared, assigned."""

import json
import re

from campaign import jobs
from campaign.extensions import db
from campaign.mail.outbox import queue_email
from campaign.mail.reply_address import reply_address, target_id_from
from campaign.models import (
    Alert,
    AuditEvent,
    Blob,
    InboundReply,
    OutboundEmail,
    Signature,
    Target,
)
from campaign.services import campaigns, delivery
from campaign.services import personal_link_signing as signing
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.inbound import DOMAIN, URL, post_reply, signer

PDF = b"%PDF-1.7\n% the CEO's answer\n%%EOF\n"


def _notices() -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            db.select(OutboundEmail)
            .where(OutboundEmail.kind == "reply_notice")
            .order_by(OutboundEmail.to_email)
        )
    )


def test_delivered_letter_carries_the_target_reply_address(app, inbound):
    u = f.user()
    c = f.published(u)
    f.sign(c, u, f.partner(c, u))
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    f.commit()
    [email] = db.session.scalars(db.select(OutboundEmail).where(OutboundEmail.kind == "letter"))
    target = c.targets[0]
    assert re.fullmatch(rf"reply\+{target.id}\.[0-9a-f]{{16}}@{re.escape(DOMAIN)}", email.reply_to)
    assert email.reply_to == reply_address(target.id)
    assert target_id_from(email.reply_to) == target.id
    # Mail systems may change the case of the local part on the way back.
    assert target_id_from(email.reply_to.upper()) == target.id


def test_without_an_inbound_domain_letters_keep_the_sender_as_reply_address(app):
    u = f.user()
    c = f.published(u)
    f.sign(c, u, f.partner(c, u))
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    f.commit()
    [email] = db.session.scalars(db.select(OutboundEmail).where(OutboundEmail.kind == "letter"))
    assert email.reply_to is None


def test_sendgrid_client_sends_the_reply_to(app, inbound, fake_sendgrid, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", "SG.test")
    monkeypatch.setitem(app.config, "SENDGRID_API_HOST", fake_sendgrid.url)
    address = reply_address(7)
    queue_email(
        kind="letter",
        to_email="ceo@argus.example",
        subject="Our letter",
        text_body="Dear Mr Vale",
        reply_to=address,
    )
    queue_email(kind="invitation", to_email="p@org.example", subject="Sign?", text_body="Please")
    db.session.commit()
    jobs.run_ready()
    bodies = {
        r.body["personalizations"][0]["to"][0]["email"]: r.body for r in fake_sendgrid.requests
    }
    assert bodies["ceo@argus.example"]["reply_to"] == {"email": address}
    assert "reply_to" not in bodies["p@org.example"]


def test_reply_is_stored_on_its_target_and_opted_in_cosigners_are_told(client, app, inbound):
    u = f.user()
    c = f.published(u)
    signer(c, u, "Alpha Liberty", wants_updates=True)
    signer(c, u, "Beta Quiet", wants_updates=False)
    gone = signer(c, u, "Gamma Gone", wants_updates=True)
    signing.withdraw(gone.current_request)
    f.commit()
    target = c.targets[0]

    response = post_reply(
        client,
        to=f"Reply <{reply_address(target.id)}>",
        text="We will review our contracts.\nRegards, Jordan",
        files={"attachment1": ("statement.pdf", "application/pdf", PDF)},
    )

    assert response.status_code == 200
    reply = db.session.scalar(db.select(InboundReply))
    assert (reply.campaign_id, reply.target_id) == (c.id, target.id)
    assert reply.from_email == "ceo@argus.example" and reply.from_name == "Jordan Vale"
    assert reply.subject == "Re: Stop selling face surveillance"
    assert reply.text == "We will review our contracts.\nRegards, Jordan"
    [attachment] = reply.attachments
    assert (attachment.filename, attachment.mime, attachment.size) == (
        "statement.pdf",
        "application/pdf",
        len(PDF),
    )
    assert db.session.get(Blob, attachment.blob_sha256).data == PDF
    responded = db.session.get(Target, target.id).responded_at
    assert responded is not None
    alert = db.session.scalar(db.select(Alert))
    assert alert.kind == "reply" and alert.target_id == target.id and "Jordan Vale" in alert.message
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "target.replied" in actions

    [notice] = _notices()
    assert notice.to_email.startswith("p") and notice.campaign_id == c.id
    assert notice.to_name == "Signer of Alpha Liberty"
    assert notice.partner_id is not None and notice.attachment_sha256 is None
    assert "> We will review our contracts." in notice.text_body
    assert "statement.pdf" in notice.text_body and "Jordan Vale" in notice.text_body

    # A second reply is kept too, but the target responded at the first one.
    assert post_reply(client, to=reply_address(target.id), text="One more thing").status_code == 200
    assert db.session.scalar(db.select(db.func.count(InboundReply.id))) == 2
    assert db.session.get(Target, target.id).responded_at == responded


def test_envelope_recipient_alone_is_enough_to_match(client, app, inbound):
    u = f.user()
    c = f.published(u)
    target = c.targets[0]
    address = reply_address(target.id)
    # The To header names someone else (a forward, a Bcc); the envelope has our address.
    post_reply(
        client,
        to="board@argus.example",
        envelope=json.dumps({"to": [address.upper()], "from": "ceo@argus.example"}),
    )
    assert db.session.scalar(db.select(InboundReply.target_id)) == target.id


def test_html_only_reply_is_kept_as_plain_text(client, app, inbound):
    u = f.user()
    c = f.published(u)
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Thank you.</p>"
        "<p>We <b>will</b> stop &amp; review.<script>alert(1)</script></p></body></html>"
    )
    post_reply(client, to=reply_address(c.targets[0].id), text="", html=html)
    assert db.session.scalar(db.select(InboundReply.text)) == "Thank you.\nWe will stop & review."


def _raw_post(client, fields: dict[str, bytes]):
    """A multipart post built byte by byte, as SendGrid sends fields in their own charset."""
    boundary = "xYzZY"
    body = (
        b"".join(
            b"--"
            + boundary.encode()
            + b'\r\nContent-Disposition: form-data; name="'
            + name.encode()
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
            for name, value in fields.items()
        )
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )
    return client.post(URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_replies_in_other_charsets_keep_their_letters(client, app, inbound):
    u = f.user()
    c = f.published(u)
    address = reply_address(c.targets[0].id).encode()
    text = "Merci. Nous étudions la lettre; Łódź répondra à «Argus» — Jürgen"
    resp = _raw_post(
        client,
        {
            "to": address,
            "from": "Jürgen Groß <ceo@argus.example>".encode("iso-8859-1"),
            "subject": "Re: Überwachung".encode("windows-1252"),
            "text": text.encode("utf-8"),
            "envelope": b'{"to": ["' + address + b'"], "from": "ceo@argus.example"}',
            "charsets": json.dumps(
                {"from": "iso-8859-1", "subject": "windows-1252", "text": "UTF-8", "to": "UTF-8"}
            ).encode(),
        },
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    reply = db.session.scalar(db.select(InboundReply))
    assert reply.target_id == c.targets[0].id
    assert reply.from_name == "Jürgen Groß" and reply.subject == "Re: Überwachung"
    assert reply.text == text

    # A charset Python does not know, or a codec that is no charset, reads as UTF-8.
    resp = _raw_post(
        client,
        {
            "to": address,
            "from": b"ceo@argus.example",
            "subject": "Grüße".encode(),
            "text": "caf\xe9".encode("latin-1"),
            "envelope": b'{"to": ["' + address + b'"], "from": "ceo@argus.example"}',
            "charsets": b'{"subject": "x-unknown-9", "text": "base64"}',
        },
    )
    assert resp.status_code == 200
    latest = db.session.scalar(db.select(InboundReply).order_by(InboundReply.id.desc()))
    assert latest.subject == "Grüße" and latest.text == "caf\ufffd"


def test_forged_or_unknown_reply_addresses_go_to_the_inbox(client, app, inbound):
    u = f.user()
    c = f.published(u)
    target = c.targets[0]
    real = reply_address(target.id)
    forged = real.replace(f"reply+{target.id}.", f"reply+{target.id + 1}.")
    post_reply(client, to=forged)
    post_reply(client, to=reply_address(target.id + 999))  # a valid mac, but no such target
    post_reply(client, to=f"reply+{target.id}.{'0' * 16}@{DOMAIN}")
    post_reply(client, to=real.replace(DOMAIN, "elsewhere.test"))
    rows = db.session.scalars(db.select(InboundReply)).all()
    assert len(rows) == 4
    assert all(r.campaign_id is None and r.target_id is None for r in rows)
    assert db.session.get(Target, target.id).responded_at is None
    assert _notices() == []


def test_replies_page_shows_text_escaped_and_attachments_as_downloads(client, app, inbound):
    u = f.user()
    c = f.published(u)
    post_reply(
        client,
        to=reply_address(c.targets[0].id),
        text="<script>alert('x')</script> We disagree.",
        files={"attachment1": ("note.html", "text/html", b"<script>alert(1)</script>")},
    )
    reply = db.session.scalar(db.select(InboundReply))
    f.login(client, u)
    page = client.get(f"/c/{c.slug}/replies")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    assert "We disagree." in html and "note.html" in html
    assert 'aria-current="page">Replies<' in html
    url = f"/c/{c.slug}/replies/{reply.id}/attachments/{reply.attachments[0].id}"
    assert url in html
    download = client.get(url)
    assert download.status_code == 200
    assert download.data == b"<script>alert(1)</script>"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "note.html" in download.headers["Content-Disposition"]
    assert download.mimetype == "application/octet-stream"
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_assigning_an_unmatched_reply_marks_the_target_and_tells_cosigners(
    client, app, inbound, submit
):
    # Sent to no campaign's reply address, so it is for the admins to place.
    u = f.user(role="admin")
    c = f.published(u)
    signer(c, u, "Alpha Liberty", wants_updates=True)
    target = c.targets[0]
    post_reply(client, to="letters@coalition.test", text="Our answer, sent to the wrong place.")
    reply = db.session.scalar(db.select(InboundReply))
    assert reply.campaign_id is None
    f.login(client, u)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Our answer, sent to the wrong place." in inbox
    field = f"reply{reply.id}-target_id"
    assert f'name="{field}"' in inbox and "Jordan Vale" in inbox

    response = client.post(
        f"/inbox/{reply.id}/assign",
        data={f"reply{reply.id}-csrf_token": _csrf(inbox), field: str(target.id)},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/c/{c.slug}/replies")
    db.session.refresh(reply)
    assert (reply.campaign_id, reply.target_id, reply.assigned_by_id) == (c.id, target.id, u.id)
    assert db.session.get(Target, target.id).responded_at is not None
    assert len(_notices()) == 1
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "reply.assigned" in actions and "target.replied" in actions
    assert "Our answer" in client.get(f"/c/{c.slug}/replies").get_data(as_text=True)
    assert "Our answer" not in client.get("/inbox").get_data(as_text=True)


def test_signing_form_asks_about_updates_and_keeps_the_answer(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Tell us when a target replies, and about follow-ups" in page
    data = {
        "csrf_token": csrf_from(page),
        "version_id": page.split('name="version_id" value="')[1].split('"')[0],
        "organisation": "Digital Rights Alliance",
        "signer_name": "Amara Okafor",
        "signer_email": "amara@dra.example",
        "authorised": "y",
        "wants_updates": "y",
    }
    resp = client.post(f"/s/{token}", data=data, content_type="multipart/form-data")
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Signature.wants_updates)) is True
    # Unticking it on an edit stops the updates.
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert re.search(r'<input checked id="wants_updates"', page)
    del data["wants_updates"]
    data["csrf_token"] = csrf_from(page)
    client.post(f"/s/{token}", data=data, content_type="multipart/form-data")
    assert db.session.scalar(db.select(Signature.wants_updates)) is False


def test_public_sign_up_keeps_the_updates_choice(client, app):
    from campaign.services import public_sign_on as public_signing

    u = f.user()
    c = f.published(u)
    link = public_signing.set_enabled(c, u, True)
    f.commit()
    page = client.get(f"/p/{link.token}").get_data(as_text=True)
    assert "Tell us when a target replies, and about follow-ups" in page
    data = {
        "csrf_token": csrf_from(page),
        "version_id": page.split('name="version_id" value="')[1].split('"')[0],
        "organisation": "Harbor City Copwatch",
        "tier": "local",
        "signer_name": "Rae Lopez",
        "signer_email": "rae@copwatch.example",
        "authorised": "y",
        "wants_updates": "y",
    }
    resp = client.post(f"/p/{link.token}", data=data, content_type="multipart/form-data")
    assert resp.status_code == 200
    assert db.session.scalar(db.select(Signature.wants_updates)) is True


def _csrf(html: str) -> str:
    match = re.search(r'name="reply\d+-csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no assign form"
    return match.group(1)
