"""Partner organisations: adding them one by one, and inviting them (imports: partner_import)."""

import base64
import hashlib
import hmac
import re
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from sqlalchemy import func, insert, select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..links import external_url
from ..mail.batching import Placeholders
from ..mail.outbox import BatchItem, queue_batch
from ..mail.suppression import unsubscribe_url
from ..models import (
    TIERS,
    Campaign,
    CampaignStatus,
    Partner,
    RequestStatus,
    SignatureRequest,
    utcnow,
)
from . import audit
from .duplicates import find_flags
from .partner_list_access import require_manager


def normalise_email(value: str, field: str = "contact_email") -> str:
    """Validate an email address's shape, returning it normalised."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(field, f"{value.strip() or 'empty'} is not a valid email address") from exc


CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_partner_fields(fields: dict) -> dict:
    """Check and normalise one partner's fields (form or sheet row), naming what is wrong."""
    for name in ("organisation", "contact_email", "contact_name", "website", "tier"):
        if CONTROL_CHARS.search(fields.get(name) or ""):
            # PostgreSQL refuses NUL in text, and none of these belong in a letter.
            raise Invalid(name, "contains invisible control characters; retype the value")
    organisation = (fields.get("organisation") or "").strip()
    if not organisation:
        raise Invalid("organisation", "is required")
    if len(organisation) > 200:
        raise Invalid("organisation", "must be at most 200 characters")
    tier = (fields.get("tier") or "national").strip().lower()
    if tier not in TIERS:
        raise Invalid("tier", f"{tier!r} is not one of national, state, local")
    website = (fields.get("website") or "").strip()
    if website and not website.startswith(("http://", "https://")):
        website = "https://" + website
    return {
        "organisation": organisation,
        "contact_email": normalise_email(fields.get("contact_email") or ""),
        "contact_name": (fields.get("contact_name") or "").strip()[:200],
        "website": website[:300],
        "tier": tier,
    }


def _existing_emails(campaign: Campaign) -> set[str]:
    rows = db.session.scalars(
        select(func.lower(Partner.contact_email)).where(Partner.campaign_id == campaign.id)
    )
    return set(rows)


def add_partner(
    campaign: Campaign, user, fields: dict, *, allow_duplicate: bool = False
) -> Partner:
    """Add one partner organisation; a likely duplicate needs the organiser's say-so."""
    require_manager(user, campaign)
    clean = clean_partner_fields(fields)
    if clean["contact_email"].lower() in _existing_emails(campaign):
        raise Invalid("contact_email", "this address is already on the partner list")
    if not allow_duplicate:
        existing = [partner_entry(p) for p in campaign_partners(campaign)]
        for flag in find_flags([(0, clean)], existing):
            if flag.kind == "duplicate":
                raise Invalid(
                    "organisation",
                    f'looks like {flag.other} ({flag.reason}); tick "Add anyway" if it is '
                    "a different organisation",
                )
    partner = Partner(campaign_id=campaign.id, added_by_id=user.id, **clean)
    db.session.add(partner)
    db.session.flush()
    audit.record("partner.added", campaign=campaign, user=user, organisation=partner.organisation)
    return partner


def partner_entry(partner: Partner) -> dict:
    """The fields duplicate detection compares."""
    return {
        "organisation": partner.organisation,
        "website": partner.website,
        "contact_email": partner.contact_email,
        "tier": partner.tier,
    }


def campaign_partners(campaign: Campaign) -> list[Partner]:
    """A campaign's partners in name order."""
    return list(
        db.session.scalars(
            select(Partner).where(Partner.campaign_id == campaign.id).order_by(Partner.organisation)
        )
    )


def get_partner(campaign: Campaign, partner_id: int) -> Partner:
    """A partner of this campaign, or NotFound."""
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.campaign_id != campaign.id:
        raise NotFound(partner_id)
    return partner


def hash_token(token: str) -> str:
    """The stored form of a signing token: its sha256 hex digest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def signing_url(token: str) -> str:
    """The absolute personal signing link for a token."""
    return external_url("signing.show", token=token)


def _link_token(campaign_id: int, partner_id: int, salt: str) -> str:
    """The token of a link: an HMAC of its salt under the server's secret key.

    Only the token's sha256 is stored, yet the server can recompute the token whenever it
    must mail the link again (reminders, re-confirmation), so a partner's earlier emails
    keep working. Reading the database alone gives neither the token nor a way to make one.
    """
    key = current_app.config["SECRET_KEY"]
    key = key.encode("utf-8") if isinstance(key, str) else key
    message = f"undersigned-signing-link\x00{campaign_id}\x00{partner_id}\x00{salt}"
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _new_token(campaign_id: int, partner_id: int) -> tuple[str, str, str]:
    """A fresh link's token, the sha256 that is all we store of it, and its salt."""
    salt = secrets.token_urlsafe(16)
    token = _link_token(campaign_id, partner_id, salt)
    return token, hash_token(token), salt


