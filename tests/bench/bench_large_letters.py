"""Benchmarks: letters with thousands of signatories, rendered in chunks (issue 5).

Run with `make bench` or
`.venv/bin/pytest tests/bench/bench_large_letters.py -m bench -s -p no:randomly`.
The 5,000-organisation benchmarks take minutes (the single-pass baseline alone ~40 s).
Each prints its figures, measured in the same run on the same machine.

Targets:
- 5,000 organisations, distinct logos: chunked <= 0.5 x raw single-process WeasyPrint on
  the same HTML; peak RSS of the largest render process <= 600 MB;
- one new signature on that letter: re-render <= 0.2 x the full chunked render;
- 5,000 organisations sharing one logo: PDF <= 2 MB (tagged: its structure tree adds
  about 0.1 KB an organisation);
- 10 targets x 500 organisations: <= 2 x the time of one copy.
"""

import gc
import hashlib
import io
import os
import random
import resource
import time

import pytest
import weasyprint
from PIL import Image, ImageDraw
from pypdf import PdfReader

from campaign.letters import chunked
from campaign.letters.document import letter_html
from campaign.letters.pdf import BASE_URL, AssetFetcher, html_to_pdf, referenced_images

WORDS = (
    "Action Alliance Bay Citizens Clean Climate Coalition Community Council Earth Forest "
    "Friends Future Green Health Justice League Network Ocean Project Rivers Society Trust "
    "Union Valley Water Youth"
).split()
BODY = "\n\n".join(
    [
        "{{ target.salutation }},",
        *["We, the undersigned organisations, urge you to protect our rivers. " * 6] * 5,
        "Yours sincerely,",
    ]
)
_results: dict = {}


def _logo(i: int) -> bytes:
    rnd = random.Random(i)
    image = Image.new("RGB", (120, 60), tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, 114, 54), outline=(255, 255, 255), width=3)
    draw.text((20, 22), f"Org {i}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _signatories(n: int, *, shared_logo: bool = False, seed: int = 5) -> tuple[list, dict]:
    """n organisations in four tiers, each with a logo (one logo for all if shared)."""
    rnd = random.Random(seed)
    images, out = {}, []
    tiers = ("national", "state", "local", "")
    for i in range(n):
        data = _logo(0 if shared_logo else i)
        sha = hashlib.sha256(data).hexdigest()
        images[sha] = ("image/png", data)
        name = " ".join(rnd.choice(WORDS) for _ in range(3)) + f" {i}"
        out.append(
            {
                "organisation": name,
                "name": f"Signer {i}",
                "title": "Director",
                "tier": tiers[i % 4],
                "logo_sha256": sha,
            }
        )
    return out, images


def _letter(signatories: list, target: int | None = None, code: str = "BENCH0001") -> dict:
    targets = [
        {"name": f"Minister {t}", "title": "Minister", "organisation": f"Ministry {t}"}
        | {"salutation": f"Dear Minister {t}", "postal_address": f"{t} Main Street\nCapital"}
        for t in range(10)
    ]
    return {
        "look": None,
        "campaign": {
            "title": "Protect our rivers",
            "slug": "rivers",
            "lead_organisation": "Rivers Trust",
            "lead_address": "1 High Street\nMillbrook",
            "deadline": "1 January 2027",
            "url": "http://127.0.0.1:5000/c/rivers",
        },
        "target": targets[target] if target is not None else None,
        "targets": targets,
        "subject": "Protect our rivers",
        "body_source": BODY,
        "today": "27 November 2026",
        "version": {"number": 2, "sha256": "ab" * 32},
        "signatories": signatories,
        "unlisted_signatories": 0,
        "draft": False,
        "verification": _verification(code),
    }


def _verification(code: str) -> dict:
    from campaign.services.evidence import verification

    return verification(code)


def _lookup(images: dict):
    return lambda html: {sha: images[sha] for sha in referenced_images(html)}


def _chunked(letters: list, images: dict, cache_dir) -> tuple[list, float, chunked.Stats]:
    gc.collect()
    stats = chunked.Stats()
    started = time.perf_counter()
    pdfs = chunked.render_copies(
        letters, _lookup(images), cache=chunked.ChunkCache(cache_dir), stats=stats
    )
    return pdfs, time.perf_counter() - started, stats


def _raw(letter: dict, images: dict) -> float:
    """Single-process WeasyPrint on the whole letter's HTML, tagged as the one-pass app is."""
    html = letter_html(letter)
    gc.collect()
    started = time.perf_counter()
    weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=AssetFetcher(images)).write_pdf(
        pdf_tags=True
    )
    return time.perf_counter() - started


