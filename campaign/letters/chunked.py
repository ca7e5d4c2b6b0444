"""Long letters (thousands of signatories) rendered in parts, in parallel, then merged.

WeasyPrint lays a document out on one core, and its time grows a little faster than the
page count. A letter with more than PDF_CHUNK_THRESHOLD signatories is therefore made of:

- the letter itself (letterhead, body, the "Signatories (N)" heading), per copy;
- chunks of the signatory list, each rendered to its own PDF in a limited child process
  (isolation.py), as many at once as there are cores, and cached on disk under the
  sha256 of the chunk's HTML and the layout files. A chunk depends only on its entries
  and the letter's look, never on the target, date, version or verification code, so
  every copy and every re-render after a new signature reuses the unchanged chunks;
- the page furniture: the running header, the footer, the verification code and
  "Page X of Y", stamped onto every merged page (stamping.py).

The copies are merged in a few limited children (one per core), started before the
missing chunks render: each parses the cached chunks meanwhile, reads the new ones as
they are made, and parses every chunk once for all the copies it merges. With more
copies than cores, the children also render the letter parts, sharing one parsed
stylesheet (stamping.Styles).

Chunk boundaries are content-defined: an organisation starts a new chunk when the hash of
its name says so (about one in AVERAGE_CHUNK), within MIN_CHUNK..MAX_CHUNK entries, and
every tier starts a new chunk. A new signature so changes only the chunk it falls in (or
splits it in two); the chunks after it keep their boundaries and their cached PDFs.

What the chunked path gives up: each part starts on a new page, so a chunk's last page
may be part empty. The parts are rendered tagged and structure.py joins their trees, and
gives each distinct font subset its own tag; the stamped header and footer are untagged.
"""

import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import weasyprint
from flask import current_app
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from . import isolation, stamping, structure
from .document import chunk_html, letter_part_html, overlay_css, overlay_html, signatory_groups
from .pdf import Images, RenderFailed, RenderLimits, configured_limits, html_to_pdf

DEFAULT_THRESHOLD = 300
#: Expected, smallest and largest number of organisations in a chunk.
AVERAGE_CHUNK, MIN_CHUNK, MAX_CHUNK = 128, 32, 384
DEFAULT_MAX_TOTAL_PAGES = 3000
_ROOT = Path(__file__).resolve().parent.parent.parent


@cache
def layout_fingerprint() -> str:
    """Hash of the trusted template, stylesheet and WeasyPrint version: a new layout re-renders."""
    # "tagged": chunks made before parts were rendered with tags must not be reused.
    digest = hashlib.sha256(weasyprint.__version__.encode() + b" tagged")
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
    progress: Callable[[int, int], None] | None = None,
) -> list[bytes]:
    """Render several copies of one long letter (e.g. one per target); one PDF each.

    `image_lookup(html)` returns the stored images the HTML names (only asked for the
    parts that must be rendered). Signatory chunks common to the copies render once.
    `progress(done, total)` is called, in this thread, as each part to render is done.
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
    images = image_lookup("".join(htmls[k] for k in missing))

    limits = configured_limits()
    cores = os.cpu_count() or 1
    where = {k: i for i, k in enumerate(keys)}
    # Few copies would leave a core idle: their letters render beside the chunks. Many
    # render in the merging children, which parse the stylesheet once for all of them.
    in_pool = len(letters) < cores
    with tempfile.TemporaryDirectory(prefix="undersigned-parts-") as inbox:
        # The merging children start now: they parse the cached chunks (and render the
        # letters) while the missing parts render, each handed over through `inbox`.
        ready = {where[k]: pdf for k, pdf in pdfs.items()}
        copies = [
            _copy(letter, [where[k] for k, _ in plan], image_lookup, in_pool and len(keys) + n)
            for n, (letter, plan) in enumerate(zip(letters, plans, strict=True))
        ]
        pending = len(missing) + (len(letters) if in_pool else 0)
        finish = _Finish(copies, ready, pending, Path(inbox), limits, stats)
        with ThreadPoolExecutor(max_workers=cores) as pool:
            try:
                jobs = {pool.submit(_render, htmls[k], images, limits, stats): k for k in missing}
                for n, letter in enumerate(letters if in_pool else []):
                    html = letter_part_html(letter)
                    job = pool.submit(_render, html, image_lookup(html), limits, stats)
                    jobs[job] = len(keys) + n
                for done, job in enumerate(as_completed(jobs), 1):
                    if isinstance(jobs[job], str):
                        cache.put(jobs[job], job.result())
                    finish.deliver(where.get(jobs[job], jobs[job]), job.result())
                    if progress:
                        progress(done, len(jobs))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                finish.abort()
                raise
        return finish.results()


def _copy(letter: dict, chunks: list[int], image_lookup, part: int | bool = False) -> tuple:
    """What a merging child needs for one copy: its letter part (the index of a rendered
    one, or HTML and images to render), its chunks, and the overlay for stamping.stamp."""
    overlay = overlay_html(letter, 2, stamping.MARKER, styles_given=True), overlay_html(letter, 0)
    if part is False:
        html = letter_part_html(letter, styles_given=True)
        return (html, image_lookup(html), chunks, *overlay, overlay_css(letter))
    return (part, {}, chunks, *overlay, overlay_css(letter))


def _chunk_keys(letter: dict) -> list[tuple[str, str]]:
    """(cache key, HTML) of each chunk of the letter's signatory list, in order."""
    out = []
    for n, groups in enumerate(plan_chunks(letter.get("signatories") or [])):
        html = chunk_html(letter, groups, first=n == 0)
        key = hashlib.sha256((layout_fingerprint() + html).encode("utf-8")).hexdigest()
        out.append((key, html))
    return out


