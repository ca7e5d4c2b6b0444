"""Benchmarks: the cost of rendering in a limited child process, and of a cached download.

Run with `make bench` (or `pytest tests/bench/bench_pdf.py -m bench -s`). The letter is
the demo campaign with all 40 organisations signed (33 with logos). Each benchmark
prints its figures and ratios, measured in the same run on the same machine.

Targets (issue 5):
- app render / raw WeasyPrint on the same HTML in the same process <= 1.10;
- cached "Download PDF" of an unchanged letter <= 0.05 s and <= 0.05 x a fresh render.
"""

import gc
import os
import statistics
import time

import pytest
import weasyprint

from campaign.letters.document import letter_html
from campaign.letters.pdf import (
    BASE_URL,
    AssetFetcher,
    RenderFailed,
    RenderLimits,
    html_to_pdf,
)
from campaign.services.campaigns import add_member
from campaign.services.letters import letter_images, published_version
from campaign.services.rendering import letter_pdf, pdf_data
from tests import factories as f
from tests.bench.demo_letter import demo_campaign

ROUNDS = 7


def _raw(html: str, images: dict, **options) -> bytes:
    """WeasyPrint as a library user would call it, in this process, same fetcher."""
    fetcher = AssetFetcher(images)
    return weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf(**options)


def _timed(func) -> float:
    gc.collect()  # garbage from the previous render must not be collected on this one's time
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def _cpu(func) -> float:
    """CPU seconds of this process plus the render child's, for one call of func(usage)."""
    gc.collect()
    usage: dict = {}
    started = time.process_time()
    func(usage)
    return time.process_time() - started + usage.get("cpu_seconds", 0.0)


@pytest.mark.bench
def test_render_overhead_of_the_child_process(app):
    campaign = demo_campaign()
    data = pdf_data(campaign, published_version(campaign), campaign.targets[0])
    assert len(data["signatories"]) == 40
    html = letter_html(data)
    images = letter_images(html)

    # Warm both paths (fonts in this process; the forkserver in the other).
    _raw(html, images, pdf_tags=True)
    letter_pdf(data)
    app_times, raw_times, child_times, untagged = [], [], [], []
    for _ in range(ROUNDS):  # interleaved, so drifting machine load hits both alike
        app_times.append(_timed(lambda: letter_pdf(data)))
        raw_times.append(_timed(lambda: _raw(html, images, pdf_tags=True)))
        child_times.append(_timed(lambda: html_to_pdf(html, images=images)))
        untagged.append(_timed(lambda: _raw(html, images)))
    # The fastest of several runs is the one least disturbed by other work on the machine.
    app_s, raw_s, child_s, untagged_s = map(min, (app_times, raw_times, child_times, untagged))
    ratio = app_s / raw_s
    median = statistics.median(app_times) / statistics.median(raw_times)
    # For information: CPU seconds, counting the child's threads (Pango matches fonts on a
    # helper thread in a fresh process, so the child's CPU can exceed its wall-clock time).
    app_cpu = min(_cpu(lambda u: letter_pdf(data, usage=u)) for _ in range(ROUNDS))
    raw_cpu = min(_cpu(lambda u: _raw(html, images, pdf_tags=True)) for _ in range(ROUNDS))
    cpu_ratio = app_cpu / raw_cpu
    load = os.getloadavg()[0]
    print(
        f"\n[overhead] demo letter, 40 organisations, best of {ROUNDS}, load {load:.1f}:"
        f"\n  app render (HTML + image lookup + child process) {app_s:.3f} s"
        f"\n  html_to_pdf alone (child process)               {child_s:.3f} s"
        f"\n  raw WeasyPrint in this process, tagged          {raw_s:.3f} s"
        f"\n  raw WeasyPrint in this process, untagged        {untagged_s:.3f} s"
        f"\n  ratio app / raw = {ratio:.3f} (target <= 1.10; medians: {median:.3f});"
        f" child / raw = {child_s / raw_s:.3f}; tagged / untagged = {raw_s / untagged_s:.3f}"
        f"\n  CPU: app {app_cpu:.3f} s, raw {raw_cpu:.3f} s,"
        f" ratio app / raw = {cpu_ratio:.3f}"
    )
    # Best-of-N wall-clock: on a busy machine (load above the core count) the ratio swings
    # by +-30% whichever way, so run this on a quiet one.
    assert ratio <= 1.10


