"""A letter's look: the checked style block, its CSP hash, the letterhead logo, logo wall."""

import base64
import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from campaign.letters.document import letter_html
from campaign.letters.look import DEFAULTS, clean_look, csp_allowing_style, style_css, style_hash
from campaign.letters.pdf import html_to_pdf
from campaign.services.letters import letter_images
from tests import factories as f

LOGO = "ab" * 32
TIER_NAMES = ("national", "state", "local")
STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)

HOSTILE_COLOURS = [
    "red;}body{display:none",
    "#123456;}body{display:none}",
    "#123456}</style><script>alert(1)</script>",
    "#12345",
    "#1234567",
    "#12345g",
    "#123456\n",
    " #123456",
    "rgb(1,2,3)",
    "var(--x)",
    "",
    None,
    123456,
]


def _letter(*, look=None, signatories=(), target=None, body="Dear friends,\n\nStop it."):
    letter = {
        "campaign": {
            "title": "Stop face surveillance",
            "lead_organisation": "Coalition for Privacy",
            "lead_address": "1 Liberty Street\nMillbrook",
        },
        "target": target,
        "targets": [target] if target else [],
        "subject": "Stop it",
        "body_source": body,
        "today": "27 November 2026",
        "version": {"number": 2, "sha256": None},
        "signatories": list(signatories),
    }
    if look is not None:
        letter["look"] = look
    return letter


def _sig(org, tier="national", logo=None, **extra):
    return {
        "organisation": org,
        "name": "",
        "title": "",
        "tier": tier,
        "logo_sha256": logo,
        **extra,
    }


# -- The style block ---------------------------------------------------------------------


@pytest.mark.parametrize("colour", HOSTILE_COLOURS)
def test_anything_but_hex_colour_falls_back_to_the_default(colour):
    assert clean_look({"accent_colour": colour})["accent_colour"] == DEFAULTS["accent_colour"]
    css = style_css({"accent_colour": colour})
    assert "display" not in css and "script" not in css
    assert f"--accent:{DEFAULTS['accent_colour']}" in css


@pytest.mark.parametrize(
    "look",
    [
        {"page_size": "A4;}body{display:none"},
        {"page_size": "a3"},
        {"margin_mm": "20mm;}body{display:none"},
        {"margin_mm": 9},
        {"margin_mm": 41},
        {"margin_mm": True},
        {"margin_mm": 20.5},
        {"signature_style": "grid"},
        {"lead_logo_sha256": "../../etc/passwd"},
        {"lead_logo_sha256": "AB" * 32},
    ],
)
def test_malformed_look_values_take_the_defaults(look):
    assert clean_look(look) == DEFAULTS


def test_style_block_sets_paper_margins_and_colour():
    css = style_css(
        {"accent_colour": "#8A1538", "page_size": "Letter", "margin_mm": 25, "signature_style": "x"}
    )
    assert "--accent:#8a1538" in css
    assert "@page{size:Letter;margin:25mm 25mm 29mm 27mm}" in css
    assert style_css(None) == style_css({})  # a letter made before looks existed


def test_csp_hash_is_the_sha256_of_the_block_in_style_src_only():
    css = style_css({"accent_colour": "#112233"})
    expected = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert style_hash(css) == f"'sha256-{expected}'"
    policy = csp_allowing_style(css)
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["style-src"] == f"'self' 'sha256-{expected}'"
    assert directives["script-src"] == "'self'"  # nothing else is loosened
    assert "unsafe-inline" not in policy


# -- The letter document -----------------------------------------------------------------


def test_letter_carries_its_style_block_and_lead_logo(app):
    look = {"accent_colour": "#8a1538", "page_size": "Letter", "lead_logo_sha256": LOGO}
    html = letter_html(_letter(look=look))
    blocks = STYLE_RE.findall(html)
    assert blocks == [style_css(look)]
    assert f'<img class="lead-logo" src="/blobs/{LOGO}"' in html


def test_missing_look_prints_with_the_defaults(app):
    html = letter_html(_letter())
    assert STYLE_RE.findall(html) == [style_css(DEFAULTS)]
    assert "lead-logo" not in html


