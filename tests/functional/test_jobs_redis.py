"""Jobs through a real RQ queue on Redis, worked by a separate `flask worker` process."""

from campaign.extensions import db
from campaign.models import OutboundEmail, RenderedLetter
from campaign.services.rendering import request_render
from tests import factories as f
from tests.helpers.jobs import flask_command, work


def test_invitations_wait_in_redis_until_a_worker_sends_them(app, redis_queue):
    url, queue = redis_queue
    u = f.user()
    c = f.published(u)
    f.invited(c, u, f.partner(c, u))
    email = db.session.scalar(db.select(OutboundEmail))
    assert email.status == "queued"  # nothing ran in the web process
    work(app, url, queue)
    db.session.expire_all()
    email = db.session.get(OutboundEmail, email.id)
    assert email.status == "sent" and email.provider == "local"


def test_pdf_render_runs_in_the_worker(app, redis_queue):
    url, queue = redis_queue
    u = f.user()
    c = f.published(u)
    rendered = request_render(c)
    db.session.commit()
    assert rendered.status == "pending"
    work(app, url, queue)
    db.session.expire_all()
    rendered = db.session.get(RenderedLetter, rendered.id)
    assert rendered.status == "ready" and rendered.pdf_sha256


def test_the_rq_scheduler_queues_tick_and_the_worker_sends_due_reminders(app, redis_queue):
    from datetime import timedelta

    from campaign.models import utcnow

    url, queue = redis_queue
    u = f.user()
    # Six days left: the 7-day reminder is due.
    c = f.published(u, deadline=utcnow() + timedelta(days=6))
    f.invited(c, u, f.partner(c, u))
    work(app, url, queue)  # sends the invitation
    result = flask_command(app, url, queue, "scheduler", "--once")
    assert "queued 1 tick" in result.stdout
    db.session.expire_all()
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboundEmail.id)).where(OutboundEmail.kind == "reminder")
        )
        == 0
    )  # queued in Redis, not run yet
    work(app, url, queue)
    db.session.expire_all()
    reminder = db.session.scalar(db.select(OutboundEmail).where(OutboundEmail.kind == "reminder"))
    assert reminder is not None and reminder.status == "sent"


def test_an_export_zip_is_made_by_the_worker_while_its_page_shows_progress(
    client, app, redis_queue
):
    from campaign.models import ExportRun
    from tests.conftest import csrf_from
    from tests.helpers.campaigns import two_targets_three_signers

    url, queue = redis_queue
    u, c = two_targets_three_signers()
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    resp = client.post(f"/c/{c.slug}/exports", data={"csrf_token": csrf_from(page)})
    run_url = resp.headers["Location"]
    waiting = client.get(run_url).get_data(as_text=True)
    assert '<progress max="3" value="0">' in waiting  # queued in Redis, not made here
    assert "data-export-progress" in waiting and "/download" not in waiting
    work(app, url, queue)
    ready = client.get(run_url).get_data(as_text=True)
    assert "The export is ready." in ready and "data-export-progress" not in ready
    run = db.session.scalar(db.select(ExportRun))
    assert run.status == "ready" and run.done == run.total == 3
    assert client.get(f"{run_url}/download").headers["X-Content-SHA256"] == run.zip_sha256
