"""Who is on the letter: the one definition every page, merge field, PDF and export uses.

A live signature (not withdrawn, its link "signed") counts on the letter when it counts
for the published version, or, if the organisers chose to list earlier signers, when it
counts for an earlier one (then it is marked). Otherwise it is awaiting re-confirmation:
neither counted nor named until its signer re-confirms.

Of the signatures that count, "support privately" are never named and "only once
delivered" are named only in copies made once the letter is delivered; both are counted.
The letter's merge fields, the PDF, delivery review, the Overview, the coalition tree and
the CSV/XLSX/ZIP exports all read this roster, so they cannot disagree.
"""

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Campaign,
    CampaignStatus,
    LetterVersion,
    Partner,
    RequestStatus,
    Signature,
    SignatureRequest,
)

#: What each visibility choice means on the letter and in exports.
VISIBILITY_LABELS = {
    "listed": "listed",
    "after_delivery": "listed once delivered",
    "private": "supports privately",
}
#: A partner's state in the coalition tree and partner list when its signature waits.
AWAITING = "awaiting re-confirmation"


@dataclass(frozen=True)
class Entry:
    """One live signature, with where it stands on the letter."""

    signature: Signature
    partner: Partner
    #: The version the signature counts for now.
    version_number: int
    #: Counts for an earlier text (listed, marked, because the campaign lists earlier signers).
    earlier: bool
    #: Printed on the letter (and named in exports) now.
    named: bool

    @property
    def visibility(self) -> str:
        """listed, after_delivery or private: the signer's choice."""
        return self.signature.visibility


@dataclass(frozen=True)
class Roster:
    """The signatures the letter counts (named or not), and those awaiting re-confirmation."""

    entries: tuple[Entry, ...]
    awaiting: tuple[Entry, ...]
    delivered: bool

    @property
    def count(self) -> int:
        """How many organisations the letter says signed: the one count, everywhere."""
        return len(self.entries)

    @property
    def named(self) -> list[Entry]:
        """The entries printed on the letter, in no particular order."""
        return [e for e in self.entries if e.named]

    @property
    def private(self) -> int:
        """Counted, never named: organisations that support privately."""
        return sum(e.visibility == "private" for e in self.entries)

    @property
    def held(self) -> int:
        """Counted, named only once the letter is delivered (not yet)."""
        return sum(e.visibility == "after_delivery" and not e.named for e in self.entries)

    @property
    def unnamed(self) -> int:
        """Counted but not named on the letter now."""
        return self.count - len(self.named)

    def partner_state(self, partner, default: str) -> str:
        """A partner's status as pages show it: "awaiting re-confirmation" when its
        signature counts only for an earlier text (listed or not), else `default`."""
        waiting = {e.partner.id for e in (*self.awaiting, *self.entries) if e.earlier}
        return AWAITING if partner.id in waiting else default

    def private_partner_ids(self) -> set[int]:
        """Partners whose counted signature is private: never named to staff or in exports."""
        return {e.partner.id for e in (*self.entries, *self.awaiting) if e.visibility == "private"}


def letter_roster(campaign: Campaign) -> Roster:
    """The roster of the campaign's current letter, in one query."""
    from .letters import published_version  # letters imports this module

    current = published_version(campaign)
    rows = db.session.execute(
        select(Signature, Partner, LetterVersion.number)
        .join(SignatureRequest, Signature.request_id == SignatureRequest.id)
        .join(Partner, SignatureRequest.partner_id == Partner.id)
        .join(LetterVersion, Signature.letter_version_id == LetterVersion.id)
        .where(
            Signature.campaign_id == campaign.id,
            Signature.withdrawn_at.is_(None),
            SignatureRequest.status == RequestStatus.SIGNED,
        )
        .order_by(Signature.organisation, Signature.id)
    )
    delivered = campaign.status == CampaignStatus.DELIVERED
    entries, awaiting = [], []
    for sig, partner, number in rows:
        earlier = current is not None and sig.letter_version_id != current.id
        hidden = sig.visibility == "private" or (
            sig.visibility == "after_delivery" and not delivered
        )
        entry = Entry(sig, partner, number, earlier, named=not hidden)
        if earlier and not campaign.list_earlier_signers:
            awaiting.append(entry)
        else:
            entries.append(entry)
    return Roster(tuple(entries), tuple(awaiting), delivered)
