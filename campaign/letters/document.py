"""A letter as one HTML document: merge fields, Markdown body, letterhead and signatories.

The same HTML feeds the browser preview and WeasyPrint, so it names assets only by
root-relative URL (/static/..., /blobs/<sha256>); pdf.AssetFetcher serves those in print.
"""

import functools
import re
from pathlib import Path

import jinja2
from flask import render_template
from markupsafe import Markup

from .look import clean_look, style_css
from .markdown import markdown_to_html
from .sandbox import render_text, to_plain_text

TIERS = (
    ("national", "National organisations"),
    ("state", "State organisations"),
    ("local", "Local organisations"),
)
OTHER_TIER = "Other organisations"
#: Lead organisations first, then co-leads, ahead of every tier.
ROLES = (("lead", "Lead organisations"), ("co_lead", "Co-leads"))
TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TARGET_KEYS = ("name", "title", "organisation", "salutation")
#: Printed after an organisation that signed an earlier version and has not re-confirmed.
EARLIER_MARK = "\u2020"


def _group(s: dict) -> tuple[int, str]:
    """Where a signatory is listed: its coalition role if it has one, else its tier."""
    groups = [*ROLES, *TIERS]
    for i, (name, heading) in enumerate(groups):
        if s.get("role") == name or (not s.get("role") and s.get("tier") == name):
            return i, heading
    return len(groups), OTHER_TIER


def ordered_signatories(signatories: list[dict]) -> list[dict]:
    """Signatories in print order: leads, co-leads, national, state, local; A-Z in each."""

    def key(s: dict):
        org = s.get("organisation") or ""
        return _group(s)[0], org.casefold(), org

    return sorted(signatories, key=key)


def _text(value) -> str:
    return "" if value is None else str(value)


def _join_names(names: list[str]) -> str:
    names = [n for n in names if n]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def merge_target(target: dict | None, targets: list[dict]) -> dict:
    """The target fields a template sees.

    The generic copy (target None) is addressed to every target at once, so it must not
    greet only the first: names and organisations are joined ("A, B and C"), the title
    is left empty and "Dear Ms A" + "Dear Mr B" become "Dear Ms A and Mr B".
    """
    if target is not None:
        return {k: _text(target.get(k)) for k in _TARGET_KEYS}
    people = [{k: _text(t.get(k)) for k in _TARGET_KEYS} for t in targets]
    if len(people) == 1:
        return people[0]
    if not people:
        return {"name": "", "title": "", "organisation": "", "salutation": "Dear Sir or Madam"}
    organisations = list(dict.fromkeys(p["organisation"] for p in people))
    greetings = [p["salutation"] for p in people]
    if all(g.startswith("Dear ") for g in greetings):
        salutation = "Dear " + _join_names([g.removeprefix("Dear ") for g in greetings])
    else:
        salutation = "Dear " + _join_names([p["name"] for p in people])
    return {
        "name": _join_names([p["name"] for p in people]),
        "title": "",
        "organisation": _join_names(organisations),
        "salutation": salutation,
    }


def merge_context(letter: dict) -> dict:
    """Plain-data merge fields for one letter (the names in sandbox.FIELDS)."""
    campaign = letter["campaign"]
    signatories = ordered_signatories(letter.get("signatories") or [])
    return {
        "target": merge_target(letter.get("target"), letter.get("targets") or []),
        "campaign": {
            "title": _text(campaign.get("title")),
            "lead_organisation": _text(campaign.get("lead_organisation")),
            "deadline": _text(campaign.get("deadline")),
        },
        "today": _text(letter.get("today")),
        # Private supporters (and names held back until delivery) count, unlisted.
        "signatory_count": signatory_total(letter),
        "signatories": [
            {k: _text(s.get(k)) for k in ("organisation", "name", "title", "tier")}
            for s in signatories
        ],
    }


def signatory_total(letter: dict) -> int:
    """How many organisations the letter counts: those it names plus those it does not.

    The merge field, the PDF's heading, its metadata and every stored count use this.
    """
    return len(letter.get("signatories") or []) + _unlisted(letter)


