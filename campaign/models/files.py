"""Content-addressed file storage (logos, rendered PDFs) and rendered letters."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class RenderStatus(StrEnum):
    """A rendered letter: pending -> ready, or failed with the reason in `error`."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class Blob(db.Model):
    """Bytes stored under their sha256, so every host sees the same file."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RenderedLetter(db.Model):
    """A signed PDF of the letter for one target (or the generic copy), made by a job."""

    __tablename__ = "rendered_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: None for the generic copy addressed to every target.
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    letter_version_id: Mapped[int] = mapped_column(
        ForeignKey("letter_versions.id", ondelete="CASCADE")
    )
    #: sha256 of everything that went into the render; an unchanged letter is not re-rendered.
    inputs_sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: pending -> ready, or failed with the reason in `error`.
    status: Mapped[str] = mapped_column(String(16), default=RenderStatus.PENDING)
    pdf_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    signatory_count: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    target: Mapped["Target | None"] = relationship()  # noqa: F821


class RenderWanted(db.Model):
    """A campaign whose letter changed and whose PDFs should be rendered ahead of a click.

    One row per campaign: a burst of changes (forty signatures in a minute) moves
    `wanted_at` forward and is rendered once, after the burst (services/render_ahead.py).
    """

    __tablename__ = "render_wanted"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    #: The last change to the letter's inputs; rendered once no change came for a moment.
    wanted_at: Mapped[datetime] = mapped_column(default=utcnow)
