"""Export ZIPs as jobs: progress, joining a run under way, access, and deletion in time."""

import io
import zipfile
from datetime import timedelta

from campaign.extensions import db
from campaign.models import AuditEvent, Blob, ExportRun, utcnow
from campaign.services import export_jobs as export_runs
from campaign.services.campaigns import add_member
from campaign.tasks import run_periodic
from tests import factories as f
from tests.conftest import csrf_from
from tests.helpers.campaigns import two_targets_three_signers
from tests.helpers.exports import export_zip, start_export


def test_the_job_reports_each_step_before_it_starts(app):
    u, c = two_targets_three_signers()
    run = export_runs.start_export(c, u)
    db.session.commit()
    vale, solis = c.targets
    seen = []

    def checkpoint():
        db.session.commit()  # what a poll from another request would now see
        stored = db.session.get(ExportRun, run.id)
        seen.append((stored.status, stored.done, stored.total, stored.step))

    export_runs.build(run, checkpoint)
    db.session.commit()
    assert seen == [
        ("running", 0, 3, f"Making the signed PDF for {vale.name}"),
        ("running", 1, 3, f"Making the signed PDF for {solis.name}"),
        ("running", 2, 3, "Making the audit certificate and signatory lists"),
        ("running", 3, 3, "Finishing the ZIP"),
    ]
    run = db.session.get(ExportRun, run.id)
    assert run.status == "ready" and run.finished_at is not None
    archive = zipfile.ZipFile(io.BytesIO(db.session.get(Blob, run.zip_sha256).data))
    assert len(archive.namelist()) == 6 == len(run.manifest.splitlines())


def test_export_page_lists_the_files_and_their_checksums(client, app):
    u, c = two_targets_three_signers()
    f.login(client, u)
    page = start_export(client, c.slug).get_data(as_text=True)
    assert "The export is ready." in page
    run = db.session.scalar(db.select(ExportRun))
    resp = client.get(f"/c/{c.slug}/exports/{run.id}/download")
    assert resp.headers["X-Content-SHA256"] == run.zip_sha256
    archive = zipfile.ZipFile(io.BytesIO(resp.data))
    sums = archive.read("SHA256SUMS").decode()
    for line in sums.splitlines():
        sha, name = line.split("  ", 1)
        assert name in page and sha in page
    assert "is deleted" in page
    # The campaign page links back to it.
    overview = client.get(f"/c/{c.slug}").get_data(as_text=True)
    assert f'href="/c/{c.slug}/exports/{run.id}"' in overview and "ready to download" in overview
    # Taking the signatories' details is on the record.
    actions = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.campaign_id == c.id))
    assert "export.requested" in list(actions)


def test_a_second_click_joins_the_export_under_way(client, app):
    u, c = two_targets_three_signers()
    running = export_runs.start_export(c, u)
    db.session.commit()
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    resp = client.post(f"/c/{c.slug}/exports", data={"csrf_token": csrf_from(page)})
    assert resp.headers["Location"].endswith(f"/c/{c.slug}/exports/{running.id}")
    assert db.session.scalar(db.select(db.func.count(ExportRun.id))) == 1
    # While it waits: a progress bar, what comes next, and the JSON the page polls.
    page = client.get(f"/c/{c.slug}/exports/{running.id}").get_data(as_text=True)
    assert '<progress max="3" value="0">' in page and "Waiting for the export job to start" in page
    assert "/download" not in page
    progress = client.get(f"/c/{c.slug}/exports/{running.id}/progress").get_json()
    step = "Waiting for the export job to start"
    assert progress == {"status": "queued", "done": 0, "total": 3, "step": step}
    # Asking for the file early leads back to the progress page.
    early = client.get(f"/c/{c.slug}/exports/{running.id}/download")
    assert early.status_code == 302 and early.headers["Location"].endswith(f"/{running.id}")


def test_export_needs_a_published_letter(client, app):
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    page = client.get(f"/c/{c.slug}").get_data(as_text=True)
    resp = client.post(
        f"/c/{c.slug}/exports", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Publish the letter before exporting it." in resp.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(ExportRun.id))) == 0


def test_another_campaigns_export_is_404(client, app):
    u, c = two_targets_three_signers()
    run = export_runs.start_export(c, u)
    db.session.commit()
    other_owner = f.user()
    other = f.published(other_owner)
    staff = f.user(role="staff")
    add_member(other, staff)
    db.session.commit()
    f.login(client, staff)  # a member of the other campaign, not of this one
    for path in ("", "/progress", "/download"):
        assert client.get(f"/c/{other.slug}/exports/{run.id}{path}").status_code == 404
        assert client.get(f"/c/{c.slug}/exports/{run.id}{path}").status_code == 404


def test_tick_deletes_old_exports_with_their_zip_and_fails_stalled_ones(client, app):
    u, c = two_targets_three_signers()
    f.login(client, u)
    assert export_zip(client, c.slug).status_code == 200
    done = db.session.scalar(db.select(ExportRun))
    sha = done.zip_sha256
    stalled = ExportRun(campaign_id=c.id, total=3, status="running")
    db.session.add(stalled)
    db.session.commit()

    run_periodic()  # both are recent: nothing changes
    assert db.session.get(ExportRun, done.id) and db.session.get(Blob, sha)
    assert db.session.get(ExportRun, stalled.id).status == "running"

    done.finished_at = utcnow() - timedelta(hours=25)
    stalled.created_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    run_periodic()
    assert db.session.get(ExportRun, done.id) is None and db.session.get(Blob, sha) is None
    stalled = db.session.get(ExportRun, stalled.id)
    assert stalled.status == "failed" and "start it again" in stalled.error
    page = client.get(f"/c/{c.slug}/exports/{stalled.id}").get_data(as_text=True)
    assert "its worker was lost" in page and "Try again" in page


def test_a_renderer_crash_fails_the_export_and_leaves_no_pdf_pending(client, app, monkeypatch):
    from campaign.models import RenderedLetter
    from campaign.services import rendering
    from campaign.tasks import build_export

    u, c = two_targets_three_signers()
    run = export_runs.start_export(c, u)
    db.session.commit()

    def crash(*args, **kwargs):
        raise RuntimeError("a bug in a PDF library")

    monkeypatch.setattr(rendering, "letter_pdf", crash)
    build_export(run.id)
    db.session.expire_all()
    run = db.session.get(ExportRun, run.id)
    assert run.status == "failed"
    assert "could not be made: The PDF renderer failed; the server log has" in run.error
    statuses = db.session.scalars(db.select(RenderedLetter.status))
    assert set(statuses) == {"failed"}, "a pending render would be waited on for ever"
    monkeypatch.undo()
    f.login(client, u)
    assert client.get(f"/c/{c.slug}/letter.pdf").status_code == 200  # a fresh render
