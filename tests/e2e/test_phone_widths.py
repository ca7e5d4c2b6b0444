"""No page of the demo campaign scrolls sideways on a 360 px phone screen."""

import threading

import pytest

from campaign import demo, jobs
from campaign.extensions import db
from campaign.models import ExportRun
from campaign.services import export_jobs as export_runs
from campaign.services.campaigns import get_campaign
from campaign.services.users import find_user

pytestmark = pytest.mark.browser

PAGES = (
    "/",
    "/directory",
    "/inbox",
    "/verify",
    "/c/{slug}",
    "/c/{slug}/letter",
    "/c/{slug}/letterhead",
    "/c/{slug}/partners",
    "/c/{slug}/partners/invite",
    "/c/{slug}/follow-up",
    "/c/{slug}/replies",
    "/c/{slug}/exports/{export}",
)


def _demo_with_an_export(app, out: dict) -> None:
    """Load the demo and make its export ZIP (in a thread of its own: the PDF seal runs
    asyncio, which cannot run inside Playwright's event loop)."""
    with app.app_context():
        out.update(demo.load_demo())
        db.session.commit()
        jobs.run_ready()
        organiser = find_user(demo.DEMO_EMAIL)
        run = export_runs.start_export(get_campaign(organiser, out["slug"]), organiser)
        db.session.commit()
        jobs.run_ready()
        assert db.session.get(ExportRun, run.id).status == "ready"
        out["export"] = run.id


def test_demo_pages_fit_a_phone(app, live_server, browser):
    info: dict = {}
    setup = threading.Thread(target=_demo_with_an_export, args=(app, info))
    setup.start()
    setup.join()
    assert "export" in info, "the demo and its export could not be made"
    page = browser.new_context(viewport={"width": 360, "height": 800}).new_page()
    page.goto(f"{live_server}/login")
    page.fill("#email", info["email"])
    page.fill("#password", info["password"])
    page.click("button[type=submit]")
    wide = {}
    urls = [p.format(slug=info["slug"], export=info["export"]) for p in PAGES]
    for url in [*urls, info["signing_link"].split("/s/", 1)[1]]:
        target = url if url.startswith("/") else f"/s/{url}"
        response = page.goto(live_server + target)
        assert response.status == 200, target
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            wide[target] = width
    assert wide == {}, "pages wider than the phone"
