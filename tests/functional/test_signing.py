import io

from campaign.extensions import db
from campaign.models import OutboundEmail, Signature, SignatureRequest
from tests import factories as f
from tests.helpers.forms import sign_via_link


def test_get_shows_the_letter_and_never_consumes_the_link(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    for _ in range(3):
        resp = client.get(f"/s/{token}")
        assert resp.status_code == 200
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert "Stop selling face surveillance" in resp.get_data(as_text=True)
    letter = client.get(f"/s/{token}/letter").get_data(as_text=True)
    assert "Dear Mr Vale" in letter
    req = db.session.scalar(db.select(SignatureRequest))
    assert req.status == "viewed"
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0


def test_signing_records_version_hash_and_sends_confirmation(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = sign_via_link(client, token, logo=(io.BytesIO(f.png()), "logo.png"))
    assert resp.status_code == 302
    sig = db.session.scalar(db.select(Signature))
    assert sig.letter_sha256 == c.versions[0].content_sha256
    assert sig.signer_name == "Amara Okafor"
    assert sig.declaration.startswith("I am authorised")
    assert sig.ip == "127.0.0.1"
    assert sig.logo_sha256 is not None
    confirmation = db.session.scalar(
        db.select(OutboundEmail).where(OutboundEmail.kind == "signed_confirmation")
    )
    assert confirmation.to_email == "amara@dra.example"
    assert f"/s/{token}" in confirmation.text_body
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Digital Rights Alliance has signed" in page


def test_second_submission_updates_instead_of_duplicating(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    sign_via_link(client, token)
    sign_via_link(client, token, signer_title="Co-Director")
    sigs = db.session.scalars(db.select(Signature)).all()
    assert len(sigs) == 1 and sigs[0].signer_title == "Co-Director"
    kinds = db.session.scalars(db.select(OutboundEmail.kind)).all()
    assert kinds.count("signed_confirmation") == 1


def test_missing_declaration_and_bad_email_are_shown_on_fields(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = sign_via_link(client, token, authorised="", signer_email="nope")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert "Tick this box to confirm you may sign." in body
    assert "Invalid email address." in body
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0


def test_letter_changed_while_reading_asks_to_reread(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = sign_via_link(client, token, version_id="999999")
    assert resp.status_code == 400
    assert "please re-read" in resp.get_data(as_text=True)
    resp = sign_via_link(client, token, version_id="not-a-number")
    assert resp.status_code == 400


def test_withdraw_until_close_then_closed(client, app, submit):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    sign_via_link(client, token)
    resp = submit(f"/s/{token}", {}, post_url=f"/s/{token}/withdraw")
    assert resp.status_code == 302
    sig = db.session.scalar(db.select(Signature))
    assert sig.withdrawn_at is not None
    assert sig.request.status == "withdrawn"
    assert "withdrawal_confirmation" in db.session.scalars(db.select(OutboundEmail.kind)).all()
    # Signing again is allowed while open; after closing, nothing changes.
    sign_via_link(client, token)
    from campaign.services.campaigns import close_signing
    from tests.conftest import csrf_from

    csrf = csrf_from(client.get(f"/s/{token}").get_data(as_text=True))
    close_signing(c, u)
    db.session.commit()
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "Signing for this letter has closed." in page
    resp = client.post(f"/s/{token}/withdraw", data={"csrf_token": csrf}, follow_redirects=True)
    assert "contact the organisers" in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(Signature)).withdrawn_at is None
