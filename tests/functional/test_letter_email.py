"""The delivered letter's email: an HTML part with endnotes beside the plain-text part."""

from campaign.extensions import db
from campaign.models import OutboundEmail
from campaign.services import campaigns, delivery
from tests import factories as f


def _deliver(c, u):
    p = f.partner(c, u, name="Alpha Liberty")
    f.sign(c, u, p)
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    f.commit()
    return db.session.scalars(
        db.select(OutboundEmail).where(OutboundEmail.kind == "letter").order_by(OutboundEmail.id)
    ).all()


def test_letter_email_has_html_with_endnotes_and_a_text_part(app):
    u = f.user()
    c = f.published(u)
    (email,) = _deliver(c, u)
    html = email.html_body
    assert html.startswith("<!doctype html>")
    assert "Dear Mr Vale," in html
    # The footnote is an endnote list at the end, with a numbered reference in the text.
    assert 'class="footnote-ref" href="#fn:1"' in html
    notes = html.split('<div class="footnote">', 1)[1]
    assert "<ol>" in notes and '<li id="fn:1">' in notes
    assert "Independent audits found higher error rates for darker-skinned women." in notes
    assert 'class="footnote"' not in html.split('<div class="footnote">', 1)[0].replace(
        'class="footnote-ref"', ""
    )  # not the print layout's inline footnote spans
    assert "The signed letter, with all 1 signatory organisations, is attached" in html
    # The text part is unchanged: plain text, the same merged letter.
    assert "Dear Mr Vale," in email.text_body and "<" not in email.text_body
    assert "Independent audits found" in email.text_body
    assert email.attachment_sha256


def test_merge_values_cannot_inject_html_into_the_email(app):
    u = f.user()
    c = f.published(u)
    target = c.targets[0]
    target.organisation = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    target.name = "<b>Vale</b>"
    db.session.commit()
    (email,) = _deliver(c, u)
    html = email.html_body
    # Shown as text, never as markup.
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img" in html
