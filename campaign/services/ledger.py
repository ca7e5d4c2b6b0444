"""The delivery ledger: for each target, every attempt to deliver the letter and its events.

An attempt is one letter email; a bounced attempt may be followed by a copy to the
target's fallback address (linked by `fallback_of_id`), so a target's attempts form a
chain. Times come from SendGrid's events, the first occurrence of each.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from pypdf import PdfReader
from sqlalchemy import select

from ..extensions import db
from ..letters.document import signatory_total
from ..models import Blob, Campaign, EmailEvent, OutboundEmail, RenderedLetter, RenderStatus, Target
from .letters import published_version
from .rendering import inputs_sha256, pdf_data
from .signatory_lists import neutralise

#: The milestones shown for each attempt, in the order they happen.
MILESTONES = ("processed", "delivered", "open", "bounce", "dropped")
#: Events that exist only when open and click tracking is on.
TRACKED_EVENTS = ("open", "click")
NOT_TRACKED = "not tracked"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CSV_HEADER = [
    "target",
    "organisation",
    "attempt",
    "to_email",
    "fallback_for",
    "status",
    "queued_at_utc",
    "processed_at_utc",
    "delivered_at_utc",
    "opened_at_utc",
    "bounced_at_utc",
    "dropped_at_utc",
    "reason",
]


@dataclass
class Attempt:
    """One letter email to a target, with the first time of each milestone."""

    email: OutboundEmail
    tracked: bool
    #: The address whose bounce this attempt replaces, for a fallback copy.
    fallback_for: str | None = None
    events: list[EmailEvent] = field(default_factory=list)
    times: dict[str, datetime] = field(default_factory=dict)
    reason: str = ""

    @property
    def queued_at(self) -> datetime:
        """When the email was written to the outbox."""
        return self.email.created_at

    @property
    def opened(self) -> datetime | str | None:
        """When it was first opened, or "not tracked" when tracking is off."""
        return self.times.get("open") if self.tracked else NOT_TRACKED

    @property
    def failed(self) -> bool:
        """Whether this attempt bounced or was dropped."""
        return "bounce" in self.times or "dropped" in self.times

    @property
    def state(self) -> tuple[str, datetime | None]:
        """The furthest this attempt got, and when."""
        for name in ("bounce", "dropped", "open", "delivered", "processed"):
            if name in self.times and (self.tracked or name not in TRACKED_EVENTS):
                return name, self.times[name]
        status = self.email.status
        if status in TRACKED_EVENTS and not self.tracked:
            status = "delivered"  # an open implies delivery; the open itself stays hidden
        return status, self.email.status_at or self.email.created_at


@dataclass
class TargetLedger:
    """A target and its chain of attempts, first attempt first."""

    target: Target
    attempts: list[Attempt]

    @property
    def latest(self) -> Attempt | None:
        """The most recent attempt, whose state is the target's."""
        return self.attempts[-1] if self.attempts else None

    @property
    def fallbacks(self) -> list[str]:
        """The fallback addresses the letter was sent to."""
        return [a.email.to_email for a in self.attempts if a.fallback_for is not None]


def campaign_ledger(campaign: Campaign) -> list[TargetLedger]:
    """Every target of the campaign with its attempts, in target order (a few queries)."""
    emails = list(
        db.session.scalars(
            select(OutboundEmail)
            .where(
                OutboundEmail.campaign_id == campaign.id,
                OutboundEmail.kind == "letter",
                OutboundEmail.target_id.is_not(None),
            )
            .order_by(OutboundEmail.id)
        )
    )
    events = _events([e.id for e in emails])
    by_target: dict[int, list[OutboundEmail]] = {}
    for email in emails:
        by_target.setdefault(email.target_id, []).append(email)
    return [
        TargetLedger(t, _chain(campaign, by_target.get(t.id, []), events)) for t in campaign.targets
    ]


def target_ledger(campaign: Campaign, target: Target) -> TargetLedger:
    """One target's attempts (the target must belong to the campaign)."""
    emails = list(
        db.session.scalars(
            select(OutboundEmail)
            .where(
                OutboundEmail.campaign_id == campaign.id,
                OutboundEmail.kind == "letter",
                OutboundEmail.target_id == target.id,
            )
            .order_by(OutboundEmail.id)
        )
    )
    return TargetLedger(target, _chain(campaign, emails, _events([e.id for e in emails])))


def _events(email_ids: list[int]) -> dict[int, list[EmailEvent]]:
    """The stored events of these emails, oldest first, grouped by email."""
    grouped: dict[int, list[EmailEvent]] = {}
    for start in range(0, len(email_ids), 500):
        chunk = email_ids[start : start + 500]
        rows = db.session.scalars(
            select(EmailEvent)
            .where(EmailEvent.email_id.in_(chunk))
            .order_by(EmailEvent.occurred_at, EmailEvent.id)
        )
        for event in rows:
            grouped.setdefault(event.email_id, []).append(event)
    return grouped


