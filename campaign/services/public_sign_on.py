"""Public sign-on: anyone may ask to sign; it counts after email confirmation and review.

A public sign-up becomes an ordinary partner with a personal link (emailed as the
confirmation link), so editing and withdrawing work as for invited partners. It moves
unconfirmed -> pending (address confirmed) -> signed (approved) or rejected.
"""

import secrets

from flask import current_app, render_template
from sqlalchemy import select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..links import external_url
from ..mail.outbox import queue_email
from ..models import (
    VISIBILITY,
    BlockedSource,
    Campaign,
    CampaignStatus,
    Partner,
    PublicLink,
    RequestStatus,
    Signature,
    SignatureRequest,
    SignedVersion,
    utcnow,
)
from . import audit
from .blobs import store_logo
from .campaigns import require_editor
from .duplicates import email_domain, site_domain
from .letters import published_version
from .org_names import check_signing_name
from .partners import clean_partner_fields, issue_link, normalise_email, signing_url
from .personal_link_signing import DECLARATION, consent_text
from .signup_mail import may_mail


def public_url(link: PublicLink) -> str:
    """The shareable address of a public link."""
    return external_url("public.show", token=link.token)


def get_link(campaign: Campaign) -> PublicLink | None:
    """The campaign's public link, if it has one."""
    return db.session.scalar(select(PublicLink).where(PublicLink.campaign_id == campaign.id))


def set_enabled(campaign: Campaign, user, enabled: bool) -> PublicLink:
    """Turn the public link on (creating it) or off."""
    require_editor(user)
    link = get_link(campaign)
    if link is None:
        link = PublicLink(campaign_id=campaign.id, token=secrets.token_urlsafe(16))
        db.session.add(link)
    link.enabled = enabled
    db.session.flush()
    audit.record(
        "public_link.enabled" if enabled else "public_link.disabled", campaign=campaign, user=user
    )
    return link


def rotate(campaign: Campaign, user) -> PublicLink:
    """Give the public link a new address; the old one stops working at once."""
    require_editor(user)
    link = get_link(campaign)
    if link is None:
        raise Conflict("There is no public link to replace.")
    link.token = secrets.token_urlsafe(16)
    db.session.flush()
    audit.record("public_link.rotated", campaign=campaign, user=user)
    return link


def resolve_public(token: str) -> Campaign:
    """The open campaign behind a public token; anything else is NotFound."""
    link = db.session.scalar(select(PublicLink).where(PublicLink.token == (token or "")[:64]))
    if link is None or not link.enabled:
        raise NotFound("public link")
    campaign = db.session.get(Campaign, link.campaign_id)
    if campaign.status != CampaignStatus.OPEN or published_version(campaign) is None:
        raise NotFound("public link")
    return campaign


def is_blocked(campaign: Campaign, *, email: str, ip: str) -> bool:
    """Whether the signer's email domain or IP address is on the campaign's blocklist."""
    domain = email.rpartition("@")[2].lower()
    rows = db.session.scalars(select(BlockedSource).where(BlockedSource.campaign_id == campaign.id))
    for row in rows:
        if row.kind == "ip" and row.value == ip:
            return True
        if row.kind == "domain" and (domain == row.value or domain.endswith("." + row.value)):
            return True
    return False


