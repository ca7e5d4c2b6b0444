"""Targets: postal address and fallback email on the add-target form."""

import pytest

from campaign.extensions import db
from campaign.models import Target
from tests import factories as f


def _add(submit, c, **fields):
    data = {"name": "Renata Solis", "email": "chair@argus.example", **fields}
    return submit(f"/c/{c.slug}", data, post_url=f"/c/{c.slug}/targets")


def _targets(c):
    db.session.expire_all()
    return db.session.scalars(
        db.select(Target).where(Target.campaign_id == c.id).order_by(Target.id)
    ).all()


def test_target_with_postal_address_and_fallback_email(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert 'name="postal_address"' in page and 'name="fallback_email"' in page
    resp = _add(
        submit,
        c,
        postal_address="Argus Vision Inc.\r\n500 Market Street\r\nSan Francisco, CA 94105",
        fallback_email="office@argus.example",
    )
    assert resp.status_code == 302
    added = _targets(c)[-1]
    assert added.postal_address == "Argus Vision Inc.\n500 Market Street\nSan Francisco, CA 94105"
    assert added.fallback_email == "office@argus.example"
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "fallback office@argus.example" in page


def test_both_are_optional(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    assert _add(submit, c).status_code == 302
    added = _targets(c)[-1]
    assert (added.postal_address, added.fallback_email) == ("", "")


@pytest.mark.parametrize(
    ("fallback", "message"),
    [
        ("chair@argus.example", "Use a different address from the main email"),
        ("  CHAIR@Argus.example ", "Use a different address from the main email"),
        ("not an email", "Invalid email address"),
    ],
)
def test_bad_fallback_email_is_refused(client, app, submit, fallback, message):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _add(submit, c, fallback_email=fallback)
    assert resp.status_code == 400
    assert message in resp.get_data(as_text=True)
    assert len(_targets(c)) == 1  # only the factory's target


def test_overlong_postal_address_is_refused(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = _add(submit, c, postal_address="x" * 1001)
    assert resp.status_code == 400
    assert len(_targets(c)) == 1


def test_targets_own_copy_prints_the_postal_address(client, app, submit):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    _add(submit, c, postal_address="500 Market Street\nSan Francisco, CA 94105")
    target = _targets(c)[-1]
    html = client.get(f"/c/{c.slug}/letter/preview?target={target.id}").get_data(as_text=True)
    assert '<span class="postal">500 Market Street</span>' in html
    assert '<span class="postal">San Francisco, CA 94105</span>' in html