@pytest.mark.bench
def test_cached_download_of_an_unchanged_letter(app, client):
    campaign = demo_campaign()
    owner = f.user()
    add_member(campaign, owner)
    f.commit()
    f.login(client, owner)
    url = f"/c/{campaign.slug}/letter.pdf"

    started = time.perf_counter()
    first = client.get(url)
    fresh_s = time.perf_counter() - started
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    cached = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        again = client.get(url)
        cached.append(time.perf_counter() - started)
        assert again.data == first.data
    cached_s = statistics.median(cached)
    ratio = cached_s / fresh_s
    print(
        f"\n[cached download] demo letter, {len(first.data):,} bytes:"
        f"\n  first download (renders) {fresh_s:.3f} s"
        f"\n  unchanged letter again   {cached_s:.4f} s (median of {ROUNDS}, target <= 0.05 s)"
        f"\n  ratio cached / fresh = {ratio:.4f} (target <= 0.05)"
    )
    assert cached_s <= 0.05
    assert ratio <= 0.05


@pytest.mark.bench
def test_limits_stop_runaway_documents_quickly():
    """Not a target from the issue: how long the app waits before refusing bad input."""
    cases = {
        "@page size 100000in": "<style>@page { size: 100000in }</style><p>x</p>",
        "10,000 pages": "<style>p { break-after: page }</style>" + "<p>x</p>" * 10_000,
    }
    for name, html in cases.items():
        started = time.perf_counter()
        with pytest.raises(RenderFailed) as caught:
            html_to_pdf(html, limits=RenderLimits())
        took = time.perf_counter() - started
        print(f"\n[limits] {name}: refused in {took:.2f} s: {caught.value.reason}")


def _new_signature(campaign, owner, n: int) -> None:
    """One more organisation signs (as through its link): the letter changes."""
    from campaign import jobs
    from campaign.extensions import db
    from campaign.services import partners
    from campaign.services import personal_link_signing as signing

    partner = partners.add_partner(
        campaign,
        owner,
        {"organisation": f"Bench Signer Network {n}", "contact_email": f"sign{n}@bench.example"},
    )
    links = partners.invite(campaign, owner, [partner])
    signing.sign(
        signing.resolve(links[partner.id]),
        {
            "organisation": partner.organisation,
            "signer_name": f"Signer {n}",
            "signer_email": partner.contact_email,
            "authorised": True,
        },
        None,
        ip="127.0.0.1",
        user_agent="bench",
        version_id=published_version(campaign).id,
        link_url=partners.signing_url(links[partner.id]),
    )
    db.session.commit()
    jobs.run_ready()


def _spread(times: list[float]) -> str:
    return f"min {min(times):.3f} / median {statistics.median(times):.3f} / max {max(times):.3f} s"


@pytest.mark.bench
def test_first_download_after_a_signature(app, client):
    """Issue 11, E30: the first click after a change, once rendering ahead had its time."""
    from campaign import jobs, tasks

    campaign = demo_campaign()
    owner = f.user()
    add_member(campaign, owner)
    f.commit()
    f.login(client, owner)
    url = f"/c/{campaign.slug}/letter.pdf"
    cert = f"/c/{campaign.slug}/certificate.pdf"
    assert client.get(url).status_code == 200  # the forkserver warm, as in a running server
    cold, ahead, warm, cold_cert, warm_cert = [], [], [], [], []
    for n in range(3):
        _new_signature(campaign, owner, 2 * n)
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(cert).status_code == 200
        cold_cert.append(time.perf_counter() - started)

        _new_signature(campaign, owner, 2 * n + 1)
        started = time.perf_counter()
        tasks.render_ahead(campaign.id)  # the background job, after its short delay
        jobs.run_ready()
        ahead.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(cert).status_code == 200
        warm_cert.append(time.perf_counter() - started)
    ratios = sorted(w / c for w, c in zip(warm, cold, strict=True))
    print(
        "\n[first download after a new signature] demo letter, 3 rounds:"
        f"\n  cold click (renders on the click)        {_spread(cold)}"
        f"\n  background render (job, nobody waits)    {_spread(ahead)}"
        f"\n  click after the background render        {_spread(warm)}"
        f"\n  ratio rendered-ahead / cold: min {ratios[0]:.4f} / median {ratios[1]:.4f}"
        f" / max {ratios[2]:.4f}"
        f"\n  audit certificate, first click: cold {_spread(cold_cert)};"
        f" after the background render {_spread(warm_cert)}"
    )
    assert max(warm) <= 0.2