def _chain(campaign: Campaign, emails: list[OutboundEmail], events: dict) -> list[Attempt]:
    """Order a target's emails as a chain: each original, then the copies that replaced it."""
    by_id = {e.id: e for e in emails}
    children: dict[int, list[OutboundEmail]] = {}
    roots = []
    for email in emails:
        if email.fallback_of_id in by_id:
            children.setdefault(email.fallback_of_id, []).append(email)
        else:
            roots.append(email)
    ordered: list[OutboundEmail] = []
    stack = list(reversed(roots))
    while stack:
        email = stack.pop()
        ordered.append(email)
        stack.extend(reversed(children.get(email.id, [])))
    return [_attempt(campaign, e, by_id, events.get(e.id, [])) for e in ordered]


def _attempt(campaign: Campaign, email: OutboundEmail, by_id: dict, events: list) -> Attempt:
    """One attempt with its first time per milestone and SendGrid's reason for a failure."""
    tracked = bool(campaign.tracking_enabled and email.tracking)
    if not tracked:
        # Opens and clicks are personal data the organiser chose not to collect.
        events = [e for e in events if e.event not in TRACKED_EVENTS]
    original = by_id.get(email.fallback_of_id)
    attempt = Attempt(
        email=email,
        tracked=tracked,
        fallback_for=original.to_email if original is not None else None,
        events=events,
    )
    for event in events:
        if event.event in MILESTONES and event.event not in attempt.times:
            attempt.times[event.event] = event.occurred_at
            if event.event in ("bounce", "dropped") and not attempt.reason:
                attempt.reason = event.reason
    return attempt


def _when(value) -> str:
    """A time as the CSV writes it; strings ("not tracked") pass through."""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    return value or ""


def ledger_rows(campaign: Campaign) -> list[list[str]]:
    """The header and one row per attempt (or per target never sent to), neutralised."""
    rows = [list(CSV_HEADER)]
    for entry in campaign_ledger(campaign):
        target = entry.target
        if not entry.attempts:
            cells = [target.name, target.organisation, "", target.email, "", "not sent"]
            rows.append([neutralise(c) for c in cells + [""] * (len(CSV_HEADER) - len(cells))])
            continue
        for number, a in enumerate(entry.attempts, start=1):
            cells = [
                target.name,
                target.organisation,
                str(number),
                a.email.to_email,
                a.fallback_for or "",
                a.state[0],
                _when(a.queued_at),
                _when(a.times.get("processed")),
                _when(a.times.get("delivered")),
                _when(a.opened),
                _when(a.times.get("bounce")),
                _when(a.times.get("dropped")),
                a.reason,
            ]
            rows.append([neutralise(cell or "") for cell in cells])
    return rows


def ledger_csv(campaign: Campaign) -> str:
    """The delivery ledger as CSV text, safe to open in a spreadsheet."""
    out = io.StringIO()
    csv.writer(out).writerows(ledger_rows(campaign))
    return out.getvalue()


def delivery_preview(campaign: Campaign) -> list[dict]:
    """Per target, before sending: addresses, and the final PDF's facts if already rendered.

    Nothing is rendered here; a PDF made earlier for exactly the current letter (same
    inputs hash) gives its page and signatory counts for free.
    """
    version = published_version(campaign)
    rows = []
    for target in campaign.targets:
        row = {"target": target, "pages": None, "signatories": None, "rendered": False}
        if version is not None:
            data = pdf_data(campaign, version, target)
            # The letter's own count (named and unnamed), as its heading prints it.
            row["signatories"] = signatory_total(data)
            row["named"] = len(data["signatories"])
            rendered = db.session.scalar(
                select(RenderedLetter)
                .where(
                    RenderedLetter.campaign_id == campaign.id,
                    RenderedLetter.inputs_sha256 == inputs_sha256(data),
                    RenderedLetter.status == RenderStatus.READY,
                )
                .order_by(RenderedLetter.id.desc())
                .limit(1)
            )
            if rendered is not None and rendered.pdf_sha256:
                row["rendered"] = True
                row["pages"] = _page_count(rendered.pdf_sha256)
        rows.append(row)
    return rows


def _page_count(sha256: str) -> int | None:
    """How many pages a stored PDF has; None if it cannot be read."""
    blob = db.session.get(Blob, sha256)
    if blob is None:
        return None
    try:
        return len(PdfReader(io.BytesIO(blob.data)).pages)
    except Exception:  # noqa: BLE001 - a count is a nicety; never fail the page for it
        return None
