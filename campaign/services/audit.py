"""The audit log: every event of a campaign is appended to a sha256 hash chain.

Each entry stores the hash of the previous entry and a hash over that plus its own
content, so editing, deleting or reordering any row breaks every hash after it.
`verify_chain` recomputes the chain and names the first entry that does not match.

Deleting the newest entries leaves a shorter chain that is still consistent. Every
document the instance issues (a sealed PDF, the audit certificate) records the hash the
chain ended with at that moment, outside the chain; verification checks that each of
those hashes is still in the chain, so a cut after any issued document is found too.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, update

from ..extensions import db
from ..models import AuditEvent, Campaign, IssuedDocument, utcnow


def _content(event: AuditEvent) -> str:
    """The canonical JSON of what an entry says, the part its hash covers."""
    return json.dumps(
        {
            "campaign_id": event.campaign_id,
            "seq": event.seq,
            "user_id": event.user_id,
            "actor": event.actor,
            "action": event.action,
            "details": event.details,
            "created_at": event.created_at.isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def entry_hash(event: AuditEvent) -> str:
    """The hash an entry must carry, given its content and its predecessor's hash."""
    payload = (event.prev_sha256 or "") + _content(event)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(action: str, *, campaign=None, user=None, actor: str = "", **details) -> AuditEvent:
    """Append an audit event in the current transaction, chained to the campaign's last."""
    event = AuditEvent(
        campaign_id=campaign.id if campaign is not None else None,
        user_id=user.id if user is not None else None,
        actor=actor or (user.email if user is not None else ""),
        action=action,
        details=details,
        created_at=utcnow(),
    )
    if campaign is not None:
        # Writing the campaign row takes its lock (PostgreSQL row lock, SQLite write lock)
        # until commit, so two signers at once cannot both chain onto the same entry.
        db.session.execute(
            update(Campaign).where(Campaign.id == campaign.id).values(id=Campaign.id)
        )
        last = db.session.execute(
            select(AuditEvent.seq, AuditEvent.entry_sha256)
            .where(AuditEvent.campaign_id == campaign.id, AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
        event.seq = (last.seq if last else 0) + 1
        event.prev_sha256 = last.entry_sha256 if last else ""
        event.entry_sha256 = entry_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class ChainReport:
    """The outcome of checking one campaign's chain."""

    entries: int
    broken: AuditEvent | None = None
    reason: str = ""
    #: An issued document certifying a chain entry that is no longer there.
    cut_after: IssuedDocument | None = None

    @property
    def ok(self) -> bool:
        """Whether every entry matched and nothing certified has gone missing."""
        return self.broken is None and self.cut_after is None


def head_sha256(campaign: Campaign) -> str:
    """The hash the campaign's chain ends with now ("" for an empty chain)."""
    return (
        db.session.scalar(
            select(AuditEvent.entry_sha256)
            .where(AuditEvent.campaign_id == campaign.id, AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        or ""
    )


def verify_chain(campaign: Campaign) -> ChainReport:
    """Recompute a campaign's chain and report the first entry that does not match."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.campaign_id == campaign.id, AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq)
    ).all()
    previous = ""
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return ChainReport(len(events), event, f"expected position {expected_seq}")
        if (event.prev_sha256 or "") != previous:
            return ChainReport(len(events), event, "does not follow the entry before it")
        if event.entry_sha256 != entry_hash(event):
            return ChainReport(len(events), event, "its content was changed after it was written")
        previous = event.entry_sha256
    return _check_anchors(campaign, events)


def _check_anchors(campaign: Campaign, events: list[AuditEvent]) -> ChainReport:
    """Every chain head an issued document recorded must still be in the chain."""
    present = {event.entry_sha256 for event in events}
    documents = db.session.scalars(
        select(IssuedDocument)
        .where(IssuedDocument.campaign_id == campaign.id, IssuedDocument.audit_head_sha256 != "")
        .order_by(IssuedDocument.made_at.desc())
    ).all()
    for document in documents:
        if document.audit_head_sha256 not in present:
            tail = events[-1] if events else None
            return ChainReport(
                len(events),
                tail,
                f"entries were removed: the {document.kind} {document.code} made "
                f"{document.made_at:%Y-%m-%d %H:%M} UTC certified entry "
                f"{document.audit_head_sha256[:16]}…, which is no longer in the chain",
                cut_after=document,
            )
    return ChainReport(len(events))
