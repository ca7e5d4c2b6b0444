"""The delivery ledger: each target's attempts with the time of every SendGrid event."""

import csv
import io

from campaign.extensions import db
from campaign.models import Target
from campaign.services import campaigns
from tests import factories as f
from tests.helpers.campaigns import delivered
from tests.helpers.webhooks import event


def test_ledger_shows_the_time_of_each_event_and_hides_opens_without_tracking(
    client, post_accepted
):
    u = f.user()
    c, email = delivered(u)
    post_accepted(
        [event(email, "processed", 0), event(email, "delivered", 60), event(email, "open", 120)]
    )
    f.login(client, u)

    page = client.get(f"/c/{c.slug}/targets/{email.target_id}/ledger").get_data(as_text=True)

    assert "15 Jan 2027 08:00:00 UTC" in page  # processed
    assert "15 Jan 2027 08:01:00 UTC" in page  # delivered
    assert "not tracked" in page
    assert "08:02:00" not in page  # the open is not shown, not even in the event list
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "Delivery ledger" in overview and "15 Jan 2027 08:01" in overview
    assert f"/c/{c.slug}/targets/{email.target_id}/ledger" in overview


def test_ledger_shows_the_open_when_tracking_is_on(client, post_accepted):
    u = f.user()
    c, email = delivered(u, tracking=True)
    assert email.tracking
    post_accepted(
        [event(email, "delivered", 60), event(email, "open", 120), event(email, "open", 500)]
    )
    f.login(client, u)

    page = client.get(f"/c/{c.slug}/targets/{email.target_id}/ledger").get_data(as_text=True)

    assert "not tracked" not in page
    assert "15 Jan 2027 08:02:00 UTC" in page  # the first open is the one that counts
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "status-open" in overview


def test_csv_export_neutralises_formulas_and_staff_may_download_it(client, post_accepted, app):
    u = f.user()
    c, email = delivered(u, name='=HYPERLINK("http://evil.example","x")')
    post_accepted([event(email, "processed", 0), event(email, "delivered", 60)])
    staff = f.user(role="staff")
    campaigns.add_member(c, staff)
    f.commit()
    f.login(client, staff)

    resp = client.get(f"/c/{c.slug}/ledger.csv")

    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0][:4] == ["target", "organisation", "attempt", "to_email"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example","x")'
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert "2027-01-15 08:01:00" in rows[1] and "not tracked" in rows[1]


def test_another_campaigns_target_ledger_is_404(client, app):
    u, other = f.user(), f.user()
    mine = f.campaign(u)
    theirs = f.campaign(other, title="Their campaign")
    f.login(client, u)

    assert client.get(f"/c/{mine.slug}/targets/{mine.targets[0].id}/ledger").status_code == 200
    # Their target through my campaign's URL, and their campaign directly: both unknown.
    assert client.get(f"/c/{mine.slug}/targets/{theirs.targets[0].id}/ledger").status_code == 404
    assert client.get(f"/c/{theirs.slug}/targets/{theirs.targets[0].id}/ledger").status_code == 404
    assert client.get(f"/c/{theirs.slug}/ledger.csv").status_code == 404


def test_deliver_page_previews_each_copy_with_addresses_and_tracking(client, app):
    u = f.user()
    c = f.published(u)
    target = db.session.get(Target, c.targets[0].id)
    target.fallback_email = "office@argus.example"
    f.sign(c, u, f.partner(c, u, name="Alpha Liberty"))
    campaigns.close_signing(c, u)
    f.commit()
    f.login(client, u)

    page = client.get(f"/c/{c.slug}/deliver").get_data(as_text=True)
    assert "ceo@argus.example" in page and "office@argus.example" in page
    assert "Open tracking is <strong>off</strong>" in page
    assert "1 signatory on the letter" in page and "not rendered yet" in page
    assert page.index("Open tracking") > page.index("office@argus.example")

    # Once the copy has been looked at, its page count is shown too.
    assert client.get(f"/c/{c.slug}/letter.pdf?target={target.id}").status_code == 200
    page = client.get(f"/c/{c.slug}/deliver").get_data(as_text=True)
    assert "1 page · 1 signatory on the letter" in page and "not rendered yet" not in page
