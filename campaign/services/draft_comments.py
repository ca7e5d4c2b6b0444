"""Co-lead review of the draft: the newest draft split into paragraphs, and comments on them.

Comments live in their own table and never reach the letter: the letter engine renders
from `letters.letter_data`, which knows nothing of them.
"""

import hashlib
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from ..errors import Conflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..letters.document import merge_context
from ..letters.markdown import markdown_to_html
from ..letters.sandbox import render_text, to_plain_text
from ..models import Campaign, LetterVersion, ReviewComment, User, utcnow
from .campaigns import may_organise, member_role, require_organiser
from .letters import latest_version, letter_data

MAX_COMMENT = 2000
# Blank lines (possibly holding spaces) separate Markdown blocks.
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_FOOTNOTE_DEF = re.compile(r"\[\^[^\]\s]+\]:")


@dataclass
class Paragraph:
    """One top-level block of the draft as the generic copy prints it."""

    index: int
    #: The merged Markdown of the block: what a comment quotes.
    text: str
    #: The block rendered to sanitised HTML (safe to mark up in a template).
    html: str
    comments: list[ReviewComment] = field(default_factory=list)

    @property
    def number(self) -> int:
        """The 1-based number people use when they talk about it."""
        return self.index + 1

    @property
    def seen(self) -> str:
        """A short digest of the text, so a comment on text that changed can be caught."""
        return text_digest(self.text)


def text_digest(text: str) -> str:
    """The digest a comment form carries of the paragraph it was written against."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_blocks(text: str) -> tuple[list[str], list[str]]:
    """Split merged Markdown into top-level blocks and footnote definitions.

    An indented block continues the one before it (a list item's second paragraph, a
    long footnote), so it stays with it.
    """
    blocks: list[str] = []
    for chunk in _BLANK_LINES.split(text.replace("\r\n", "\n").strip("\n")):
        if not chunk.strip():
            continue
        if blocks and chunk[:1] in (" ", "\t"):
            blocks[-1] += "\n\n" + chunk
        else:
            blocks.append(chunk.rstrip())
    notes = [b for b in blocks if _FOOTNOTE_DEF.match(b)]
    return [b for b in blocks if not _FOOTNOTE_DEF.match(b)], notes


def _merged_body(campaign: Campaign, version: LetterVersion) -> tuple[str, str]:
    """The version's subject and body with the generic copy's merge fields filled in."""
    context = merge_context(letter_data(campaign, version, None))
    try:
        subject = to_plain_text(render_text(version.subject, context, field="subject"))
        body = render_text(version.body, context)
    except Invalid as exc:
        raise Conflict(
            f"The draft cannot be shown ({exc.field}: {exc.reason}); "
            "the organisers need to fix it in the letter studio."
        ) from None
    return subject, body


def draft_paragraphs(campaign: Campaign) -> tuple[LetterVersion | None, str, list[Paragraph]]:
    """The newest version, its merged subject and its paragraphs (none before a draft)."""
    version = latest_version(campaign)
    if version is None:
        return None, "", []
    subject, body = _merged_body(campaign, version)
    blocks, notes = split_blocks(body)
    # Each block gets every footnote definition so its citations render inline, as in print.
    appendix = "\n\n" + "\n\n".join(notes) if notes else ""
    paragraphs = [
        Paragraph(i, block, markdown_to_html(block + appendix, inline_footnotes=True))
        for i, block in enumerate(blocks)
    ]
    return version, subject, paragraphs


def may_comment(user: User, campaign: Campaign) -> bool:
    """Co-leads, organisers and admins comment; read-only (staff) members only read."""
    role = member_role(user, campaign)
    return role == "co_lead" or (role in ("admin", "organiser") and user.can_edit)


def may_resolve(user: User, campaign: Campaign) -> bool:
    """Only the campaign's organisers (and admins) resolve comments."""
    return may_organise(user, campaign)


