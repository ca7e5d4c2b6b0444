"""The export ZIP: every target's signed PDF, the audit certificate, the lists, checksums."""

import hashlib
import re
import zipfile
from collections.abc import Callable
from typing import BinaryIO

from ..errors import Invalid
from ..extensions import db
from ..models import Blob, Campaign, RenderedLetter, RenderStatus, Target, utcnow
from .evidence import certificate_pdf
from .rendering import render_now, render_together, request_render
from .signatory_lists import signatories_csv, signatories_xlsx


def ready_pdf(campaign: Campaign, target: Target | None = None) -> RenderedLetter:
    """The signed PDF for `target` (None: the generic copy), rendered now if needed.

    Raises Invalid with the renderer's reason when it cannot be made. Flushes.
    """
    rendered = request_render(campaign, target)
    if rendered.status == RenderStatus.PENDING:
        # Exports wait for their own PDFs rather than leaving them to a worker.
        render_now(rendered)
    _check_ready(rendered)
    return rendered


def _check_ready(rendered: RenderedLetter) -> None:
    """Raise Invalid, saying which copy and why, unless the render is ready."""
    if rendered.status != RenderStatus.READY:
        who = _addressee(rendered)
        raise Invalid("letter", f"the PDF {who} could not be made: {rendered.error}")


def _addressee(rendered: RenderedLetter) -> str:
    """Whom a copy is for, as messages name it: "for Jordan Vale"."""
    if rendered.target_id is None:
        return "addressed to every target"
    return f"for {db.session.get(Target, rendered.target_id).name}"


def pdf_name(campaign: Campaign, target: Target | None) -> str:
    """A safe file name for one signed PDF, e.g. stop-face-surveillance-3-jordan-vale.pdf."""
    if target is None:
        return f"{campaign.slug}-signed-letter.pdf"
    person = re.sub(r"[^a-z0-9]+", "-", target.name.lower()).strip("-")[:40] or "target"
    return f"{campaign.slug}-{target.id}-{person}.pdf"


#: progress(done, total, step): `done` of `total` steps finished, `step` comes next.
Progress = Callable[[int, int, str], None]


def zip_steps(campaign: Campaign) -> int:
    """How many steps write_zip reports: one PDF per target, then the rest together."""
    return max(len(campaign.targets), 1) + 1


def write_zip(
    campaign: Campaign,
    out: BinaryIO,
    progress: Progress | None = None,
) -> list[tuple[str, str]]:
    """Write the export ZIP to `out`; return (name, sha256) of every file in it.

    `progress` is called before each step, with what it is, and once at the end, so a
    caller can show how far it got. Every PDF is made (or found) before anything is
    written, so a failed render leaves no half-written archive.
    """
    targets = list(campaign.targets) or [None]
    total = zip_steps(campaign)
    report = progress or (lambda done, total, step: None)
    renders = [request_render(campaign, target, queue=False) for target in targets]
    steps = _PdfSteps(report, total, done=sum(r.status != RenderStatus.PENDING for r in renders))
    # Exports wait for their own PDFs rather than leaving them to a worker.
    render_together(
        [r for r in renders if r.status == RenderStatus.PENDING], steps.before, steps.parts
    )
    for rendered in renders:
        _check_ready(rendered)
    pdfs = [
        (pdf_name(campaign, target), rendered.pdf_sha256)
        for target, rendered in zip(targets, renders, strict=True)
    ]
    report(total - 1, total, "Making the audit certificate and signatory lists")
    certificate, _doc = certificate_pdf(campaign)
    stamp = utcnow().timetuple()[:6]
    files: list[tuple[str, str]] = []
    with zipfile.ZipFile(out, "w") as archive:

        def add(name: str, data: bytes, compress: int) -> None:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = compress
            archive.writestr(info, data)
            files.append((name, hashlib.sha256(data).hexdigest()))

        for name, sha in pdfs:
            # PDFs and XLSX are compressed already; storing them saves time for nothing lost.
            add(name, bytes(db.session.get(Blob, sha).data), zipfile.ZIP_STORED)
        add(certificate_name(campaign), certificate, zipfile.ZIP_STORED)
        add(
            f"{campaign.slug}-signatories.csv",
            signatories_csv(campaign).encode(),
            zipfile.ZIP_DEFLATED,
        )
        add(f"{campaign.slug}-signatories.xlsx", signatories_xlsx(campaign), zipfile.ZIP_STORED)
        sums = "".join(f"{sha}  {name}\n" for name, sha in files)
        add("SHA256SUMS", sums.encode(), zipfile.ZIP_DEFLATED)
    report(total, total, "Finishing the ZIP")
    return files


class _PdfSteps:
    """write_zip's progress while the PDFs render: the step under way, and how many PDFs
    were done before it."""

    def __init__(self, report: Progress, total: int, done: int):
        self.report, self.total, self.done = report, total, done
        self.step, self.count = "", 0

    def before(self, rendered: RenderedLetter, count: int) -> None:
        """A render of `count` copies starts."""
        self.done += self.count
        self.count = count
        if count > 1:
            self.step = (
                f"Making the signed PDFs for {count} targets, which share the signatory pages"
            )
        else:
            self.step = f"Making the signed PDF {_addressee(rendered)}"
        self.report(self.done, self.total, self.step)

    def parts(self, made: int, of: int) -> None:
        """A part of a long letter is made: it takes a while per copy, so say how far."""
        self.report(self.done, self.total, f"{self.step} ({made} of {of} parts made)")


def certificate_name(campaign: Campaign) -> str:
    """The file name of a campaign's audit certificate."""
    return f"{campaign.slug}-audit-certificate.pdf"


def zip_name(campaign: Campaign) -> str:
    """The download name of a campaign's export ZIP."""
    return f"{campaign.slug}-export.zip"
