"""Item 20: organisers add members from the UI and the command line; the header names roles."""

import re

from campaign.extensions import db
from campaign.models import AuditEvent, CampaignMember
from campaign.services import campaigns
from tests import factories as f

ROLE_RE = re.compile(r'<span class="who-role">([^<]*)</span>')


def _role_shown(client, url) -> str:
    resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return ROLE_RE.search(resp.get_data(as_text=True)).group(1)


def _membership(c, u):
    return db.session.scalar(
        db.select(CampaignMember).where(
            CampaignMember.campaign_id == c.id, CampaignMember.user_id == u.id
        )
    )


def test_organiser_adds_staff_co_organiser_and_co_lead_from_the_members_page(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    staff, co_org, co_lead = f.user("staff"), f.user(), f.user("staff")
    f.login(client, owner)
    url = f"/c/{c.slug}/members"
    for person, role in ((staff, "staff"), (co_org, "organiser"), (co_lead, "co_lead")):
        resp = submit(url, {"email": person.email.upper(), "role": role})
        assert resp.status_code == 302, resp.get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    for person, label in (
        (owner, "Organiser"),
        (co_org, "Organiser"),
        (staff, "Staff (read-only)"),
        (co_lead, "Co-lead"),
    ):
        assert re.search(
            rf"{re.escape(person.email)}</span>\s*<span class=\"member-role\">{re.escape(label)}<",
            page,
        ), person.email
    assert _membership(c, co_lead).role == "co_lead"
    assert _membership(c, staff).role == "organiser"
    added = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "member.added")
    ).all()
    assert {e.details["email"] for e in added} == {staff.email, co_org.email, co_lead.email}
    # Each can now reach what their role allows, and no more.
    for person, allowed, closed in (
        (staff, f"/c/{c.slug}", None),
        (co_org, f"/c/{c.slug}/letter", None),
        (co_lead, f"/c/{c.slug}/review", f"/c/{c.slug}"),
    ):
        other = app.test_client()
        f.login(other, person)
        assert other.get(allowed).status_code == 200
        if closed:
            assert other.get(closed).status_code == 404


def test_header_names_the_role_on_the_page_the_person_is_on(client, app):
    owner = f.user()
    mine = f.published(owner, title="Our own letter")
    theirs_owner = f.user()
    theirs = f.published(theirs_owner, title="A partner's letter")
    campaigns.add_member(theirs, owner, role="co_lead")
    staff = f.user("staff")
    campaigns.add_member(mine, staff)
    f.commit()
    f.login(client, owner)
    assert _role_shown(client, f"/c/{mine.slug}") == "Organiser"
    assert _role_shown(client, f"/c/{theirs.slug}/review") == "Co-lead"
    assert _role_shown(client, f"/c/{theirs.slug}/partners") == "Co-lead"
    assert _role_shown(client, "/") == "Organiser"  # no campaign: the account
    other = app.test_client()
    f.login(other, staff)
    assert _role_shown(other, f"/c/{mine.slug}") == "Staff (read-only)"
    assert _role_shown(other, f"/c/{mine.slug}/members") == "Staff (read-only)"


def test_only_the_campaigns_organisers_may_add_members(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    newcomer = f.user("staff")
    stranger, staff, co_lead = f.user(), f.user("staff"), f.user()
    campaigns.add_member(c, staff)
    campaigns.add_member(c, co_lead, role="co_lead")
    f.commit()
    owner_client = app.test_client()
    f.login(owner_client, owner)
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"',
        owner_client.get(f"/c/{c.slug}/members").get_data(as_text=True),
    ).group(1)
    for person, code in ((stranger, 404), (co_lead, 404), (staff, 403)):
        browser = app.test_client()
        f.login(browser, person)
        page = browser.get(f"/c/{c.slug}/members")
        assert page.status_code == (200 if person is staff else 404)
        if person is staff:
            assert "Add a member" not in page.get_data(as_text=True)
        own_token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', browser.get("/").get_data(as_text=True)
        ).group(1)
        resp = browser.post(
            f"/c/{c.slug}/members",
            data={"csrf_token": own_token, "email": newcomer.email, "role": "staff"},
        )
        assert resp.status_code == code, person.email
    assert token  # the organiser's own form works (checked in the test above)
    assert _membership(c, newcomer) is None