def add_comment(
    campaign: Campaign, user: User, paragraph: int, body: str, *, seen: str | None = None
) -> ReviewComment:
    """Comment on one paragraph of the newest version, keeping the paragraph's text."""
    if not may_comment(user, campaign):
        raise NotAllowed("Your account can read this review but not comment on it.")
    body = (body or "").strip()
    if not body:
        raise Invalid("body", "is empty; write your comment, then send it")
    if len(body) > MAX_COMMENT:
        raise Invalid(
            "body", f"is {len(body)} characters long; shorten it to at most {MAX_COMMENT}"
        )
    version, _subject, paragraphs = draft_paragraphs(campaign)
    if version is None:
        raise Conflict("There is no draft to comment on yet.")
    if not 0 <= paragraph < len(paragraphs):
        raise Invalid(
            "paragraph",
            f"the draft has no paragraph {paragraph + 1} (it has {len(paragraphs)}); "
            "reload the page and comment again",
        )
    target = paragraphs[paragraph]
    if seen is not None and seen != target.seen:
        raise Conflict(
            f"Paragraph {target.number} changed after you opened the page, so your comment "
            "was not saved. Read the new text, then send your comment again."
        )
    comment = ReviewComment(
        campaign_id=campaign.id,
        version_id=version.id,
        paragraph=paragraph,
        quote=target.text,
        body=body,
        author_id=user.id,
    )
    db.session.add(comment)
    db.session.flush()
    return comment


def get_comment(campaign: Campaign, comment_id: int) -> ReviewComment:
    """A comment of this campaign, or NotFound."""
    comment = db.session.get(ReviewComment, comment_id)
    if comment is None or comment.campaign_id != campaign.id:
        raise NotFound(comment_id)
    return comment


def resolve(campaign: Campaign, user: User, comment_id: int) -> ReviewComment:
    """Mark a comment as dealt with (organisers only)."""
    comment = get_comment(campaign, comment_id)
    _require_resolver(user, campaign)
    if comment.resolved_at is not None:
        raise Conflict("That comment is already resolved.")
    comment.resolved_at = utcnow()
    comment.resolved_by_id = user.id
    db.session.flush()
    return comment


def reopen(campaign: Campaign, user: User, comment_id: int) -> ReviewComment:
    """Mark a resolved comment as open again (organisers only)."""
    comment = get_comment(campaign, comment_id)
    _require_resolver(user, campaign)
    if comment.resolved_at is None:
        raise Conflict("That comment is already open.")
    comment.resolved_at = None
    comment.resolved_by_id = None
    db.session.flush()
    return comment


def _require_resolver(user: User, campaign: Campaign) -> None:
    if member_role(user, campaign) == "co_lead":
        raise NotAllowed(
            "Only the campaign's organisers can resolve or reopen comments; "
            "co-leads can read the draft and comment."
        )
    require_organiser(user, campaign)


def review_page(campaign: Campaign) -> dict:
    """Everything the review page shows: paragraphs with their comments, and the rest.

    A comment sits under its paragraph while it belongs to the newest version and that
    paragraph still exists; comments on earlier versions are listed apart, with their quote.
    """
    problem = None
    try:
        version, subject, paragraphs = draft_paragraphs(campaign)
    except Conflict as exc:
        # A draft that does not render still has a page: the comments, and why.
        version, subject, paragraphs, problem = latest_version(campaign), "", [], str(exc)
    comments = db.session.scalars(
        select(ReviewComment)
        .where(ReviewComment.campaign_id == campaign.id)
        .order_by(ReviewComment.created_at, ReviewComment.id)
    ).all()
    earlier = []
    for comment in comments:
        here = version is not None and comment.version_id == version.id
        if here and comment.paragraph < len(paragraphs):
            paragraphs[comment.paragraph].comments.append(comment)
        else:
            earlier.append(comment)
    return {
        "version": version,
        "subject": subject,
        "paragraphs": paragraphs,
        "earlier": earlier,
        "problem": problem,
        "open_count": sum(1 for c in comments if c.resolved_at is None),
    }
