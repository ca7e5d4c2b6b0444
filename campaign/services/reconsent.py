"""Re-consent: when a published letter changes, its signers are asked to re-confirm.

A signature counts for the version its signer agreed to (Signature.letter_version_id).
Publishing version N > 1 leaves every earlier signature pending: each signer is mailed
a word diff and their personal link (the same one they signed with), and either
re-confirms (the signature then counts for version N) or withdraws. Every version a
signer agreed to stays in Signature.history for good.
"""

from flask import render_template
from markupsafe import Markup

from ..errors import Conflict, Invalid
from ..extensions import db
from ..mail.outbox import queue_email
from ..mail.suppression import suppressed
from ..models import (
    Campaign,
    CampaignStatus,
    LetterVersion,
    Signature,
    SignatureRequest,
    SignedVersion,
)
from . import audit
from . import letter_versions as letter_service
from .diffs import changed_paragraphs, compare_versions, diff_html, plain_text, word_diff
from .partners import link_token, signing_url
from .roster import letter_roster

#: Request statuses whose signature a signer may still re-confirm (public sign-ups may
#: be awaiting confirmation or review and still hold a signature on an earlier text).
ANSWERABLE = ("signed", "pending", "unconfirmed")


def plain_diff(old: str, new: str) -> str:
    """A word diff as plain text: [-removed-] and {+added+}, the rest unchanged."""
    return plain_text(word_diff(old, new))


#: Printed between the changed paragraphs of an excerpt.
GAP = "[…]"
_GAP_HTML = Markup("\n\n[…]\n\n")


def version_changes(old: LetterVersion, new: LetterVersion) -> dict:
    """What changed between two versions, as plain text and HTML, with word counts.

    The body is an excerpt: only the paragraphs with a change, so a one-word edit does
    not bury itself in the whole letter. The signing page shows the full new text.
    """
    paragraphs = changed_paragraphs(word_diff(old.body, new.body))
    return {
        **compare_versions(old, new),
        "body": _GAP_HTML.join(diff_html(p) for p in paragraphs),
        "subject_changed": old.subject != new.subject,
        "subject_text": plain_diff(old.subject, new.subject),
        "body_text": f"\n\n{GAP}\n\n".join(plain_text(p) for p in paragraphs),
    }


def _lines(html: Markup) -> Markup:
    """Line breaks a mail client keeps, without <pre> (which will not wrap on a phone)."""
    # Splitting Markup keeps each part Markup, so nothing is escaped twice or left raw.
    return Markup("<br>\n").join(html.split("\n"))


def _html_body(sig: Signature, campaign: Campaign, changes: dict, url: str | None) -> str:
    """The email's HTML part: the same message with the diff inline (<del>/<ins>)."""
    # Built here from escaped parts (diff_html escapes every text run); the plain-text
    # part is the full message, this one exists so mail clients can show the changes.
    link = (
        Markup('<p><a href="{0}">Read the new text and answer</a><br>{0}</p>').format(url)
        if url
        else Markup("<p>Answer through the personal link in our earlier email.</p>")
    )
    subject = (
        Markup("<h3>Subject</h3><p>{}</p>").format(_lines(changes["subject"]))
        if changes["subject_changed"]
        else Markup("")
    )
    return str(
        Markup(
            "<p>Hello {name},</p>"
            "<p>{lead} changed the letter &ldquo;{title}&rdquo; after {org} signed version "
            "{old}. Version {new} is now the text that will be sent. Until you re-confirm, "
            "{org}'s signature counts only for version {old}.</p>"
            "<p>Removed words are <del>struck through</del>; added words are "
            "<ins>underlined</ins>.</p>{subject}<h3>Letter</h3><p>{body}</p>{link}"
            "<p>{lead}</p>"
        ).format(
            name=sig.signer_name,
            lead=campaign.lead_organisation,
            title=campaign.title,
            org=sig.organisation,
            old=changes["old"].number,
            new=changes["new"].number,
            subject=subject,
            body=_lines(changes["body"]),
            link=link,
        )
    )


