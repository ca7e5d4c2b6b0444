"""Export ZIPs made by a job: start one, build it with progress, serve it, forget it.

A ZIP of a large coalition's letters takes minutes to make (a 5,000-signatory letter per
target), far longer than a web request should wait. The export page asks for a run, a
job builds it and commits its progress after each file, and the page shows that
progress until the file is ready. The ZIP holds every signatory's name and email, so it
is kept only for EXPORT_KEEP_HOURS and then deleted with its run.
"""

import io
import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import jobs
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Blob, Campaign, ExportRun, ExportStatus, User, utcnow
from .audit import record
from .blobs import store_blob
from .export_zip import write_zip, zip_steps
from .letters import published_version

log = logging.getLogger(__name__)

#: A run queued or running for longer than this lost its job (a worker died).
STALLED_AFTER = timedelta(hours=2)
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def start_export(campaign: Campaign, user: User) -> ExportRun:
    """The campaign's export in progress, or a new run queued for the job (flushes).

    Raises Invalid while the letter is unpublished: there is nothing signed to export.
    """
    if published_version(campaign) is None:
        raise Invalid("letter", "Publish the letter before exporting it.")
    active = db.session.scalar(
        select(ExportRun)
        .where(ExportRun.campaign_id == campaign.id, ExportRun.status.in_(ACTIVE))
        .order_by(ExportRun.id.desc())
    )
    if active is not None:
        # A second click, or a colleague's, joins the export already under way.
        return active
    run = ExportRun(
        campaign_id=campaign.id,
        requested_by_id=user.id,
        total=zip_steps(campaign),
        step="Waiting for the export job to start",
    )
    db.session.add(run)
    db.session.flush()
    # The ZIP carries every signatory's details, so who took one is part of the record.
    record("export.requested", campaign=campaign, user=user, export_id=run.id)
    jobs.after_commit("campaign.tasks.build_export", run.id)
    return run


def get_run(campaign: Campaign, run_id: int) -> ExportRun:
    """One of the campaign's export runs; NotFound for another campaign's."""
    run = db.session.get(ExportRun, run_id)
    if run is None or run.campaign_id != campaign.id:
        raise NotFound("export")
    return run


def latest_run(campaign: Campaign) -> ExportRun | None:
    """The campaign's most recent export run still kept, if any."""
    return db.session.scalar(
        select(ExportRun)
        .where(ExportRun.campaign_id == campaign.id)
        .order_by(ExportRun.id.desc())
        .limit(1)
    )


def build(run: ExportRun, checkpoint: Callable[[], None]) -> None:
    """Make a queued run's ZIP, calling `checkpoint` (a commit) after each progress step.

    Raises Invalid when a PDF cannot be made; the caller records it with fail().
    """
    campaign = db.session.get(Campaign, run.campaign_id)
    run.status = ExportStatus.RUNNING

    def progress(done: int, total: int, step: str) -> None:
        run.done, run.total, run.step = done, total, step[:300]
        db.session.flush()
        checkpoint()

    out = io.BytesIO()
    files = write_zip(campaign, out, progress=progress)
    run.zip_sha256 = store_blob(out.getvalue(), "application/zip").sha256
    run.manifest = "".join(f"{sha}  {name}\n" for name, sha in files)
    run.status = ExportStatus.READY
    run.step = ""
    run.finished_at = utcnow()
    db.session.flush()


def fail(run: ExportRun, reason: str) -> None:
    """Mark a run failed with a reason people can act on (flushes)."""
    run.status = ExportStatus.FAILED
    run.error = reason
    run.finished_at = utcnow()
    db.session.flush()


def expires_at(run: ExportRun):
    """When a finished run and its ZIP are deleted."""
    return (run.finished_at or run.created_at) + keep_for()


def keep_for() -> timedelta:
    """How long finished exports are kept (EXPORT_KEEP_HOURS)."""
    return timedelta(hours=current_app.config.get("EXPORT_KEEP_HOURS", 24))


def purge() -> int:
    """Delete finished runs past their time with their ZIPs, and fail stalled ones (flushes).

    Returns how many runs were deleted.
    """
    now = utcnow()
    for run in db.session.scalars(
        select(ExportRun).where(
            ExportRun.status.in_(ACTIVE), ExportRun.created_at < now - STALLED_AFTER
        )
    ):
        fail(run, "the export stopped before it finished (its worker was lost); start it again")
    old = list(
        db.session.scalars(
            select(ExportRun).where(
                ExportRun.status.not_in(ACTIVE), ExportRun.finished_at < now - keep_for()
            )
        )
    )
    shas = {run.zip_sha256 for run in old if run.zip_sha256}
    for run in old:
        db.session.delete(run)
    db.session.flush()
    kept = set(
        db.session.scalars(select(ExportRun.zip_sha256).where(ExportRun.zip_sha256.in_(shas)))
    )
    if shas - kept:
        db.session.execute(delete(Blob).where(Blob.sha256.in_(shas - kept)))
    db.session.flush()
    return len(old)
