"""Job entry points: each loads its rows by id, calls a service, and commits.

Jobs are their own transaction boundary, the way a request is; services only flush.
Services queue these by dotted path (`jobs.after_commit("campaign.tasks.x", id)`), so
the services never import this module and there is no import cycle.
"""

import logging

from . import jobs
from .errors import Invalid
from .extensions import db
from .letters.chunked import ChunkCache
from .mail import webhook_batches
from .mail.sweep import sweep_outbox
from .models import (
    Campaign,
    CampaignStatus,
    ExportRun,
    ExportStatus,
    RenderedLetter,
    RenderStatus,
    utcnow,
)
from .services import alerts, deadlines, evidence, export_jobs, followups
from .services import render_ahead as render_ahead_service
from .services.delivery import queue_letter_email
from .services.reminders import send_due
from .services.rendering import render_now, render_together

log = logging.getLogger(__name__)


@jobs.job
def render_letter(rendered_id: int) -> None:
    """Render one pending PDF and commit it; a crash marks it failed, never stuck."""
    rendered = db.session.get(RenderedLetter, rendered_id)
    if rendered is None or rendered.status != RenderStatus.PENDING:
        return
    try:
        render_now(rendered)
    except Exception:
        # Never leave a render "pending" forever: the page would spin with no answer.
        log.exception("rendering letter %s failed", rendered_id)
        db.session.rollback()
        rendered = db.session.get(RenderedLetter, rendered_id)
        rendered.status = RenderStatus.FAILED
        rendered.error = "The PDF renderer failed; the server log has the details."
        rendered.finished_at = utcnow()
    db.session.commit()


@jobs.job
def render_ahead(campaign_id: int) -> None:
    """Render the changed letter's copies before anyone asks (services/render_ahead.py)."""
    if not render_ahead_service.claim(campaign_id):
        return  # another job took it, or nothing changed since the last one
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is not None:
        # Each new copy is queued as a render_letter job: the same path as a click.
        render_ahead_service.request_copies(campaign)
        # Once signing is over the audit chain settles and staff ask for the evidence, so
        # the certificate is issued now and their first click is served from the store.
        # While signing is open one made ahead would be stale within minutes, and each
        # burst of signatures would add an issued document that nobody asked for.
        if campaign.status in (CampaignStatus.CLOSED, CampaignStatus.DELIVERED):
            evidence.current_certificate(campaign)
    db.session.commit()


@jobs.job
def build_export(run_id: int) -> None:
    """Make a queued export ZIP, committing its progress after each file."""
    run = db.session.get(ExportRun, run_id)
    if run is None or run.status != ExportStatus.QUEUED:
        return  # already built, or a duplicate delivery of this job
    try:
        export_jobs.build(run, checkpoint=db.session.commit)
    except Invalid as exc:
        # Keep the failed render too: the campaign page shows its reason.
        export_jobs.fail(run, exc.reason)
    except Exception:
        log.exception("export %s failed", run_id)
        db.session.rollback()
        export_jobs.fail(
            db.session.get(ExportRun, run_id),
            "the export failed; the server log has the details",
        )
    db.session.commit()


@jobs.job
def deliver_letters(rendered_ids: list[int]) -> None:
    """Render the targets' copies that are missing, together, then queue each letter email."""
    renders = [r for i in rendered_ids if (r := db.session.get(RenderedLetter, i)) is not None]
    render_together([r for r in renders if r.status == RenderStatus.PENDING])
    db.session.commit()
    for rendered in renders:
        queue_letter_email(rendered)
        db.session.commit()


@jobs.job
def apply_webhook_batch(batch_id: int) -> None:
    """Apply the events of one stored webhook post."""
    webhook_batches.apply(batch_id)


@jobs.job
def handle_bounce(email_id: int) -> None:
    """Alert the organisers about a bounced letter and send its fallback copy, once."""
    alerts.handle_bounce(email_id)
    db.session.commit()


@jobs.job
def run_periodic():
    """The periodic run behind `flask tick`: reminders first, so the sweep sends them."""
    # Campaigns past their deadline close first, so nobody is reminded to sign a closed letter.
    deadlines.close_past_deadline()
    db.session.commit()
    reminders = send_due()
    db.session.commit()
    # Events before the sweep: a late "processed" event settles an "unknown" email.
    webhook_batches.apply_stale()
    webhook_batches.purge()
    db.session.commit()
    # Bounces whose job was lost; before the sweep, so their fallback copies go out now.
    for email_id in alerts.missed_bounces():
        try:
            handle_bounce(email_id)
        except Exception:
            # One broken bounce must not stop the sweep that sends everyone's email.
            log.exception("handling the bounce of email %s failed", email_id)
            db.session.rollback()
    # Follow-ups one at a time: a letter that fails to render must not hold up the rest.
    for step, target in followups.due():
        try:
            followups.send(step, target)
            db.session.commit()
        except Exception:
            log.exception("follow-up %s to target %s failed", step.id, target.id)
            db.session.rollback()
    # Letters whose render-ahead job was lost (a worker died, a CLI process ended).
    for campaign_id in render_ahead_service.lost():
        render_ahead(campaign_id)
    # Cached signatory pages hold names; a month unused, they are only a render saved.
    ChunkCache.configured().prune()
    # Export ZIPs hold every signatory's details; keep them no longer than configured.
    export_jobs.purge()
    db.session.commit()
    return reminders, sweep_outbox()
