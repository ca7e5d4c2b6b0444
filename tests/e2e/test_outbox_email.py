"""In Chromium: the Outbox shows an email's HTML part as sent, and nothing in it runs or
calls out (issue 11 E24)."""

import pytest

from campaign.services.blobs import store_blob
from tests import factories as f

pytestmark = pytest.mark.browser

HOSTILE = (
    '<p style="color:#1d4e89">Dear Ms Vale, <b>please</b> read our letter.</p>'
    "<script>alert('script')</script>"
    '<img src="http://tracker.example/pixel.gif" onerror="alert(\'onerror\')">'
    '<p style="background-image:url(http://tracker.example/bg.png)">Signed by 30.</p>'
)


def test_outbox_frames_the_html_as_sent_and_nothing_runs_or_loads(app, live_server, browser):
    owner = f.user()
    c = f.published(owner)
    blob = store_blob(b"%PDF-1.7\n%%EOF\n", "application/pdf")
    email = f.queued_email(
        kind="letter",
        to_email="ceo@target.example",
        subject="Stop selling face surveillance",
        text_body="Dear Ms Vale, please read our letter.",
        html_body=HOSTILE,
        campaign_id=c.id,
        attachment=("letter.pdf", blob.sha256),
    )
    f.commit()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    dialogs, outside = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    context.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server) else None,
    )
    page.goto(f"{live_server}/login")
    page.fill("#email", owner.email)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/c/{c.slug}/outbox/{email.id}")
    frame = page.frame_locator("iframe.email-frame")
    letter = frame.locator("p").first
    letter.wait_for()
    assert "please read our letter" in letter.inner_text()
    assert frame.locator("b").inner_text() == "please"
    colour = letter.evaluate("p => getComputedStyle(p).color")
    assert colour == "rgb(29, 78, 137)"  # the email's own inline style applies
    page.wait_for_timeout(300)
    assert dialogs == [] and outside == []

    with page.expect_download() as download:
        page.click("text=letter.pdf")
    assert download.value.suggested_filename == "letter.pdf"
    context.close()
