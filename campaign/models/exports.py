"""Export ZIPs made by a job, with the progress the export page shows."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class ExportStatus(StrEnum):
    """queued -> running -> ready, or failed with the reason in `error`."""

    QUEUED = "queued"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


EXPORT_STATUSES = tuple(ExportStatus)


class ExportRun(db.Model):
    """One request for a campaign's export ZIP: how far its job got, and the file it made."""

    __tablename__ = "export_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=ExportStatus.QUEUED)
    #: Files finished so far out of `total` (one PDF per target, then the lists).
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: What the job is doing now, for people: "Making the signed PDF for Jordan Vale".
    step: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str | None] = mapped_column(Text)
    zip_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    #: "name  sha256" lines of the files in the ZIP, as in its SHA256SUMS.
    manifest: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
