"""Issue 11 A2: a link that no longer works says why and what to do; unknown tokens stay 404."""

from datetime import timedelta

import pytest

from campaign.errors import NotFound
from campaign.extensions import db
from campaign.models import SignatureRequest, utcnow
from campaign.services import personal_link_signing as signing
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.forms import sign_via_link


def _gone(client, token):
    resp = client.get(f"/s/{token}")
    assert resp.status_code == 410, resp.status_code
    # The token is still in the URL: no Referer may carry it away, and nothing is cached.
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    return resp.get_data(as_text=True)


def test_forwarded_link_says_it_was_passed_on_without_naming_anyone(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u, name="Digital Rights Alliance")
    token = f.invited(c, u, p)
    submit(
        f"/s/{token}",
        {"colleague_name": "Dana Director", "colleague_email": "dana@dra.example"},
        post_url=f"/s/{token}/forward",
    )
    page = _gone(client, token)
    assert "This link was passed on" in page
    assert "forwarded to a colleague" in page and c.lead_organisation in page
    for private in ("Dana Director", "dana@dra.example", p.contact_email, p.contact_name):
        assert private not in page
    # Posting to the dead link is refused the same way, and changes nothing.
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    for action in ("", "/withdraw", "/forward"):
        assert client.post(f"/s/{token}{action}", data={"csrf_token": csrf}).status_code == 410


def test_replaced_link_says_check_your_latest_email(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    old = f.invited(c, u, p)
    f.login(client, u)
    submit(
        f"/c/{c.slug}/partners",
        {},
        post_url=f"/c/{c.slug}/partners/{p.id}/reissue",
        follow_redirects=True,  # the organiser reads the flash; the partner's page is theirs
    )
    page = _gone(client, old)
    assert "A newer link was sent" in page and "Check your latest email" in page
    assert p.contact_email not in page


def test_revoked_link_says_contact_the_lead_organisation(client, app, submit):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    f.login(client, u)
    submit(
        f"/c/{c.slug}/partners",
        {},
        post_url=f"/c/{c.slug}/partners/{p.id}/revoke",
        follow_redirects=True,
    )
    page = _gone(client, token)
    assert "This link was withdrawn" in page
    assert f"contact {c.lead_organisation}" in page
    assert p.organisation not in page and p.contact_email not in page


def test_late_link_says_when_signing_closed_and_shows_no_signature(client, app):
    u = f.user()
    c = f.published(u)
    p = f.partner(c, u)
    token = f.invited(c, u, p)
    sign_via_link(client, token, signer_name="Amara Okafor", signer_email="amara@dra.example")
    closed = utcnow() - timedelta(hours=1)
    for req in db.session.scalars(db.select(SignatureRequest)):
        req.expires_at = closed
    db.session.commit()
    page = _gone(client, token)
    assert "Signing has closed" in page
    assert f"closed on {closed.day} {closed:%B %Y} at {closed:%H:%M} UTC" in page
    for private in ("Amara Okafor", "amara@dra.example", "Digital Rights Alliance"):
        assert private not in page  # the signer's details stay behind the dead link


def test_unknown_token_stays_a_plain_404_and_services_still_see_not_found(client, app):
    u = f.user()
    c = f.published(u)
    token = f.invited(c, u, f.partner(c, u))
    resp = client.get("/s/" + "Q" * 43)
    assert resp.status_code == 404 and "Not found" in resp.get_data(as_text=True)
    signing.revoke(db.session.get(SignatureRequest, 1).partner, u)
    db.session.commit()
    # LinkGone is a NotFound, so code that only cares whether a link works is unchanged.
    with pytest.raises(NotFound) as caught:
        signing.resolve(token)
    assert isinstance(caught.value, signing.LinkGone) and caught.value.reason == "revoked"