def link_token(req: SignatureRequest) -> str:
    """The token of an existing link, to mail it again; the link itself does not change.

    A link made before salts existed (or under an older SECRET_KEY) cannot be recomputed;
    only then is it given a new token in place, and the old URL stops working.
    """
    if req.token_salt:
        token = _link_token(req.campaign_id, req.partner_id, req.token_salt)
        if hash_token(token) == req.token_sha256:
            return token
    token, req.token_sha256, req.token_salt = _new_token(req.campaign_id, req.partner_id)
    db.session.flush()
    return token


def _new_link(campaign: Campaign, partner_id: int) -> tuple[dict, str]:
    """A fresh token and the row that stores only its hash; it expires at the deadline."""
    token, sha256, salt = _new_token(campaign.id, partner_id)
    row = {
        "campaign_id": campaign.id,
        "partner_id": partner_id,
        "token_sha256": sha256,
        "token_salt": salt,
        "expires_at": campaign.deadline,
        "status": RequestStatus.INVITED,
    }
    return row, token


def issue_link(campaign: Campaign, partner: Partner) -> tuple[SignatureRequest, str]:
    """Create a personal link; only its hash is stored, the token is returned once."""
    for old in partner.requests:
        if old.revoked_at is None and old.status not in (
            RequestStatus.SIGNED,
            RequestStatus.WITHDRAWN,
        ):
            old.revoked_at = utcnow()  # a reissued link kills the previous one at once
    row, token = _new_link(campaign, partner.id)
    req = SignatureRequest(**row)
    partner.requests.append(req)
    db.session.flush()
    return req, token


def uninvited(campaign: Campaign) -> list[Partner]:
    """Partners who have never been sent a link."""
    stmt = (
        select(Partner)
        .where(Partner.campaign_id == campaign.id, ~Partner.requests.any())
        .order_by(Partner.organisation)
    )
    return list(db.session.scalars(stmt))


def invitation_subject(campaign: Campaign, partner: Partner) -> str:
    """The subject line of a partner's invitation."""
    return f"Will {partner.organisation} co-sign? {campaign.title}"


def invitation_text(campaign: Campaign, values: dict[str, str]) -> str:
    """An invitation's text for one partner's name, organisation, link and unsubscribe URL."""
    person = {"contact_name": values["name"], "organisation": values["organisation"]}
    return render_template(
        "emails/invitation.txt",
        partner=person,
        campaign=campaign,
        url=values["url"],
        deadline=f"{campaign.deadline.day} {campaign.deadline:%B %Y}",
        unsubscribe=values["unsubscribe"],
    )


def invite(campaign: Campaign, user, partners: list[Partner]) -> dict[int, str]:
    """Issue links and queue invitation emails (sent after the commit); return the tokens."""
    require_manager(user, campaign, partners)
    if campaign.status != CampaignStatus.OPEN:
        raise Conflict("Publish the letter to open the campaign before inviting partners.")

    def render(values: dict[str, str]) -> str:
        return invitation_text(campaign, values)

    # One template for everyone, so the invitations go out as a few batched API requests.
    placeholders = Placeholders()
    tokens = _issue_links(campaign, partners)
    items = []
    for partner in partners:
        values = {
            "name": partner.contact_name or "",
            "organisation": partner.organisation,
            "url": signing_url(tokens[partner.id]),
            "unsubscribe": unsubscribe_url(partner.contact_email),
        }
        template, substitutions = placeholders.merge(render, values)
        items.append(
            BatchItem(
                to_email=partner.contact_email,
                to_name=partner.contact_name,
                subject=invitation_subject(campaign, partner),
                text_body=render(values),
                template=template,
                substitutions=substitutions,
                partner_id=partner.id,
            )
        )
    queue_batch("invitation", items, campaign_id=campaign.id, tracking=campaign.tracking_enabled)
    if partners:
        audit.record("partners.invited", campaign=campaign, user=user, count=len(partners))
    return tokens


def _issue_links(campaign: Campaign, partners: list[Partner]) -> dict[int, str]:
    """Personal links for many partners; first links go in as one multi-row INSERT."""
    ids = [partner.id for partner in partners]
    invited = set()
    for start in range(0, len(ids), 1000):
        invited.update(
            db.session.scalars(
                select(SignatureRequest.partner_id).where(
                    SignatureRequest.partner_id.in_(ids[start : start + 1000])
                )
            )
        )
    tokens, rows = {}, []
    for partner in partners:
        if partner.id in invited:
            # A reissue: issue_link revokes the old link first.
            tokens[partner.id] = issue_link(campaign, partner)[1]
            continue
        row, tokens[partner.id] = _new_link(campaign, partner.id)
        rows.append(row)
    if rows:
        db.session.execute(insert(SignatureRequest), rows)
        for partner in partners:
            # The bulk INSERT bypassed the loaded collections; reload them when next read.
            db.session.expire(partner, ["requests"])
    return tokens
