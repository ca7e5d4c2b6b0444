"""Letter Markdown to safe HTML: Python-Markdown, then an nh3 allow-list."""

import xml.etree.ElementTree as ET

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.footnotes import NBSP_PLACEHOLDER
from markdown.treeprocessors import Treeprocessor

TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s", "ul", "ol", "li",
    "a", "blockquote", "sup", "sub", "hr", "div", "span", "code", "pre",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "li": {"id"}, "sup": {"id"}}
CLASSES = {
    "a": {"footnote-ref", "footnote-backref"},
    "div": {"footnote"},
    "span": {"footnote"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class _InlineFootnotes(Treeprocessor):
    """Move each footnote's text to where it is cited, as <span class="footnote">.

    WeasyPrint floats such spans to the foot of the page (CSS `float: footnote`);
    the endnote list Python-Markdown builds would only print at the end.
    """

    def run(self, root):
        lists = [d for d in root.iter("div") if d.get("class") == "footnote"]
        if not lists:
            return
        notes = {li.get("id"): li for li in lists[0].iter("li")}
        parents = {child: parent for parent in root.iter() for child in parent}
        for sup in list(root.iter("sup")):
            ref = sup.find("a")
            if ref is None or ref.get("class") != "footnote-ref":
                continue
            note = notes.get(ref.get("href", "").lstrip("#"))
            span = _note_span(note) if note is not None else ET.Element("span")
            span.tail = sup.tail
            parent = parents[sup]
            parent.insert(list(parent).index(sup), span)
            parent.remove(sup)
        parents[lists[0]].remove(lists[0])


def _note_span(note: ET.Element) -> ET.Element:
    """Flatten a footnote's paragraphs into one inline span, without the back-link."""
    span = ET.Element("span", {"class": "footnote"})
    paragraphs = [p for p in note if p.tag == "p"] or [note]
    for number, para in enumerate(paragraphs):
        gap = " " if number else ""
        last = span[-1] if len(span) else None
        if last is not None:
            last.tail = (last.tail or "") + gap + (para.text or "")
        else:
            span.text = (span.text or "") + gap + (para.text or "")
        for child in para:
            if child.tag == "a" and child.get("class") == "footnote-backref":
                continue
            if child.tag in ("p", "ul", "ol", "div", "blockquote", "pre"):
                flat = ET.Element("span")
                flat.text = " ".join("".join(child.itertext()).split())
                flat.tail = child.tail
                child = flat
            span.append(child)
    _strip_trailing(span)
    return span


def _strip_trailing(span: ET.Element) -> None:
    # Python-Markdown puts a no-break space before the back-link we dropped.
    if len(span):
        span[-1].tail = _trim(span[-1].tail)
    else:
        span.text = _trim(span.text)


def _trim(text: str | None) -> str:
    return (text or "").replace(NBSP_PLACEHOLDER, "").rstrip()


class _InlineFootnotesExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802 - Python-Markdown's hook name
        # After the footnotes extension (50, 15) and inline patterns (20) are done.
        md.treeprocessors.register(_InlineFootnotes(md), "inline_footnotes", 5)


def markdown_to_html(text: str, *, inline_footnotes: bool = False) -> str:
    """Render letter Markdown to sanitised HTML (footnotes inline for print if asked)."""
    extensions = ["footnotes", "sane_lists", "smarty"]
    if inline_footnotes:
        extensions.append(_InlineFootnotesExtension())
    html = markdown.Markdown(extensions=extensions, output_format="html").convert(text)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        allowed_classes=CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
