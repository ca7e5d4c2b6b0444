"""Partners signing through their personal links (public sign-on is public_sign_on.py)."""

from flask import current_app, render_template
from sqlalchemy import select, update

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..mail.outbox import queue_email
from ..models import (
    REFUSED_STATUSES,
    VISIBILITY,
    CampaignStatus,
    RequestStatus,
    Signature,
    SignatureRequest,
    SignedVersion,
    utcnow,
)
from . import audit, signature_image
from .blobs import store_logo
from .letters import published_version
from .org_names import check_signing_name
from .partners import hash_token, issue_link, normalise_email, signing_url

DECLARATION = "I am authorised to sign on behalf of this organisation."
CONSENT = (
    "{lead} (the lead organisation) may keep my name, title and email address to contact "
    "me about this letter and its follow-up."
)


def consent_text(campaign) -> str:
    """The exact consent wording shown to signers of this campaign."""
    return CONSENT.format(lead=campaign.lead_organisation)


class LinkGone(NotFound):
    """A link that did exist but no longer works; says why, never who holds or signed it.

    `reason` is "closed" (the deadline passed), "forwarded" (its holder passed it to a
    colleague), "replaced" (a newer link went to the partner) or "revoked" (by an
    organiser). Tokens are 256-bit secrets, so saying this reveals nothing to a guesser.
    """

    def __init__(self, reason: str, campaign, when=None):
        super().__init__(reason)
        self.reason = reason
        self.campaign = campaign
        self.when = when


def _why_revoked(req: SignatureRequest) -> str:
    """Whether a revoked link was forwarded, replaced by a newer one, or revoked outright."""
    forwarded = db.session.scalar(
        select(SignatureRequest.id).where(SignatureRequest.forwarded_from_id == req.id).limit(1)
    )
    if forwarded is not None:
        return "forwarded"
    newer = db.session.scalar(
        select(SignatureRequest.id)
        .where(SignatureRequest.partner_id == req.partner_id, SignatureRequest.id > req.id)
        .limit(1)
    )
    return "replaced" if newer is not None else "revoked"


def resolve(token: str) -> SignatureRequest:
    """Find the live request for a token.

    A token that never existed raises NotFound; a link that existed but is past its
    deadline, forwarded, replaced or revoked raises LinkGone, which says which.
    """
    if not token or len(token) > 100:
        raise NotFound("link")
    req = db.session.scalar(
        select(SignatureRequest).where(SignatureRequest.token_sha256 == hash_token(token))
    )
    if req is None:
        raise NotFound("link")
    campaign = req.partner.campaign
    if req.expires_at <= utcnow():
        raise LinkGone("closed", campaign, req.expires_at)
    if req.revoked_at is not None:
        raise LinkGone(_why_revoked(req), campaign, req.revoked_at)
    return req


def note_viewed(req: SignatureRequest) -> None:
    """Record the first view; viewing never consumes the link (mail scanners open links)."""
    if req.status == RequestStatus.INVITED:
        req.status = RequestStatus.VIEWED
        req.viewed_at = utcnow()
        db.session.flush()


def can_change(req: SignatureRequest) -> bool:
    """Whether the partner may still sign, edit or withdraw."""
    campaign = req.partner.campaign
    # The deadline counts even before `flask tick` has marked the campaign closed.
    return campaign.status == CampaignStatus.OPEN and campaign.deadline > utcnow()


