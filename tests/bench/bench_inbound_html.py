"""Benchmark: plain text from hostile HTML replies, deep against flat markup of the same size.

Run with `make bench`. Measured on the shared 2-core development machine: 100,000 nested
<div>s (488 KB) took 0.30 s and 100,000 flat tags of about the same size 0.46 s, a deep/flat
ratio of 0.66 (nh3's tree builder took 28 s on the deep input, html.parser minutes on
unclosed comments). Four times as deep (1.95 MB, near the 2 MB cap) took 0.91 s: linear.
"""

import time

import pytest

from campaign.services.html_text import html_to_text

TAGS = 100_000


def _seconds(markup: str) -> float:
    start = time.perf_counter()
    html_to_text(markup)
    return time.perf_counter() - start


@pytest.mark.bench
def test_deep_html_costs_what_flat_html_of_the_same_size_costs():
    deep = _seconds("<div>" * TAGS + "x")
    flat = _seconds("<div></div>" * (TAGS // 2) + "x")
    four_times = _seconds("<div>" * (TAGS * 4) + "x")
    print(
        f"\n{TAGS:,} nested divs: {deep:.3f} s; flat, same size: {flat:.3f} s "
        f"(ratio {deep / flat:.2f}); 4x deeper: {four_times:.3f} s ({four_times / deep:.1f}x)"
    )
    assert deep < 3 * flat + 0.1
    assert four_times < 8 * deep + 0.1
