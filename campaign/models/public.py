"""The optional public sign-on link and the blocklists that guard it."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class PublicLink(db.Model):
    """A campaign's public sign-on link: anyone may ask to sign, then is moderated."""

    __tablename__ = "public_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), unique=True
    )
    #: Stored as is, unlike personal links: it is meant to be published, so it is not a
    #: secret. Rotating it kills every copy that was passed around.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlockedSource(db.Model):
    """An email domain or IP address whose public sign-ups are refused."""

    __tablename__ = "blocked_sources"
    __table_args__ = (UniqueConstraint("campaign_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    #: "domain" (matched against the signer's email domain) or "ip".
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
