"""Long letters for the chunked-render tests: many signatories, rendered and read back."""

import io

from pypdf import PdfReader

from campaign.extensions import db
from campaign.models import Blob, Campaign
from campaign.services.rendering import render_now, request_render
from tests import factories as f

WORDS = ("Alder", "Birch", "Cedar", "Damson", "Elm", "Fir", "Gorse", "Hazel", "Iris", "Juniper")


def org_names(n: int) -> list[str]:
    """Organisation names that spread over the alphabet, numbered to stay distinct."""
    return [f"{WORDS[i % len(WORDS)]} Coalition {i:03d}" for i in range(n)]


def campaign_with(names: list[str]):
    """A published campaign signed by one organisation per name (a third of them local)."""
    u = f.user()
    c = f.published(u)
    for i, name in enumerate(names):
        p = f.partner(c, u, name=name, tier="national" if i % 3 else "local")
        f.sign(c, u, p, signer_title="Director")
    return u, c


def render_pdf(c: Campaign, target=None) -> bytes:
    """Render the letter now, in this process, and return the PDF."""
    rendered = request_render(c, target)
    db.session.flush()
    if rendered.status == "pending":
        render_now(rendered)
    f.commit()
    assert rendered.status == "ready", rendered.error
    return bytes(db.session.get(Blob, rendered.pdf_sha256).data)


def page_texts(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def cached_chunks(folder) -> set[str]:
    """The chunk PDFs in the cache folder."""
    return {p.name for p in folder.glob("*.pdf")}