def _unlisted(letter: dict) -> int:
    value = letter.get("unlisted_signatories") or 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def signatory_note(letter: dict) -> str:
    """The note under the signature list: the earlier-version mark, and who is not named."""
    notes = (earlier_note(letter.get("signatories") or []), unnamed_note(_unlisted(letter)))
    return " ".join(n for n in notes if n)


def unnamed_note(unnamed: int) -> str:
    """The line under a signature list for signatories counted but not named, or ""."""
    if not unnamed:
        return ""
    orgs = "organisation" if unnamed == 1 else "organisations"
    verb = "supports" if unnamed == 1 else "support"
    return f"{unnamed} more {orgs} {verb} this letter without being named."


def _earlier_version(signatory: dict) -> int | None:
    """The earlier version a signatory signed and has not re-confirmed, if any."""
    value = signatory.get("earlier_version")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def signatory_groups(signatories: list[dict]) -> list[dict]:
    """Signatories grouped under tier headings, each entry ready for the template."""
    groups: dict[str, list[dict]] = {}
    for s in ordered_signatories(signatories):
        heading = _group(s)[1]
        logo = _text(s.get("logo_sha256"))
        drawn = _text(s.get("signature_sha256"))
        person = ", ".join(v for v in (_text(s.get("name")), _text(s.get("title"))) if v)
        groups.setdefault(heading, []).append(
            {
                "organisation": _text(s.get("organisation")),
                "person": person,
                "logo": logo if _SHA256.fullmatch(logo) else None,
                "drawn": drawn if _SHA256.fullmatch(drawn) else None,
                "typed": _text(s.get("signature_typed")),
                "earlier": _earlier_version(s) is not None,
            }
        )
    return [{"heading": h, "entries": entries} for h, entries in groups.items()]


def earlier_note(signatories: list[dict]) -> str:
    """The note under the signature block explaining the mark, or "" when nobody has it."""
    versions = sorted({v for s in signatories if (v := _earlier_version(s)) is not None})
    if not versions:
        return ""
    label = "version" if len(versions) == 1 else "versions"
    numbers = _join_names([str(v) for v in versions]).replace(" and ", " or ")
    return (
        f"{EARLIER_MARK} signed an earlier version of this letter ({label} {numbers}) "
        "and has not yet re-confirmed this one."
    )


def _address_lines(text) -> list[str]:
    """Non-empty, trimmed lines of a postal address."""
    return [line.strip() for line in _text(text).splitlines() if line.strip()]


def _target(target: dict) -> dict:
    """A target's printable fields, with its postal address as lines (may be absent)."""
    fields = {k: _text(target.get(k)) for k in _TARGET_KEYS}
    fields["address_lines"] = _address_lines(target.get("postal_address"))
    return fields


def letter_html(letter: dict) -> str:
    """Render the complete HTML document for one letter (needs an app context).

    Both `subject` and `body_source` are letter templates: the subject is rendered to
    plain text, the body to Markdown and then to sanitised HTML.
    """
    return render_template("pdf/letter.html", **_letter_context(letter))


def standalone_letter_html(letter: dict) -> str:
    """letter_html without an app, for a process that has none (the render forkserver)."""
    return _standalone_env().get_template("pdf/letter.html").render(**_letter_context(letter))


@functools.cache
def _standalone_env() -> jinja2.Environment:
    # Flask's environment adds nothing the letter template uses; autoescape as it does.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True)


def letter_part_html(letter: dict, styles_given: bool = False) -> str:
    """The letter of a chunked render: all but the signatory entries, and no page furniture.

    With `styles_given`, as overlay_html: the renderer is handed the stylesheets.
    """
    context = {**_letter_context(letter), "groups": [], "print_part": "letter"}
    return render_template("pdf/letter.html", **context, styles_given=styles_given)


def chunk_html(letter: dict, groups: list[dict], first: bool = False) -> str:
    """One run of signatories (signatory_groups entries; heading None continues a tier).

    Depends only on the entries and the look, never on the target, date or version, so
    every copy and every version of the letter shares the same chunk renders. The
    `first` chunk also prints the "Signatories (N)" heading, and so changes with N.
    """
    look = clean_look(letter.get("look"))
    return render_template(
        "pdf/letter.html",
        print_part="chunk",
        campaign={},
        look=look,
        look_css=Markup(style_css(look)),  # noqa: S704 - no user text reaches it
        groups=groups,
        earlier_mark=EARLIER_MARK,
        draft=bool(letter.get("draft")),
        signatory_count=len(letter.get("signatories") or []) if first else None,
    )