def test_a_style_block_in_the_letter_body_is_stripped(app):
    body = (
        "Hello\n\n<style>body{display:none}</style>\n\n"
        '<p style="display:none">hidden</p>\n\n<link rel="stylesheet" href="/x.css">'
    )
    html = letter_html(_letter(body=body, look={"accent_colour": "#123456"}))
    assert len(STYLE_RE.findall(html)) == 1  # only the checked one in <head>
    main = html.split('<main class="body">', 1)[1].split("</main>", 1)[0]
    assert "display:none" not in main and "<link" not in main and "style=" not in main


def test_target_copy_prints_the_postal_address_lines(app):
    target = {
        "name": "Jordan Vale",
        "title": "CEO",
        "organisation": "Argus Vision",
        "salutation": "Dear Mr Vale",
        "postal_address": "500 Market Street\r\n\n  San Francisco, CA 94105  \n",
    }
    html = letter_html(_letter(target=target))
    assert '<span class="postal">500 Market Street</span>' in html
    assert '<span class="postal">San Francisco, CA 94105</span>' in html
    assert html.count('class="postal"') == 2
    del target["postal_address"]  # target dicts made before the column existed
    assert 'class="postal"' not in letter_html(_letter(target=target))


def test_logo_wall_groups_by_tier_with_name_tiles_and_earlier_signer_mark(app):
    signatories = [
        _sig("Zeta Local", tier="local", logo=LOGO),
        _sig("Alpha National", logo=LOGO),
        _sig("Beta National", earlier_version=1),
        _sig("Gamma State", tier="state", logo="not-a-hash"),
    ]
    html = letter_html(_letter(look={"signature_style": "logo_wall"}, signatories=signatories))
    assert 'class="signatories style-logo-wall"' in html
    assert "signatory-list" not in html
    assert html.count('class="wall-tile"') == 2  # with a logo
    assert html.count('class="wall-tile name-tile"') == 2  # without (or with a bad hash)
    order = [html.find(x) for x in ("Alpha National", "Beta National", "Gamma State", "Zeta")]
    assert order == sorted(order) and -1 not in order
    headings = [html.find(h) for h in ("National organisations", "State", "Local organisations")]
    assert headings == sorted(headings)
    assert 'Beta National<span class="earlier-mark">\u2020</span>' in html
    assert html.count("earlier-mark") == 1
    assert (
        "\u2020 signed an earlier version of this letter (version 1) "
        "and has not yet re-confirmed this one." in html
    )
    assert "grid" not in html  # the wall is inline blocks, never CSS grid


def test_list_style_marks_earlier_signers_too_and_no_note_without_them(app):
    signatories = [_sig("Alpha", earlier_version=2), _sig("Beta", earlier_version=1), _sig("C")]
    html = letter_html(_letter(signatories=signatories))
    assert 'class="signatories style-list"' in html
    assert html.count('<span class="earlier-mark">\u2020</span>') == 2
    assert "(versions 1 or 2)" in html
    plain = letter_html(_letter(signatories=[_sig("Alpha"), _sig("B", earlier_version=True)]))
    assert "earlier-mark" not in plain and "earlier-note" not in plain


def test_logo_wall_pdf_on_us_letter(app):
    f.commit()
    from campaign.services.blobs import store_logo

    logo = store_logo(f.png(colour=(20, 80, 40))).sha256
    lead = store_logo(f.png(colour=(120, 20, 60))).sha256
    f.commit()
    signatories = [
        _sig(
            f"Org {n:02}", tier=("national", "state", "local")[n % 3], logo=logo if n % 2 else None
        )
        for n in range(30)
    ]
    signatories[4]["earlier_version"] = 1
    look = {
        "signature_style": "logo_wall",
        "page_size": "Letter",
        "accent_colour": "#8a1538",
        "lead_logo_sha256": lead,
    }
    html = letter_html(_letter(look=look, signatories=signatories))
    pdf = html_to_pdf(html, images=letter_images(html))
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)  # US Letter
    flat = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert all(f"Org {n:02}" in flat for n in range(30))
    assert (
        "Org 04\u2020" in flat.replace(" \u2020", "\u2020")
        and "has not yet re-confirmed this one" in flat
    )
    assert sum(len(p.images) for p in reader.pages) >= 2  # the lead logo and the wall
