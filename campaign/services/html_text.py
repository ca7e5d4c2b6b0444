"""Plain text from an HTML email, in one pass over the markup and within fixed bounds.

Anyone who can send an email can post HTML to the inbound endpoint, so the extractor must
not be a tree builder: html5ever (behind nh3) checks the stack of open elements at every
tag, which makes `"<div>" * 100000` quadratic (28 s), and Python's html.parser rescans
unterminated constructs (`"<!--" * 80000` takes 45 s on 3.11). This scanner keeps no
stack. Its one regex always matches forward from a "<" without backtracking into what it
has read (a construct left open runs to the end of the input, as in a browser), and every
step moves past what it matched. So the work is linear in the input, which is also capped
in size, and a deadline stops it whatever happens.
"""

import html
import re
import time

#: Longer HTML is cut before reading (a long reply thread is a few hundred kB).
MAX_HTML_CHARS = 2_000_000
#: Text beyond this is not needed: a reply keeps at most this much.
MAX_TEXT_CHARS = 200_000
#: Wall-clock budget for one conversion; the size caps keep real input far below it.
TIME_LIMIT_SECONDS = 5.0
CUT_NOTE = "\n\n[The rest of this reply was too long to keep.]"

#: One markup construct from its "<". Each branch ends in "...or the end of the input",
#: and its pieces cannot overlap, so a match never fails and never backtracks.
MARKUP = re.compile(
    r"""<(?:
        !--.*?(?:-->|\Z)                                  # comment
      | (/?)([a-zA-Z][a-zA-Z0-9:-]*)                      # start or end tag: its name,
        [^>"']*(?:(?:"[^"]*(?:"|\Z)|'[^']*(?:'|\Z))[^>"']*)*(?:>|\Z)   # attributes
      | [!?/][^>]*(?:>|\Z)                                # doctype, CDATA, PI, "</ x>"
    )""",
    re.DOTALL | re.VERBOSE,
)
#: Elements whose content is never text for a reader.
HIDDEN = frozenset({"script", "style", "title", "template", "noscript", "textarea"})
#: Tags that start or end a block: the text after them begins a new line.
BLOCKS = frozenset(
    {
        "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul",
        "ol", "table", "pre", "section", "article", "header", "footer",
    }
)  # fmt: skip
#: Stand for a <br> and for a block's edge until whitespace is tidied (never in the input).
BREAK, EDGE = "\x00", "\x01"
SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
LINE_EDGES = re.compile(r" ?[\x00\x01][ \x00\x01]*")


def html_to_text(markup: str, *, time_limit: float = TIME_LIMIT_SECONDS) -> str:
    """Readable plain text from an HTML email: tags dropped; scripts, styles and head removed."""
    cut = len(markup) > MAX_HTML_CHARS
    markup = markup[:MAX_HTML_CHARS].replace(BREAK, "").replace(EDGE, "")
    parts: list[str] = []
    size, pos, steps = 0, 0, 0
    in_head = False
    deadline = time.monotonic() + time_limit
    while True:
        steps += 1
        if size > MAX_TEXT_CHARS or (steps % 4096 == 0 and time.monotonic() > deadline):
            cut = True
            break
        found = MARKUP.search(markup, pos)
        text = markup[pos : found.start() if found else len(markup)]
        if text and not in_head:
            text = html.unescape(text)
            parts.append(text)
            size += len(text)
        if found is None:
            break
        pos = found.end()
        tag = (found.group(2) or "").lower()
        if not tag:
            continue
        closing = found.group(1) == "/"
        if tag == "head":
            in_head = not closing
        elif tag == "body":
            in_head = False
        elif tag in HIDDEN and not closing:
            pos = _end_of_content(markup, pos, tag)
        elif tag == "br":
            parts.append(BREAK)
        elif tag == "hr" or tag in BLOCKS:
            parts.append(EDGE)
    text = SPACES.sub(" ", "".join(parts))
    text = LINE_EDGES.sub(_line_breaks, text).strip()
    if cut or len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + CUT_NOTE
    return text


def _line_breaks(run: re.Match) -> str:
    """A run of edges and breaks as newlines: blocks' edges make one, each <br> one (max 2)."""
    breaks = run.group().count(BREAK)
    return "\n" * min(max(breaks, 1), 2)


def _end_of_content(markup: str, pos: int, tag: str) -> int:
    """Where a script's (style's...) content ends: after its end tag, or the input's end."""
    closer = re.compile(rf"</{re.escape(tag)}[\s/>]", re.IGNORECASE).search(markup, pos)
    if closer is None:
        return len(markup)
    close = markup.find(">", closer.start())
    return len(markup) if close < 0 else close + 1
