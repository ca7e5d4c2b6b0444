"""Filters, tests and method calls stay inside a render's time and memory (issue 11, C11).

Each payload is rendered in a forked child under a watchdog, so a regression fails the
test within seconds instead of hanging the run or exhausting the machine: the child is
killed after a few seconds and reports how much memory the render added.
"""

import multiprocessing
import re
import resource
import time

import pytest

from campaign.errors import Invalid
from campaign.letters.sandbox import Limits, check_template, render_text, sample_context
from campaign.services import followups, letters
from tests import factories as f

#: How much memory one refused render may add to the process, at most.
MAX_GROWTH_MB = 150
WATCHDOG_SECONDS = 8

FILTER_CHAINS = {
    # The 90-byte payload: 13 s and 2.85 GB before the fix.
    "list|string chain": (
        "{{ ('x'*100000)|list|string|list|string|list|string|list|string|list|string|list|length }}"
    ),
    "sort|reverse chain": "{{ ('x'*100000)|list" + "|sort|reverse" * 40 + "|list|length }}",
    "reverse|list chain": "{{ ('x'*100000)|list" + "|reverse|list" * 40 + "|length }}",
    "shared text in a list": (
        "{% set a = 'x' * 100000 %}{{ [a, a, a, a, a, a, a, a, a, a, a, a]|string|length }}"
    ),
    "nested shared lists": (
        "{% set a = 'x' * 100000 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}"
        "{{ [b, b, b, b, b, b, b, b, b, b]|join|length }}"
    ),
    "string multiplication then list": "{{ ('ab' * 50000)|list|map('upper')|join|list|string }}",
    "range map string": "{{ range(10000)|map('string')|join|list|string|list|string }}",
    "join with a long glue": "{{ ('x' * 100000)|list|join('y' * 1000) }}",
    "escape amplification": "{{ ('&' * 100000)|e|e|e }}",
    "replace amplification": "{{ ('x' * 100000)|replace('x', 'yyyyy')|length }}",
    "lists in a loop": (
        "{% for i in range(10000) %}{{ ('x' * 100000)|list|sort|length }}{% endfor %}"
    ),
    "dictsort of a big dict": "{{ {'a': ('x' * 100000)|list}|dictsort|string|length }}",
    "split into many items": "{{ (' ' * 100000).split(' ')|string|length }}",
    "unique then string": "{{ range(10000)|list|unique|list|string|list|string }}",
    # 500 slices of a 100,000-item list would hold 50 million references (400 MB).
    "many slices": (
        "{% set a = ('x' * 100000)|list %}{% set b = ["
        + ", ".join(f"a[{n}:]" for n in range(1, 400))
        + "] %}{{ b|length }}"
    ),
}
LEAK = re.compile(r"<(function|built-in|bound|method|generator)\b|object at 0x|Traceback")


def _render_in_child(source: str, queue) -> None:
    with open("/proc/self/status") as status:
        text = status.read()
    before = _rss_kb(text, "VmRSS")
    # A backstop for the machine should the sandbox regress: the render hits MemoryError
    # (and fails the growth check) instead of taking gigabytes.
    room = (_rss_kb(text, "VmSize") + 4 * MAX_GROWTH_MB * 1024) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
    started = time.monotonic()
    try:
        render_text(source, sample_context(), limits=Limits())
        outcome = ("rendered", "")
    except Invalid as exc:
        outcome = ("refused", exc.reason)
    elapsed = time.monotonic() - started
    with open("/proc/self/status") as status:
        peak = _rss_kb(status.read(), "VmHWM")
    queue.put((*outcome, elapsed, (peak - before) / 1024))


def _rss_kb(status: str, key: str) -> int:
    return int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M)[1])


