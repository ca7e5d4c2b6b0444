"""Nothing off-screen: every page of the demo campaign at 360 and 1280 px (issue 11, E22).

The pages come from the app's URL map: every GET route must be in PAGES (how to open
it, and as whom) or in NOT_PAGES (files, JSON), so a new page with no entry fails here.
Each page fails if the document is wider than the window, or if a visible button or link
lies outside the window, outside its card or table, or scrolled out of sight inside a
box that scrolls sideways (a phone user would never find it).

Set PAGE_SHOTS=/some/dir to keep a screenshot of every page; on failure the offending
pages are always saved (the failure message names the files).
"""

import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import url_for

from campaign import demo, jobs
from campaign.extensions import db
from campaign.mail.inbound import Attachment, InboundMessage
from campaign.mail.reply_address import reply_address
from campaign.mail.suppression import unsubscribe_url
from campaign.models import ExportRun, IssuedDocument, OutboundEmail, Partner
from campaign.services import colead_invites as coleads
from campaign.services import export_jobs as export_runs
from campaign.services import followups, replies
from campaign.services import public_sign_on as public_signing
from campaign.services.campaigns import add_member, get_campaign
from campaign.services.letters import published_version
from campaign.services.users import create_user, find_user
from tests import factories as f

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)

#: GET routes that are not HTML pages, and what they are instead.
NOT_PAGES = {
    "static": "stylesheets, scripts and fonts",
    "blobs.show": "logo and signature images",
    "exports.pdf": "a PDF download",
    "exports.certificate": "a PDF download",
    "exports.csv": "a CSV download",
    "exports.xlsx": "an XLSX download",
    "exports.zip_download": "a ZIP download",
    "exports.zip_progress": "JSON polled by the export page",
    "ledger.export": "a CSV download",
    "inbound.attachment": "a reply's attached file",
    "inbound.inbox_attachment": "an unmatched reply's attached file",
    "outbox.attachment": "an email's attached PDF",
    "outbox.html_part": "an email's own HTML, shown in a sandboxed frame on outbox.show",
}


def _slug(d):
    return {"slug": d["slug"]}


def _target(d):
    return {"slug": d["slug"], "target_id": d["target"]}


ORGANISER, STAFF, CO_LEAD, ANYONE = "organiser", "staff", "co-lead", "anyone"
ALL_MEMBERS = (ORGANISER, STAFF, CO_LEAD)

#: endpoint -> (who opens it, its URL values from the demo data).
PAGES = {
    "campaigns.index": (ALL_MEMBERS, lambda d: {}),
    "campaigns.new": ((ORGANISER,), lambda d: {}),
    "campaigns.show": ((ORGANISER, STAFF), _slug),
    "campaigns.deliver": ((ORGANISER,), _slug),
    "letters.edit": ((ORGANISER, STAFF), _slug),
    "letters.preview": ((ORGANISER,), _slug),
    "letters.versions": ((ORGANISER, STAFF), _slug),
    "revisions.history": ((ORGANISER,), lambda d: {"slug": d["slug"], "number": 1}),
    "letterhead.settings": ((ORGANISER,), _slug),
    "review.index": ((ORGANISER, CO_LEAD), _slug),
    "review.accept": ((ANYONE,), lambda d: {"token": d["colead_token"]}),
    "partners.index": (ALL_MEMBERS, _slug),
    "partners.invite_preview": ((ORGANISER,), _slug),
    "directory.pick": ((ORGANISER,), _slug),
    "directory.index": ((ORGANISER,), lambda d: {}),
    "moderation.index": ((ORGANISER,), _slug),
    "outbox.index": ((ORGANISER, STAFF), _slug),
    "outbox.show": ((ORGANISER,), lambda d: {"slug": d["slug"], "email_id": d["email"]}),
    "followups.index": ((ORGANISER,), _slug),
    "followups.timeline": ((ORGANISER,), _target),
    "ledger.target": ((ORGANISER, STAFF), _target),
    "inbound.index": ((ORGANISER,), _slug),
    "inbound.inbox": ((ORGANISER,), lambda d: {}),
    "inbound.show": ((ORGANISER,), lambda d: {"reply_id": d["inbox_reply"]}),
    "members.index": ((ORGANISER, STAFF), _slug),
    "exports.full_list_page": ((ORGANISER,), _slug),
    "exports.zip_run": ((ORGANISER, STAFF), lambda d: {"slug": d["slug"], "run_id": d["export"]}),
    "auth.login": ((ANYONE,), lambda d: {}),
    "verify.check": ((ANYONE, ORGANISER), lambda d: {}),
    "verify.code": ((ANYONE,), lambda d: {"code": d["code"]}),
    "signing.show": ((ANYONE,), lambda d: {"token": d["signing_token"]}),
    "signing.letter": ((ANYONE,), lambda d: {"token": d["signing_token"]}),
    "public.show": ((ANYONE,), lambda d: {"token": d["public_token"]}),
    "public.letter": ((ANYONE,), lambda d: {"token": d["public_token"]}),
    "unsubscribe.show": ((ANYONE,), lambda d: {"token": d["unsubscribe_token"]}),
}

