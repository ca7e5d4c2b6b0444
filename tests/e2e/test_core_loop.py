"""The whole loop in a real browser: draft, publish, invite, sign, download the PDF."""

import io
import re

import pytest
from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import OutboundEmail
from tests import factories as f

pytestmark = pytest.mark.browser


def test_organiser_and_partner_walk_the_loop(app, live_server, browser, tmp_path):
    organiser = f.user(email="lead@coalition.example")
    org = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = org.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_server}/login")
    page.fill("#email", organiser.email)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.click("text=New campaign")
    page.fill("#title", "Stop selling face surveillance")
    page.fill("#lead_organisation", "Coalition for Privacy")
    page.fill("#deadline", "2099-01-31T17:00")
    page.click("button:has-text('Create campaign')")

    page.fill("#subject", "Stop selling face surveillance to police")
    page.fill(
        "#body",
        "Dear CEO,\n\nWe, the {{ signatory_count }} undersigned, ask you to stop.\n\nSincerely",
    )
    page.click("button:has-text('Save draft')")
    assert "Draft of version 1 saved" in page.content()
    page.click("button:has-text('Publish version 1')")
    assert "published and open for signatures" in page.content()

    page.click("nav.subnav >> text=Partners")
    page.fill("#organisation", "Digital Rights Alliance")
    page.fill("#contact_email", "amara@dra.example")
    page.click("button:has-text('Add partner')")
    page.click("text=Review and send 1 invitation(s)")
    assert "Dry run: nothing has been sent" in page.content()
    page.click("button:has-text('Send 1 invitation(s) now')")
    assert "1 invitation(s) queued" in page.content()

    page.click("nav.subnav >> text=Outbox")
    page.click("text=Will Digital Rights Alliance co-sign?")
    # The Outbox hides personal links; the partner's link is the one in the email itself.
    assert "/s/•••• (personal link, hidden)" in page.inner_text("pre")
    db.session.expire_all()
    email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "invitation"))
    link = re.search(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+", email.text_body).group(0)

    partner = browser.new_context(viewport={"width": 360, "height": 800})
    phone = partner.new_page()
    phone.goto(link)
    assert "Sign the letter" in phone.content()
    phone.fill("#signer_name", "Amara Okafor")
    phone.fill("#signer_title", "Executive Director")
    phone.check("#authorised")
    phone.click("button:has-text('Sign for Digital Rights Alliance')")
    assert "Digital Rights Alliance has signed" in phone.content()
    partner.close()

    page.goto(f"{live_server}/c/stop-selling-face-surveillance")
    assert "1 of 1 partners have signed" in page.content()
    with page.expect_download() as download:
        page.click("text=Download signed PDF")
    pdf = tmp_path / "letter.pdf"
    download.value.save_as(pdf)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "Digital Rights Alliance" in text
    assert "Amara Okafor" in text
    org.close()
