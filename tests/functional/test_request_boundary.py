"""One commit per request: the boundary keeps a 2xx/3xx request's changes, and nothing else.

Each request runs in its own thread and session (IsolatedClient), so what the test reads
afterwards is only what the request committed.
"""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from campaign.errors import Conflict
from campaign.extensions import db
from campaign.models import Campaign, Target
from campaign.models.base import utcnow
from campaign.services import campaigns as campaign_service
from tests import factories as f
from tests.conftest import csrf_from

VIEWS = Path(__file__).resolve().parents[2] / "campaign" / "views"


def _target_names(campaign_id: int) -> list[str]:
    return sorted(
        db.session.scalars(db.select(Target.name).where(Target.campaign_id == campaign_id))
    )


def test_views_hold_no_commit():
    """Only the request boundary commits: a view that commits would bypass it."""
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(VIEWS.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.commit\(\)", line)
    ]
    assert offenders == []


def test_a_form_post_that_succeeds_is_kept(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = submit(
        f"/c/{c.slug}",
        {"name": "Renata Solis", "email": "chair@argus.example"},
        post_url=f"/c/{c.slug}/targets",
    )
    assert resp.status_code == 302
    assert _target_names(c.id) == ["Jordan Vale", "Renata Solis"]


def test_a_get_that_changes_data_and_answers_200_is_kept(client, app):
    u = f.user()
    c = f.published(u)
    c.deadline = utcnow() - timedelta(minutes=1)
    f.commit()
    f.login(client, u)
    assert client.get(f"/c/{c.slug}").status_code == 200
    assert db.session.get(Campaign, c.id).status == "closed"


def test_a_form_that_fails_validation_keeps_nothing(client, app, submit):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    resp = submit(f"/c/{c.slug}", {"name": "", "email": "x"}, post_url=f"/c/{c.slug}/targets")
    assert resp.status_code == 400
    assert _target_names(c.id) == ["Jordan Vale"]


def test_a_refusal_answered_with_a_redirect_keeps_nothing_the_service_flushed(
    client, app, monkeypatch
):
    """The service removes the target (flushed), then refuses: the redirect must not keep it."""
    real = campaign_service.remove_target

    def remove_then_refuse(*args, **kwargs):
        real(*args, **kwargs)
        db.session.flush()
        raise Conflict("Targets cannot change now.")

    u = f.user()
    c = f.campaign(u)
    target_id = c.targets[0].id
    f.login(client, u)
    monkeypatch.setattr(campaign_service, "remove_target", remove_then_refuse)
    token = csrf_from(client.get(f"/c/{c.slug}").get_data(as_text=True))
    resp = client.post(f"/c/{c.slug}/targets/{target_id}/delete", data={"csrf_token": token})
    assert resp.status_code == 302
    assert _target_names(c.id) == ["Jordan Vale"]
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert "Targets cannot change now." in page


def test_a_view_that_raises_keeps_nothing(client, app, submit, monkeypatch):
    """A crash after the service flushed is a 500 page, and the half-made change is gone."""
    real = campaign_service.add_target

    def add_then_crash(*args, **kwargs):
        real(*args, **kwargs)
        db.session.flush()
        raise RuntimeError("crash after the flush")

    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    monkeypatch.setattr(campaign_service, "add_target", add_then_crash)
    # The server's behaviour, not the test client's: the crash becomes the 500 page.
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    resp = submit(
        f"/c/{c.slug}",
        {"name": "Renata Solis", "email": "chair@argus.example"},
        post_url=f"/c/{c.slug}/targets",
    )
    assert resp.status_code == 500
    assert _target_names(c.id) == ["Jordan Vale"]


@pytest.mark.parametrize("with_certificate", [False, True])
def test_a_download_that_records_its_render_keeps_it(client, app, with_certificate):
    """The in-process render is made inside the request and stored by its one commit."""
    from campaign.models import RenderedLetter

    u = f.user()
    c = f.published(u)
    f.login(client, u)
    url = f"/c/{c.slug}/letter.pdf" + ("?with=certificate" if with_certificate else "")
    resp = client.get(url)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert db.session.scalar(db.select(RenderedLetter.status)) == "ready"
