"""The signature block looks like a sign-on letter: compact names, even logo rows, and a
"Signatories" heading that is never left alone at the foot of a page."""

import io

import pytest
from pypdf import PdfReader

from campaign.letters.document import letter_html
from campaign.letters.pdf import html_to_pdf, lay_out
from tests.helpers.chunks import campaign_with, org_names, page_texts, render_pdf
from tests.helpers.letters import letter_data

PREFIXES = ("Alder", "Birch Tree", "Cedar", "Damson")


def _orgs(n: int) -> list[dict]:
    """Realistic names of 30-40 characters, every tier."""
    return [
        {
            "organisation": f"{PREFIXES[i % 4]} Coalition for Digital Rights {i:03d}",
            "tier": ("national", "state", "local")[i % 3],
            "name": "Ana Diaz",
            "title": "Director",
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("page_size, margin", [("A4", 20), ("Letter", 20), ("A4", 10)])
def test_names_layout_prints_60_to_100_organisations_a_page(app, page_size, margin):
    """Every page the list fills holds 60-100 names, in two balanced columns, no person."""
    letter = letter_data(_orgs(400))
    letter["look"] = {"signature_style": "names", "page_size": page_size, "margin_mm": margin}
    reader = PdfReader(io.BytesIO(html_to_pdf(letter_html(letter))))
    pages = [p.extract_text() for p in reader.pages]
    counts = [page.count("Coalition for Digital Rights") for page in pages]
    listed = [i for i, n in enumerate(counts) if n]
    full = listed[1:-1]  # the first and last pages of the list are partly letter or empty
    assert len(full) >= 2, counts
    for i in full:
        assert 60 <= counts[i] <= 100, (page_size, margin, counts)
    assert sum(counts) == 400
    assert "Ana Diaz" not in "".join(pages)  # names only: no signer, no title


def _wall_rows(letter: dict) -> list[list[tuple[float, float]]]:
    """(left, right) of each logo-wall tile, row by row, from WeasyPrint's layout."""
    document = lay_out(letter_html(letter), {}, 0)
    tiles = []

    def walk(box):
        if getattr(box, "element_tag", None) == "li" and "wall-tile" in (
            box.element.get("class") or ""
        ):
            tiles.append((round(box.position_y, 1), box.position_x, box.position_x + box.width))
            return
        for child in getattr(box, "children", []):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    rows: dict[float, list] = {}
    for y, left, right in tiles:
        rows.setdefault(y, []).append((left, right))
    return [sorted(row) for _, row in sorted(rows.items())]


WALLS = [(9, [3, 3, 3]), (6, [3, 3]), (10, [4, 4, 2]), (5, [4, 1])]


@pytest.mark.parametrize("count, widths", WALLS)
def test_logo_wall_rows_are_full_or_centred(app, count, widths):
    """A wall of 9 prints three rows of three; a short last row is centred under the
    full ones, never left hanging to one side."""
    letter = letter_data(_orgs(count * 3)[::3])  # all national: one group of `count`
    letter["look"] = {"signature_style": "logo_wall"}
    rows = _wall_rows(letter)
    assert [len(row) for row in rows] == widths
    full_left, full_right = rows[0][0][0], rows[0][-1][1]
    for row in rows:
        left_gap, right_gap = row[0][0] - full_left, full_right - row[-1][1]
        assert abs(left_gap - right_gap) < 1, (row, full_left, full_right)


def test_chunked_letter_keeps_its_signatories_heading_with_the_first_names(
    client,
    app,
    small_chunks,
):
    """A long letter renders in parts; its heading used to end the letter part, alone at
    the foot of a page, with the names starting on the next one."""
    names = org_names(40)
    _, c = campaign_with(names)
    pages = page_texts(render_pdf(c))
    [page] = [p for p in pages if "Signatories (40)" in p]
    first = sorted(n for i, n in enumerate(names) if i % 3)[0]  # national A-Z comes first
    assert page.index("Signatories (40)") < page.index(first), page
    assert page.count("Coalition") >= 5, page
