"""Long letters render in chunks: every organisation once, in order, numbered pages, reuse."""

import io
import re

import pytest
from pypdf import PdfReader

from campaign.extensions import db
from campaign.letters import chunked
from campaign.models import Blob, Campaign
from campaign.services import campaigns
from tests import factories as f
from tests.helpers.chunks import cached_chunks, campaign_with, org_names, page_texts, render_pdf


def test_long_letter_lists_everyone_once_in_order_with_page_numbers(client, app, small_chunks):
    names = org_names(60)
    _, c = campaign_with(names)
    pdf = render_pdf(c)
    pages = page_texts(pdf)
    text = " ".join(pages)
    assert len(cached_chunks(small_chunks)) >= 4, "rendered in one pass, not in chunks"
    for name in names:  # (each signer is "Signer of <organisation>")
        assert len(re.findall("(?<!Signer of )" + re.escape(name), text)) == 1, name
    # Print order: national organisations A-Z, then local ones A-Z.
    national = sorted(n for i, n in enumerate(names) if i % 3)
    local = sorted(n for i, n in enumerate(names) if not i % 3)
    positions = [text.index(n + " Signer of") for n in national + local]
    assert positions == sorted(positions)
    # Headings print in capitals; a continued tier does not repeat its heading.
    assert text.index("NATIONAL ORGANISATIONS") < text.index("LOCAL ORGANISATIONS")
    assert text.count("LOCAL ORGANISATIONS") == 1
    for i, page in enumerate(pages, 1):
        assert f"Page {i} of {len(pages)}" in page, page
    # Header, footer and verification code on every page; the seal still applies.
    assert all("Verify:" in page and c.title in page for page in pages)
    assert b"/ByteRange" in pdf
    assert PdfReader(io.BytesIO(pdf)).metadata.title


def test_a_new_signature_re_renders_only_its_chunk(client, app, small_chunks):
    u, c = campaign_with(org_names(60))
    render_pdf(c)
    before = cached_chunks(small_chunks)
    newcomer = "Hazel Coalition 0045b"
    # A name that starts no chunk of its own, so exactly one chunk changes.
    assert not chunked._starts_chunk({"organisation": newcomer})
    f.sign(c, u, f.partner(c, u, name=newcomer), signer_title="Director")
    pdf = render_pdf(c)
    new = cached_chunks(small_chunks) - before
    # Its own chunk, and the first one, whose "Signatories (N)" heading counts everyone.
    assert len(new) == 2
    assert newcomer in " ".join(page_texts(pdf))


def test_copies_for_each_target_share_the_signatory_chunks(client, app, small_chunks):
    u, c = campaign_with(org_names(40))
    campaigns.add_target(
        c, u, name="Renata Solis", organisation="Argus", email="r@argus.example", title="Chair"
    )
    f.commit()
    first, second = c.targets[:2]
    one = render_pdf(c, first)
    after_first = cached_chunks(small_chunks)
    two = render_pdf(c, second)
    assert cached_chunks(small_chunks) == after_first
    assert first.name in page_texts(one)[0] and second.name in page_texts(two)[0]


def test_chunk_renders_escape_names_and_fetch_nothing(client, app, small_chunks, listener):
    server, base = listener
    hostile = [
        "<img src=file:///etc/passwd>",
        f'<img src="{base}/logo.png">',
        f"<link rel=stylesheet href={base}/x.css>",
    ]
    _, c = campaign_with(org_names(20) + hostile)
    pdf = render_pdf(c)
    text = " ".join(page_texts(pdf))
    for name in hostile:  # printed as text (a long name may wrap: compare without spaces)
        assert name.replace(" ", "") in text.replace(" ", "")
    assert server.connections == 0
    assert b"root:x:0:0" not in pdf and "root:x:0:0" not in text


def test_tick_deletes_chunks_unused_for_a_month(app, small_chunks):
    import os
    import time

    from campaign import tasks

    small_chunks.mkdir(parents=True, exist_ok=True)
    old, fresh = small_chunks / ("a" * 64 + ".pdf"), small_chunks / ("b" * 64 + ".pdf")
    for path in (old, fresh):
        path.write_bytes(b"%PDF-1.7 cached chunk")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    tasks.run_periodic()
    assert not old.exists() and fresh.exists()


def _copy(c: Campaign, target=None, code: str = "ABCD2345") -> dict:
    from campaign.services.evidence import verification
    from campaign.services.letters import published_version
    from campaign.services.rendering import pdf_data

    return {**pdf_data(c, published_version(c), target), "verification": verification(code)}


def _numbers(pdf: bytes) -> list[tuple[str, float, float]]:
    """Each page's "Page X of Y" and where it starts on the page."""
    out = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found = []

        def visit(text, cm, tm, font, size, found=found):
            if text.strip().startswith("Page "):
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((text.strip(), round(x, 1), round(y, 1)))

        page.extract_text(visitor_text=visit)
        out.extend(found)
    return out


