"""Re-consent rules: who counts on the letter, re-confirming, and the mail that asks."""

import io
import re

import pytest
from pypdf import PdfReader

from campaign.errors import Conflict, Invalid
from campaign.extensions import db
from campaign.letters.document import letter_html
from campaign.mail.suppression import unsubscribe
from campaign.models import OutboundEmail, Signature
from campaign.services import letters, reconsent
from campaign.services import personal_link_signing as signing
from campaign.services.rendering import letter_pdf, pdf_data
from tests import factories as f

NEW_BODY = f.BODY.replace("to police.", "to any police force.")


def _revise(c, u, body=NEW_BODY):
    letters.save_draft(c, u, subject="Stop selling face surveillance", body=body)
    letters.publish(c, u)
    f.commit()


def _new_token(sig):
    mail = db.session.scalar(
        db.select(OutboundEmail)
        .where(OutboundEmail.kind == "reconsent", OutboundEmail.to_email == sig.signer_email)
        .order_by(OutboundEmail.id.desc())
    )
    return re.search(r"/s/([A-Za-z0-9_-]+)", mail.text_body).group(1)


def _reconfirm(c, sig):
    req = signing.resolve(_new_token(sig))
    reconsent.reconfirm(req, letters.published_version(c).id, link_url="http://x/s/t")
    f.commit()


def _html(c):
    return letter_html(letters.letter_data(c, letters.published_version(c)))


def _setup(app, **sign_fields):
    u = f.user()
    c = f.published(u)
    p = f.sign(c, u, f.partner(c, u, name="Pending Rights Org"), **sign_fields)
    f.sign(c, u, f.partner(c, u, name="Steady Org"))
    return u, c, p


def test_plain_diff_marks_removed_and_added_words():
    text = reconsent.plain_diff("stop selling to police", "stop licensing to police")
    assert text == "stop [-selling-]{+licensing+} to police"


def test_pending_signer_is_left_off_until_reconfirmed(app):
    u, c, p = _setup(app)
    _revise(c, u)
    # Steady Org re-confirms too, so only the pending one differs.
    steady = db.session.scalar(db.select(Signature).where(Signature.organisation == "Steady Org"))
    _reconfirm(c, steady)
    html = _html(c)
    assert "Steady Org" in html and "Pending Rights Org" not in html
    data = letters.letter_data(c, letters.published_version(c))
    assert data["unlisted_signatories"] == 0 and len(data["signatories"]) == 1
    sig = db.session.scalar(db.select(Signature).where(Signature.organisation == p.organisation))
    assert reconsent.state_label(sig, c) == "signed v1 · pending re-confirmation of v2"
    _reconfirm(c, sig)
    assert "Pending Rights Org" in _html(c)
    assert reconsent.state_label(sig, c) == "re-confirmed v2"
    assert reconsent.pending(sig, c) is None


def test_private_pending_signer_is_not_counted(app):
    u, c, _ = _setup(app, visibility="private")
    _revise(c, u)
    data = letters.letter_data(c, letters.published_version(c))
    assert data["unlisted_signatories"] == 0


def test_listing_earlier_signers_marks_them(app):
    u, c, _ = _setup(app)
    _revise(c, u)
    c.list_earlier_signers = True
    f.commit()
    rows = {s["organisation"]: s for s in letters.signatory_dicts(c)}
    assert rows["Pending Rights Org"]["earlier_version"] == 1
    assert rows["Steady Org"]["earlier_version"] == 1
    steady = db.session.scalar(db.select(Signature).where(Signature.organisation == "Steady Org"))
    _reconfirm(c, steady)
    rows = {s["organisation"]: s for s in letters.signatory_dicts(c)}
    assert rows["Steady Org"]["earlier_version"] is None
    assert rows["Pending Rights Org"]["earlier_version"] == 1


def test_draft_preview_counts_against_the_published_version(app):
    u, c, _ = _setup(app)
    letters.save_draft(c, u, subject="Stop selling face surveillance", body=NEW_BODY)
    f.commit()
    preview = letters.letter_data(c, letters.latest_version(c))
    assert len(preview["signatories"]) == 2  # both signed the published version 1
    assert len(reconsent.publish_recipients(c)) == 2
    letters.publish(c, u)
    f.commit()
    assert reconsent.publish_recipients(c) == []


def test_real_pdf_lists_the_signer_again_after_reconfirming(app):
    u, c, _ = _setup(app)
    _revise(c, u)

    def pdf_text():
        pdf = letter_pdf(pdf_data(c, letters.published_version(c)))
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    assert "Pending Rights Org" not in pdf_text()
    sig = db.session.scalar(
        db.select(Signature).where(Signature.organisation == "Pending Rights Org")
    )
    _reconfirm(c, sig)
    assert "Pending Rights Org" in pdf_text()


def test_reconfirm_guards(app):
    u, c, p = _setup(app)
    sig = db.session.scalar(db.select(Signature).where(Signature.organisation == p.organisation))
    _revise(c, u)
    req = signing.resolve(_new_token(sig))
    with pytest.raises(Invalid, match="re-read"):
        reconsent.reconfirm(req, c.versions[0].id, link_url="x")
    c.status = "closed"
    with pytest.raises(Conflict):
        reconsent.reconfirm(req, letters.published_version(c).id, link_url="x")
    db.session.rollback()
    signing.withdraw(req)
    with pytest.raises(Conflict, match="no signature"):
        reconsent.reconfirm(req, letters.published_version(c).id, link_url="x")
    db.session.rollback()


def test_reconfirming_twice_is_refused_clearly(app):
    u, c, p = _setup(app)
    sig = db.session.scalar(db.select(Signature).where(Signature.organisation == p.organisation))
    _revise(c, u)
    req = signing.resolve(_new_token(sig))
    reconsent.reconfirm(req, letters.published_version(c).id, link_url="x")
    with pytest.raises(Conflict, match="already counts for version 2"):
        reconsent.reconfirm(req, letters.published_version(c).id, link_url="x")
    db.session.rollback()


def test_suppressed_signer_keeps_the_old_link_and_gets_no_mail(app):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    f.sign(c, u, p, token=token)
    unsubscribe(p.contact_email)
    f.commit()
    _revise(c, u)
    mail = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "reconsent"))
    assert mail.status == "suppressed"
    assert "/s/" not in mail.text_body
    # No new link could reach them, so the one they have keeps working.
    assert signing.resolve(token).signature is not None


def test_first_publish_and_no_signers_ask_nobody(app):
    u = f.user()
    c = f.published(u)
    _revise(c, u)
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.kind == "reconsent")
        )
        == 0
    )
