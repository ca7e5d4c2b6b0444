"""Every save of a draft, kept as a revision: who saved what and when, and what changed."""

from ..errors import NotFound
from ..extensions import db
from ..models import Campaign, LetterRevision, LetterVersion
from .diffs import diff_html, word_counts, word_diff
from .letters import get_version, save_draft


def get_revision(campaign: Campaign, revision_id: int) -> LetterRevision:
    """One saved revision of this campaign's letter, or NotFound (never another campaign's)."""
    revision = db.session.get(LetterRevision, revision_id)
    if revision is None or revision.version.campaign_id != campaign.id:
        raise NotFound(revision_id)
    return revision


def history(campaign: Campaign, number: int) -> tuple[LetterVersion, list[dict]]:
    """A version's saves, newest first, each with its word counts against the save before."""
    version = get_version(campaign, number)
    rows, previous = [], None
    for revision in version.revisions:
        if previous is None:
            added, removed = word_counts(word_diff("", revision.subject + "\n" + revision.body))
            removed = 0
        else:
            segments = word_diff(previous.subject, revision.subject) + word_diff(
                previous.body, revision.body
            )
            added, removed = word_counts(segments)
        rows.append(
            {"revision": revision, "previous": previous, "added": added, "removed": removed}
        )
        previous = revision
    return version, list(reversed(rows))


def compare(old: LetterRevision | None, new: LetterRevision) -> dict:
    """The word diff from one save to the next (from nothing, for the first save)."""
    old_subject, old_body = (old.subject, old.body) if old else ("", "")
    subject = word_diff(old_subject, new.subject)
    body = word_diff(old_body, new.body)
    added, removed = word_counts(subject + body)
    return {
        "old": old,
        "new": new,
        "subject": diff_html(subject),
        "body": diff_html(body),
        "added": added,
        "removed": removed,
        "same": (old_subject, old_body) == (new.subject, new.body),
    }


def previous_of(revision: LetterRevision) -> LetterRevision | None:
    """The save just before this one in the same version, if any."""
    earlier = [r for r in revision.version.revisions if r.id < revision.id]
    return earlier[-1] if earlier else None


def restore_revision(campaign: Campaign, user, revision_id: int) -> LetterVersion:
    """Make an earlier save's text the working draft again; it becomes a new revision."""
    revision = get_revision(campaign, revision_id)
    return save_draft(campaign, user, subject=revision.subject, body=revision.body)