def _self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.bench
def test_5000_organisations_with_distinct_logos(app, tmp_path):
    signatories, images = _signatories(5000)
    letter = _letter(signatories)
    html_to_pdf("<p>warm</p>")  # start the forkserver outside the timing
    [pdf], took, stats = _chunked([letter], images, tmp_path)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    parent_rss = _self_rss_mb()
    _results["full"] = (letter, images, tmp_path, took)
    raw = _raw(letter, images)
    ratio = took / raw
    print(
        f"\n[5,000 orgs, distinct logos] {pages} pages, {len(pdf) / 1e6:.1f} MB,"
        f" {stats.chunks} chunks, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}:"
        f"\n  chunked, parallel {took:.1f} s; raw single-process WeasyPrint {raw:.1f} s"
        f"\n  ratio chunked / raw = {ratio:.3f} (target <= 0.5)"
        f"\n  largest render child peak RSS {stats.max_child_rss_mb:.0f} MB (target <= 600);"
        f" this (parent) process before the raw render {parent_rss:.0f} MB"
    )
    assert ratio <= 0.5
    assert stats.max_child_rss_mb <= 600


@pytest.mark.bench
def test_one_new_signature_re_renders_one_chunk(app, tmp_path):
    if "full" not in _results:
        signatories, images = _signatories(5000)
        letter = _letter(signatories)
        _, took, _ = _chunked([letter], images, tmp_path)
        _results["full"] = (letter, images, tmp_path, took)
    letter, images, cache_dir, full = _results["full"]
    data = _logo(99_999)
    sha = hashlib.sha256(data).hexdigest()
    newcomer = {"organisation": "Harbour Friends 99999", "tier": "state", "logo_sha256": sha}
    grown = {**letter, "signatories": [*letter["signatories"], newcomer]}
    [pdf], took, stats = _chunked([grown], {**images, sha: ("image/png", data)}, cache_dir)
    ratio = took / full
    print(
        f"\n[incremental] one new signature on 5,000: {took:.2f} s vs full {full:.1f} s,"
        f" {len(stats.rendered)} of {stats.chunks} chunks rendered"
        f"\n  ratio re-render / full = {ratio:.3f} (target <= 0.2)"
    )
    assert b"%PDF" in pdf[:8]
    assert ratio <= 0.2


@pytest.mark.bench
def test_5000_organisations_sharing_one_logo_stay_small(app, tmp_path):
    signatories, images = _signatories(5000, shared_logo=True)
    [pdf], took, stats = _chunked([_letter(signatories)], images, tmp_path)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"\n[shared logo] 5,000 orgs, one logo: {len(pdf):,} bytes, {pages} pages,"
        f" {stats.chunks} chunks, {took:.1f} s (target <= 2 MB = 2,097,152 bytes)"
    )
    # 2 MB, not 1 MB, since the merged letter is tagged (issue 11, item 29): its structure
    # tree costs about 0.1 KB per organisation even packed in object streams, as it does in
    # a one-pass tagged render (1,500 organisations: 369 KB one-pass, 476 KB merged).
    assert len(pdf) <= 2 * 1024 * 1024


@pytest.mark.bench
def test_ten_target_copies_share_the_signatory_pages(app, tmp_path):
    signatories, images = _signatories(500)
    html_to_pdf("<p>warm</p>")
    _, one, _ = _chunked([_letter(signatories, 0)], images, tmp_path / "one")
    copies = [_letter(signatories, t, code=f"BENCH{t:04d}") for t in range(10)]
    pdfs, ten, stats = _chunked(copies, images, tmp_path / "ten")
    # As render_now does it, one job per target: the first renders the chunks, the rest reuse.
    started = time.perf_counter()
    for letter in copies:
        _chunked([letter], images, tmp_path / "jobs")
    jobs = time.perf_counter() - started
    ratio = ten / one
    print(
        f"\n[per-target copies] 500 orgs: one copy {one:.2f} s; 10 copies together {ten:.2f} s"
        f" ({len(stats.rendered)} chunk renders for {len(pdfs)} copies)"
        f"\n  ratio 10 copies / one = {ratio:.2f} (target <= 2);"
        f" as 10 separate jobs {jobs:.2f} s = {jobs / one:.2f} x"
    )
    assert len({hashlib.sha256(p).hexdigest() for p in pdfs}) == 10
    assert ratio <= 2
