"""The studio's live pane shows the PDF's own pages (issue 11, E31), without a browser."""

import re

from tests import factories as f
from tests.conftest import csrf_from

BODY = (
    "Dear all,\n\nWe ask you to stop.[^1]\n\n"
    + "\n\n".join(f"Paragraph {i} of a long letter, to fill the page." for i in range(60))
    + "\n\n[^1]: The footnote of the first page.\n"
)


def _pages(client, c, **extra):
    token = csrf_from(client.get(f"/c/{c.slug}/letter").get_data(as_text=True))
    data = {"csrf_token": token, "subject": "Hello", "body": BODY, "view": "pages", **extra}
    return client.post(f"/c/{c.slug}/letter/preview", data=data)


def _runs(html: str) -> list[tuple[int, float, float, str]]:
    """(page, top, page height, text) of every text run on the drawn pages."""
    runs = []
    for number, height, inner in re.findall(
        r'<svg class="sheet" data-page="(\d+)" viewBox="0 0 [\d.]+ ([\d.]+)"(.*?)</svg>',
        html,
        re.S,
    ):
        for top, text in re.findall(r'data-top="([\d.]+)">([^<]*)</text>', inner):
            runs.append((int(number), float(top), float(height), text))
    return runs


def test_the_pages_view_is_the_pdf_with_footnotes_at_the_foot(client, app):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    resp = _pages(client, c)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    html = resp.get_data(as_text=True)
    assert resp.headers["Server-Timing"].startswith("render;dur=")
    runs = _runs(html)
    pages = {page for page, *_ in runs}
    assert len(pages) >= 2, "a long letter breaks into pages"
    note = [r for r in runs if "footnote of the first page" in r[3]]
    assert note and note[0][0] == 1 and note[0][1] > 0.6 * note[0][2], note
    assert "[The footnote" not in html and "[^1]" not in html
    for page in pages:
        footer = [r for r in runs if r[0] == page and r[3].startswith(f"Page {page} of ")]
        assert footer and footer[0][1] > 0.85 * footer[0][2], f"page {page} has no footer"
    assert any("Verify:" in r[3] for r in runs), "the footer's verification line is missing"
    assert html.count('href="data:image/jpeg;base64,') == len(pages)
    # The studio's policy forbids inline styles: none here, only SVG attributes.
    assert " style=" not in html and "<style" not in html and "<script" not in html


def test_the_pages_view_says_what_is_wrong_with_a_bad_template(client, app):
    u = f.user()
    c = f.published(u)
    f.login(client, u)
    token = csrf_from(client.get(f"/c/{c.slug}/letter").get_data(as_text=True))
    resp = client.post(
        f"/c/{c.slug}/letter/preview",
        data={"csrf_token": token, "subject": "Hi", "body": "{{ target.nme }}", "view": "pages"},
    )
    assert resp.status_code == 400
    assert "target.nme is not a merge field" in resp.get_data(as_text=True)


def test_the_pages_view_keeps_the_live_preview_rate_limit(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PREVIEW_RATE_LIMIT", "2/minute")
    u = f.user()
    c = f.campaign(u)
    f.login(client, u)
    codes = [_pages(client, c).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
