"""On a phone-sized screen, a partner draws their signature with a finger and signs."""

import pytest

from campaign.extensions import db
from campaign.models import Blob, Signature
from tests import factories as f

pytestmark = pytest.mark.browser


def test_partner_draws_a_signature_and_it_is_stored_as_a_checked_png(app, live_server, browser):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u, name="Harbor City Copwatch"))
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    page.goto(f"{live_server}/s/{token}")
    canvas = page.locator(".signature-pad canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box["width"] <= 360  # the pad fits the phone
    # ...and nothing on the page is wider than the screen (no sideways scrolling).
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.mouse.move(box["x"] + 10, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 10 + step * 25, box["y"] + box["height"] / 2 + (step % 3) * 8)
    page.mouse.up()
    page.fill("#signer_name", "Sam Rivera")
    page.check("#authorised")
    page.click("button:has-text('Sign for Harbor City Copwatch')")
    assert "Harbor City Copwatch has signed" in page.content()
    db.session.expire_all()
    sig = db.session.scalar(db.select(Signature))
    blob = db.session.get(Blob, sig.signature_image_sha256)
    assert blob.mime == "image/png" and blob.data.startswith(b"\x89PNG")