def _render(html: str, images: Images, limits: RenderLimits, stats: Stats) -> bytes:
    """One part in a limited child, tagged: the merge joins the parts' structure trees."""
    usage: dict = {}
    pdf = html_to_pdf(html, images=images, limits=limits, tagged=True, usage=usage)
    stats.children.append(usage)
    return pdf


class _Finish:
    """The merging children: one per core, each rendering the letter part of a share of
    the copies and merging and stamping them, parsing the chunk PDFs once for all."""

    def __init__(self, copies, ready: dict, missing: int, inbox: Path, limits, stats: Stats):
        self.inbox = inbox
        most = current_app.config.get("PDF_MAX_CHUNKED_PAGES", DEFAULT_MAX_TOTAL_PAGES)
        cores = os.cpu_count() or 1
        self.shares = [copies[i::cores] for i in range(min(len(copies), cores))]
        self.pool = ThreadPoolExecutor(max_workers=max(1, len(self.shares)))
        self.running = []
        for share in self.shares:
            used = {i for _, _, chunks, *_ in share for i in chunks}
            given = {i: ready[i] for i in used if i in ready}
            # Each copy may take as long as two renders (its letter, then the merge), and
            # the chunks still to come as long as their renders take on every core.
            waits = 2 * len(share) + -(-missing // cores)
            child = isolation.Limits(seconds=limits.seconds * waits, memory_mb=limits.memory_mb)
            deadline = time.time() + child.seconds if child.seconds else float("inf")
            args = (given, (str(inbox), deadline), share, (limits.pages, most))
            self.running.append(self.pool.submit(_merge, args, child, stats))

    def deliver(self, index: int, pdf: bytes) -> None:
        """Hand part `index` to the children (atomically: they never read half a file)."""
        tmp = self.inbox / f"{index}.part"
        tmp.write_bytes(pdf)
        os.replace(tmp, self.inbox / f"{index}.pdf")

    def abort(self) -> None:
        """A part failed: tell the children to stop, and wait for them."""
        (self.inbox / "abort").touch()
        self.pool.shutdown(wait=True)

    def results(self) -> list[bytes]:
        """Every copy's PDF, in the order of the letters; raises RenderFailed."""
        try:
            merged = [job.result() for job in self.running]
        finally:
            self.pool.shutdown(wait=True)
        out: list[bytes] = [b""] * sum(len(share) for share in self.shares)
        for i, pdfs in enumerate(merged):
            out[i :: len(self.shares)] = pdfs
        return out


def _merge(args: tuple, limits: isolation.Limits, stats: Stats) -> list[bytes]:
    """Run merge_in_child in a limited child (on a pool thread)."""
    usage: dict = {}
    try:
        pdfs = isolation.run(merge_in_child, *args, limits=limits, usage=usage)
    except isolation.Failed as exc:
        raise RenderFailed(exc.reason) from None
    stats.children.append(usage)
    return pdfs


def merge_in_child(given: dict, inbox: tuple, copies: list[tuple], most: tuple) -> list[bytes]:
    """Render each copy's letter part, then merge it with its chunks and stamp it.

    `copies` are _copy tuples; the chunks are parsed once and shared by every copy; those
    not `given` are read from the folder in `inbox` (folder, deadline) as they come.
    `most` is (pages of one part, pages of the merged letter), 0 for no limit.
    """
    styles = stamping.Styles()
    readers = {i: _parsed(pdf) for i, pdf in given.items()}
    for part, images, _, _, _, look in copies:
        if isinstance(part, str):
            readers[part] = _parsed(styles.render(part, images, look, most[0], tagged=True))
    needed = {i for part, _, chunks, *_ in copies for i in [part, *chunks]}
    waiting = sorted(needed - readers.keys())
    folder, deadline = Path(inbox[0]), inbox[1]
    while waiting:
        # Waiting uses no processor time: the deadline stops it should the parent be gone.
        if (folder / "abort").exists() or not folder.is_dir() or time.time() > deadline:
            raise isolation.Refused("another part of the letter could not be made")
        for i in [i for i in waiting if (folder / f"{i}.pdf").exists()]:
            readers[i] = _parsed((folder / f"{i}.pdf").read_bytes())
            waiting.remove(i)
        time.sleep(0.005 if waiting else 0)
    with _names_memoised():
        return [
            _merge_copy([readers[i] for i in [part, *chunks]], overlay, styles, most[1])
            for part, _, chunks, *overlay in copies
        ]


def _parsed(pdf: bytes) -> PdfReader:
    """A reader with every object already parsed: done while other parts still render."""
    reader = PdfReader(io.BytesIO(pdf))
    for number in [*reader.xref_objStm, *(n for table in reader.xref.values() for n in table)]:
        reader.get_object(number)
    return reader


@contextmanager
def _names_memoised():
    """Escape each distinct PDF name once while writing, not once per use.

    pypdf escapes every name character by character each time it writes it: a third of
    the merge for 5,000 logos, whose dictionaries repeat the same few names. The escaping
    depends on the name alone, so caching it changes no byte; the patch is undone after.
    """
    plain = getattr(NameObject, "renumber", None)
    if plain is None:
        # A pypdf without this internal: write names the slow, plain way.
        yield
        return
    memo = cache(lambda name: plain(NameObject(name)))
    NameObject.renumber = lambda self: memo(str(self))
    try:
        yield
    finally:
        NameObject.renumber = plain


def _merge_copy(readers: list[PdfReader], overlay, styles, most: int) -> bytes:
    """Concatenate the parts, stamp the header, footer and page numbers, write the PDF."""
    pages = sum(len(reader.pages) for reader in readers)
    if most and pages > most:
        raise isolation.Refused(
            f"the letter would be {pages} pages long, more than {most}, the limit; "
            "ask an administrator to raise PDF_MAX_CHUNKED_PAGES"
        )
    writer = PdfWriter()
    first_pages = []
    for reader in readers:
        first_pages.append(len(writer.pages))
        writer.append(reader)
    stamping.stamp(writer, *overlay, styles=styles)
    # The parts are tagged: their trees become one, as a one-pass letter's would be.
    if structure.merge_structure(writer, readers, first_pages):
        lang = readers[0].trailer["/Root"].get("/Lang")
        structure.mark_document(writer, str(lang) if lang else "en")
    structure.distinct_subset_tags(writer)
    writer.add_metadata(readers[0].metadata or {})
    writer.compress_identical_objects()  # e.g. one logo in every chunk: stored once
    out = io.BytesIO()
    writer.write(out)
    return structure.packed(out.getvalue())
