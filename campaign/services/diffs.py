"""Word-level differences between two texts of a letter, for people to read.

Lines are matched first (cheap, and it keeps unrelated paragraphs apart), then each
changed block is compared word by word, so a one-word edit marks one word, not a line.
"""

import difflib
import re
from dataclasses import dataclass

from markupsafe import Markup, escape

# Words, runs of whitespace, and single other characters: "stop," -> "stop", ",".
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    """A run of text that is the same in both texts, only in the new one, or only in the old."""

    op: str  # "equal", "insert" or "delete"
    text: str


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _word_segments(old: str, new: str) -> list[Segment]:
    a, b = _tokens(old), _tokens(new)
    out = []
    # autojunk would treat the common space token as noise and misalign the words.
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(Segment("delete", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(Segment("insert", "".join(b[j1:j2])))
    return out


def word_diff(old: str, new: str) -> list[Segment]:
    """The changes from `old` to `new` as segments; adjacent segments of one kind merged."""
    # Browsers submit CRLF; a version saved elsewhere may have LF. Neither is a change.
    old, new = _lf(old), _lf(new)
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            segments.append(Segment("equal", old_part))
        elif op == "replace":
            segments.extend(_word_segments(old_part, new_part))
        elif op == "delete":
            segments.append(Segment("delete", old_part))
        else:
            segments.append(Segment("insert", new_part))
    return _merge(segments)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _merge(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for seg in segments:
        if not seg.text:
            continue
        if merged and merged[-1].op == seg.op:
            merged[-1] = Segment(seg.op, merged[-1].text + seg.text)
        else:
            merged.append(seg)
    return merged


def diff_html(segments: list[Segment]) -> Markup:
    """Segments as escaped HTML: <ins> for added text, <del> for removed text."""
    parts = []
    for seg in segments:
        text = escape(seg.text)
        if seg.op == "insert":
            parts.append(Markup("<ins>{}</ins>").format(text))
        elif seg.op == "delete":
            parts.append(Markup("<del>{}</del>").format(text))
        else:
            parts.append(text)
    return Markup("").join(parts)


def changed_paragraphs(segments: list[Segment]) -> list[list[Segment]]:
    """Only the paragraphs (blank-line separated) that contain a change, in order.

    A change spanning several paragraphs keeps every one of them, so a deleted block is
    never shown as if part of it had stayed.
    """
    paragraphs: list[list[Segment]] = [[]]
    for seg in segments:
        pieces = seg.text.split("\n\n")
        for number, piece in enumerate(pieces):
            if number:
                paragraphs.append([])
            if piece:
                paragraphs[-1].append(Segment(seg.op, piece))
    return [
        para for para in paragraphs if any(seg.op != "equal" and seg.text.strip() for seg in para)
    ]


def plain_text(segments: list[Segment]) -> str:
    """Segments as plain text: [-removed-] and {+added+}, the rest unchanged."""
    marks = {"insert": "{+%s+}", "delete": "[-%s-]", "equal": "%s"}
    return "".join(marks[seg.op] % seg.text for seg in segments)


def word_counts(segments: list[Segment]) -> tuple[int, int]:
    """How many words were added and removed."""
    added = sum(len(re.findall(r"\w+", s.text)) for s in segments if s.op == "insert")
    removed = sum(len(re.findall(r"\w+", s.text)) for s in segments if s.op == "delete")
    return added, removed


def compare_versions(old, new) -> dict:
    """Subject and body diffs between two letter versions, ready for a template."""
    subject = word_diff(old.subject, new.subject)
    body = word_diff(old.body, new.body)
    added, removed = word_counts(subject + body)
    return {
        "old": old,
        "new": new,
        "subject": diff_html(subject),
        "body": diff_html(body),
        "added": added,
        "removed": removed,
        "same": (old.subject, old.body) == (new.subject, new.body),
    }
