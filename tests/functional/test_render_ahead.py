"""Rendering ahead: after a change to the letter its PDFs are made in the background, so
the organiser's first "Download signed PDF" renders nothing (issue 11, E30)."""

import time

import pytest

from campaign import jobs, tasks
from campaign.extensions import db
from campaign.models import IssuedDocument, RenderedLetter, RenderWanted
from campaign.services import campaigns, letters, rendering
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.forms import sign_via_link
from tests.helpers.jobs import work


@pytest.fixture
def renders(monkeypatch) -> list[int]:
    """How many copies each render made (rendering.render_together is every render's path)."""
    made: list[int] = []
    real = rendering.render_together

    def counted(renders, *args, **kwargs):
        made.append(len(renders))
        return real(renders, *args, **kwargs)

    monkeypatch.setattr(rendering, "render_together", counted)
    return made


def _wanted() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(db.select(RenderWanted.campaign_id)))


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_the_first_download_after_a_signature_renders_nothing(client, app, renders):
    owner = f.user()
    c = f.published(owner)
    token = f.invited(c, owner, f.partner(c, owner))
    assert sign_via_link(client, token).status_code == 302  # a real signature, over HTTP
    assert _wanted() == {c.id}, "the signature did not ask for a render"

    tasks.render_ahead(c.id)  # the background job, as the timer or RQ runs it
    jobs.run_ready()
    assert renders, "the background job rendered nothing"
    assert _wanted() == set()
    stored = db.session.scalar(
        db.select(RenderedLetter).where(
            RenderedLetter.target_id.is_(None), RenderedLetter.status == "ready"
        )
    )
    assert stored is not None and stored.signatory_count == 1

    renders.clear()
    issued = _count(IssuedDocument)
    f.login(client, owner)
    started = time.perf_counter()
    resp = client.get(f"/c/{c.slug}/letter.pdf")
    took = time.perf_counter() - started
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    assert renders == [], "the download rendered the letter again"
    assert resp.headers["X-Content-SHA256"] == stored.pdf_sha256
    assert _count(IssuedDocument) == issued
    assert took < 1.0, f"served from the store, yet took {took:.2f} s"
    # Every target's copy was made too (delivery and the export use them).
    db.session.expire_all()
    target_copy = db.session.scalar(
        db.select(RenderedLetter).where(RenderedLetter.target_id == c.targets[0].id)
    )
    assert target_copy is not None and target_copy.status == "ready"


def test_a_burst_of_signatures_is_rendered_once(client, app, renders):
    owner = f.user()
    c = f.published(owner)
    for _ in range(3):
        f.sign(c, owner, f.partner(c, owner))
    assert _count(RenderWanted) == 1, "one row per campaign, however many changes"
    tasks.render_ahead(c.id)
    jobs.run_ready()
    # The generic copy and the target's copy, once each, with all three signatures.
    assert sum(renders) == 2
    tasks.render_ahead(c.id)  # a second job for the same burst finds nothing to do
    jobs.run_ready()
    assert sum(renders) == 2
    ready = db.session.scalars(db.select(RenderedLetter).where(RenderedLetter.status == "ready"))
    assert {r.signatory_count for r in ready} == {3}


def test_an_unchanged_letter_is_not_rendered_again(client, app, renders):
    owner = f.user()
    c = f.published(owner)
    f.sign(c, owner, f.partner(c, owner))
    tasks.render_ahead(c.id)
    jobs.run_ready()
    renders.clear()
    # A new partner, not yet signed, changes nothing the letter prints.
    f.partner(c, owner)
    assert _wanted() == {c.id}
    tasks.render_ahead(c.id)
    jobs.run_ready()
    assert renders == []


@pytest.mark.parametrize("change", ["publish", "target", "letterhead", "withdraw"])
def test_each_change_to_the_letter_asks_for_a_render(client, app, change):
    from campaign.services import letterhead
    from campaign.services import personal_link_signing as signing

    owner = f.user()
    c = f.published(owner)
    p = f.sign(c, owner, f.partner(c, owner))
    tasks.render_ahead(c.id)
    jobs.run_ready()
    assert _wanted() == set()
    if change == "publish":
        letters.save_draft(c, owner, subject="New subject", body=letters.latest_version(c).body)
        letters.publish(c, owner)
    elif change == "target":
        campaigns.add_target(
            c, owner, name="Ravi Sen", organisation="Beacon", email="r@beacon.example"
        )
    elif change == "letterhead":
        values = {
            "lead_organisation": c.lead_organisation,
            "lead_address": c.lead_address,
            "accent_colour": "#7a2e3a",
            "page_size": c.page_size,
            "margin_mm": c.margin_mm,
            "signature_style": c.signature_style,
        }
        letterhead.update_letterhead(c, owner, values)
    else:
        signing.withdraw(p.requests[-1])
    f.commit()
    assert _wanted() == {c.id}, f"{change} did not ask for a render"


