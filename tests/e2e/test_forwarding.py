"""In a phone-sized browser: a partner forwards the link, and the colleague signs."""

import re

import pytest

from campaign.extensions import db
from campaign.models import OutboundEmail, Signature
from tests import factories as f

pytestmark = pytest.mark.browser


def test_partner_forwards_to_a_colleague_who_signs(app, live_server, browser):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u, name="Westgate Black Futures")
    token = f.invited(c, u, p)

    phone = browser.new_context(viewport={"width": 360, "height": 800})
    page = phone.new_page()
    page.goto(f"{live_server}/s/{token}")
    page.click("text=Not the right person?")
    page.fill("#colleague_name", "Dana Director")
    page.fill("#colleague_email", "dana@westgate.example")
    page.fill("#note", "Please sign this for us")
    page.click("button:has-text('Send them the link')")
    assert "on its way to Dana Director" in page.content()
    gone = page.goto(f"{live_server}/s/{token}")
    # The forwarded link is dead, and says so in words (issue 11 A2), at phone width.
    assert gone.status == 410 and "This link was passed on" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    db.session.expire_all()
    email = db.session.scalar(
        db.select(OutboundEmail).where(OutboundEmail.to_email == "dana@westgate.example")
    )
    link = re.search(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+", email.text_body).group(0)
    colleague = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    colleague.goto(link)
    assert colleague.input_value("#signer_name") == "Dana Director"
    colleague.fill("#signer_title", "Executive Director")
    colleague.check("#authorised")
    colleague.click("button:has-text('Sign for Westgate Black Futures')")
    assert "Westgate Black Futures has signed" in colleague.content()
    db.session.expire_all()
    assert db.session.scalar(db.select(Signature.signer_name)) == "Dana Director"
