"""Which version of a campaign's letter is current, and whose signatures are live.

Read-only look-ups shared by drafting (services/letters.py) and re-consent
(services/reconsent.py); kept apart so neither has to import the other.
"""

from ..errors import NotFound
from ..models import Campaign, LetterVersion, Signature
from .roster import letter_roster


def latest_version(campaign: Campaign) -> LetterVersion | None:
    """The newest version, draft or published."""
    return campaign.versions[-1] if campaign.versions else None


def published_version(campaign: Campaign) -> LetterVersion | None:
    """The newest frozen version: the text partners see and sign."""
    for version in reversed(campaign.versions):
        if version.is_published:
            return version
    return None


def get_version(campaign: Campaign, number: int) -> LetterVersion:
    """One version of this campaign's letter by number, or NotFound."""
    for version in campaign.versions:
        if version.number == number:
            return version
    raise NotFound("no such version")


def active_signatures(campaign: Campaign) -> list[Signature]:
    """Live signatures, on any version: not withdrawn, from links that were not revoked.

    Which of them the letter counts and names is the roster's rule (services/roster.py).
    """
    roster = letter_roster(campaign)
    live = [e.signature for e in (*roster.entries, *roster.awaiting)]
    return sorted(live, key=lambda sig: (sig.organisation, sig.id))
