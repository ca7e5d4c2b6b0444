"""The letter pipeline: Markdown, signatory order, HTML layout and the real PDF."""

import base64
import hashlib
import io
import time

import pytest
from PIL import Image
from pypdf import PdfReader

from campaign.errors import Invalid
from campaign.extensions import db
from campaign.letters import isolation
from campaign.letters.document import (
    letter_html,
    merge_target,
    ordered_signatories,
    signatory_groups,
)
from campaign.letters.markdown import markdown_to_html
from campaign.letters.pdf import RenderFailed, RenderLimits, html_to_pdf
from campaign.models.files import Blob
from campaign.services.letters import letter_images
from tests.helpers.letters import TARGETS, letter_data

TIERS = {
    "national": [
        "Amnesty Watch", "beacon Rights Network", "Civic Data Union", "Digital Liberty Trust",
        "Equal Justice Project", "Guardians of Privacy", "Human Rights Circle",
        "Justice Now", "Mutual Aid Network", "Open Rights Group", "Public Interest Lab",
        "Surveillance Resistance", "Tech Accountability", "Women in Tech Rights",
    ],
    "state": [
        "Alabama Privacy Watch", "Colorado Open Records", "delaware Civic League",
        "Georgia Freedom Network", "Iowa Immigrant Aid", "Kansas Data Justice",
        "Maine Tenants Union", "Nevada Rights Alliance", "Ohio Privacy Alliance",
        "Texas Civil Rights Project", "Utah Community Voice", "Vermont Digital Rights",
    ],
    "local": [
        "Austin Justice Coalition", "Baltimore Neighbours", "Brooklyn Defenders Circle",
        "Chicago Lawyers Guild", "Detroit Community Tech", "Ithaca Library Friends",
        "madison Youth Forum", "Oakland Privacy", "Portland Copwatch", "Riverside Tenants",
        "Seattle Community Network", "St Louis Action Council", "Zürich Émigré Solidarity",
        "Őrség Łódź Ștefan Fund",
    ],
}  # fmt: skip


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _store(data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    db.session.add(Blob(sha256=sha, mime="image/png", size=len(data), data=data))
    # Committed: the per-test cleanup runs in a new session and must not wait on ours.
    db.session.commit()
    return sha


def _signatories(logos: list[str]) -> list[dict]:
    people = []
    for tier, orgs in TIERS.items():
        # Reversed, so the letter has to sort them.
        for i, org in enumerate(reversed(orgs)):
            people.append(
                {
                    "organisation": org,
                    "name": f"Signer {len(people)}",
                    "title": "Executive Director",
                    "tier": tier,
                    "logo_sha256": logos[i % len(logos)] if i % 5 == 0 else None,
                }
            )
    return people


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_footnotes_as_endnotes_by_default():
    html = markdown_to_html("Claim.[^1]\n\n[^1]: Source.")
    assert 'class="footnote-ref"' in html
    assert '<div class="footnote">' in html


def test_markdown_footnotes_inline_for_print():
    html = markdown_to_html(
        "Claim[^a] and more[^b].\n\n[^a]: First *source*.\n[^b]: Second\n\n    para two.",
        inline_footnotes=True,
    )
    assert '<span class="footnote">First <em>source</em>.</span>' in html
    assert '<span class="footnote">Second para two.</span>' in html
    assert "footnote-ref" not in html and "<div" not in html and "\u21a9" not in html


def test_markdown_strips_scripts_images_and_bad_links():
    html = markdown_to_html(
        "Hello <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[bad](javascript:alert(1)) [good](https://example.org) <b onclick=x()>b</b>\n\n"
        '<iframe src="https://example.org"></iframe><style>p{}</style>'
    )
    for bad in ("<script", "alert(1)", "<img", "onerror", "javascript:", "onclick", "<iframe"):
        assert bad not in html
    assert "<style" not in html
    assert 'href="https://example.org"' in html


# -- Ordering and addressing ------------------------------------------------------------


def test_signatories_order_by_tier_then_case_insensitive_name():
    people = [
        {"organisation": "zeta", "tier": "local"},
        {"organisation": "Beta", "tier": "national"},
        {"organisation": "alpha", "tier": "national"},
        {"organisation": "Gamma", "tier": "state"},
        {"organisation": "Odd", "tier": "unknown"},
    ]
    assert [p["organisation"] for p in ordered_signatories(people)] == [
        "alpha",
        "Beta",
        "Gamma",
        "zeta",
        "Odd",
    ]
    groups = signatory_groups(people)
    assert [g["heading"] for g in groups] == [
        "National organisations",
        "State organisations",
        "Local organisations",
        "Other organisations",
    ]


def test_signatory_logo_must_be_a_sha256():
    groups = signatory_groups(
        [
            {"organisation": "A", "tier": "local", "logo_sha256": "../../etc/passwd"},
            {"organisation": "B", "tier": "local", "logo_sha256": "ab" * 32},
        ]
    )
    assert [e["logo"] for e in groups[0]["entries"]] == [None, "ab" * 32]


def test_generic_copy_greets_every_target():
    merged = merge_target(None, TARGETS)
    assert merged["salutation"] == "Dear Ms Whitfield and Mr Okoye"
    assert merged["name"] == "Dana Whitfield and Sam Okoye"
    assert merged["organisation"] == "Northwind Vision Systems"
    assert merge_target(None, TARGETS[:1])["salutation"] == "Dear Ms Whitfield"


# -- HTML and PDF (need the app for templates and the blob table) ------------------------


def test_letter_html_uses_only_root_relative_assets(app):
    logo = _store(_png("navy"))
    html = letter_html(letter_data(_signatories([logo])))
    assert 'href="/static/css/letter.css"' in html
    assert f'src="/blobs/{logo}"' in html
    assert "http://" not in html and "https://" not in html and "file:" not in html
    assert "<title>Letter to Northwind Vision Systems</title>" in html
    assert "Version 3 \u00b7 abababababab" in html


def test_letter_pdf_with_forty_signatories(app):
    logos = [_store(_png(colour)) for colour in ("navy", "darkgreen", "maroon")]
    signatories = _signatories(logos)
    assert len(signatories) == 40

    html = letter_html(letter_data(signatories))
    pdf = html_to_pdf(html, images=letter_images(html))

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert len(reader.pages) >= 2
    assert "Letter to Northwind Vision Systems" in flat
    assert "Page 1 of" in flat and f"Page {len(reader.pages)} of {len(reader.pages)}" in flat
    assert "Version 3 \u00b7 abababababab" in flat
    assert "Dear Ms Whitfield," in flat and "Coalition report, 2026." in flat
    assert reader.metadata.title == "Letter to Northwind Vision Systems"
    assert sum(len(page.images) for page in reader.pages) >= 1, "logos are embedded"

    positions = {org: flat.find(org) for orgs in TIERS.values() for org in orgs}
    missing = [org for org, at in positions.items() if at < 0]
    assert not missing, f"organisations missing from the PDF: {missing}"
    upper = flat.upper()
    headings = [upper.find(f"{tier.upper()} ORGANISATIONS") for tier in TIERS]
    assert -1 < headings[0] < headings[1] < headings[2]
    for tier, orgs in TIERS.items():
        expected = sorted(orgs, key=str.casefold)
        assert sorted(orgs, key=positions.get) == expected, f"{tier} tier is not A-Z"


def test_generic_draft_copy_is_addressed_to_every_target(app):
    people = _signatories(["cd" * 32])[:3]  # a logo hash with no blob is skipped
    pdf = html_to_pdf(letter_html(letter_data(people, target=None, draft=True)))
    flat = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "TO:" in flat.upper()
    assert "Dana Whitfield" in flat and "Sam Okoye" in flat
    assert "Dear Ms Whitfield and Mr Okoye," in flat
    assert "Letter to Northwind Vision Systems" in flat
    assert "DRAFT" in flat.upper()


def test_page_limit():
    html = '<p style="break-after: page">one</p><p>two</p>'
    assert html_to_pdf(html, limits=RenderLimits(pages=2)).startswith(b"%PDF")
    with pytest.raises(Invalid) as caught:
        html_to_pdf(html, limits=RenderLimits(pages=1))
    assert caught.value.field == "letter"
    assert "more than 1 pages long" in caught.value.reason


# -- Render limits: the child process stops runaway documents -----------------------------


def test_huge_page_size_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(RenderFailed) as caught:
        html_to_pdf("<style>@page { size: 100000in }</style><p>Hello</p>")
    assert "100,000 × 100,000 inches" in caught.value.reason
    assert "at most 200 inches" in caught.value.reason
    assert time.monotonic() - started < 10


def test_ten_thousand_pages_stop_at_the_page_limit():
    html = "<style>p { break-after: page }</style>" + "<p>page</p>" * 10_000
    started = time.monotonic()
    with pytest.raises(RenderFailed) as caught:
        html_to_pdf(html)  # default limits: 300 pages
    assert "more than 300 pages long" in caught.value.reason
    # Layout stops at page 301 instead of running through all 10,000 (minutes).
    assert time.monotonic() - started < 30


def test_wall_clock_limit_kills_the_render():
    html = "<style>p { break-after: page }</style>" + "<p>page</p>" * 10_000
    started = time.monotonic()
    with pytest.raises(RenderFailed) as caught:
        html_to_pdf(html, limits=RenderLimits(seconds=1.5, pages=0))
    assert "longer than 1.5 seconds" in caught.value.reason
    assert time.monotonic() - started < 5


def _allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def test_memory_limit_stops_the_child():
    # The child inherits the forkserver's ~170 MB of address space; 400 MB more breaks 512.
    with pytest.raises(isolation.Failed) as caught:
        isolation.run(_allocate, 400, limits=isolation.Limits(memory_mb=512))
    assert "more than 512 MB of memory" in caught.value.reason
    assert isolation.run(_allocate, 400, limits=isolation.Limits(memory_mb=1024)) > 0


def test_memory_limit_stops_an_image_bomb():
    # 200 KB of PNG that decodes to 36 megapixels (over 100 MB) inside the renderer.
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 6000), "white").save(buffer, "PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    html = f'<p>Bomb</p><img style="width: 100%" src="data:image/png;base64,{data}">'
    with pytest.raises(RenderFailed) as caught:
        html_to_pdf(html, limits=RenderLimits(memory_mb=300))
    assert "more than 300 MB of memory" in caught.value.reason


def test_a_crash_in_the_child_is_reported_not_raised(caplog):
    with pytest.raises(isolation.Failed) as caught:
        isolation.run(_crash, limits=isolation.Limits(memory_mb=0))
    assert caught.value.reason == "the PDF renderer failed; the server log has the details"
    assert "ZeroDivisionError" in caught.value.detail


def _crash():
    return 1 / 0


def test_limits_come_from_the_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    with pytest.raises(RenderFailed) as caught:
        html_to_pdf('<p style="break-after: page">one</p><p>two</p>')
    assert "more than 1 pages" in caught.value.reason


# -- Metadata and accessibility ------------------------------------------------------------


def test_pdf_metadata_and_tags(app):
    logo = _store(_png("navy"))
    letter = letter_data(_signatories([logo])[:6])
    letter["campaign"]["url"] = "https://letters.example.org/c/face-surveillance"
    html = letter_html(letter)
    reader = PdfReader(io.BytesIO(html_to_pdf(html, images=letter_images(html))))
    meta = reader.metadata
    assert meta.title == "Letter to Northwind Vision Systems"
    assert meta.author == "Digital Rights Coalition"
    assert meta.subject == (
        "Sign-on letter to Northwind Vision Systems from 6 organisations, "
        "led by Digital Rights Coalition"
    )
    assert meta["/Keywords"] == (
        "sign-on letter, Stop selling face surveillance to police, "
        "https://letters.example.org/c/face-surveillance"
    )
    assert meta.creator == "Undersigned"
    root = reader.trailer["/Root"]
    # Tagged: a structure tree in reading order, the language, and alt text on logos.
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"
    tree = root["/StructTreeRoot"].get_object()
    assert sorted(_alt_texts(tree)) == ["Mutual Aid Network logo", "Women in Tech Rights logo"]


def _alt_texts(node) -> list[str]:
    """Every /Alt in a structure tree."""
    node = node.get_object()
    if isinstance(node, list):
        return [alt for kid in node for alt in _alt_texts(kid)]
    if not hasattr(node, "get"):
        return []  # a marked-content id
    found = [str(node["/Alt"])] if "/Alt" in node else []
    if "/K" in node:
        found += _alt_texts(node["/K"])
    return found


def test_untagged_pdf_when_asked():
    reader = PdfReader(io.BytesIO(html_to_pdf("<p>Plain</p>", tagged=False)))
    assert "/StructTreeRoot" not in reader.trailer["/Root"]
