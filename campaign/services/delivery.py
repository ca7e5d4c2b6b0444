"""Delivering the signed letter to its targets, one merged copy each."""

from flask import render_template
from markupsafe import Markup

from .. import jobs
from ..errors import Conflict
from ..extensions import db
from ..letters.document import merge_context
from ..letters.markdown import markdown_to_html
from ..letters.sandbox import render_text, to_plain_text
from ..mail.outbox import queue_email
from ..mail.reply_address import reply_address
from ..models import Campaign, CampaignStatus, RenderedLetter, RenderStatus, Target, utcnow
from . import audit
from .campaigns import require_editor
from .letters import letter_data, published_version
from .rendering import render_now, request_render
from .target_address import working_address


def check_ready(campaign: Campaign) -> None:
    """Refuse delivery unless signing is closed and there is someone to send to."""
    if campaign.status == CampaignStatus.DELIVERED:
        raise Conflict("The letter has already been delivered.")
    if campaign.status != CampaignStatus.CLOSED:
        raise Conflict("Close signing before delivering the letter.")
    if not campaign.targets:
        raise Conflict("Add at least one target (recipient) before delivering.")
    if published_version(campaign) is None:
        raise Conflict("Publish the letter before delivering it.")


def deliver(campaign: Campaign, user) -> list[RenderedLetter]:
    """Mark the campaign delivered and queue one signed copy per target."""
    require_editor(user)
    check_ready(campaign)
    campaign.status = CampaignStatus.DELIVERED
    campaign.delivered_at = utcnow()
    renders = [request_render(campaign, target, queue=False) for target in campaign.targets]
    db.session.flush()
    # One job for every copy: a long letter's copies render together (rendering.py).
    jobs.after_commit("campaign.tasks.deliver_letters", [rendered.id for rendered in renders])
    audit.record(
        "letter.delivered",
        campaign=campaign,
        user=user,
        targets=[t.email for t in campaign.targets],
    )
    return renders


def queue_letter_email(rendered: RenderedLetter) -> None:
    """Make sure a target's PDF exists, then queue the email carrying it (flushes)."""
    if rendered.status == RenderStatus.PENDING:
        render_now(rendered)
    if rendered.status != RenderStatus.READY:
        return  # the failure and its reason are on the render row
    campaign = db.session.get(Campaign, rendered.campaign_id)
    target = db.session.get(Target, rendered.target_id)
    version = published_version(campaign)
    # The same merge fields as the PDF, so the email and the attachment say the same.
    merge = merge_context(letter_data(campaign, version, target))
    subject = to_plain_text(render_text(version.subject, merge))
    body = render_text(version.body, merge)
    count = merge["signatory_count"]
    queue_email(
        kind="letter",
        to_email=working_address(target),
        to_name=target.name,
        subject=subject,
        text_body=render_template(
            "emails/letter.txt", body=to_plain_text(body), campaign=campaign, count=count
        ),
        html_body=render_template(
            "emails/letter.html",
            subject=subject,
            # Endnotes, not print footnotes: an email has no pages to float them to.
            body=Markup(markdown_to_html(body, inline_footnotes=False)),  # noqa: S704 - nh3-clean
            campaign=campaign,
            count=count,
        ),
        campaign_id=campaign.id,
        target_id=target.id,
        attachment=(f"{campaign.slug}-signed-letter.pdf", rendered.pdf_sha256),
        tracking=campaign.tracking_enabled,
        # None without INBOUND_DOMAIN: replies then go to the sender, as before.
        reply_to=reply_address(target.id),
    )