def _take_turns(req: SignatureRequest) -> None:
    """Hold this link's row until commit, then re-read it.

    The same link submitted twice at once (a double click, a retry on a slow phone) must
    give one signature: the second submission waits here for the first to commit, then
    sees its signature and updates it instead of inserting a duplicate. Writing the row
    takes the lock on both databases (a row lock in PostgreSQL, the write lock in SQLite).
    """
    db.session.execute(
        update(SignatureRequest)
        .where(SignatureRequest.id == req.id)
        .values(id=SignatureRequest.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(req)


def sign(
    req: SignatureRequest,
    form: dict,
    logo: bytes | None,
    *,
    ip: str,
    user_agent: str,
    version_id: int,
    link_url: str,
    signature_file: bytes | None = None,
) -> Signature:
    """Sign (or update the signature) for the version the signer was shown."""
    _take_turns(req)
    campaign = req.partner.campaign
    if not can_change(req):
        raise Conflict("Signing has closed for this letter.")
    if req.revoked_at is not None:
        # Forwarded or revoked while this submission waited its turn.
        raise Conflict("This link stopped working while you were signing; check your email.")
    if req.status in REFUSED_STATUSES:
        raise Conflict("The organisers did not accept this signature, so it cannot be edited.")
    version = published_version(campaign)
    if version is None:
        raise Conflict("This letter is not open for signatures yet.")
    if version.id != version_id:
        # The letter changed while the page was open: make them read the new text.
        raise Invalid("letter", "the letter was updated while you were reading; please re-read it")
    if not form.get("authorised"):
        raise Invalid("authorised", "tick the box to confirm you may sign for the organisation")
    check_signing_name(form.get("organisation") or "", bool(form.get("confirm_organisation")))
    email = normalise_email(form.get("signer_email") or "", field="signer_email")
    max_bytes = current_app.config["LOGO_MAX_BYTES"]
    logo_sha = store_logo(logo, max_bytes=max_bytes).sha256 if logo else None
    image = signature_image.store(
        signature_image.drawn(form.get("signature_drawn")), signature_file
    )
    sig = req.signature
    first = sig is None or sig.withdrawn_at is not None
    if sig is None:
        sig = Signature(campaign_id=campaign.id, request=req)
        db.session.add(sig)
    sig.letter_version_id = version.id
    sig.letter_sha256 = version.content_sha256
    if not sig.history or sig.history[-1].letter_version_id != version.id:
        # The texts a signer agreed to are kept for good, even after re-confirmations.
        sig.history.append(
            SignedVersion(letter_version_id=version.id, letter_sha256=version.content_sha256)
        )
    sig.organisation = form["organisation"].strip()
    sig.signer_name = form["signer_name"].strip()
    sig.signer_title = (form.get("signer_title") or "").strip()
    sig.signer_email = email
    if logo_sha:
        sig.logo_sha256 = logo_sha
    elif sig.logo_sha256 is None:
        sig.logo_sha256 = req.partner.logo_sha256
    sig.signature_typed = signature_image.typed(form.get("signature_typed"))
    if image is not None:
        sig.signature_image_sha256 = image.sha256
    elif form.get("signature_clear"):
        sig.signature_image_sha256 = None
    sig.declaration = DECLARATION
    visibility = form.get("visibility") or "listed"
    if visibility not in VISIBILITY:
        raise Invalid("visibility", "choose one of the three options")
    sig.visibility = visibility
    if form.get("contact_consent"):
        # Keep the words they agreed to, not a flag: the wording may change later.
        if sig.contact_consent != consent_text(campaign):
            sig.contact_consent = consent_text(campaign)
            sig.contact_consent_at = utcnow()
    else:
        sig.contact_consent = ""
        sig.contact_consent_at = None
    sig.wants_updates = bool(form.get("wants_updates"))
    sig.ip = ip[:64]
    sig.user_agent = user_agent[:400]
    sig.signed_at = utcnow()
    sig.withdrawn_at = None
    if req.partner.source != "public":
        req.status = RequestStatus.SIGNED
    elif req.status == RequestStatus.WITHDRAWN:
        # Public sign-ups count only after confirmation and review, so signing again after
        # a withdrawal goes back through review instead of counting at once.
        req.status = RequestStatus.PENDING if req.confirmed_at else RequestStatus.UNCONFIRMED
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
    req.status = RequestStatus.WITHDRAWN
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


def revoke(partner, user) -> SignatureRequest:
    """Kill a partner's current link at once (an organiser's decision)."""
    req = partner.current_request
    if req is None or req.revoked_at is not None:
        raise Conflict("This partner has no live link to revoke.")
    if req.status in (RequestStatus.SIGNED, RequestStatus.WITHDRAWN):
        raise Conflict("This partner has already answered; their link stays for edits.")
    req.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        "link.revoked", campaign=partner.campaign, user=user, organisation=partner.organisation
    )
    return req


def forward(req: SignatureRequest, *, name: str, email: str, note: str = "") -> str:
    """Hand the link to a colleague who may sign: new link for them, old one revoked."""
    campaign = req.partner.campaign
    if not can_change(req):
        raise Conflict("Signing has closed for this letter.")
    if req.status in (RequestStatus.SIGNED, RequestStatus.WITHDRAWN):
        raise Conflict("Your organisation has already answered; withdraw first to hand over.")
    name = name.strip()
    if not name:
        raise Invalid("colleague_name", "enter your colleague's name")
    email = normalise_email(email, field="colleague_email")
    if email.lower() == (req.addressee_email or req.partner.contact_email).lower():
        raise Invalid("colleague_email", "this is the address the link already went to")
    new_req, token = issue_link(campaign, req.partner)  # revokes the old link at once
    new_req.addressee_name = name
    new_req.addressee_email = email
    new_req.forwarded_from_id = req.id
    forwarder = req.addressee_name or req.partner.contact_name or req.partner.contact_email
    db.session.flush()
    audit.record(
        "link.forwarded",
        campaign=campaign,
        actor=f"{forwarder} for {req.partner.organisation}",
        organisation=req.partner.organisation,
        to=email,
        from_request=req.id,
        to_request=new_req.id,
    )
    queue_email(
        kind="invitation",
        to_email=email,
        to_name=name,
        subject=f"{forwarder} asks you to sign for {req.partner.organisation}: {campaign.title}",
        text_body=render_template(
            "emails/forwarded.txt",
            campaign=campaign,
            partner=req.partner,
            name=name,
            forwarder=forwarder,
            note=note.strip()[:1000],
            url=signing_url(token),
            deadline=f"{campaign.deadline.day} {campaign.deadline:%B %Y}",
        ),
        campaign_id=campaign.id,
        partner_id=req.partner_id,
    )
    return token