def submit(
    campaign: Campaign, form: dict, logo: bytes | None, *, ip: str, user_agent: str, version_id: int
) -> Signature:
    """Record a public sign-up and email the confirmation link; nothing counts yet."""
    version = published_version(campaign)
    if version is None or version.id != version_id:
        raise Invalid("letter", "the letter was updated while you were reading; please re-read it")
    if not form.get("authorised"):
        raise Invalid("authorised", "tick the box to confirm you may sign for the organisation")
    check_signing_name(form.get("organisation") or "", bool(form.get("confirm_organisation")))
    email = normalise_email(form.get("signer_email") or "", field="signer_email")
    fields = clean_partner_fields(
        {
            "organisation": form.get("organisation"),
            "contact_email": email,
            "contact_name": form.get("signer_name"),
            "website": form.get("website"),
            "tier": form.get("tier") or "local",
        }
    )
    if is_blocked(campaign, email=email, ip=ip):
        # Deliberately vague: a blocked sender learns nothing about the rule that hit.
        raise Conflict("We could not accept this signature. Please contact the organisers.")
    logo_sha = (
        store_logo(logo, max_bytes=current_app.config["LOGO_MAX_BYTES"]).sha256 if logo else None
    )
    partner = Partner(campaign_id=campaign.id, source="public", logo_sha256=logo_sha, **fields)
    db.session.add(partner)
    db.session.flush()
    req, token = issue_link(campaign, partner)
    req.status = RequestStatus.UNCONFIRMED
    req.addressee_name = fields["contact_name"]
    req.addressee_email = email
    sig = Signature(
        campaign_id=campaign.id,
        request_id=req.id,
        letter_version_id=version.id,
        letter_sha256=version.content_sha256,
        organisation=fields["organisation"],
        signer_name=(form.get("signer_name") or "").strip(),
        signer_title=(form.get("signer_title") or "").strip(),
        signer_email=email,
        logo_sha256=logo_sha,
        declaration=DECLARATION,
        ip=ip[:64],
        user_agent=user_agent[:400],
    )
    if form.get("visibility") in VISIBILITY:
        sig.visibility = form["visibility"]
    if form.get("contact_consent"):
        sig.contact_consent = consent_text(campaign)
        sig.contact_consent_at = utcnow()
    sig.wants_updates = bool(form.get("wants_updates"))
    sig.history.append(
        SignedVersion(letter_version_id=version.id, letter_sha256=version.content_sha256)
    )
    db.session.add(sig)
    db.session.flush()
    audit.record(
        "signature.requested",
        campaign=campaign,
        actor=f"{sig.signer_name} <{email}> for {sig.organisation}",
        organisation=sig.organisation,
        ip=sig.ip,
        letter_sha256=sig.letter_sha256,
    )
    if may_mail(campaign, email):
        # Only the campaign's own words: the sign-up's name, organisation and details are
        # whatever a stranger typed, and this email goes to an address they chose. The
        # details are on the confirmation page behind the link.
        queue_email(
            kind="public_confirmation",
            to_email=email,
            subject=f"Please confirm your email address: {campaign.title}",
            text_body=render_template(
                "emails/public_confirm.txt", campaign=campaign, url=signing_url(token)
            ),
            campaign_id=campaign.id,
            partner_id=partner.id,
        )
    else:
        # Same page for the sign-up either way, so nobody learns what this address got.
        audit.record("public_confirmation.withheld", campaign=campaign, actor="system")
    return sig


def confirm(req: SignatureRequest) -> None:
    """The signer proved the address: the sign-up joins the moderation queue."""
    if req.status != RequestStatus.UNCONFIRMED:
        return  # confirming twice is harmless
    req.status = RequestStatus.PENDING
    req.confirmed_at = utcnow()
    db.session.flush()
    audit.record(
        "signature.confirmed",
        campaign=req.partner.campaign,
        actor=req.addressee_email,
        organisation=req.partner.organisation,
    )


def _public_request(campaign: Campaign, request_id: int) -> SignatureRequest:
    req = db.session.get(SignatureRequest, request_id)
    if req is None or req.campaign_id != campaign.id or req.partner.source != "public":
        raise NotFound(request_id)
    return req


