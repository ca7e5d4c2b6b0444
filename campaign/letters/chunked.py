"""Long letters (thousands of signatories) rendered in parts, in parallel, then merged.

WeasyPrint lays a document out on one core, and its time grows a little faster than the
page count. A letter with more than PDF_CHUNK_THRESHOLD signatories is therefore made of:

- the letter itself (letterhead, body, the "Signatories (N)" heading), per copy;
- chunks of the signatory list, each rendered to its own PDF in a limited child process
  (isolation.py), as many at once as there are cores, and cached on disk under the
  sha256 of the chunk's HTML and the layout files. A chunk depends only on its entries
  and the letter's look, never on the target, date, version or verification code, so
  every copy and every re-render after a new signature reuses the unchanged chunks;
- one overlay: blank pages carrying the running header, the footer, the verification
  code and "Page X of Y" for the whole document, stamped onto every merged page.

Chunk boundaries are content-defined: an organisation starts a new chunk when the hash of
its name says so (about one in AVERAGE_CHUNK), within MIN_CHUNK..MAX_CHUNK entries, and
every tier starts a new chunk. A new signature so changes only the chunk it falls in (or
splits it in two); the chunks after it keep their boundaries and their cached PDFs.

What the chunked path gives up: each part starts on a new page, so a chunk's last page
may be part empty; the parts are rendered untagged (pypdf cannot merge structure trees),
so the merged PDF has outlines and metadata but no tag tree.
"""

import hashlib
import io
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import weasyprint
from flask import current_app
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

from . import isolation
from .document import chunk_html, letter_part_html, overlay_html, signatory_groups
from .pdf import (
    BASE_URL,
    AssetFetcher,
    Images,
    RenderFailed,
    RenderLimits,
    configured_limits,
    html_to_pdf,
)

DEFAULT_THRESHOLD = 300
#: Expected, smallest and largest number of organisations in a chunk.
AVERAGE_CHUNK, MIN_CHUNK, MAX_CHUNK = 128, 32, 384
DEFAULT_MAX_TOTAL_PAGES = 3000
_ROOT = Path(__file__).resolve().parent.parent.parent
_OVERLAY = NameObject("/UndersignedOverlay")


@cache
def layout_fingerprint() -> str:
    """Hash of the trusted template, stylesheet and WeasyPrint version: a new layout re-renders."""
    digest = hashlib.sha256(weasyprint.__version__.encode())
    for rel in ("templates/pdf/letter.html", "static/css/letter.css"):
        path = _ROOT / rel
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def threshold() -> int:
    """Letters with more listed signatories than this are rendered in chunks."""
    return int(current_app.config.get("PDF_CHUNK_THRESHOLD", DEFAULT_THRESHOLD))


def is_long(letter: dict) -> bool:
    """Whether `letter` is rendered in chunks rather than in one pass."""
    return len(letter.get("signatories") or []) > threshold()


def _starts_chunk(entry: dict) -> bool:
    """Content-defined boundary: decided by the organisation's name alone."""
    name = entry["organisation"].casefold().encode("utf-8")
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big") % AVERAGE_CHUNK == 0


def plan_chunks(signatories: list[dict]) -> list[list[dict]]:
    """Split the signatory list into chunks, each a list of groups for chunk_html."""
    chunks: list[list[dict]] = []
    for group in signatory_groups(signatories):
        run: list[dict] = []
        heading = group["heading"]
        for entry in group["entries"]:
            if run and (len(run) >= MAX_CHUNK or (len(run) >= MIN_CHUNK and _starts_chunk(entry))):
                chunks.append([{"heading": heading, "entries": run}])
                run, heading = [], None
            run.append(entry)
        if run:
            chunks.append([{"heading": heading, "entries": run}])
    return chunks


