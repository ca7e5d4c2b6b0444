"""Co-leads see the review page and their own network on the partner list, nothing else."""

import re
from datetime import timedelta

import pytest

from campaign.extensions import db
from campaign.models import CoLeadInvite, OutboundEmail, ReviewComment, utcnow
from campaign.services import colead_invites as coleads
from campaign.services import draft_comments as review
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import co_lead

# Values for the URL arguments of campaign pages, so each URL names a real object.
SAMPLE = {"decision": "approve", "action": "block"}


#: Pages a co-lead uses: the review, and their own network on the partner list.
CO_LEAD_PAGES = {
    "partners.index",
    "partners.add",
    "partners.invite_preview",
    "partners.invite",
    "partners.set_reminders",  # 403: the lead's decision, on a page they already see
    "partners.set_sharing",  # 403 likewise
    "partner_import.upload",
    "partner_import.preview",
    "partner_import.confirm",
}


def campaign_urls(app, c, ids):
    """Every campaign page a co-lead must not reach, as (method, url).

    Reissuing or revoking a link stays on the list: the partner in `ids` is the lead's.
    """
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if (
            not rule.rule.startswith("/c/<slug>")
            or rule.endpoint.startswith("review.")
            or rule.endpoint in CO_LEAD_PAGES
        ):
            continue
        values = {"slug": c.slug}
        for arg in rule.arguments - {"slug"}:
            values[arg] = SAMPLE.get(arg, ids.get(arg, 1))
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


@pytest.mark.parametrize("account", ["staff", "organiser"])
def test_a_co_lead_gets_404_on_every_other_page_of_the_campaign(client, app, account):
    owner = f.user()
    c = f.published(owner)
    partner = f.partner(c, owner)
    f.invited(c, owner, partner)
    email = db.session.scalar(db.select(OutboundEmail))
    if account == "staff":
        casey = co_lead(c, owner)  # a new account: read-only staff
    else:
        # An organiser elsewhere, made co-lead here: their own role must not open this campaign.
        casey = f.user()
        f.published(casey, title="Their own campaign")
        row, _token = coleads.invite(c, owner, name="Org", email=casey.email)
        coleads.accept(row, casey)
        f.commit()
    ids = {"target_id": c.targets[0].id, "partner_id": partner.id, "email_id": email.id}
    f.login(client, casey)
    assert client.get(f"/c/{c.slug}/review").status_code == 200
    csrf = csrf_from(client.get(f"/c/{c.slug}/review").get_data(as_text=True))
    checked = 0
    # Every page looks the campaign up before checking the role, so a co-lead with a
    # read-only (staff) account also gets 404, never a 403 that confirms the campaign.
    allowed = {404}
    for method, url in campaign_urls(app, c, ids):
        if method == "GET":
            resp = client.get(url)
        else:
            resp = client.post(url, data={"csrf_token": csrf})
        assert resp.status_code in allowed, (method, url, resp.status_code)
        checked += 1
    assert checked > 30
    db.session.refresh(c)
    assert c.status == "open" and len(c.targets) == 1
    # The nav offers only the review and partner pages; the campaign list links there too.
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    for hidden in ("", "/letter", "/outbox", "/moderation", "/replies", "/follow-up"):
        assert f'href="/c/{c.slug}{hidden}"' not in page
    assert f'href="/c/{c.slug}/partners"' in page
    assert f'href="/c/{c.slug}/review"' in client.get("/").get_data(as_text=True)


def test_a_co_lead_of_one_campaign_cannot_see_or_comment_on_another(client, app):
    owner = f.user()
    a = f.published(owner, title="Campaign A")
    b = f.published(owner, title="Campaign B")
    casey = co_lead(a, owner)
    f.login(client, casey)
    assert client.get(f"/c/{b.slug}/review").status_code == 404
    csrf = csrf_from(client.get(f"/c/{a.slug}/review").get_data(as_text=True))
    resp = client.post(
        f"/c/{b.slug}/review/paragraphs/2/comments", data={"csrf_token": csrf, "body": "Hi"}
    )
    assert resp.status_code == 404
    for url in (f"/c/{b.slug}/review/coleads", f"/c/{b.slug}/review/coleads/1/revoke"):
        assert (
            client.post(
                url, data={"csrf_token": csrf, "name": "X", "email": "x@y.example"}
            ).status_code
            == 404
        )
    assert db.session.scalar(db.select(db.func.count(ReviewComment.id))) == 0
    assert "Campaign B" not in client.get("/").get_data(as_text=True)