def moderate(
    campaign: Campaign, user, request_id: int, *, approve: bool, reason: str = ""
) -> SignatureRequest:
    """Approve a confirmed sign-up (it then counts) or reject it with a reason."""
    require_editor(user)
    req = _public_request(campaign, request_id)
    if req.status != RequestStatus.PENDING:
        raise Conflict("Only confirmed sign-ups waiting for review can be approved or rejected.")
    reason = reason.strip()
    if not approve and not reason:
        raise Invalid("reason", "say why, so the signer knows (it is shown to them)")
    req.status = RequestStatus.SIGNED if approve else RequestStatus.REJECTED
    req.moderated_at = utcnow()
    req.moderated_by_id = user.id
    req.moderation_reason = reason[:1000]
    db.session.flush()
    audit.record(
        "signature.approved" if approve else "signature.rejected",
        campaign=campaign,
        user=user,
        organisation=req.partner.organisation,
        reason=req.moderation_reason,
    )
    return req


def queue(campaign: Campaign) -> list[dict]:
    """Sign-ups awaiting review, with what a moderator needs to judge them."""
    reqs = db.session.scalars(
        select(SignatureRequest)
        .join(Partner, SignatureRequest.partner_id == Partner.id)
        .where(
            SignatureRequest.campaign_id == campaign.id,
            Partner.source == "public",
            SignatureRequest.status.in_((RequestStatus.UNCONFIRMED, RequestStatus.PENDING)),
        )
        .order_by(SignatureRequest.id)
    ).all()
    return [{"req": req, "sig": req.signature, "domain": domain_check(req)} for req in reqs]


def domain_check(req: SignatureRequest) -> str:
    """Whether the signer's address is at the organisation's own domain."""
    mail = email_domain(req.addressee_email or req.partner.contact_email)
    site = site_domain(req.partner.website)
    if not mail:
        return "free-mail address"
    if not site:
        return f"@{mail}; no website given"
    return f"@{mail} matches the website" if mail == site else f"@{mail} differs from {site}"


def block(campaign: Campaign, user, *, kind: str, value: str) -> BlockedSource:
    """Refuse future public sign-ups from an email domain or an IP address."""
    require_editor(user)
    value = value.strip().lower().lstrip("@")
    if kind not in ("domain", "ip") or not value or len(value) > 254:
        raise Invalid("value", "give an email domain such as spam.example, or an IP address")
    existing = db.session.scalar(
        select(BlockedSource).where(
            BlockedSource.campaign_id == campaign.id,
            BlockedSource.kind == kind,
            BlockedSource.value == value,
        )
    )
    if existing is not None:
        return existing
    row = BlockedSource(campaign_id=campaign.id, kind=kind, value=value)
    db.session.add(row)
    db.session.flush()
    audit.record("blocklist.added", campaign=campaign, user=user, kind=kind, value=value)
    return row


def invalidate_from(campaign: Campaign, user, *, kind: str, value: str, reason: str) -> int:
    """Stop counting every public signature from an IP or email domain; return how many."""
    require_editor(user)
    value = value.strip().lower().lstrip("@")
    if kind not in ("domain", "ip") or not value:
        raise Invalid("value", "give an email domain such as spam.example, or an IP address")
    rows = db.session.execute(
        select(SignatureRequest, Signature)
        .join(Signature, Signature.request_id == SignatureRequest.id)
        .join(Partner, SignatureRequest.partner_id == Partner.id)
        .where(
            SignatureRequest.campaign_id == campaign.id,
            Partner.source == "public",
            SignatureRequest.status.not_in((RequestStatus.INVALIDATED,)),
        )
    ).all()
    hit = 0
    for req, sig in rows:
        domain = sig.signer_email.rpartition("@")[2].lower()
        matches = (
            sig.ip == value if kind == "ip" else (domain == value or domain.endswith("." + value))
        )
        if matches:
            req.status = RequestStatus.INVALIDATED
            req.moderation_reason = reason.strip()[:1000] or f"bulk invalidation of {kind} {value}"
            req.moderated_at = utcnow()
            req.moderated_by_id = user.id
            hit += 1
    db.session.flush()
    audit.record(
        "signatures.invalidated", campaign=campaign, user=user, kind=kind, value=value, count=hit
    )
    return hit