#: Runs in the page: how wide the document is, and every button or link out of sight.
CHECK = """(width) => {
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim())
      s += '.' + el.className.trim().split(/\\s+/).join('.');
    return s;
  };
  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 40);
  const doc = document.documentElement;
  const found = [];
  const clickable = 'a[href], button, input[type=submit], input[type=button], '
    + 'input[type=reset], [role=button], summary';
  for (const el of document.querySelectorAll(clickable)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    if (el.closest('.visually-hidden')) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    const left = r.left + window.scrollX, right = r.right + window.scrollX;
    let problem = '';
    if (left < -0.5 || right > width + 0.5) {
      problem = 'outside the window';
    }
    for (let box = el.parentElement; box && box !== document.body && !problem;
         box = box.parentElement) {
      const b = box.getBoundingClientRect();
      const outside = r.left < b.left - 0.5 || r.right > b.right + 0.5;
      if (!outside) continue;
      const overflow = getComputedStyle(box).overflowX;
      if (overflow !== 'visible') {
        problem = 'out of sight inside ' + describe(box) + ' (overflow-x: ' + overflow + ')';
      } else if (box.matches('.card, table, .stat, .alert, fieldset, dialog')) {
        problem = 'outside its ' + describe(box)
          + ' (' + Math.round(b.left) + '..' + Math.round(b.right) + ')';
      }
    }
    if (problem) {
      found.push(describe(el) + ' "' + label(el) + '" at x ' + Math.round(left) + '..'
        + Math.round(right) + ': ' + problem);
    }
  }
  return {width: Math.max(doc.scrollWidth, document.body.scrollWidth), offenders: found};
}"""


def _build_demo(app, out: dict) -> None:
    """The demo campaign with one of everything a page can show; runs in its own thread
    (the PDF seal runs asyncio, which cannot run inside Playwright's event loop)."""
    with app.app_context():
        info = demo.load_demo()
        db.session.commit()
        jobs.run_ready()
        organiser = find_user(demo.DEMO_EMAIL)
        c = get_campaign(organiser, info["slug"])
        target = c.targets[0]
        # A staff member and a co-lead, who see the campaign their way.
        staff = create_user("staff@demo.example.org", f.PASSWORD, "staff")
        add_member(c, staff)
        row, _token = coleads.invite(c, organiser, name="Casey Lee", email="colead@demo.example")
        coleads.accept_new(row, f.PASSWORD)
        _row, colead_token = coleads.invite(
            c, organiser, name="Robin Diaz", email="robin@partner.example"
        )
        # A public sign-up waiting for approval: the moderation queue's Approve and Reject.
        link = public_signing.set_enabled(c, organiser, True)
        signature = public_signing.submit(
            c,
            {
                "organisation": "Westbrook Community Action Network for Digital Rights",
                "signer_name": "Sam Ortega",
                "signer_title": "Organiser",
                "signer_email": "sam@westbrook-community-action.example",
                "authorised": True,
            },
            None,
            ip="203.0.113.9",
            user_agent="browser test",
            version_id=published_version(c).id,
        )
        public_signing.confirm(signature.request)
        # A follow-up step, and replies: one matched to a target with an attachment,
        # one left unmatched in the inbox.
        followups.add_step(
            c,
            organiser,
            days_after=14,
            subject="Our letter of {{ campaign.deadline }}",
            body="{{ target.salutation }},\n\nWe have not heard back yet.",
            notify=True,
        )
        pdf = b"%PDF-1.4\n% a briefing paper\n"
        replies.receive(
            InboundMessage(
                to=[reply_address(target.id)],
                from_email="jordan.vale@argus-vision.example",
                from_name="Jordan Vale",
                envelope_from="jordan.vale@argus-vision.example",
                subject="Re: Stop selling face surveillance to police",
                text="Thank you for your letter. We will review our sales policy.",
                attachments=[Attachment("our-policy.pdf", "application/pdf", pdf)],
            )
        )
        unmatched = replies.receive(
            InboundMessage(
                to=["press@unknown.example"],
                from_email="someone@elsewhere.example",
                from_name="Someone",
                envelope_from="someone@elsewhere.example",
                subject="A question",
                text="Is this the right address?",
            )
        )
        # As if it had been sent to an address this campaign's letters carried: the inbox
        # shows an unmatched reply only to the organisers it was sent to.
        unmatched.inbox_campaign_id = c.id
        db.session.commit()
        jobs.run_ready()
        run = export_runs.start_export(c, organiser)
        db.session.commit()
        jobs.run_ready()
        assert db.session.get(ExportRun, run.id).status == "ready", "the demo export failed"
        email = db.session.scalar(
            db.select(OutboundEmail).where(OutboundEmail.campaign_id == c.id).limit(1)
        )
        partner_email = db.session.scalar(
            db.select(Partner.contact_email).where(Partner.campaign_id == c.id).limit(1)
        )
        out.update(
            slug=c.slug,
            password=info["password"],
            target=target.id,
            export=run.id,
            email=email.id,
            inbox_reply=unmatched.id,
            code=db.session.scalar(db.select(IssuedDocument.code).limit(1)),
            colead_token=colead_token,
            signing_token=info["signing_link"].rsplit("/", 1)[1],
            public_token=public_signing.public_url(link).rsplit("/", 1)[1],
            unsubscribe_token=unsubscribe_url(partner_email).rsplit("/", 1)[1],
            logins={
                ORGANISER: (demo.DEMO_EMAIL, info["password"]),
                STAFF: (staff.email, f.PASSWORD),
                CO_LEAD: ("colead@demo.example", f.PASSWORD),
            },
        )