def test_without_redis_a_timer_renders_after_the_commit(client, app, monkeypatch):
    """The in-process runner: the signer's request answers at once, a timer renders."""
    monkeypatch.setitem(app.config, "RENDER_AHEAD_SECONDS", 0)
    owner = f.user()
    c = f.published(owner)
    token = f.invited(c, owner, f.partner(c, owner))
    assert sign_via_link(client, token).status_code == 302
    deadline = time.monotonic() + 60
    ready = None
    while time.monotonic() < deadline and ready is None:
        time.sleep(0.2)
        db.session.rollback()
        ready = db.session.scalar(
            db.select(RenderedLetter).where(
                RenderedLetter.target_id.is_(None),
                RenderedLetter.status == "ready",
                RenderedLetter.signatory_count == 1,
            )
        )
    assert ready is not None, "no background render within a minute"
    # Let the target's copy finish too, before the tables are cleaned.
    while time.monotonic() < deadline and _wanted():
        time.sleep(0.2)
    while time.monotonic() < deadline and db.session.scalar(
        db.select(db.func.count(RenderedLetter.id)).where(RenderedLetter.status == "pending")
    ):
        time.sleep(0.2)
        db.session.rollback()


def test_with_redis_the_worker_renders_ahead_after_the_delay(app, redis_queue, monkeypatch):
    """RQ: the job is scheduled for later, and `flask worker` (with RQ's scheduler) runs it."""
    from rq import Queue

    url, queue = redis_queue
    monkeypatch.setitem(app.config, "RENDER_AHEAD_SECONDS", 1)
    owner = f.user()
    c = f.published(owner)
    f.sign(c, owner, f.partner(c, owner))
    scheduled = Queue(queue, connection=jobs.redis_connection()).scheduled_job_registry
    assert scheduled.get_job_ids(), "no render-ahead job was scheduled"
    assert db.session.scalar(db.select(db.func.count(RenderedLetter.id))) == 0
    time.sleep(1.5)
    work(app, url, queue)
    db.session.expire_all()
    ready = db.session.scalars(db.select(RenderedLetter).where(RenderedLetter.status == "ready"))
    assert {r.signatory_count for r in ready} == {1}
    assert _wanted() == set()


def test_once_signing_closes_the_first_certificate_click_issues_nothing(client, app):
    owner = f.user()
    c = f.published(owner)
    token = f.invited(c, owner, f.partner(c, owner))
    assert sign_via_link(client, token).status_code == 302
    f.login(client, owner)
    page = client.get(f"/c/{c.slug}")
    closed = client.post(f"/c/{c.slug}/close", data={"csrf_token": csrf_from(page.text)})
    assert closed.status_code == 302
    assert _wanted() == {c.id}, "closing signing did not ask for a render"

    tasks.render_ahead(c.id)
    jobs.run_ready()
    db.session.expire_all()
    issued = db.session.scalars(
        db.select(IssuedDocument).where(IssuedDocument.kind == "certificate")
    ).all()
    assert len(issued) == 1, "the certificate was not made ahead once signing closed"

    resp = client.get(f"/c/{c.slug}/certificate.pdf")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    db.session.expire_all()
    after = db.session.scalars(
        db.select(IssuedDocument).where(IssuedDocument.kind == "certificate")
    ).all()
    assert [d.code for d in after] == [issued[0].code], "the click issued a new certificate"
    assert resp.headers["X-Content-SHA256"] == issued[0].sha256


def test_while_signing_is_open_no_certificate_is_made_ahead(client, app):
    owner = f.user()
    c = f.published(owner)
    token = f.invited(c, owner, f.partner(c, owner))
    assert sign_via_link(client, token).status_code == 302
    tasks.render_ahead(c.id)
    jobs.run_ready()
    kinds = db.session.scalars(db.select(IssuedDocument.kind)).all()
    assert "certificate" not in kinds
