"""Partners signing through their personal links."""

from flask import current_app, render_template
from sqlalchemy import select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..mail.outbox import queue_email
from ..models import Signature, SignatureRequest, utcnow
from . import audit
from .blobs import store_logo
from .letters import published_version
from .partners import hash_token, normalise_email

DECLARATION = "I am authorised to sign on behalf of this organisation."


def resolve(token: str) -> SignatureRequest:
    """Find the live request for a token; unknown, expired and revoked all raise NotFound."""
    if not token or len(token) > 100:
        raise NotFound("link")
    req = db.session.scalar(
        select(SignatureRequest).where(SignatureRequest.token_sha256 == hash_token(token))
    )
    # One answer for every failure, so a link's existence cannot be probed.
    if req is None or req.revoked_at is not None or req.expires_at <= utcnow():
        raise NotFound("link")
    return req


def note_viewed(req: SignatureRequest) -> None:
    """Record the first view; viewing never consumes the link (mail scanners open links)."""
    if req.status == "invited":
        req.status = "viewed"
        req.viewed_at = utcnow()
        db.session.flush()


def can_change(req: SignatureRequest) -> bool:
    """Whether the partner may still sign, edit or withdraw."""
    return req.partner.campaign.status == "open"


def sign(
    req: SignatureRequest,
    form: dict,
    logo: bytes | None,
    *,
    ip: str,
    user_agent: str,
    version_id: int,
    link_url: str,
) -> Signature:
    """Sign (or update the signature) for the version the signer was shown."""
    campaign = req.partner.campaign
    if not can_change(req):
        raise Conflict("Signing has closed for this letter.")
    version = published_version(campaign)
    if version is None:
        raise Conflict("This letter is not open for signatures yet.")
    if version.id != version_id:
        # The letter changed while the page was open: make them read the new text.
        raise Invalid("letter", "the letter was updated while you were reading; please re-read it")
    if not form.get("authorised"):
        raise Invalid("authorised", "tick the box to confirm you may sign for the organisation")
    email = normalise_email(form.get("signer_email") or "", field="signer_email")
    max_bytes = current_app.config["LOGO_MAX_BYTES"]
    logo_sha = store_logo(logo, max_bytes=max_bytes).sha256 if logo else None
    sig = req.signature
    first = sig is None or sig.withdrawn_at is not None
    if sig is None:
        sig = Signature(campaign_id=campaign.id, request_id=req.id)
        db.session.add(sig)
    sig.letter_version_id = version.id
    sig.letter_sha256 = version.content_sha256
    sig.organisation = form["organisation"].strip()
    sig.signer_name = form["signer_name"].strip()
    sig.signer_title = (form.get("signer_title") or "").strip()
    sig.signer_email = email
    if logo_sha:
        sig.logo_sha256 = logo_sha
    elif sig.logo_sha256 is None:
        sig.logo_sha256 = req.partner.logo_sha256
    sig.declaration = DECLARATION
    sig.ip = ip[:64]
    sig.user_agent = user_agent[:400]
    sig.signed_at = utcnow()
    sig.withdrawn_at = None
    req.status = "signed"
    db.session.flush()
    audit.record(
        "signature.signed" if first else "signature.updated",
        campaign=campaign,
        actor=f"{sig.signer_name} <{email}> for {sig.organisation}",
        organisation=sig.organisation,
        letter_sha256=sig.letter_sha256,
        ip=sig.ip,
    )
    if first:
        queue_email(
            kind="signed_confirmation",
            to_email=email,
            to_name=sig.signer_name,
            subject=f"Thank you for signing: {campaign.title}",
            text_body=render_template(
                "emails/signed.txt", sig=sig, campaign=campaign, version=version, url=link_url
            ),
            campaign_id=campaign.id,
            partner_id=req.partner_id,
        )
    return sig


def withdraw(req: SignatureRequest) -> Signature:
    """Withdraw a signature until the campaign closes; the record stays for the audit."""
    campaign = req.partner.campaign
    if not can_change(req):
        raise Conflict("Signing has closed; contact the organisers to withdraw.")
    sig = req.signature
    if sig is None or sig.withdrawn_at is not None:
        raise Conflict("There is no signature to withdraw.")
    sig.withdrawn_at = utcnow()
    req.status = "withdrawn"
    db.session.flush()
    audit.record(
        "signature.withdrawn",
        campaign=campaign,
        actor=f"{sig.signer_name} <{sig.signer_email}> for {sig.organisation}",
        organisation=sig.organisation,
    )
    queue_email(
        kind="withdrawal_confirmation",
        to_email=sig.signer_email,
        to_name=sig.signer_name,
        subject=f"Your signature was withdrawn: {campaign.title}",
        text_body=render_template("emails/withdrawn.txt", sig=sig, campaign=campaign),
        campaign_id=campaign.id,
        partner_id=req.partner_id,
    )
    return sig
