"""The header, footer and "Page X of Y" stamped onto every page of a merged long letter.

The furniture (running header, title and version, verification code) is the same on
every page but the first, so it is rendered once, as two sample pages, and drawn on each
page as one shared form. Laying out all Y pages only for their numbers took about two
seconds for 268 pages; instead the samples' page-number box reads MARKER, which puts
every digit, "Page " and " of " into the embedded font subset, and each page gets its own
"Page X of Y" written as a few bytes of PDF with the same font, size, colour, kerning and
right edge (class Numbering).

Numbering only composes what the sample proves possible: every glyph comes from it, and
the digits must be unkerned (tabular figures). Otherwise WeasyPrint lays out all Y
numbered pages, as before.
"""

import io
import re
from dataclasses import dataclass

import weasyprint
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject
from weasyprint.text.fonts import FontConfiguration

from . import isolation
from .pdf import BASE_URL, AssetFetcher, lay_out

#: The sample's page-number text: every glyph any "Page X of Y" needs.
MARKER = "Page 0123456789 of 0"
_PREFIX, _MIDDLE = "Page ", " of "
_STATE_OPS = {"cm", "gs", "rg", "RG", "g", "G", "k", "K", "cs", "CS", "sc", "SC", "scn", "SCN"}
_TJ_TOKEN = re.compile(rb"<([0-9a-fA-F]*)>|(-?\d+(?:\.\d+)?)")
_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_OVERLAY = NameObject("/UndersignedOverlay")
_NUMBER = NameObject("/UndersignedPageNumber")


class Styles:
    """letter.css and a letter's style block, parsed once per merging child for all the
    documents it renders (overlays, letter parts).

    Each copy's overlay is a new document; parsing the stylesheet and unpacking its
    twelve web fonts took three quarters of its render.
    """

    def __init__(self):
        self.fonts = FontConfiguration()
        self._sheets: dict[str, list] = {}

    def sheets(self, look_css: str) -> list:
        """letter.css, then the letter's own block: the order of the document's <head>."""
        if look_css not in self._sheets:
            fetcher = AssetFetcher({})
            url = BASE_URL + "static/css/letter.css"
            self._sheets[look_css] = [
                weasyprint.CSS(url=url, url_fetcher=fetcher, font_config=self.fonts),
                weasyprint.CSS(string=look_css, font_config=self.fonts),
            ]
        return self._sheets[look_css]

    def render(
        self, html: str, images, look_css: str, max_pages: int = 0, tagged: bool = False
    ) -> bytes:
        """Render HTML made with styles_given (a letter part holds untrusted text: in a
        limited child), with pdf.render_in_child's page limits; tagged if asked."""
        sheets = self.sheets(look_css)
        document = lay_out(
            html, images, max_pages, tagged=tagged, stylesheets=sheets, font_config=self.fonts
        )
        return document.write_pdf(**({"pdf_tags": True} if tagged else {}))


def stamp(writer: PdfWriter, sample: str, full: str, look_css: str, *, styles: Styles) -> None:
    """Stamp every page of `writer` with its header, footer and page number (in the child).

    `sample` is the overlay HTML (styles_given) of two sample pages, page one and the
    others, whose number box reads MARKER; `look_css` its style block; `full` the overlay
    HTML without sheets, used only if the numbers cannot be composed from the sample.
    """
    pages = len(writer.pages)
    numbered = _composed(writer, _pdf(sample, styles, look_css), pages)
    stamps = numbered or _laid_out(writer, full, pages)
    before, after = _wrappers(writer, numbered=stamps[0][1] is not None)
    for page, (furniture, number) in zip(writer.pages, stamps, strict=True):
        resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
        xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
        xobjects[_OVERLAY] = furniture
        if number is not None:
            xobjects[_NUMBER] = number
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources
        # Wrapping the page in q/Q and appending Do operators parses no content stream
        # (pypdf's merge_page parses both: seconds for a few hundred pages).
        contents = page.get("/Contents")
        existing = contents.get_object() if contents is not None else ArrayObject()
        existing = list(existing) if isinstance(existing, list) else [contents]
        page[NameObject("/Contents")] = ArrayObject([before, *existing, after])