def request_all(campaign: Campaign, version: LetterVersion) -> int:
    """Ask every signer of an earlier version to re-confirm `version`; return how many.

    The email carries the signer's own link again (recomputed from its salt, see
    partners.link_token), so every link they were sent keeps working. An address that
    unsubscribed or reported spam gets no link in the email: it is still recorded in the
    outbox (as suppressed, never sent) so organisers can see why.
    """
    live = letter_service.active_signatures(campaign)
    sigs = [s for s in live if s.letter_version_id != version.id]
    if not sigs:
        return 0
    blocked = suppressed([s.signer_email for s in sigs])
    diffs: dict[int, dict] = {}
    for sig in sigs:
        old = sig.letter_version
        if old.id not in diffs:
            diffs[old.id] = version_changes(old, version)
        changes = diffs[old.id]
        emailed = sig.signer_email.lower() not in blocked
        url = signing_url(link_token(sig.request)) if emailed else None
        queue_email(
            kind="reconsent",
            to_email=sig.signer_email,
            to_name=sig.signer_name,
            subject=f"The letter changed: does {sig.organisation} still sign? {campaign.title}",
            text_body=render_template(
                "emails/reconsent.txt", sig=sig, campaign=campaign, changes=changes, url=url
            ),
            html_body=_html_body(sig, campaign, changes, url),
            campaign_id=campaign.id,
            partner_id=sig.request.partner_id,
        )
        audit.record(
            "signature.reconsent_requested",
            campaign=campaign,
            organisation=sig.organisation,
            signed_version=old.number,
            new_version=version.number,
            letter_sha256=version.content_sha256,
            emailed=emailed,
        )
    return len(sigs)


def reconfirm(req: SignatureRequest, version_id: int, *, link_url: str) -> Signature:
    """The signer still signs the new text: the signature now counts for it."""
    campaign = req.partner.campaign
    if campaign.status != CampaignStatus.OPEN:
        raise Conflict("Signing has closed; contact the organisers about your signature.")
    sig = req.signature
    if sig is None or sig.withdrawn_at is not None or req.status not in ANSWERABLE:
        raise Conflict("There is no signature to re-confirm; sign the letter instead.")
    version = letter_service.published_version(campaign)
    if version is None or version.id != version_id:
        raise Invalid("letter", "the letter was updated while you were reading; please re-read it")
    if sig.letter_version_id == version.id:
        raise Conflict(f"Your signature already counts for version {version.number}.")
    old_number = sig.letter_version.number
    sig.letter_version_id = version.id
    sig.letter_version = version
    sig.letter_sha256 = version.content_sha256
    sig.history.append(
        SignedVersion(
            letter_version_id=version.id, letter_sha256=version.content_sha256, how="reconfirmed"
        )
    )
    db.session.flush()
    audit.record(
        "signature.reconfirmed",
        campaign=campaign,
        actor=f"{sig.signer_name} <{sig.signer_email}> for {sig.organisation}",
        organisation=sig.organisation,
        from_version=old_number,
        version=version.number,
        letter_sha256=version.content_sha256,
    )
    queue_email(
        kind="reconfirmed",
        to_email=sig.signer_email,
        to_name=sig.signer_name,
        subject=f"Thank you for re-confirming: {campaign.title}",
        text_body=render_template(
            "emails/reconfirmed.txt", sig=sig, campaign=campaign, version=version, url=link_url
        ),
        campaign_id=campaign.id,
        partner_id=req.partner_id,
    )
    return sig


def pending(sig: Signature | None, campaign: Campaign) -> dict | None:
    """For a live signature on an earlier text: the version signed and the one now asked."""
    if sig is None or sig.withdrawn_at is not None or sig.request.status not in ANSWERABLE:
        return None
    current = letter_service.published_version(campaign)
    if current is None or sig.letter_version_id == current.id:
        return None
    return {"signed": sig.letter_version, "current": current}


def state_label(sig: Signature, campaign: Campaign) -> str:
    """How organisers see a signature's consent: "signed v1 · pending re-confirmation of v2"."""
    waiting = pending(sig, campaign)
    if waiting is not None:
        return (
            f"signed v{waiting['signed'].number} · "
            f"pending re-confirmation of v{waiting['current'].number}"
        )
    number = sig.letter_version.number
    if sig.history and sig.history[-1].how == "reconfirmed":
        return f"re-confirmed v{number}"
    return f"signed v{number}"


def publish_recipients(campaign: Campaign) -> list[Signature]:
    """The signers publishing the current draft would ask to re-confirm (its dry run)."""
    latest = letter_service.latest_version(campaign)
    if latest is None or latest.is_published:
        return []
    # Nobody can have signed the unpublished draft, so every live signature is asked.
    return letter_service.active_signatures(campaign)


def publish_effect(campaign: Campaign) -> dict | None:
    """How publishing the draft changes the count on the letter (for its dry run), or None.

    Publishing leaves every live signature on an earlier text: the letter then counts
    them only if the campaign lists earlier signers, otherwise none until they re-confirm.
    """
    if not publish_recipients(campaign):
        return None
    roster = letter_roster(campaign)
    before = roster.count
    after = before if campaign.list_earlier_signers else 0
    return {
        "before": before,
        "after": after,
        "earlier_listed": bool(campaign.list_earlier_signers),
        "summary": f"{before} \u2192 {after}"
        + (
            " (earlier signers stay listed, marked, until they re-confirm)"
            if campaign.list_earlier_signers
            else " until they re-confirm"
        ),
    }