def test_adding_a_member_explains_what_is_wrong(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    staff, organiser = f.user("staff"), f.user()
    campaigns.add_member(c, staff)
    f.commit()
    f.login(client, owner)
    url = f"/c/{c.slug}/members"
    cases = [
        ({"email": "nobody@example.org", "role": "staff"}, "flask create-user nobody@example.org"),
        ({"email": "not an address", "role": "staff"}, "not a valid email address"),
        ({"email": organiser.email, "role": "staff"}, "has an organiser account"),
        ({"email": f.user("staff").email, "role": "organiser"}, "read-only staff account"),
        ({"email": staff.email, "role": "co_lead"}, "already a member of this campaign"),
    ]
    for data, message in cases:
        resp = submit(url, data)
        assert resp.status_code == 400, data
        assert message in resp.get_data(as_text=True), data
    assert _membership(c, organiser) is None


def test_members_can_be_removed_but_not_the_last_organiser(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    staff = f.user("staff")
    campaigns.add_member(c, staff)
    f.commit()
    f.login(client, owner)
    url = f"/c/{c.slug}/members"
    staff_row = _membership(c, staff)
    resp = submit(url, {}, post_url=f"{url}/{staff_row.id}/remove")
    assert resp.status_code == 302 and _membership(c, staff) is None
    owner_row = _membership(c, owner)
    resp = submit(url, {}, post_url=f"{url}/{owner_row.id}/remove")
    assert _membership(c, owner) is not None
    assert "only organiser" in client.get(url).get_data(as_text=True)
    # Another campaign's membership id is not found here.
    other = f.published(f.user(), title="Elsewhere")
    foreign = db.session.scalar(
        db.select(CampaignMember).where(CampaignMember.campaign_id == other.id)
    )
    assert submit(url, {}, post_url=f"{url}/{foreign.id}/remove").status_code == 404


def test_flask_campaign_add_member(app):
    owner = f.user()
    c = f.published(owner)
    colead, staff = f.user(), f.user("staff")
    runner = app.test_cli_runner()
    args = ["campaign", "add-member", c.slug, colead.email, "--role", "co-lead"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"added {colead.email} to {c.slug} as co-lead" in result.output
    result = runner.invoke(args=["campaign", "add-member", c.slug, staff.email, "--role", "staff"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _membership(c, colead).role == "co_lead"
    assert _membership(c, staff).role == "organiser" and not staff.can_edit
    bad = runner.invoke(args=["campaign", "add-member", c.slug, "x@example.org", "--role", "staff"])
    assert bad.exit_code != 0 and "no account has the address x@example.org" in bad.output
    bad = runner.invoke(args=["campaign", "add-member", "nope", staff.email, "--role", "staff"])
    assert bad.exit_code != 0 and "no campaign with the slug 'nope'" in bad.output
    again = runner.invoke(args=["campaign", "add-member", c.slug, staff.email, "--role", "staff"])
    assert again.exit_code != 0 and "already a member" in again.output


NAV_LINK_RE = re.compile(r'<a href="(/c/[^"]+)"[^>]*>([^<]+)</a>')


def test_the_review_pages_account_of_what_co_leads_see_is_true(client, app):
    owner = f.user()
    c = f.published(owner)
    co_lead = f.user()
    campaigns.add_member(c, co_lead, role="co_lead")
    f.commit()
    f.login(client, owner)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    nav = page[page.index('class="subnav"') : page.index("</nav>", page.index('class="subnav"'))]
    links = dict((name.strip(), href) for href, name in NAV_LINK_RE.findall(nav))
    assert {"Overview", "Letter", "Partners", "Review", "Members"} <= set(links)
    text = re.search(r'id="colead-access">(.*?)</p>', page, re.S).group(1)
    sees, _, not_sees = text.partition("They do not see")
    browser = app.test_client()
    f.login(browser, co_lead)
    for name, href in links.items():
        status = browser.get(href).status_code
        if status == 200:
            assert name in sees and name not in not_sees, name
        else:
            assert status == 404 and name in not_sees, name
    # "or the exports": none of them opens for a co-lead.
    assert "exports" in not_sees
    for export in ("letter.pdf", "certificate.pdf", "signatories.csv", "signatories.xlsx"):
        assert browser.get(f"/c/{c.slug}/{export}").status_code == 404
    # Partners, as described: their own network only, unless the organiser shares the list.
    assert "only the partners they added" in sees
    lead_partner = f.partner(c, owner, name="Lead's Own Partner")
    assert lead_partner.organisation not in browser.get(links["Partners"]).get_data(as_text=True)
