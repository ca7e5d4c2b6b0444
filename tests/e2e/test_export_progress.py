"""The export page follows its job in the browser: the bar moves, then the file is offered."""

import threading

import pytest
from playwright.sync_api import expect

from campaign.extensions import db
from campaign.models import ExportRun
from campaign.services import export_jobs as export_runs
from tests import factories as f
from tests.helpers.campaigns import two_targets_three_signers

pytestmark = pytest.mark.browser


def _work(app, run_id: int) -> None:
    with app.app_context():
        export_runs.build(db.session.get(ExportRun, run_id), db.session.commit)
        db.session.commit()


def test_progress_bar_follows_the_job_and_the_page_offers_the_zip(app, live_server, browser):
    u, c = two_targets_three_signers()
    run = export_runs.start_export(c, u)
    db.session.commit()  # queued: no worker runs in this test until we say so
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/login")
    page.fill("#email", u.email)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server}/c/{c.slug}/exports/{run.id}")
    assert page.locator("progress").get_attribute("value") == "0"
    assert page.locator("text=Check again").is_hidden()  # the script polls instead

    # The job moves on; the page shows it without a reload.
    run = db.session.get(ExportRun, run.id)
    run.status, run.done, run.step = "running", 1, "Making the signed PDF for Renata Solis"
    db.session.commit()
    expect(page.locator(".export-count")).to_have_text("1 of 3", timeout=10_000)
    assert page.locator("progress").evaluate("bar => bar.value") == 1
    assert page.locator(".export-step").inner_text() == "Making the signed PDF for Renata Solis"

    # The job finishes; the page reloads into the download.
    run = db.session.get(ExportRun, run.id)
    run.status = "queued"
    db.session.commit()
    # As a worker would, in its own thread: the seal's asyncio cannot run inside
    # Playwright's event loop, which this thread holds.
    worker = threading.Thread(target=_work, args=(app, run.id))
    worker.start()
    worker.join()
    page.wait_for_selector("text=The export is ready.", timeout=10_000)
    with page.expect_download() as download:
        page.click("text=Download ZIP")
    assert download.value.suggested_filename == f"{c.slug}-export.zip"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert not problems