def overlay_html(
    letter: dict, pages: int, page_sample: str = "", styles_given: bool = False
) -> str:
    """`pages` blank pages carrying the letter's header, footer and "Page X of Y".

    With `page_sample`, the page-number box prints that text on every page instead. With
    `styles_given`, the document names no stylesheet: the renderer is handed letter.css
    and overlay_css(letter), in that order.
    """
    look = clean_look(letter.get("look"))
    return render_template(
        "pdf/letter.html",
        print_part="overlay",
        overlay_pages=pages,
        page_sample=page_sample,
        styles_given=styles_given,
        campaign=letter["campaign"],
        look=look,
        look_css=Markup(style_css(look)),  # noqa: S704 - no user text reaches it
        version_label=_version_label(letter),
        verification=_verification(letter.get("verification")),
    )


def overlay_css(letter: dict) -> str:
    """The letter's own style block (paper, margins, accent), for overlay_html(styles_given)."""
    return style_css(clean_look(letter.get("look")))


def _letter_context(letter: dict) -> dict:
    """The template context of the whole letter."""
    context = merge_context(letter)
    subject = to_plain_text(render_text(letter.get("subject") or "", context, field="subject"))
    body_text = render_text(letter.get("body_source") or "", context)
    body = Markup(markdown_to_html(body_text, inline_footnotes=True))  # noqa: S704 - nh3-clean
    campaign = letter["campaign"]
    target = letter.get("target")
    signatories = letter.get("signatories") or []
    # Letters made before the look was part of letter_data print with the defaults.
    look = clean_look(letter.get("look"))
    return dict(
        campaign=campaign,
        look=look,
        # Built from checked values only (see look.py); the preview's CSP allows its hash.
        look_css=Markup(style_css(look)),  # noqa: S704 - no user text reaches it
        address_lines=_address_lines(campaign.get("lead_address")),
        target=_target(target) if target else None,
        targets=[_target(t) for t in letter.get("targets") or []],
        subject=subject,
        today=_text(letter.get("today")),
        body=body,
        version_label=_version_label(letter),
        groups=signatory_groups(signatories),
        earlier_mark=EARLIER_MARK,
        # One note under the list: the earlier-version mark and who is counted unnamed.
        earlier_note=signatory_note(letter),
        signatory_count=signatory_total(letter),
        draft=bool(letter.get("draft")),
        pdf_subject=_pdf_subject(
            campaign, target, letter.get("targets") or [], signatory_total(letter)
        ),
        keywords=_keywords(campaign),
        verification=_verification(letter.get("verification")),
    )


_QR_PREFIX = "data:image/png;base64,"


def _verification(value) -> dict | None:
    """The footer's verification code, URL and QR image, when the copy is an issued one."""
    if not isinstance(value, dict):
        return None
    url, qr = _text(value.get("url")), _text(value.get("qr"))
    if not url or not qr.startswith(_QR_PREFIX):
        return None
    return {"url": url, "qr": qr}


def _pdf_subject(campaign: dict, target: dict | None, targets: list[dict], count: int) -> str:
    """The PDF's Subject field: whom the letter goes to and how many signed."""
    addressed = [target] if target else targets
    organisations = list(dict.fromkeys(_text(t.get("organisation")) for t in addressed))
    to = _join_names(organisations) or "its targets"
    signed = f"{count} organisation{'' if count == 1 else 's'}"
    return (
        f"Sign-on letter to {to} from {signed}, led by {_text(campaign.get('lead_organisation'))}"
    )


def _keywords(campaign: dict) -> str:
    """The PDF's Keywords: commas separate keywords, so they are dropped from each one."""
    words = ["sign-on letter", _text(campaign.get("title")), _text(campaign.get("url"))]
    return ", ".join(w.replace(",", " ") for w in words if w)


def _version_label(letter: dict) -> str:
    version = letter.get("version") or {}
    label = f"Version {version.get('number', 1)}"
    if version.get("sha256"):
        label += f" \u00b7 {version['sha256'][:12]}"
    if letter.get("draft"):
        label += " \u00b7 Draft"
    return label
