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


def _starting_point(version: LetterVersion):
    """What a version's first save started from: the version before it, if any."""
    earlier = [v for v in version.campaign.versions if v.number < version.number]
    if version.restored_from is not None:
        earlier = [v for v in earlier if v.number == version.restored_from] or earlier
    return earlier[-1] if earlier else None


def history(campaign: Campaign, number: int) -> tuple[LetterVersion, list[dict]]:
    """A version's saves, newest first, each with its word counts against the one before."""
    version = get_version(campaign, number)
    rows, previous = [], _starting_point(version)
    for revision in version.revisions:
        diff = compare(previous, revision)
        rows.append(
            {
                "revision": revision,
                "previous": previous,
                "added": diff["added"],
                "removed": diff["removed"],
            }
        )
        previous = revision
    return version, list(reversed(rows))


def compare(old, new: LetterRevision) -> dict:
    """The word diff from the text before (a save or a version; nothing at first) to a save."""
    old_subject, old_body = (old.subject, old.body) if old else ("", "")
    subject = word_diff(old_subject, new.subject)
    body = word_diff(old_body, new.body)
    added, removed = word_counts(subject + body)
    return {
        "old": old,
        "old_label": _label(old),
        "new": new,
        "subject": diff_html(subject),
        "body": diff_html(body),
        "added": added,
        "removed": removed,
        "same": (old_subject, old_body) == (new.subject, new.body),
    }


def _label(old) -> str:
    if old is None:
        return "The first save of the letter"
    if isinstance(old, LetterVersion):
        return f"Against version {old.number}, which this draft started from"
    return "Against the save before it"


def previous_of(revision: LetterRevision):
    """The text just before this save: the save before it, or the version it started from."""
    earlier = [r for r in revision.version.revisions if r.id < revision.id]
    return earlier[-1] if earlier else _starting_point(revision.version)


def restore_revision(campaign: Campaign, user, revision_id: int) -> LetterVersion:
    """Make an earlier save's text the working draft again; it becomes a new revision."""
    revision = get_revision(campaign, revision_id)
    return save_draft(campaign, user, subject=revision.subject, body=revision.body)
