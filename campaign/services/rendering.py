"""Signed PDFs: asking for a render (queued as a job) and rendering (render_together)."""

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import jobs
from ..errors import Invalid
from ..extensions import db
from ..letters import chunked
from ..letters.document import letter_html, signatory_total
from ..letters.pdf import html_to_pdf
from ..letters.seal import seal
from ..models import Campaign, LetterVersion, RenderedLetter, RenderStatus, Target, utcnow
from .blobs import store_blob
from .evidence import letter_code, record_issued, verification
from .letters import letter_data, letter_images, published_version

log = logging.getLogger(__name__)


@cache
def _engine_fingerprint(root: str) -> str:
    """Hash of the trusted template and stylesheet, so a new layout means a new render."""
    digest = hashlib.sha256()
    for rel in ("templates/pdf/letter.html", "static/css/letter.css"):
        path = Path(root) / rel
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def inputs_sha256(data: dict) -> str:
    """Hash everything that goes into a PDF: the letter data and the layout files."""
    root = str(Path(current_app.root_path).parent)
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False) + _engine_fingerprint(root)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def request_render(
    campaign: Campaign, target: Target | None = None, *, queue: bool = True
) -> RenderedLetter:
    """Return the stored render for the current letter, or a new pending one (flushes).

    A new one is queued as a render job unless `queue` is False: the caller renders it
    (render_together), with the other copies of the same letter.
    """
    version = published_version(campaign)
    if version is None:
        raise Invalid("letter", "publish the letter before making a signed PDF")
    data = pdf_data(campaign, version, target)
    key = inputs_sha256(data)
    existing = db.session.scalar(
        select(RenderedLetter)
        .where(
            RenderedLetter.campaign_id == campaign.id,
            RenderedLetter.inputs_sha256 == key,
            RenderedLetter.status.in_((RenderStatus.PENDING, RenderStatus.READY)),
        )
        .order_by(RenderedLetter.id.desc())
    )
    if existing is not None:
        return existing
    rendered = RenderedLetter(
        campaign_id=campaign.id,
        target_id=target.id if target else None,
        letter_version_id=version.id,
        inputs_sha256=key,
        signatory_count=signatory_total(data),
    )
    db.session.add(rendered)
    db.session.flush()
    if queue:
        jobs.after_commit("campaign.tasks.render_letter", rendered.id)
    return rendered


def campaign_url(campaign: Campaign) -> str:
    """The campaign's address, printed into the PDF's metadata."""
    return f"{current_app.config['BASE_URL']}/c/{campaign.slug}"


def pdf_data(campaign: Campaign, version, target: Target | None = None) -> dict:
    """The letter data a signed PDF is made from (letter_data plus the campaign URL)."""
    data = letter_data(campaign, version, target)
    data["campaign"]["url"] = campaign_url(campaign)
    return data


#: parts(done, total): how many parts of a chunked render are done (chunked.render_copies).
Parts = Callable[[int, int], None]


def letter_pdf(data: dict, usage: dict | None = None, parts: Parts | None = None) -> bytes:
    """Render letter data to PDF bytes under the configured limits; raises Invalid.

    Letters with more than PDF_CHUNK_THRESHOLD signatories are rendered in chunks, in
    parallel, reusing the cached signatory pages (letters/chunked.py); `parts` follows
    their progress.
    """
    if chunked.is_long(data):
        return letter_pdfs([data], usage=usage, parts=parts)[0]
    html = letter_html(data)
    return html_to_pdf(html, images=letter_images(html), usage=usage)


def letter_pdfs(
    copies: list[dict], usage: dict | None = None, parts: Parts | None = None
) -> list[bytes]:
    """Several copies of one long letter (one per target), sharing their signatory pages."""
    stats = chunked.Stats()
    pdfs = chunked.render_copies(copies, letter_images, stats=stats, progress=parts)
    if usage is not None:
        usage.update(
            cpu_seconds=sum(c.get("cpu_seconds", 0.0) for c in stats.children),
            max_rss_mb=stats.max_child_rss_mb,
            chunks=stats.chunks,
            chunks_rendered=len(stats.rendered),
        )
    return pdfs


