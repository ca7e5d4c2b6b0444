"""A letter's look (accent colour, paper, margins, signature style) as a small style block.

The look ends up as CSS inside the letter, so every value is checked against a strict
shape here, whatever the caller says it checked: a colour is exactly #rrggbb, a page size
and a style come from fixed lists, a margin is a whole number in range. Anything else
falls back to the default, so a bad value can never become CSS.

The browser preview serves the letter under a Content-Security-Policy that forbids inline
styles; `csp_allowing_style` adds exactly this block's sha256 to style-src.
"""

import base64
import hashlib
import re

from ..config import DEFAULT_CSP
from ..models import PAGE_SIZES, SIGNATURE_STYLES

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
SHA256 = re.compile(r"[0-9a-f]{64}")
MARGIN_RANGE = (10, 40)
DEFAULTS = {
    "accent_colour": "#1d4e89",
    "page_size": "A4",
    "margin_mm": 20,
    "signature_style": "list",
    "lead_logo_sha256": None,
}
#: Paper width in mm, for the on-screen sheet (browsers ignore @page).
PAPER_WIDTH_MM = {"A4": 210, "Letter": 216}


def valid_colour(value) -> bool:
    """Whether `value` is exactly a #rrggbb colour (nothing before, after or inside)."""
    return isinstance(value, str) and COLOUR.fullmatch(value) is not None


def valid_margin(value) -> bool:
    """Whether `value` is a whole number of millimetres in the allowed range."""
    low, high = MARGIN_RANGE
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def clean_look(look: dict | None) -> dict:
    """The look with every value checked; a missing or malformed value takes the default."""
    look = look or {}
    colour = look.get("accent_colour")
    size = look.get("page_size")
    margin = look.get("margin_mm")
    style = look.get("signature_style")
    logo = look.get("lead_logo_sha256")
    return {
        "accent_colour": colour.lower() if valid_colour(colour) else DEFAULTS["accent_colour"],
        "page_size": size if size in PAGE_SIZES else DEFAULTS["page_size"],
        "margin_mm": margin if valid_margin(margin) else DEFAULTS["margin_mm"],
        "signature_style": style if style in SIGNATURE_STYLES else DEFAULTS["signature_style"],
        "lead_logo_sha256": logo if isinstance(logo, str) and SHA256.fullmatch(logo) else None,
    }


def style_css(look: dict | None) -> str:
    """The per-letter CSS: paper size, margins and accent colour, from checked values only."""
    look = clean_look(look)
    m = look["margin_mm"]
    # The bottom margin holds the running footer (two lines), the left a little binding room:
    # the same proportions as the default 20/20/24/22 mm.
    margins = f"{m}mm {m}mm {m + 4}mm {m + 2}mm"
    sheet = PAPER_WIDTH_MM[look["page_size"]] - 2 * m - 2
    css = (
        f":root{{--accent:{look['accent_colour']}}}"
        f"@page{{size:{look['page_size']};margin:{margins}}}"
        # Nested like letter.css: WeasyPrint reads media types only, and the phone layout
        # (max-width: 640px) keeps its own narrow padding.
        f"@media screen{{@media (min-width:641px){{body{{max-width:{sheet}mm;"
        f"padding:{m}mm {m}mm {m}mm {m + 2}mm}}}}}}"
    )
    # Belt and braces: nothing here may need HTML escaping or close the <style> element.
    if re.search(r"[<>&\"'\\]", css):
        raise ValueError("letter style block holds a character it must not")
    return css


def style_hash(css: str) -> str:
    """The CSP source expression allowing exactly this style block: 'sha256-…'."""
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp_allowing_style(css: str, policy: str = DEFAULT_CSP) -> str:
    """`policy` with this style block's hash added to style-src (and nothing else)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    source = style_hash(css)
    for i, directive in enumerate(directives):
        if directive.split()[0] == "style-src":
            directives[i] = f"{directive} {source}"
            break
    else:
        directives.append(f"style-src 'self' {source}")
    return "; ".join(directives)
