"""Documents the instance issued, so /verify can say what a PDF is and whether it changed."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class IssuedDocument(db.Model):
    """A sealed PDF as it left the instance: its sha256 and what it attests."""

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the final PDF bytes (after sealing): any altered byte changes it.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    #: Short code printed in the footer and in the verification URL.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: letter (a signed copy) or certificate (the audit certificate).
    kind: Mapped[str] = mapped_column(String(16), default="letter")
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    version_number: Mapped[int] = mapped_column(Integer)
    letter_sha256: Mapped[str] = mapped_column(String(64))
    signatory_count: Mapped[int] = mapped_column(Integer)
    #: The sha256 that closed the campaign's audit chain when the document was made.
    audit_head_sha256: Mapped[str] = mapped_column(String(64), default="")
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
