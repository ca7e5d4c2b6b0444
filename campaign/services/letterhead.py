"""The letterhead and look of a campaign's letter: who leads it, its logo, colour and paper."""

from ..errors import Invalid
from ..extensions import db
from ..letters.look import MARGIN_RANGE, valid_colour
from ..models import PAGE_SIZES, SIGNATURE_STYLES, Campaign
from . import audit
from .blobs import store_logo
from .campaigns import require_organiser

MAX_NAME = 200
MAX_ADDRESS = 500


def look_of(campaign: Campaign) -> dict:
    """The look letter_data passes to the letter engine as letter["look"] (plain values)."""
    return {
        "accent_colour": campaign.accent_colour,
        "page_size": campaign.page_size,
        "margin_mm": campaign.margin_mm,
        "signature_style": campaign.signature_style,
        "lead_logo_sha256": campaign.lead_logo_sha256,
    }


def _check(values: dict) -> dict:
    """The settings in their stored form; Invalid names the first field that is wrong."""
    name = (values.get("lead_organisation") or "").strip()
    if not name:
        raise Invalid("lead_organisation", "is required: the letterhead prints it")
    if len(name) > MAX_NAME:
        raise Invalid("lead_organisation", f"must be at most {MAX_NAME} characters")
    address = (values.get("lead_address") or "").replace("\r\n", "\n").strip()
    if len(address) > MAX_ADDRESS:
        raise Invalid("lead_address", f"must be at most {MAX_ADDRESS} characters")
    # The colour is written into the letter's CSS: exactly #rrggbb, nothing else.
    colour = values.get("accent_colour") or ""
    if not valid_colour(colour):
        raise Invalid("accent_colour", "must be a colour like #1d4e89 (# and six hex digits)")
    size = values.get("page_size")
    if size not in PAGE_SIZES:
        raise Invalid("page_size", f"must be one of {', '.join(PAGE_SIZES)}")
    low, high = MARGIN_RANGE
    margin = values.get("margin_mm")
    if isinstance(margin, bool) or not isinstance(margin, int) or not low <= margin <= high:
        raise Invalid("margin_mm", f"must be a whole number of millimetres from {low} to {high}")
    style = values.get("signature_style")
    if style not in SIGNATURE_STYLES:
        raise Invalid("signature_style", "must be a list, a logo wall or names only")
    return {
        "lead_organisation": name,
        "lead_address": address,
        "accent_colour": colour.lower(),
        "page_size": size,
        "margin_mm": margin,
        "signature_style": style,
        "list_earlier_signers": bool(values.get("list_earlier_signers")),
    }


def update_letterhead(
    campaign: Campaign,
    user,
    values: dict,
    *,
    logo: bytes | None = None,
    remove_logo: bool = False,
    logo_max_bytes: int = 2 * 1024 * 1024,
) -> list[str]:
    """Change the letterhead and look; returns the names of the settings that changed."""
    require_organiser(user, campaign)
    clean = _check(values)
    if logo:
        clean["lead_logo_sha256"] = store_logo(logo, field="logo", max_bytes=logo_max_bytes).sha256
    elif remove_logo:
        clean["lead_logo_sha256"] = None
    changed = [name for name, value in clean.items() if getattr(campaign, name) != value]
    for name in changed:
        setattr(campaign, name, clean[name])
    db.session.flush()
    if changed:
        audit.record("letterhead.changed", campaign=campaign, user=user, changed=changed)
    return changed
