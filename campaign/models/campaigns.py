"""Campaigns, their letter versions and their targets."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class CampaignStatus(StrEnum):
    """draft -> open (signing) -> closed -> delivered; the values are what the database stores."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    DELIVERED = "delivered"


STATUSES = tuple(CampaignStatus)
PAGE_SIZES = ("A4", "Letter")
#: How the signature block prints: a list grouped by tier, or a wall of logos.
SIGNATURE_STYLES = ("list", "logo_wall", "names")


class Campaign(db.Model):
    """One sign-on letter effort: a letter, its partners, its targets."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    lead_organisation: Mapped[str] = mapped_column(String(200))
    #: Printed under the lead organisation's name in the letterhead.
    lead_address: Mapped[str] = mapped_column(Text, default="")
    #: draft -> open (signing) -> closed (no more signatures) -> delivered (sent to targets).
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT)
    #: Last moment partners can sign; personal links expire then.
    deadline: Mapped[datetime]
    #: Open and click tracking stay off unless the organiser turns them on.
    tracking_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Days before the deadline on which unsigned partners are reminded, e.g. "7,1"; "" = none.
    reminder_days: Mapped[str] = mapped_column(String(40), default="7,1")
    #: Letterhead and look: the lead organisation's logo, an accent colour (#rrggbb),
    #: the paper size, the page margins and how the signature block prints.
    lead_logo_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    accent_colour: Mapped[str] = mapped_column(String(7), default="#1d4e89")
    page_size: Mapped[str] = mapped_column(String(8), default="A4")
    margin_mm: Mapped[int] = mapped_column(Integer, default=20)
    signature_style: Mapped[str] = mapped_column(String(16), default="list")
    #: After a revision, list signers of earlier versions who have not re-confirmed
    #: (marked as such) instead of leaving them out.
    list_earlier_signers: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Co-leads see only the partners they added, unless the lead shares the whole list.
    coleads_see_all_partners: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    members: Mapped[list["CampaignMember"]] = relationship(  # noqa: F821
        back_populates="campaign", cascade="all, delete-orphan", passive_deletes=True
    )
    versions: Mapped[list["LetterVersion"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LetterVersion.number",
    )
    targets: Mapped[list["Target"]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Target.id",
    )


class LetterVersion(db.Model):
    """A numbered text of the letter; frozen with a content hash once published."""

    __tablename__ = "letter_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(300))
    #: Markdown with sandboxed Jinja merge fields.
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Set when published; a published version never changes again.
    published_at: Mapped[datetime | None]
    #: sha256 of subject and body as published; signatures record it.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    #: Who published it (author_id is whoever saved it last).
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The version number this draft was restored from, if it was.
    restored_from: Mapped[int | None] = mapped_column(Integer)

    campaign: Mapped[Campaign] = relationship(back_populates="versions")
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    published_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[published_by_id]
    )

    revisions: Mapped[list["LetterRevision"]] = relationship(
        back_populates="version",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LetterRevision.id",
    )

    @property
    def is_published(self) -> bool:
        """Whether this version is frozen."""
        return self.published_at is not None


class LetterRevision(db.Model):
    """One save of a draft: drafts change in place, so each save is kept here too."""

    __tablename__ = "letter_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("letter_versions.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[LetterVersion] = relationship(back_populates="revisions")
    author: Mapped["User | None"] = relationship()  # noqa: F821


class ReviewComment(db.Model):
    """A co-lead's comment on one paragraph of a draft; never part of the letter."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("letter_versions.id", ondelete="CASCADE"))
    #: Which paragraph (0-based) of that version, and its text when the comment was made,
    #: so the comment still makes sense after the paragraph is edited.
    paragraph: Mapped[int] = mapped_column(Integer)
    quote: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    version: Mapped[LetterVersion] = relationship()
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    resolved_by: Mapped["User | None"] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821


class Target(db.Model):
    """A person the letter is addressed to; each gets their own merged copy."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254))
    #: How the letter opens, e.g. "Dear Ms Rivera".
    salutation: Mapped[str] = mapped_column(String(200), default="")
    #: Printed in the addressee block, one line per line.
    postal_address: Mapped[str] = mapped_column(Text, default="")
    #: Where the letter goes if delivery to `email` bounces.
    fallback_email: Mapped[str] = mapped_column(String(254), default="")
    #: When the target first answered (a reply matched to their copy).
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="targets")
