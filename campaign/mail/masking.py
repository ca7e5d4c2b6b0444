"""What the Outbox shows of an email: its text, with every personal link hidden.

The emails are stored exactly as sent, but nobody reads a live signing, confirmation,
unsubscribe or co-lead link in the app: whoever holds one can act as its recipient (sign
for an organisation, fake an email confirmation, unsubscribe someone). The HTML part is
also sanitised here, so the Outbox can show it as the recipient sees it without running
scripts or loading anything from elsewhere.
"""

import re

import nh3

#: The paths whose last part is a bearer token: /s/ signing and public confirmation,
#: /u/ unsubscribe, /colead/ co-lead invitation. Tokens are long and URL-safe; an
#: unsubscribe token is an itsdangerous string with a dot.
PERSONAL_LINK = re.compile(r"/(s|u|colead)/[A-Za-z0-9_\-.~%]{16,}")
HIDDEN = "••••"
#: Markup an email may keep. Emails are laid out with tables and inline styles.
TAGS = nh3.ALLOWED_TAGS | {"font", "big"}
ATTRIBUTES = {
    "*": {"style", "align", "valign", "width", "height", "bgcolor", "dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "table": {"border", "cellpadding", "cellspacing"},
    "font": {"color", "face", "size"},
}
#: Style properties that change how text looks, never where it is or what it loads.
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "line-height",
    "text-align",
    "text-decoration",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "border-collapse",
    "border-radius",
    "width",
    "max-width",
    "height",
    "vertical-align",
    "white-space",
}


def mask_links(text: str | None) -> str:
    """The text with each personal link's token replaced by a note that it is hidden."""
    if not text:
        return text or ""
    return PERSONAL_LINK.sub(lambda m: f"/{m.group(1)}/{HIDDEN} (personal link, hidden)", text)


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    """Drop personal links from links and every image that is not embedded in the email."""
    if attribute == "href" and PERSONAL_LINK.search(value):
        return None
    if tag == "img" and attribute == "src" and not value.lower().startswith("data:image/"):
        return None  # a remote image would tell its server that someone read the email
    return value


def safe_html(html: str | None) -> str:
    """The HTML part sanitised (no scripts, forms or remote loads) and its links masked."""
    if not html:
        return ""
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        # The <head> holds the <title> and <style>: neither is part of what the reader sees.
        clean_content_tags={"script", "style", "head", "title"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute,
        filter_style_properties=STYLE_PROPERTIES,
        url_schemes={"http", "https", "mailto", "data"},
        strip_comments=True,
    )
    return mask_links(cleaned)
