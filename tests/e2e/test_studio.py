"""The letter studio in Chromium: live preview, merge-field palette, toolbar and diffs."""

import re

import pytest
from playwright.sync_api import expect

from campaign.services import campaigns
from tests import factories as f

pytestmark = pytest.mark.browser


@pytest.fixture
def studio(app, live_server, browser):
    """An organiser logged in on the letter page of a published campaign with two targets."""
    owner = f.user(email="writer@coalition.example")
    c = f.published(owner)
    campaigns.add_target(
        c,
        owner,
        name="Ravi Sen",
        title="Chair",
        organisation="Beacon Analytics",
        email="chair@beacon.example",
        salutation="Dear Dr Sen",
    )
    f.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []

    def console(message):
        # The browser asks for /favicon.ico on its own; there is none.
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_server}/login")
    page.fill("#email", owner.email)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/c/{c.slug}/letter")
    yield page, c, problems
    context.close()


def _preview_body(page):
    return page.frame_locator("#letter-preview").locator("body")


@pytest.fixture(autouse=True)
def _patient_expect():
    """The live pane renders a real PDF per change: allow for a busy test machine."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=5_000)


def test_typing_updates_the_preview(studio):
    page, _c, problems = studio
    body = page.locator("#body")
    body.click()
    body.press("Control+End")
    body.type("\n\nWe typed this for {{ target.organisation }}.")
    expect(_preview_body(page)).to_contain_text(
        "We typed this for Argus Vision and Beacon Analytics."
    )
    expect(page.locator("#preview-status")).to_contain_text("rendered in")
    # The target switcher re-renders the same unsaved text for one target.
    page.select_option("#preview-target", label="Ravi Sen, Beacon Analytics")
    expect(_preview_body(page)).to_contain_text("Dear Dr Sen,")
    expect(_preview_body(page)).to_contain_text("We typed this for Beacon Analytics.")
    # A template error shows in the preview pane, with its line.
    body.press("Control+End")
    body.type("\n{{ target.nme }}")
    expect(_preview_body(page)).to_contain_text("target.nme is not a merge field")
    expect(_preview_body(page)).to_contain_text("line ")
    expect(page.locator("#preview-status")).to_have_class("small muted is-error")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


def test_palette_inserts_a_field_at_the_cursor(studio):
    page, _c, problems = studio
    body = page.locator("#body")
    body.fill("Hello , welcome.")
    body.evaluate("el => { el.focus(); el.setSelectionRange(6, 6); }")
    page.click("button.chip:has-text('target.name')")
    expect(body).to_have_value("Hello {{ target.name }}, welcome.")
    # The cursor is after the inserted field, so a second field follows it.
    page.click("button.chip:has-text('campaign.title')")
    expect(body).to_have_value("Hello {{ target.name }}{{ campaign.title }}, welcome.")
    expect(_preview_body(page)).to_contain_text("Hello Jordan Vale and Ravi Sen")
    assert not problems, problems


def test_toolbar_formats_the_selection(studio):
    page, _c, _problems = studio
    body = page.locator("#body")
    body.fill("Please stop now.\nFirst\nSecond")
    body.evaluate("el => { el.focus(); el.setSelectionRange(7, 11); }")
    page.click("[data-tool=bold]")
    expect(body).to_have_value("Please **stop** now.\nFirst\nSecond")
    # The pane shows the PDF's pages as pictures, with their words laid over them.
    expect(_preview_body(page)).to_contain_text("Please stop now.", timeout=20_000)
    body.evaluate("el => { el.focus(); el.setSelectionRange(21, el.value.length); }")
    page.click("[data-tool=ul]")
    expect(body).to_have_value("Please **stop** now.\n- First\n- Second")
    body.evaluate("el => { el.focus(); el.setSelectionRange(el.value.length, el.value.length); }")
    page.click("[data-tool=footnote]")
    expect(body).to_have_value(
        "Please **stop** now.\n- First\n- Second[^1]\n\n[^1]: The footnote text.\n"
    )
    # Ctrl+Z undoes a toolbar edit like typing.
    body.press("Control+z")
    body.press("Control+z")
    expect(body).to_have_value("Please **stop** now.\n- First\n- Second")


def test_diff_view_shows_a_saved_change(studio, live_server):
    page, c, problems = studio
    body = page.locator("#body")
    body.fill(body.input_value().replace("to stop\nselling", "to end\nselling"))
    page.click("button:has-text('Save draft')")
    expect(page.locator(".alert-success")).to_contain_text("Draft of version 2 saved")
    page.click("text=Versions and changes")
    expect(page.locator(".diff-body del")).to_have_text("stop")
    expect(page.locator(".diff-body ins")).to_have_text("end")
    expect(page.locator(".diff-summary")).to_contain_text("1 word added")
    # Restore version 1 as a new draft, then compare it with version 2.
    page.locator("#v1 button:has-text('Restore as a new draft')").click()
    expect(page.locator(".alert-success")).to_contain_text("restored as the draft of version 3")
    page.goto(f"{live_server}/c/{c.slug}/letter/versions?from=2&to=3")
    expect(page.locator(".diff-body del")).to_have_text("end")
    expect(page.locator(".diff-body ins")).to_have_text("stop")
    assert not problems, problems


def test_revising_a_signed_letter_collects_a_reconfirmation_in_the_browser(
    studio, live_server, browser
):
    import re

    from campaign.extensions import db
    from campaign.models import OutboundEmail, Signature

    page, c, problems = studio
    owner = c.members[0].user
    partner = f.sign(c, owner, f.partner(c, owner, name="Harbor City Copwatch"))
    page.reload()
    page.fill("#body", page.input_value("#body").replace("to stop", "to stop at once"))
    page.click("button:has-text('Save draft')")
    expect(page.locator(".reconsent-note")).to_contain_text(
        "1 organisation signed an earlier version; publishing asks it to re-confirm."
    )
    # Publishing warns first how the count on the letter changes (issue 11, A4).
    expect(page.locator(".publish-effect")).to_contain_text(
        "Signatories on the letter: 1 → 0 until they re-confirm."
    )
    page.click("button:has-text('Publish version 2')")
    expect(page.locator("body")).to_contain_text("Version 2 is published")

    db.session.expire_all()
    email = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "reconsent"))
    assert "{+ at once+}" in email.text_body
    link = re.search(r"http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]+", email.text_body).group(0)
    signer = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    signer.goto(link)
    expect(signer.locator(".diff-body ins")).to_have_text(" at once")
    signer.click("button:has-text('I still sign')")
    expect(signer.locator("body")).to_contain_text("version 2")
    db.session.expire_all()
    sig = db.session.scalar(
        db.select(Signature).where(Signature.organisation == partner.organisation)
    )
    assert [h.how for h in sig.history] == ["signed", "reconfirmed"]
    assert sig.letter_version.number == 2
    assert problems == []


def _text_near(page, text: str):
    """The live pane's text run holding `text`: its page's height and its top, in points."""
    run = page.frame_locator("#letter-preview").locator("svg.sheet text", has_text=text).first
    expect(run).to_be_attached(timeout=20_000)
    return run.evaluate(
        "t => ({top: Number(t.dataset.top), height: t.ownerSVGElement.viewBox.baseVal.height,"
        " page: Number(t.ownerSVGElement.dataset.page)})"
    )


def test_the_live_pane_shows_the_pdf_pages(studio):
    """Issue 11, E31: footnotes at the foot of the page, the footer, pages; not brackets."""
    page, _c, problems = studio
    body = page.locator("#body")
    body.click()
    body.press("Control+Home")
    body.type("Our first point.[^9]\n\n")
    body.press("Control+End")
    body.type("\n\n[^9]: A footnote typed in the studio.\n")
    expect(page.locator("#preview-status")).to_contain_text("rendered in", timeout=20_000)
    note = _text_near(page, "A footnote typed in the studio.")
    # At the foot of its page, not inline in brackets after the sentence.
    assert note["top"] > 0.6 * note["height"], note
    frame = page.frame_locator("#letter-preview")
    expect(frame.locator("svg.sheet text", has_text="[A footnote")).to_have_count(0)
    # Every page has its footer: "Page 1 of N" near the bottom, and the verification line.
    footer = _text_near(page, "Page 1 of")
    assert footer["top"] > 0.85 * footer["height"] and footer["page"] == 1, footer
    assert _text_near(page, "Verify:")["top"] > 0.85 * footer["height"]
    pages = frame.locator("svg.sheet")
    expect(pages.first).to_have_attribute("aria-label", re.compile(r"Page 1 of \d+"))
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
