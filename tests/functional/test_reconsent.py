"""Re-consent through the browser: the signer's panel, its buttons and the partner list."""

import re

from campaign.extensions import db
from campaign.models import AuditEvent, OutboundEmail, Signature
from campaign.services import letters
from tests import factories as f
from tests.conftest import csrf_from

NEW_BODY = f.BODY.replace("to police.", "to any police force.").replace("Independent ", "")


def _revise(c, u, body=NEW_BODY):
    letters.save_draft(c, u, subject="Stop selling face surveillance", body=body)
    letters.publish(c, u)
    f.commit()


def _signed_then_revised(c, u):
    """A partner signs version 1, then version 2 is published; return both tokens."""
    p = f.partner(c, u, name="Digital Rights Alliance")
    old_token = f.invited(c, u, p)
    f.sign(c, u, p, token=old_token)
    _revise(c, u)
    mail = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "reconsent"))
    new_token = re.search(r"/s/([A-Za-z0-9_-]+)", mail.text_body).group(1)
    return old_token, new_token, mail


def _page(client, token):
    resp = client.get(f"/s/{token}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_publishing_a_change_mails_the_diff_and_the_same_working_link(client, app):
    u = f.user()
    c = f.published(u)
    old_token, new_token, mail = _signed_then_revised(c, u)
    assert mail.to_email == db.session.scalar(db.select(Signature.signer_email))
    assert "{+any +}police{+ force+}" in mail.text_body
    assert "[- Independent-]" in mail.text_body
    assert "<ins>any </ins>" in mail.html_body and "<del> Independent</del>" in mail.html_body
    assert f"http://127.0.0.1:5000/s/{new_token}" in mail.text_body
    # The email carries the link the signer already has: every link they were sent works.
    assert new_token == old_token
    assert client.get(f"/s/{new_token}").status_code == 200
    sig = db.session.scalar(db.select(Signature))
    assert sig.request.signature is sig
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert "signature.reconsent_requested" in actions


def test_page_shows_the_changes_and_get_changes_nothing(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    for _ in range(2):
        page = _page(client, token)
    assert "The letter changed after you signed version 1" in page
    assert "<ins>any </ins>" in page and "<del> Independent</del>" in page
    assert "I still sign" in page and "Withdraw my signature" in page
    assert f'action="/s/{token}/reconfirm"' in page
    sig = db.session.scalar(db.select(Signature))
    assert sig.letter_version.number == 1 and len(sig.history) == 1


def test_reconfirm_without_csrf_is_refused(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    version_id = letters.published_version(c).id
    resp = client.post(f"/s/{token}/reconfirm", data={"version_id": version_id})
    assert resp.status_code == 400
    assert db.session.scalar(db.select(Signature)).letter_version.number == 1


def test_reconfirm_moves_the_signature_and_keeps_the_old_hash(client, app):
    u = f.user()
    c = f.published(u)
    v1_sha = c.versions[0].content_sha256
    _, token, _ = _signed_then_revised(c, u)
    page = _page(client, token)
    version_id = page.split('name="version_id" value="')[1].split('"')[0]
    resp = client.post(
        f"/s/{token}/reconfirm", data={"csrf_token": csrf_from(page), "version_id": version_id}
    )
    assert resp.status_code == 302
    sig = db.session.scalar(db.select(Signature))
    v2 = letters.published_version(c)
    assert sig.letter_version_id == v2.id and sig.letter_sha256 == v2.content_sha256
    assert [(h.letter_sha256, h.how) for h in sig.history] == [
        (v1_sha, "signed"),
        (v2.content_sha256, "reconfirmed"),
    ]
    after = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "still signs, now for version 2" in after
    assert "The letter changed after you signed" not in after
    kinds = db.session.scalars(db.select(OutboundEmail.kind)).all()
    assert "reconfirmed" in kinds
    event = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.action == "signature.reconfirmed")
    )
    assert event.details["letter_sha256"] == v2.content_sha256


def test_reconfirm_of_a_stale_version_asks_to_reread(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    page = _page(client, token)
    resp = client.post(
        f"/s/{token}/reconfirm",
        data={"csrf_token": csrf_from(page), "version_id": c.versions[0].id},
        follow_redirects=True,
    )
    assert "the letter was updated while you were reading; please re-read it" in resp.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(Signature)).letter_version.number == 1


def test_withdraw_from_the_panel(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    page = _page(client, token)
    resp = client.post(f"/s/{token}/withdraw", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert db.session.scalar(db.select(Signature)).withdrawn_at is not None
    after = _page(client, token)
    assert "The letter changed after you signed" not in after


def test_partner_list_shows_pending_then_reconfirmed(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    f.login(client, u)
    listing = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "signed v1 · pending re-confirmation of v2" in listing
    page = _page(client, token)
    client.post(
        f"/s/{token}/reconfirm",
        data={"csrf_token": csrf_from(page), "version_id": letters.published_version(c).id},
    )
    listing = client.get(f"/c/{c.slug}/partners").get_data(as_text=True)
    assert "re-confirmed v2" in listing and "pending re-confirmation" not in listing


def test_a_version_of_another_campaign_is_refused(client, app):
    u = f.user()
    c = f.published(u)
    _, token, _ = _signed_then_revised(c, u)
    other = f.published(u, title="Another letter")
    _revise(other, u)
    page = _page(client, token)
    resp = client.post(
        f"/s/{token}/reconfirm",
        data={"csrf_token": csrf_from(page), "version_id": letters.published_version(other).id},
        follow_redirects=True,
    )
    assert "please re-read it" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(Signature)).letter_version.number == 1
    assert client.post("/s/not-a-real-token/reconfirm").status_code in (400, 404)


def test_the_studio_lists_who_publishing_will_ask_to_reconfirm(client, app, submit):
    from tests import factories as fac

    u = fac.user()
    c = fac.published(u)
    fac.sign(c, u, fac.partner(c, u, name="Harbor City Copwatch"))
    fac.login(client, u)
    submit(f"/c/{c.slug}/letter", {"subject": "Stop it", "body": "A changed letter."})
    html = client.get(f"/c/{c.slug}/letter").get_data(as_text=True)
    assert "Who gets the re-confirmation email" in html
    assert "Harbor City Copwatch: Signer of Harbor City Copwatch" in html