def render_now(rendered: RenderedLetter) -> None:
    """Render a pending PDF in this process, seal it, store it and record it (flushes)."""
    render_together([rendered])


@dataclass(eq=False)
class _Copy:
    """One pending render and the letter data it is made from."""

    rendered: RenderedLetter
    campaign: Campaign
    target: Target | None
    version: LetterVersion
    data: dict
    code: str

    @property
    def letter(self) -> dict:
        """The data with the footer's verification code: what is printed."""
        return {**self.data, "verification": verification(self.code)}


def render_together(
    renders: list[RenderedLetter],
    before: Callable[[RenderedLetter, int], None] | None = None,
    parts: Parts | None = None,
) -> None:
    """Render pending PDFs of one campaign, sealed, stored and recorded (flushes).

    Copies of a long letter (one per target) are made in one go and share their
    signatory pages (chunked.py): ten copies of 500 signatories take 1.5 times one copy,
    not ten times. Others render one by one, so one failure fails only its own copy.
    `before(rendered, count)` is called before each render of `count` copies, and
    `parts` as the parts of a chunked one are done.
    """
    copies = [_copy(rendered) for rendered in renders]
    together = [copy for copy in copies if chunked.is_long(copy.data)]
    if len(together) < 2:
        together = []
    else:
        if before:
            before(together[0].rendered, len(together))
        pdfs, error = _attempt(lambda: letter_pdfs([c.letter for c in together], parts=parts))
        for i, copy in enumerate(together):
            _finish(copy, pdf=pdfs[i] if pdfs else None, error=error)
    for copy in copies:
        if copy in together:
            continue
        if before:
            before(copy.rendered, 1)
        pdfs, error = _attempt(lambda copy=copy: [letter_pdf(copy.letter, parts=parts)])
        _finish(copy, pdf=pdfs[0] if pdfs else None, error=error)


def _attempt(make: Callable[[], list[bytes]]) -> tuple[list[bytes] | None, str]:
    """Run a render: its PDFs, or None and the reason for people."""
    try:
        return make(), ""
    except Invalid as exc:
        return None, exc.reason
    except Exception:
        # Every render ends ready or failed: a row left pending would be waited on for
        # ever (the download page, the export), with no job left to finish it.
        log.exception("rendering a letter failed")
        return None, "The PDF renderer failed; the server log has the details."


def _copy(rendered: RenderedLetter) -> _Copy:
    campaign = db.session.get(Campaign, rendered.campaign_id)
    target = db.session.get(Target, rendered.target_id) if rendered.target_id else None
    version = published_version(campaign)
    # The code is the render's own, not part of its inputs: the cache stays keyed on content.
    return _Copy(
        rendered,
        campaign,
        target,
        version,
        pdf_data(campaign, version, target),
        letter_code(rendered),
    )


def _finish(copy: _Copy, pdf: bytes | None = None, error: str = "") -> None:
    """Seal, store and record a rendered copy, or mark it failed with the reason."""
    rendered = copy.rendered
    if pdf is not None:
        try:
            pdf = seal(pdf)
        except Invalid as exc:
            pdf, error = None, exc.reason
    if pdf is None:
        rendered.status = RenderStatus.FAILED
        rendered.error = error
    else:
        rendered.pdf_sha256 = store_blob(pdf, "application/pdf").sha256
        rendered.status = RenderStatus.READY
        record_issued(
            copy.campaign,
            pdf,
            code=copy.code,
            kind="letter",
            version=copy.version,
            signatory_count=signatory_total(copy.data),
            target=copy.target,
        )
        # The data may have moved on since the request; record what was really rendered.
        rendered.inputs_sha256 = inputs_sha256(copy.data)
        rendered.signatory_count = signatory_total(copy.data)
        rendered.letter_version_id = copy.version.id
    rendered.finished_at = utcnow()
    db.session.flush()
