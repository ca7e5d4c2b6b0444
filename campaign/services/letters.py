"""Letter drafting, publishing, and the plain data the letter engine renders from."""

import hashlib
import json
import re

from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..letters.sandbox import check_template
from ..models import (
    Blob,
    Campaign,
    CampaignStatus,
    LetterRevision,
    LetterVersion,
    Target,
    utcnow,
)
from . import audit, reconsent
from .campaigns import require_editor

# Re-exported: views and services look versions up as letters.published_version etc.
from .letter_versions import (  # noqa: F401
    active_signatures,
    get_version,
    latest_version,
    published_version,
)
from .letterhead import look_of
from .roster import letter_roster

MAX_SUBJECT = 300


def content_sha256(subject: str, body: str) -> str:
    """Hash a version's text in a stable, documented form: JSON of subject and body."""
    canonical = json.dumps({"subject": subject, "body": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_draft(campaign: Campaign, user, subject: str, body: str) -> str:
    """Check that `user` may change the letter and that the text is valid; the clean subject."""
    require_editor(user)
    if campaign.status in (CampaignStatus.CLOSED, CampaignStatus.DELIVERED):
        raise Conflict("Signing has closed; the letter text can no longer change.")
    subject = subject.strip()
    if not subject:
        raise Invalid("subject", "is required")
    if len(subject) > MAX_SUBJECT:
        raise Invalid("subject", f"must be at most {MAX_SUBJECT} characters")
    check_template(subject, field="subject")
    check_template(body)
    return subject


def save_draft(campaign: Campaign, user, *, subject: str, body: str) -> LetterVersion:
    """Save the letter text as the working draft, checking the template first."""
    # Browsers send CRLF line ends; store one form so the sha256 does not depend on them.
    body = body.replace("\r\n", "\n")
    subject = check_draft(campaign, user, subject, body)
    draft = latest_version(campaign)
    if draft is None or draft.is_published:
        # Published versions are frozen: further edits start the next version.
        number = draft.number + 1 if draft else 1
        draft = LetterVersion(campaign_id=campaign.id, number=number, subject=subject, body=body)
        campaign.versions.append(draft)
    draft.subject = subject
    draft.body = body
    draft.author_id = user.id
    revision = _keep_revision(draft, user)
    db.session.flush()
    audit.record(
        "letter.saved",
        campaign=campaign,
        user=user,
        version=draft.number,
        revision=revision.id if revision else None,
    )
    return draft


def _keep_revision(draft: LetterVersion, user) -> LetterRevision | None:
    """Keep this save of the draft; a save that changed nothing adds no revision."""
    last = draft.revisions[-1] if draft.revisions else None
    if last is not None and (last.subject, last.body) == (draft.subject, draft.body):
        return None
    revision = LetterRevision(subject=draft.subject, body=draft.body, author_id=user.id)
    draft.revisions.append(revision)
    db.session.flush()
    return revision


def publish(campaign: Campaign, user) -> LetterVersion:
    """Freeze the draft, record its sha256 and open the campaign for signatures."""
    require_editor(user)
    draft = latest_version(campaign)
    if draft is None or draft.is_published:
        raise Conflict("There is no unpublished draft to publish; edit the letter first.")
    if campaign.status in (CampaignStatus.CLOSED, CampaignStatus.DELIVERED):
        raise Conflict("Signing has closed; the letter can no longer change.")
    if campaign.deadline <= utcnow():
        raise Conflict("The deadline has passed; move it before opening the campaign.")
    check_template(draft.subject, field="subject")
    check_template(draft.body)
    draft.published_at = utcnow()
    draft.published_by_id = user.id
    draft.content_sha256 = content_sha256(draft.subject, draft.body)
    campaign.status = CampaignStatus.OPEN
    db.session.flush()
    audit.record(
        "letter.published",
        campaign=campaign,
        user=user,
        version=draft.number,
        sha256=draft.content_sha256,
    )
    if draft.number > 1:
        # Signers of an earlier text must agree to this one before they count for it.
        reconsent.request_all(campaign, draft)
    return draft


def restore(campaign: Campaign, user, number: int) -> LetterVersion:
    """Copy an older version's text into a new draft; nothing is overwritten."""
    source = get_version(campaign, number)
    check_draft(campaign, user, source.subject, source.body)
    latest = latest_version(campaign)
    if latest is source:
        raise Conflict(f"Version {number} is already the newest version.")
    # Always a new number, so an unpublished draft being replaced keeps its text too.
    draft = LetterVersion(
        campaign_id=campaign.id,
        number=latest.number + 1,
        subject=source.subject,
        body=source.body,
        author_id=user.id,
        restored_from=source.number,
    )
    campaign.versions.append(draft)
    _keep_revision(draft, user)
    audit.record(
        "letter.restored",
        campaign=campaign,
        user=user,
        version=draft.number,
        from_version=source.number,
        replaced_draft=None if latest.is_published else latest.number,
    )
    return draft


def target_dict(target: Target) -> dict:
    """A target as plain strings for templates."""
    return {
        "name": target.name,
        "title": target.title,
        "organisation": target.organisation,
        "email": target.email,
        "salutation": target.salutation or f"Dear {target.name}",
        "postal_address": target.postal_address or "",
    }


def signatory_dicts(campaign: Campaign) -> list[dict]:
    """The listed signatures as plain dicts, the only form templates see."""
    return _signatories(campaign)[0]


def _signatories(campaign: Campaign) -> tuple[list[dict], int]:
    """The signatures the letter names, and how many more it counts without naming.

    Both come from the one roster (services/roster.py): signers of an earlier text are
    left out until they re-confirm unless the organisers chose to list them (each then
    carries "earlier_version"); "support privately" is counted but never named; "after
    delivery" is named only in copies made once the letter is delivered (delivery renders
    after the status changes). Draft previews use the same rule.
    """
    roster = letter_roster(campaign)
    listed = [
        {
            "organisation": e.signature.organisation,
            "name": e.signature.signer_name,
            "title": e.signature.signer_title,
            "tier": e.partner.tier,
            "role": e.partner.coalition_role,
            "logo_sha256": e.signature.logo_sha256,
            "signature_sha256": e.signature.signature_image_sha256,
            "signature_typed": e.signature.signature_typed,
            "earlier_version": e.version_number if e.earlier else None,
        }
        for e in roster.named
    ]
    return listed, roster.unnamed


def letter_data(
    campaign: Campaign,
    version: LetterVersion,
    target: Target | None = None,
    *,
    with_signatories: bool = True,
) -> dict:
    """Everything the letter engine needs, as plain dicts (never ORM objects)."""
    listed, unlisted = _signatories(campaign) if with_signatories else ([], 0)
    return {
        "look": look_of(campaign),
        "campaign": {
            "title": campaign.title,
            "slug": campaign.slug,
            "lead_organisation": campaign.lead_organisation,
            "lead_address": campaign.lead_address,
            "deadline": format_date(campaign.deadline),
        },
        "target": target_dict(target) if target is not None else None,
        "targets": [target_dict(t) for t in campaign.targets],
        "subject": version.subject,
        "body_source": version.body,
        "today": format_date(utcnow()),
        "version": {"number": version.number, "sha256": version.content_sha256},
        "signatories": listed,
        "unlisted_signatories": unlisted,
        "draft": not version.is_published,
    }


def format_date(moment) -> str:
    """Dates as letters print them: 27 November 2026."""
    return f"{moment.day} {moment:%B %Y}"


def draft_letter_data(
    campaign: Campaign, subject: str, body: str, target: Target | None = None
) -> dict:
    """Letter data for unsaved text, as the next draft would print it (for live preview)."""
    latest = latest_version(campaign)
    if latest is None:
        number = 1
    else:
        number = latest.number + 1 if latest.is_published else latest.number
    # A transient version: never added to the session, so nothing is saved.
    unsaved = LetterVersion(number=number, subject=subject, body=body)
    return letter_data(campaign, unsaved, target)


def letter_images(html: str) -> dict[str, tuple[str, bytes]]:
    """The stored images a letter's HTML names, as html_to_pdf wants them."""
    wanted = set(re.findall(r"/blobs/([0-9a-f]{64})", html))
    if not wanted:
        return {}
    blobs = db.session.scalars(select(Blob).where(Blob.sha256.in_(wanted)))
    return {b.sha256: (b.mime, bytes(b.data)) for b in blobs}
