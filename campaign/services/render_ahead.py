"""Rendering ahead: the letter's PDFs are made in the background after each change to
what it prints, so the organiser's first "Download signed PDF" is served from the store.

Any transaction that adds, changes or deletes a signature, a signing request, a partner (its
logo), a letter version, a target or the campaign itself (letterhead, look, status)
marks the campaign in `render_wanted` and queues `tasks.render_ahead` to run a few
seconds after the commit (RENDER_AHEAD_SECONDS). A burst of changes, such as forty
signatures in a minute, moves one row forward and is rendered once or twice, not forty
times: the job claims the row, and only a change after the claim wants another render.
`flask tick` renders any row a lost job left behind.

The renders themselves are rendering.request_render's, keyed by content: a change that
does not change the letter (a reminder sent) finds the stored copy and renders nothing.
"""

from datetime import datetime, timedelta
from itertools import chain

from sqlalchemy import delete, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .. import jobs
from ..errors import Invalid
from ..extensions import db
from ..models import (
    Campaign,
    LetterVersion,
    Partner,
    RenderedLetter,
    RenderWanted,
    Signature,
    SignatureRequest,
    Target,
    utcnow,
)
from .letters import published_version
from .rendering import request_render

#: Rows whose change can change what the letter prints; each has a campaign_id.
_WATCHED = (Signature, SignatureRequest, Partner, LetterVersion, Target)
#: A row older than this is one whose job was lost; `flask tick` renders it.
LOST_AFTER = timedelta(minutes=1)
_CHANGED = "undersigned_render_ahead_changed"
JOB = "campaign.tasks.render_ahead"


def _changed_campaigns(session: Session) -> set[int]:
    """Ids of the campaigns whose letter inputs this flush touched (not those deleted)."""
    gone = {obj.id for obj in session.deleted if isinstance(obj, Campaign)}
    ids: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Campaign):
            ids.add(obj.id)
        elif isinstance(obj, _WATCHED):
            ids.add(obj.campaign_id)
    return {i for i in ids if i is not None} - gone


@event.listens_for(Session, "after_flush")
def _note(session: Session, _context) -> None:
    ids = _changed_campaigns(session)
    if ids:
        session.info.setdefault(_CHANGED, set()).update(ids)


@event.listens_for(Session, "before_commit")
def _mark(session: Session) -> None:
    """Upsert the render-wanted rows as the transaction's last statements.

    Last, so the row lock is held only for the commit itself: taken mid-transaction, two
    signers (one waiting on the other's logo blob) could lock in opposite orders.
    """
    session.flush()  # changes not yet flushed are noted too
    ids = session.info.pop(_CHANGED, set())
    if not ids:
        return
    now = utcnow()
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    for campaign_id in sorted(ids):
        # An upsert: two signers of one campaign committing at once must not collide.
        statement = insert(RenderWanted).values(campaign_id=campaign_id, wanted_at=now)
        connection.execute(
            statement.on_conflict_do_update(index_elements=["campaign_id"], set_={"wanted_at": now})
        )
        jobs.later(JOB, campaign_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def claim(campaign_id: int) -> bool:
    """Take the campaign's render-wanted row (flushes); False if another job took it.

    Whatever changes after the claim marks the campaign again, so nothing is missed.
    """
    wanted = db.session.scalar(
        select(RenderWanted.wanted_at).where(RenderWanted.campaign_id == campaign_id)
    )
    if wanted is None:
        return False
    taken = db.session.execute(
        delete(RenderWanted).where(
            RenderWanted.campaign_id == campaign_id, RenderWanted.wanted_at == wanted
        )
    )
    return taken.rowcount == 1


def request_copies(campaign: Campaign) -> list[RenderedLetter]:
    """Ask for the generic copy and every target's copy of the current letter (flushes).

    Copies already stored are returned as they are; new ones are queued as render jobs.
    A campaign with no published letter, or one that cannot render, wants nothing.
    """
    if published_version(campaign) is None:
        return []
    copies = []
    for target in [None, *sorted(campaign.targets, key=lambda t: t.id)]:
        try:
            copies.append(request_render(campaign, target))
        except Invalid:
            # The download says why when someone asks; rendering ahead stays quiet.
            return copies
    return copies


def lost(now: datetime | None = None) -> list[int]:
    """Campaigns wanting a render for longer than a job takes to start: their job was lost."""
    cutoff = (now or utcnow()) - LOST_AFTER
    return list(
        db.session.scalars(
            select(RenderWanted.campaign_id)
            .where(RenderWanted.wanted_at <= cutoff)
            .order_by(RenderWanted.wanted_at)
        )
    )