def test_page_numbers_print_as_weasyprint_lays_them_out(client, app, small_chunks, monkeypatch):
    from campaign.letters import stamping
    from campaign.letters.document import chunk_html
    from campaign.letters.pdf import html_to_pdf

    _, c = campaign_with(org_names(40))
    data = _copy(c)
    groups = chunked.plan_chunks(data["signatories"])
    chunks = {i: html_to_pdf(chunk_html(data, g), tagged=False) for i, g in enumerate(groups)}
    copy = chunked._copy(data, list(chunks), lambda html: {})
    # In this process, so that the fallback can be forced: WeasyPrint numbering every page.
    [written] = chunked.merge_in_child(chunks, ("", 0), [copy], (0, 0))
    monkeypatch.setattr(stamping.Numbering, "from_sample", classmethod(lambda cls, *a: None))
    [laid_out] = chunked.merge_in_child(chunks, ("", 0), [copy], (0, 0))
    assert page_texts(written) == page_texts(laid_out)
    numbers = _numbers(written)
    assert [n for n, _, _ in numbers] == [
        f"Page {i} of {len(numbers)}" for i in range(1, len(numbers) + 1)
    ]
    assert numbers == _numbers(laid_out)
    assert len(written) < len(laid_out)  # the furniture is stored once, not once a page


def test_copies_made_together_come_back_in_order(client, app, small_chunks):
    from campaign.services.rendering import letter_pdfs

    u, c = campaign_with(org_names(30))
    for name in ("Renata Solis", "Tomas Ek", "Ada Ngata"):
        campaigns.add_target(c, u, name=name, organisation="Argus", email=f"{name[:3]}@a.example")
    f.commit()
    targets = list(c.targets)
    pdfs = letter_pdfs([_copy(c, t, code=f"ABCD{i:04d}") for i, t in enumerate(targets)])
    assert len(pdfs) == len(targets)
    for target, pdf in zip(targets, pdfs, strict=True):
        pages = page_texts(pdf)
        assert target.name in pages[0]
        assert all(f"Page {i} of {len(pages)}" in p for i, p in enumerate(pages, 1))


def test_a_part_that_fails_fails_the_render_without_hanging(client, app, small_chunks, monkeypatch):
    import time

    from campaign.errors import Invalid
    from campaign.letters.pdf import RenderFailed
    from campaign.services.rendering import letter_pdf

    _, c = campaign_with(org_names(40))
    render = chunked._render

    def failing(html, *args):
        if "Cedar Coalition 002" in html:  # one chunk; the merging children already wait
            raise RenderFailed("the chunk would be more than 300 pages long")
        return render(html, *args)

    monkeypatch.setattr(chunked, "_render", failing)
    started = time.monotonic()
    with pytest.raises(Invalid, match="more than 300 pages"):
        letter_pdf(_copy(c))
    assert time.monotonic() - started < 30


@pytest.fixture
def chunked_renders(monkeypatch) -> list[int]:
    """How many copies each chunked render made, in order."""
    calls = []
    real = chunked.render_copies

    def counted(letters, *args, **kwargs):
        calls.append(len(letters))
        return real(letters, *args, **kwargs)

    monkeypatch.setattr(chunked, "render_copies", counted)
    return calls


def test_an_export_renders_every_targets_copy_together(client, app, small_chunks, chunked_renders):
    import zipfile

    from campaign.services import export_jobs as export_runs
    from campaign.services.evidence import check_pdf
    from campaign.services.export_zip import pdf_name

    u, c = campaign_with(org_names(30))
    for name in ("Renata Solis", "Tomas Ek"):
        campaigns.add_target(c, u, name=name, organisation="Argus", email=f"{name[:3]}@a.example")
    f.commit()
    run = export_runs.start_export(c, u)
    steps = []
    export_runs.build(run, lambda: steps.append(run.step))
    f.commit()
    assert run.status == "ready", run.error
    assert chunked_renders == [3], "the three copies share one chunked render"
    together = "Making the signed PDFs for 3 targets, which share the signatory pages"
    assert steps[0] == together
    # Then how far the parts have got, while they render.
    parts = [s for s in steps if s.startswith(together + " (")]
    assert parts and parts[-1].endswith(" parts made)")
    made, of = map(int, re.search(r"\((\d+) of (\d+) parts made\)", parts[-1]).groups())
    assert made == of == len(parts) >= 2
    archive = zipfile.ZipFile(io.BytesIO(db.session.get(Blob, run.zip_sha256).data))
    codes = set()
    for target in c.targets:
        pdf = archive.read(pdf_name(c, target))
        verdict = check_pdf(pdf)  # each copy sealed and recorded under its own code
        assert verdict.genuine and verdict.document.target_id == target.id
        codes.add(verdict.document.code)
        pages = page_texts(pdf)
        assert target.name in pages[0] and "Juniper Coalition 029" in " ".join(pages)
        assert all(f"Page {i} of {len(pages)}" in p for i, p in enumerate(pages, 1))
    assert len(codes) == 3


def test_delivery_renders_every_targets_copy_together(client, app, small_chunks, chunked_renders):
    from campaign import jobs
    from campaign.models import OutboundEmail
    from campaign.services import delivery

    u, c = campaign_with(org_names(30))
    campaigns.add_target(c, u, name="Renata Solis", organisation="Argus", email="rs@a.example")
    campaigns.close_signing(c, u)
    f.commit()
    delivery.deliver(c, u)
    f.commit()
    jobs.run_ready()
    assert chunked_renders == [2]
    letters = db.session.scalars(db.select(OutboundEmail).where(OutboundEmail.kind == "letter"))
    assert sorted(e.to_email for e in letters) == sorted(t.email for t in c.targets)