class ChunkCache:
    """Chunk PDFs on disk under their inputs' sha256 (instance/pdf-chunks by default).

    On disk rather than as Blobs: a Blob is keyed by the sha256 of its own bytes, and a
    chunk must be found by the hash of its inputs, which needs no new table; the files are
    intermediate and disposable (a miss only costs a render), and each host keeps its own.
    """

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def configured(cls) -> "ChunkCache":
        """The cache in PDF_CHUNK_CACHE_DIR, or the instance folder's pdf-chunks."""
        folder = current_app.config.get("PDF_CHUNK_CACHE_DIR") or (
            Path(current_app.instance_path) / "pdf-chunks"
        )
        return cls(Path(folder))

    def path(self, key: str) -> Path:
        """Where the chunk with this key is (or would be) stored."""
        return self.folder / f"{key}.pdf"

    def get(self, key: str) -> bytes | None:
        """The stored PDF for `key`, or None."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        os.utime(path)  # recently used: a future clean-up can drop the oldest first
        return data

    def put(self, key: str, pdf: bytes) -> None:
        """Store a chunk atomically: readers never see half a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(pdf)
        os.replace(tmp, self.path(key))

    def prune(self, max_age_days: int = 30) -> int:
        """Delete chunks unused for `max_age_days`: they hold signatories' names, and an
        old chunk is only a render saved; return how many were deleted."""
        if not self.folder.is_dir():
            return 0
        cutoff = time.time() - max_age_days * 86400
        removed = 0
        for path in self.folder.glob("*.pdf"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another process pruned it first
        return removed


@dataclass
class Stats:
    """What a chunked render did: chunk renders and cache hits, and the children's usage."""

    chunks: int = 0
    rendered: list[str] = field(default_factory=list)
    children: list[dict] = field(default_factory=list)

    @property
    def max_child_rss_mb(self) -> float:
        """Peak resident memory of the largest child process."""
        return max((c.get("max_rss_mb", 0.0) for c in self.children), default=0.0)


def render_copies(
    letters: list[dict],
    image_lookup,
    *,
    cache: ChunkCache | None = None,
    stats: Stats | None = None,
) -> list[bytes]:
    """Render several copies of one long letter (e.g. one per target); one PDF each.

    `image_lookup(html)` returns the stored images the HTML names (only asked for the
    parts that must be rendered). Signatory chunks common to the copies render once.
    Raises RenderFailed when a part fails or hits a limit.
    """
    cache = cache or ChunkCache.configured()
    stats = stats if stats is not None else Stats()
    plans = [_chunk_keys(letter) for letter in letters]
    keys = list(dict.fromkeys(k for plan in plans for k, _ in plan))
    htmls = {k: html for plan in plans for k, html in plan}
    pdfs = {k: pdf for k in keys if (pdf := cache.get(k)) is not None}
    missing = [k for k in keys if k not in pdfs]
    stats.chunks = len(keys)
    stats.rendered = missing
    parts = [letter_part_html(letter) for letter in letters]
    images = image_lookup("".join([*(htmls[k] for k in missing), *parts]))

    limits = configured_limits()
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # Chunks first: they are the long jobs, the letters fill in around them.
        chunk_jobs = {k: pool.submit(_render, htmls[k], images, limits, stats) for k in missing}
        letter_jobs = [pool.submit(_render, html, images, limits, stats) for html in parts]
        for key, job in chunk_jobs.items():
            pdfs[key] = job.result()
            cache.put(key, pdfs[key])
        firsts = [job.result() for job in letter_jobs]
        finishes = [
            pool.submit(_finish, app, letter, [first, *(pdfs[k] for k, _ in plan)], stats)
            for letter, first, plan in zip(letters, firsts, plans, strict=True)
        ]
        return [job.result() for job in finishes]


def _chunk_keys(letter: dict) -> list[tuple[str, str]]:
    """(cache key, HTML) of each chunk of the letter's signatory list, in order."""
    out = []
    for groups in plan_chunks(letter.get("signatories") or []):
        html = chunk_html(letter, groups)
        key = hashlib.sha256((layout_fingerprint() + html).encode("utf-8")).hexdigest()
        out.append((key, html))
    return out


def _render(html: str, images: Images, limits: RenderLimits, stats: Stats) -> bytes:
    """One part in a limited child; untagged, since the merge would drop the tags."""
    usage: dict = {}
    pdf = html_to_pdf(html, images=images, limits=limits, tagged=False, usage=usage)
    stats.children.append(usage)
    return pdf


def _finish(app, letter: dict, parts: list[bytes], stats: Stats) -> bytes:
    """Merge the parts and stamp the overlay, in a limited child (runs on a pool thread)."""
    with app.app_context():
        return _merge(letter, parts, stats)


def _merge(letter: dict, parts: list[bytes], stats: Stats) -> bytes:
    pages = sum(len(PdfReader(io.BytesIO(part)).pages) for part in parts)
    config = current_app.config
    most = config.get("PDF_MAX_CHUNKED_PAGES", DEFAULT_MAX_TOTAL_PAGES)
    if most and pages > most:
        raise RenderFailed(
            f"the letter would be {pages} pages long, more than {most}, the limit; "
            "ask an administrator to raise PDF_MAX_CHUNKED_PAGES"
        )
    limits = configured_limits()
    usage: dict = {}
    overlay = overlay_html(letter, pages)
    try:
        pdf = isolation.run(
            merge_in_child,
            parts,
            overlay,
            {},
            limits=isolation.Limits(seconds=limits.seconds, memory_mb=limits.memory_mb),
            usage=usage,
        )
    except isolation.Failed as exc:
        raise RenderFailed(exc.reason) from None
    stats.children.append(usage)
    return pdf


def merge_in_child(parts: list[bytes], overlay: str, images: Images) -> bytes:
    """Concatenate the parts, stamp overlay page i onto page i, and write the PDF."""
    stamps = PdfReader(
        io.BytesIO(
            weasyprint.HTML(
                string=overlay, base_url=BASE_URL, url_fetcher=AssetFetcher(images)
            ).write_pdf()
        )
    )
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    for reader in readers:
        writer.append(reader)
    if len(stamps.pages) != len(writer.pages):
        raise isolation.Refused("the page footer did not fit; the letter's layout is broken")
    for page, stamp in zip(writer.pages, stamps.pages, strict=True):
        _stamp(writer, page, stamp)
    writer.add_metadata(readers[0].metadata or {})
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stamp(writer: PdfWriter, page, stamp) -> None:
    """Draw `stamp` over `page` as a form XObject, without parsing the page's content.

    pypdf's merge_page parses both content streams (seconds for a few hundred pages of
    signatories); wrapping the page in q/Q and appending one Do operator needs neither.
    """
    form = DecodedStreamObject()
    form.set_data(stamp.get_contents().get_data())
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): stamp.mediabox,
            NameObject("/Resources"): stamp["/Resources"].clone(writer),
        }
    )
    form_ref = writer._add_object(form)
    resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects[_OVERLAY] = form_ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    existing = contents.get_object() if contents is not None else ArrayObject()
    existing = list(existing) if isinstance(existing, list) else [contents]
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(b"\nQ q " + _OVERLAY.encode() + b" Do Q\n")
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *existing, writer._add_object(after)]
    )