def _watched(source: str) -> tuple[str, str, float, float]:
    """Render in a forked child; fail the test if it runs past the watchdog."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_render_in_child, args=(source, queue), daemon=True)
    child.start()
    try:
        result = queue.get(timeout=WATCHDOG_SECONDS)
    except Exception:  # noqa: BLE001 - queue.Empty or a dead child: both are failures
        result = None
    finally:
        child.kill()
        child.join()
    assert result is not None, f"the render did not finish within {WATCHDOG_SECONDS} s"
    return result


@pytest.mark.parametrize("source", FILTER_CHAINS.values(), ids=FILTER_CHAINS.keys())
def test_filter_chain_is_refused_within_the_limits(source):
    outcome, reason, elapsed, growth_mb = _watched(source)
    print(f"{elapsed:.2f} s, {growth_mb:.0f} MB: {reason}")
    assert outcome == "refused"
    assert reason.startswith("line 1:"), reason
    assert not LEAK.search(reason), reason
    assert elapsed < Limits().seconds + 1.0, elapsed
    assert growth_mb < MAX_GROWTH_MB, f"the render added {growth_mb:.0f} MB"


def test_refusal_names_the_filter_and_the_limit():
    _, reason, _, _ = _watched(FILTER_CHAINS["list|string chain"])
    assert reason == "line 1: |string: this would build text longer than 100,000 characters"


def test_everyday_filters_still_work():
    source = (
        "{{ signatories|map(attribute='organisation')|join(', ') }}; "
        "{{ signatories|sort(attribute='name')|map(attribute='name')|first }}; "
        "{{ signatories|selectattr('tier', 'eq', 'state')|list|length }}; "
        "{{ range(3)|map('string')|join('-') }}; {{ target.name.split(' ')|last|upper }}"
    )
    assert render_text(source, sample_context()) == (
        "Civil Liberties Union, Privacy Alliance of Ohio, Riverside Tenants&#39; Association; "
        "Ana Ortiz; 1; 0-1-2; WHITFIELD"
    )


def test_large_letters_are_not_refused():
    # Thousands of signatories are larger than one filter's cap; the merge values may be.
    context = sample_context()
    context["signatories"] = [
        {
            "organisation": f"Organisation number {i:05d}",
            "name": "A Person",
            "title": "Chair",
            "tier": "local",
        }
        for i in range(12000)
    ]
    source = (
        "{{ signatories|length }} {{ signatories|map(attribute='organisation')|first }} "
        "{% for s in signatories %}{% if loop.first %}{{ s.organisation }}{% endif %}{% endfor %}"
    )
    assert render_text(source, context).startswith("12000 Organisation number 00000")


REPRS = {
    "str.format": "{{ target.name.format }}",
    "method not called": "{{ target.name.upper }}",
    "item spelling": "{{ target['name']['format'] }}",
    "method as string": "{{ target.name.upper|string }}",
    "method in a dict": "{% set d = {'a': target.name.lower} %}{{ d }}",
    "method concatenated": "{{ 'x' ~ target.name.strip }}",
    "lazy select": "{{ signatories|select }}",
    "lazy map": "{{ signatories|map(attribute='name') }}",
    "range object": "{{ range(3) }}",
    # target.name.title is the str method too: "title" is also a field name, so only the
    # render can tell the two apart.
    "method named like a field": "{{ target.name.title }}",
}


@pytest.mark.parametrize("source", REPRS.values(), ids=REPRS.keys())
def test_python_objects_never_reach_the_letter(source):
    with pytest.raises(Invalid) as caught:
        render_text(source, sample_context())
    assert caught.value.reason.startswith("line 1:"), caught.value.reason
    assert not LEAK.search(caught.value.reason), caught.value.reason


def test_str_format_is_refused_on_save_with_field_and_line(app):
    owner = f.user()
    c = f.campaign(owner)
    with pytest.raises(Invalid) as caught:
        letters.save_draft(c, owner, subject="Hi", body="Dear all,\n{{ target.name.format }}")
    assert caught.value.field == "body"
    assert caught.value.reason.startswith("line 2: target.name.format is not a merge field")
    with pytest.raises(Invalid) as caught:
        check_template("{{ target.name.upper }}", field="subject")
    assert caught.value.field == "subject"
    assert "target.name.upper is a method, not text: write target.name.upper()" in str(
        caught.value.reason
    )


def test_follow_up_templates_are_held_to_the_same_limits(app):
    owner = f.user()
    c = f.published(owner)
    started = time.monotonic()
    with pytest.raises(Invalid) as caught:
        followups.add_step(
            c,
            owner,
            days_after=7,
            subject="Still waiting",
            body=FILTER_CHAINS["list|string chain"],
            notify=False,
        )
    assert time.monotonic() - started < Limits().seconds
    assert caught.value.field == "body" and "|string" in caught.value.reason
    with pytest.raises(Invalid, match="not a merge field"):
        followups.add_step(
            c, owner, days_after=7, subject="{{ target.name.format }}", body="Hi", notify=False
        )