def _urls(app, data: dict) -> tuple[dict[str, list[str]], list[str]]:
    """The page URLs each kind of visitor opens, and the GET routes with no entry."""
    missing, who_opens = [], {}
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    with app.test_request_context():
        for endpoint in sorted(endpoints):
            if endpoint in NOT_PAGES:
                continue
            if endpoint not in PAGES:
                missing.append(endpoint)
                continue
            visitors, values = PAGES[endpoint]
            url = url_for(endpoint, **values(data))
            for who in visitors:
                who_opens.setdefault(who, []).append(url)
    return who_opens, missing


def test_every_get_route_is_a_page_here_or_named_as_a_file(app):
    """A new GET route must say here how to open it, or why it is not a page."""
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}
    missing = sorted(endpoints - set(PAGES) - set(NOT_PAGES))
    assert not missing, (
        f"GET routes with no entry in {__name__}.PAGES: {', '.join(missing)}. Add how to "
        "open each (who, URL values from the demo), or add it to NOT_PAGES if it is a file "
        "or JSON."
    )
    gone = sorted((set(PAGES) | set(NOT_PAGES)) - endpoints)
    assert not gone, f"entries for routes that no longer exist: {', '.join(gone)}"


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{email} could not log in"


def test_every_page_fits_a_phone_and_a_desktop(app, live_server, browser, monkeypatch):
    # Replies need an inbound domain; set through monkeypatch so later tests on this
    # session-wide app do not inherit it.
    monkeypatch.setitem(app.config, "INBOUND_DOMAIN", "replies.demo.example")
    data: dict = {}
    setup = threading.Thread(target=_build_demo, args=(app, data))
    setup.start()
    setup.join()
    assert "export" in data, "the demo campaign could not be built (see the log above)"
    who_opens, missing = _urls(app, data)
    assert not missing, f"GET routes with no entry in PAGES: {missing}"
    shots = Path(os.environ.get("PAGE_SHOTS") or tempfile.mkdtemp(prefix="page-shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    keep_all = bool(os.environ.get("PAGE_SHOTS"))
    failures: dict[str, list[str]] = {}
    opened = 0
    for width in WIDTHS:
        for who, urls in who_opens.items():
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            if who != ANYONE:
                _login(page, live_server, *data["logins"][who])
            for url in urls:
                response = page.goto(live_server + url)
                opened += 1
                where = f"{url} as {who} at {width} px"
                if response is None or response.status != 200:
                    failures[where] = [f"status {response.status if response else None}"]
                    continue
                page.wait_for_load_state("load")
                found = page.evaluate(CHECK, width)
                name = f"{width}-{who}-{urlsplit(url).path.strip('/').replace('/', '_') or 'root'}"
                problems = list(found["offenders"])
                if found["width"] > width:
                    problems.insert(0, f"the page is {found['width']} px wide")
                if problems or keep_all:
                    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
                if problems:
                    failures[f"{where} ({name}.png)"] = problems
            context.close()
    assert opened >= 2 * len(PAGES), "some pages were not opened"
    report = []
    for where, problems in failures.items():
        report.append(where)
        report += [f"  - {p}" for p in problems[:6]]
        if len(problems) > 6:
            report.append(f"  - and {len(problems) - 6} more")
    assert not failures, (
        f"{len(failures)} pages with something off-screen; screenshots in {shots}:\n"
        + "\n".join(report)
    )
