"""The render forkserver's warm-up letter: the real template, rendered without an app."""

from io import BytesIO

from pypdf import PdfReader

from campaign.letters.document import letter_html, standalone_letter_html
from campaign.letters.pdf import render_in_child
from campaign.letters.warm_up import parse_glyph_array_types, sample_letter


def test_standalone_html_is_what_the_app_renders(app):
    data, _images = sample_letter()
    with app.test_request_context():
        assert standalone_letter_html(data) == letter_html(data)


def test_sample_letter_prints_everything_a_letter_has():
    data, images = sample_letter()
    html = standalone_letter_html(data)
    parts = ("lead-logo", "footnote", "typed-signature", "drawn-signature", "earlier-mark")
    for part in (*parts, "verify-qr", "<ol>"):
        assert part in html, part
    reader = PdfReader(BytesIO(render_in_child(html, images, 0, True)))
    text = "".join(page.extract_text() for page in reader.pages)
    # 40 named and one counted unnamed: the heading gives the letter's one count.
    assert "Signatories (41)" in text
    assert "1 more organisation supports this letter without being named." in " ".join(text.split())
    assert "Organisation 39 für Bürgerrechte" in text
    assert f"Page 1 of {len(reader.pages)}" in text


def test_glyph_array_types_are_parsed_ahead():
    from weasyprint.text.ffi import ffi

    parse_glyph_array_types()
    assert "hb_codepoint_t[200]" in ffi._parsed_types  # cffi's cache, which children inherit
