"""The studio's live pane: the letter as the PDF prints it, page by page.

The unsaved text is rendered to a PDF by the same pipeline and limits as every signed
copy (html_to_pdf), so footnotes sit at the foot of their page, pages break where they
will break, and the header, footer and verification QR code are there. PDFium then
draws each page as a picture (WeasyPrint cannot), and the words of each line are laid
over it as transparent SVG text in the same place: the organiser can select, copy and
find words, and a screen reader reads them. SVG attributes, not inline styles, place
them, so the studio's Content-Security-Policy (no inline styles) needs no exception.
"""

import base64
import io
from dataclasses import dataclass, field

import pypdfium2 as pdfium

from ..letters.document import letter_html
from ..letters.pdf import html_to_pdf
from .evidence import verification
from .letters import letter_images

#: Pages drawn at most; "Preview PDF" shows a longer letter whole.
MAX_PAGES = 8
#: Pixels per PDF point: an A4 page is 893 px wide, sharp in a half-screen pane.
SCALE = 1.5
JPEG_QUALITY = 90
#: The footer prints each issued copy's own code; the preview shows where it goes.
SAMPLE_CODE = "SAMPLE2345"


@dataclass
class Line:
    """One run of text on a page, in PDF points from the page's top left."""

    x: float
    y: float
    width: float
    height: float
    text: str

    @property
    def baseline(self) -> float:
        """Where SVG puts the text: its baseline, about a fifth above the box's bottom."""
        return self.y + self.height * 0.8


@dataclass
class Page:
    """A drawn page: its size in points, its picture (a data: URI) and its text."""

    number: int
    width: float
    height: float
    image: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Pages:
    """The pages drawn, and how many the letter has."""

    pages: list[Page]
    total: int


def with_sample_code(data: dict) -> dict:
    """The letter data with a sample verification code, so the footer is as printed."""
    return {**data, "verification": verification(SAMPLE_CODE)}


def letter_pages(data: dict, max_pages: int = MAX_PAGES) -> Pages:
    """Render letter data to PDF under the usual limits and draw its first pages; raises Invalid."""
    html = letter_html(data)
    # Untagged: the structure tree is for readers of the PDF, and this one is only drawn;
    # leaving it out saves about a third of the render. The pages look the same.
    pdf = html_to_pdf(html, images=letter_images(html), tagged=False)
    return draw(pdf, max_pages)


def draw(pdf: bytes, max_pages: int = MAX_PAGES) -> Pages:
    """Draw the first `max_pages` pages of a PDF this app made, with their text runs."""
    document = pdfium.PdfDocument(pdf)
    try:
        total = len(document)
        pages = [_page(document[i], i + 1) for i in range(min(total, max_pages))]
    finally:
        document.close()
    return Pages(pages, total)


def _page(page, number: int) -> Page:
    try:
        width, height = page.get_size()
        image = page.render(scale=SCALE).to_pil()
        out = io.BytesIO()
        # JPEG: encoded in a few milliseconds (PNG took 20 times longer) at 60% of the
        # size; the picture lives for one keystroke, and the words are laid over it.
        image.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
        uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
        return Page(number, width, height, uri, _lines(page, height))
    finally:
        page.close()


def _lines(page, height: float) -> list[Line]:
    """The page's text, one entry per run PDFium finds (about a line each)."""
    text = page.get_textpage()
    try:
        lines = []
        for i in range(text.count_rects()):
            left, bottom, right, top = text.get_rect(i)
            words = text.get_text_bounded(left, bottom, right, top).strip()
            if words:
                lines.append(Line(left, height - top, right - left, top - bottom, words))
        return lines
    finally:
        text.close()