def test_a_comment_of_another_campaign_cannot_be_resolved_through_mine(client, app):
    alice, bob = f.user(), f.user()
    theirs = f.published(alice, title="Alice campaign")
    mine = f.published(bob, title="Bob campaign")
    other = review.add_comment(theirs, alice, 0, "Alice's note")
    f.commit()
    f.login(client, bob)
    csrf = csrf_from(client.get(f"/c/{mine.slug}/review").get_data(as_text=True))
    for action in ("resolve", "reopen"):
        url = f"/c/{mine.slug}/review/comments/{other.id}/{action}"
        assert client.post(url, data={"csrf_token": csrf}).status_code == 404
    db.session.refresh(other)
    assert other.resolved_at is None


def test_co_leads_cannot_invite_or_revoke(client, app):
    owner = f.user()
    c = f.published(owner)
    row, token = coleads.invite(c, owner, name="Pending", email="pending@ally.example")
    casey = co_lead(c, owner)
    f.login(client, casey)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "Invite a co-lead" not in page and "pending@ally.example" not in page
    csrf = csrf_from(page)
    resp = client.post(
        f"/c/{c.slug}/review/coleads",
        data={"csrf_token": csrf, "name": "Friend", "email": "friend@ally.example"},
    )
    assert resp.status_code == 403 and "Only the campaign&#39;s organisers" in resp.get_data(
        as_text=True
    )
    assert (
        client.post(
            f"/c/{c.slug}/review/coleads/{row.id}/revoke", data={"csrf_token": csrf}
        ).status_code
        == 403
    )
    db.session.refresh(row)
    assert row.revoked_at is None
    assert db.session.scalar(db.select(db.func.count(CoLeadInvite.id))) == 2


def test_a_comment_post_without_csrf_is_refused(client, app):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    f.login(client, casey)
    resp = client.post(f"/c/{c.slug}/review/paragraphs/2/comments", data={"body": "Forged"})
    assert resp.status_code == 400
    assert db.session.scalar(db.select(db.func.count(ReviewComment.id))) == 0


def test_used_revoked_expired_and_unknown_invitations_all_look_the_same(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    used, used_token = coleads.invite(c, owner, name="Used", email="used@ally.example")
    coleads.accept_new(used, f.PASSWORD)
    revoked, revoked_token = coleads.invite(c, owner, name="Gone", email="gone@ally.example")
    coleads.revoke(c, owner, revoked.id)
    expired, expired_token = coleads.invite(c, owner, name="Late", email="late@ally.example")
    expired.expires_at = utcnow() - timedelta(seconds=1)
    f.commit()
    bodies = set()
    for token in (used_token, revoked_token, expired_token, "not-a-real-token", "x" * 200):
        resp = client.get(f"/colead/{token}")
        assert resp.status_code == 404, token
        bodies.add(resp.get_data(as_text=True))
        assert client.post(f"/colead/{token}", data={}).status_code in (400, 404)
    assert len(bodies) == 1
    # A fresh invitation of the same address works; the expired one still does not.
    _row, fresh = coleads.invite(c, owner, name="Late", email="late@ally.example")
    f.commit()
    assert client.get(f"/colead/{fresh}").status_code == 200
    assert client.get(f"/colead/{expired_token}").status_code == 404


def test_html_in_a_comment_is_shown_as_text(client, app, submit):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    f.login(client, casey)
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    resp = submit(
        f"/c/{c.slug}/review",
        {"body": attack},
        post_url=f"/c/{c.slug}/review/paragraphs/2/comments",
    )
    assert resp.status_code == 302
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    assert not re.search(r"<img[^>]*onerror", page)


def test_staff_members_read_the_review_but_cannot_comment(client, app):
    from campaign.services.campaigns import add_member

    owner, staff = f.user(), f.user(role="staff")
    c = f.published(owner)
    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    page = client.get(f"/c/{c.slug}/review").get_data(as_text=True)
    assert "Paragraph 2" in page and "Comment on paragraph" not in page
    resp = client.post(
        f"/c/{c.slug}/review/paragraphs/2/comments",
        data={"csrf_token": csrf_from(page), "body": "Sneaky"},
    )
    # They may see the review but not change it: a 403 in the service's words.
    assert resp.status_code == 403 and "can read this review but not comment" in resp.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(ReviewComment.id))) == 0
