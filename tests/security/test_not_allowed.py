"""One rule for "may this person do this": services raise NotAllowed, the handler answers 403.

A campaign the user may not see stays a 404 (tests/security/test_authorisation.py); one they
may see but not change is a 403 that says why, in the service's words.
"""

import pytest

from campaign.errors import NotAllowed
from campaign.extensions import db
from campaign.models import Campaign
from campaign.services import partner_list_access as coalition
from campaign.services import reminders
from campaign.services.campaigns import add_member, require_editor, require_organiser
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import co_lead


def test_services_raise_not_allowed_for_staff_and_co_leads(app):
    owner, staff = f.user(), f.user(role="staff")
    c = f.published(owner)
    add_member(c, staff)
    casey = co_lead(c, owner)
    with pytest.raises(NotAllowed):
        require_editor(staff)
    with pytest.raises(NotAllowed):
        require_organiser(casey, c)
    with pytest.raises(NotAllowed):
        reminders.set_days(c, casey, "3")
    with pytest.raises(NotAllowed):
        coalition.require_may_edit(coalition.partner_access(staff, c))
    require_organiser(owner, c)  # the organiser passes


def test_staff_get_403_with_the_reason_on_a_change(client, app):
    owner, staff = f.user(), f.user(role="staff")
    c = f.published(owner)
    add_member(c, staff)
    f.commit()
    f.login(client, staff)
    csrf = csrf_from(client.get(f"/c/{c.slug}/partners").get_data(as_text=True))
    resp = client.post(f"/c/{c.slug}/close", data={"csrf_token": csrf})
    assert resp.status_code == 403
    assert "can read and export, but not change campaigns" in resp.get_data(as_text=True)
    assert db.session.get(Campaign, c.id).status == "open"
    resp = client.post(f"/c/{c.slug}/partners/reminders", data={"csrf_token": csrf})
    assert resp.status_code == 403
    assert "can read the partner list but not change it" in resp.get_data(as_text=True)


def test_a_co_lead_is_refused_campaign_wide_partner_settings_by_the_service(client, app):
    owner = f.user()
    c = f.published(owner)
    casey = co_lead(c, owner)
    f.login(client, casey)
    csrf = csrf_from(client.get(f"/c/{c.slug}/partners").get_data(as_text=True))
    resp = client.post(
        f"/c/{c.slug}/partners/reminders", data={"csrf_token": csrf, "reminder_days": "1"}
    )
    assert resp.status_code == 403
    assert "Only the campaign&#39;s organisers" in resp.get_data(as_text=True)
    resp = client.post(f"/c/{c.slug}/partners/sharing", data={"csrf_token": csrf, "share": "1"})
    assert resp.status_code == 403
    assert "share the partner list" in resp.get_data(as_text=True)
    assert db.session.get(Campaign, c.id).coleads_see_all_partners is False


def test_another_coalitions_campaign_is_still_404(client, app):
    owner, stranger = f.user(), f.user()
    c = f.published(owner)
    f.login(client, stranger)
    csrf = csrf_from(client.get("/campaigns/new").get_data(as_text=True))
    assert client.post(f"/c/{c.slug}/close", data={"csrf_token": csrf}).status_code == 404
    assert (
        client.post(f"/c/{c.slug}/partners/reminders", data={"csrf_token": csrf}).status_code == 404
    )
