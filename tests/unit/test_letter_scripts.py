"""Organisation names in Japanese, Chinese, Korean, Arabic and Devanagari print as text."""

import io

import pytest
from pypdf import PdfReader
from pypdf.generic import NameObject

from campaign.letters.document import letter_html
from campaign.letters.pdf import html_to_pdf
from tests.helpers.letters import letter_data

#: Name -> the Noto family (PDF BaseFont spelling) that must print it, in the serif list.
NAMES = {
    "東京市民自由協会": "Noto-Serif-CJK-JP",
    "北京公民权利中心": "Noto-Serif-CJK-JP",
    "서울시민자유연대": "Noto-Serif-CJK-JP",
    "جمعية الحقوق الرقمية": "Noto-Naskh-Arabic",
    "डिजिटल अधिकार मंच": "Noto-Serif-Devanagari",
}
#: The logo wall prints names in the sans-serif list.
SANS = {"Noto-Serif-CJK-JP": "Noto-Sans-CJK-JP", "Noto-Naskh-Arabic": "Noto-Sans-Arabic",
        "Noto-Serif-Devanagari": "Noto-Sans-Devanagari"}  # fmt: skip


def _fonts(reader: PdfReader) -> dict[str, object]:
    """BaseFont name (without its subset tag) -> font dictionary, over every page."""
    out = {}
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font")
        for ref in (fonts.get_object() if fonts else {}).values():
            font = ref.get_object()
            out[str(font["/BaseFont"]).split("+", 1)[-1]] = font
    return out


def _found(name: str, text: str) -> bool:
    """Whether `name` is in the extracted text. Arabic comes out in visual order and a
    Devanagari vowel sign before the consonant it follows, so their words are compared
    as sets of characters; CJK names, which have no such reordering, exactly."""
    if name.isascii() or not any("\u0600" <= c <= "\u097f" for c in name):
        return name.replace(" ", "") in text.replace(" ", "")
    tokens = [sorted(token) for token in text.split()]
    return all(sorted(word) in tokens for word in name.split())


@pytest.mark.parametrize("style", ["list", "logo_wall", "names"])
def test_names_in_other_scripts_render_in_noto_without_missing_glyphs(app, style):
    """Every name's text is in the PDF, drawn by the Noto family for its script, and no
    font was asked for a glyph it lacks (WeasyPrint then writes a custom encoding whose
    codes print .notdef, the empty box)."""
    people = [{"organisation": name, "tier": "national", "name": "Ana"} for name in NAMES]
    people.append({"organisation": "Open Rights Group", "tier": "national"})
    letter = letter_data(people)
    letter["look"] = {"signature_style": style}
    reader = PdfReader(io.BytesIO(html_to_pdf(letter_html(letter))))

    text = "".join(page.extract_text() for page in reader.pages)
    for name in NAMES:
        assert _found(name, text), (name, text)

    fonts = _fonts(reader)
    wanted = set(NAMES.values())
    if style == "logo_wall":
        wanted = {SANS[family] for family in wanted}
    for family in wanted:
        assert any(base.startswith(family) for base in fonts), (family, sorted(fonts))
    for base, font in fonts.items():
        assert font["/Encoding"] == NameObject("/Identity-H"), f"{base} lacks glyphs"