def _composed(writer: PdfWriter, sample: PdfReader, pages: int) -> list[tuple] | None:
    """(furniture form, number form) per page from the sample, or None if it cannot be."""
    first, other = sample.pages[:2]
    fonts = other["/Resources"].get("/Font")
    fonts = {
        k[1:].encode(): v.get_object() for k, v in (fonts.get_object() if fonts else {}).items()
    }
    numbering = Numbering.from_sample(other.get_contents().get_data(), fonts)
    if numbering is None:
        return None
    sheets = [numbering.furniture(sheet.get_contents().get_data()) for sheet in (first, other)]
    if None in sheets:
        return None
    resources = other["/Resources"].clone(writer).indirect_reference
    furniture = [_form(writer, data, other, resources) for data in sheets]
    return [
        (furniture[min(i, 1)], _form(writer, numbering.content(i + 1, pages), other, resources))
        for i in range(pages)
    ]


def _laid_out(writer: PdfWriter, full: str, pages: int) -> list[tuple]:
    """(numbered furniture form, None) per page, WeasyPrint laying out `pages` sheets."""
    # The trusted overlay template ends with its sheets: one more per page.
    head, tail = full.rsplit("</body>", 1)
    sheets = _pdf(head + '<div class="overlay-sheet"></div>' * pages + "</body>" + tail).pages
    if len(sheets) != pages:
        raise isolation.Refused("the page footer did not fit; the letter's layout is broken")
    out = []
    for sheet in sheets:
        resources = sheet["/Resources"].clone(writer).indirect_reference
        out.append((_form(writer, sheet.get_contents().get_data(), sheet, resources), None))
    return out


def _pdf(html: str, styles: Styles | None = None, look_css: str = "") -> PdfReader:
    """Render trusted overlay HTML (no stored images: the QR code is a data: URI)."""
    if styles is not None:
        return PdfReader(io.BytesIO(styles.render(html, {}, look_css)))
    document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=AssetFetcher({}))
    return PdfReader(io.BytesIO(document.write_pdf()))


def _form(writer: PdfWriter, data: bytes, page, resources):
    """A compressed form XObject drawing `data` over a page the size of `page`."""
    form = DecodedStreamObject()
    form.set_data(data)
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): page.mediabox,
            NameObject("/Resources"): resources,
        }
    )
    return writer._add_object(form.flate_encode())


def _wrappers(writer: PdfWriter, numbered: bool) -> tuple:
    """The "q" before and "Q, draw the overlay" after each page's content, shared by all."""
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    # Marked as a pagination artifact: the running header and footer are not part of
    # the letter's structure tree (structure.py), and screen readers skip them.
    draw = b"\nQ /Artifact <</Type /Pagination>> BDC q " + _OVERLAY.encode() + b" Do Q"
    if numbered:
        draw += b" q " + _NUMBER.encode() + b" Do Q"
    after.set_data(draw + b" EMC\n")
    return writer._add_object(before), writer._add_object(after)


@dataclass(frozen=True)
class Numbering:
    """How to print "Page X of Y" like the sample: graphics state, font and glyphs."""

    state: bytes  # the colour, alpha and transformation lines in force at the text
    font: bytes  # the "/F size Tf" line
    tm: tuple[float, ...]  # the sample's text matrix
    right: float  # where the sample's text ends, in text space from tm's origin
    size: float
    codes: dict[str, bytes]  # character -> glyph code (2 bytes, Identity-H)
    widths: dict[bytes, float]  # glyph code -> advance in 1/1000 em
    kerning: dict[tuple[str, str], float]  # adjustments between neighbours in the sample
    marker: bytes  # the sample's TJ line showing MARKER

    @classmethod
    def from_sample(cls, content: bytes, font) -> "Numbering | None":
        """Read the sample page's content stream; None when the numbers cannot be composed.

        `font` maps a font resource name (bytes, without the slash) to a pypdf Type0 font.
        """
        stack: list[list[bytes]] = [[]]
        font_line = b""
        tm: tuple[float, ...] = ()
        for line in content.splitlines():
            line = line.strip()
            op = line.rsplit(b" ", 1)[-1] if line else b""
            if op == b"q":
                stack.append(list(stack[-1]))
            elif op == b"Q" and len(stack) > 1:
                stack.pop()
            elif op.decode("latin-1") in _STATE_OPS:
                stack[-1].append(line)
            elif op == b"Tf":
                font_line = line
            elif op == b"Tm":
                tm = tuple(float(v) for v in line.split()[:6])
            elif op == b"TJ" and font_line and len(tm) == 6:
                name, size = font_line.split()[:2]
                name = name.lstrip(b"/")
                found = _decode(line, font.get(name))
                if found and "".join(c for c, _, _ in found) == MARKER:
                    state = b"\n".join(stack[-1])
                    return cls._build(state, font_line, tm, float(size), found, line, font[name])
        return None

    @classmethod
    def _build(cls, state, font_line, tm, size, glyphs, marker, font) -> "Numbering | None":
        widths = _widths(font)
        codes = {c: code for c, code, _ in glyphs}
        kerning = {}
        for (a, _code, adjust), (b, _, _) in zip(glyphs, glyphs[1:], strict=False):
            kerning[(a, b)] = adjust
            if adjust and (a.isdigit() or b.isdigit()):
                return None  # proportional or kerned digits: cannot compose safely
        if any(code not in widths for code in codes.values()):
            return None
        numbering = cls(state, font_line, tm, 0.0, size, codes, widths, kerning, marker)
        right = numbering._width(MARKER)
        return cls(state, font_line, tm, right, size, codes, widths, kerning, marker)

    def furniture(self, content: bytes) -> bytes | None:
        """A sample page's content without its MARKER text (None if it has none)."""
        lines = content.splitlines()
        kept = [line for line in lines if line.strip() != self.marker]
        return b"\n".join(kept) if len(kept) == len(lines) - 1 else None

    def _width(self, text: str) -> float:
        advance = sum(self.widths[self.codes[c]] for c in text)
        advance -= sum(self.kerning.get(pair, 0.0) for pair in zip(text, text[1:], strict=False))
        return advance * self.size / 1000

    def content(self, page: int, pages: int) -> bytes:
        """The content stream printing "Page `page` of `pages`" where the sample printed MARKER."""
        text = f"{_PREFIX}{page}{_MIDDLE}{pages}"
        parts = []
        for a, b in zip(text, [*text[1:], ""], strict=True):
            parts.append(b"<" + self.codes[a].hex().encode() + b">")
            if adjust := self.kerning.get((a, b), 0.0):
                parts.append(f"{adjust:g}".encode())
        a, b, c, d, e, f = self.tm
        shift = self.right - self._width(text)  # right-aligned, like the margin box
        x, y = e + a * shift, f + b * shift
        return b"\n".join(
            [
                b"q",
                self.state,
                b"BT",
                f"{a:g} {b:g} {c:g} {d:g} {x:f} {y:f} Tm".encode(),
                self.font,
                b"[" + b"".join(parts) + b"] TJ",
                b"ET",
                b"Q",
            ]
        )


def _decode(line: bytes, font) -> list[tuple[str, bytes, float]] | None:
    """A TJ line as (character, glyph code, adjustment after it), or None if unreadable."""
    if font is None or "/ToUnicode" not in font:
        return None
    unicode = _to_unicode(font["/ToUnicode"].get_object().get_data())
    out: list[tuple[str, bytes, float]] = []
    for hexes, number in _TJ_TOKEN.findall(line.rsplit(b"]", 1)[0]):
        if number:
            if not out:
                return None
            char, code, adjust = out[-1]
            out[-1] = (char, code, adjust + float(number))
            continue
        raw = bytes.fromhex(hexes.decode())
        for i in range(0, len(raw), 2):
            code = raw[i : i + 2]
            if code not in unicode:
                return None
            out.append((unicode[code], code, 0.0))
    return out


def _to_unicode(cmap: bytes) -> dict[bytes, str]:
    """Glyph code -> text, from a ToUnicode CMap's bfchar entries (what WeasyPrint writes)."""
    out = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in _BFCHAR.findall(section):
            out[bytes.fromhex(code.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return out


def _widths(font) -> dict[bytes, float]:
    """Glyph code -> advance (1/1000 em) from the descendant CIDFont's /W array."""
    descendant = font["/DescendantFonts"][0].get_object()
    w = list(descendant.get("/W", []))
    out: dict[bytes, float] = {}
    i = 0
    while i < len(w):
        first = int(w[i])
        nxt = w[i + 1].get_object() if hasattr(w[i + 1], "get_object") else w[i + 1]
        if isinstance(nxt, list):
            for k, width in enumerate(nxt):
                out[(first + k).to_bytes(2, "big")] = float(width)
            i += 2
        else:
            for cid in range(first, int(nxt) + 1):
                out[cid.to_bytes(2, "big")] = float(w[i + 2])
            i += 3
    return out
