"""Known template-injection payloads: each is refused or stopped within its limit, leaking nothing.

The payloads come from public write-ups of Jinja sandbox escapes (SSTI cheat sheets,
CVE-2024-56326, CVE-2025-27516) and from the resource abuse the issue measured.
"""

import io
import re
import time

import pytest
from pypdf import PdfReader

from campaign.errors import Invalid
from campaign.letters.document import letter_html
from campaign.letters.pdf import html_to_pdf
from campaign.letters.sandbox import Limits, check_template, render_text, sample_context
from campaign.services import letters
from tests import factories as f

ESCAPES = {
    "mro": "{{ ''.__class__.__mro__ }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler globals": "{{ cycler.__init__.__globals__ }}",
    "cycler os.popen": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "joiner globals": "{{ joiner.__init__.__globals__ }}",
    "namespace globals": "{{ namespace.__init__.__globals__ }}",
    "lipsum globals": "{{ lipsum.__globals__['os'] }}",
    "self globals": "{{ self.__init__.__globals__ }}",
    "config": "{{ config.items() }}",
    "request": "{{ request.application.__globals__ }}",
    "url_for globals": "{{ url_for.__globals__ }}",
    "attr filter": "{{ ''|attr('__class__') }}",
    "chained attr filter": "{{ (''|attr('__class__'))|attr('__mro__') }}",
    "map attr filter": "{{ signatories|map('attr', '__class__')|list }}",
    "map attribute": "{{ signatories|map(attribute='__class__')|list }}",
    "sort attribute": "{{ signatories|sort(attribute='__class__.__mro__') }}",
    "dunder item": "{{ target['__class__'] }}",
    "range self": "{{ range.__self__ }}",
    "loop class": "{% for s in signatories %}{{ loop.__class__ }}{% endfor %}",
    "include": "{% include 'x' %}",
    "import": "{% import 'x' as x %}",
    "from import": "{% from 'x' import y %}",
    "extends": "{% extends 'x' %}",
    # CVE-2024-56326: a stored reference to str.format escapes the call-site check.
    "CVE-2024-56326 set": "{% set f = 'x'.format %}{{ f('{0.__class__}', 1) }}",
    "CVE-2024-56326 bound": "{% set f = '{0.__class__.__mro__}'.format %}{{ f(1) }}",
    "CVE-2024-56326 field": "{% set f = target.name.format %}{{ f('{0.__init__}', 1) }}",
    "CVE-2024-56326 dict": "{% set d = {'f': ''.format} %}{{ d.f('{0.__class__}', 1) }}",
    "CVE-2024-56326 loop": "{% for f in [''.format] %}{{ f('{0.__class__}', 1) }}{% endfor %}",
    "CVE-2024-56326 format_map": "{% set f = '{0.__class__}'.format_map %}{{ f([1]) }}",
    "CVE-2024-56326 direct": "{{ ('{0.__class__}'.format)(1) }}",
    # CVE-2025-27516: the |attr filter fetched str.format past the sandbox.
    "CVE-2025-27516 call": "{{ ('{0.__class__}'|attr('format'))(1) }}",
    "CVE-2025-27516 set": "{% set f = '{0.__class__}'|attr('format') %}{{ f(1) }}",
    "CVE-2025-27516 map": "{{ ['{0.__class__}']|map('attr', 'format')|list }}",
    "format filter": "{{ '%s'|format(target) }}",
    "mutating a list": "{{ signatories.append(1) }}",
    "mutating a dict": "{{ target.update(name='x') }}",
    "switching escaping off": "{% autoescape false %}{{ target.name }}{% endautoescape %}",
}

EXHAUSTION = {
    "format padding": "{{ '{:>100000000}'.format('x') }}",
    "format filter padding": "{{ '{:>100000000}'|format('x') }}",
    "percent padding": "{{ '%100000000s' % 'x' }}",
    "string multiplication": "{{ 'a'*50000000 }}",
    "reversed multiplication": "{{ 50000000*'a' }}",
    "nested range(100000)": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "nested range(10000)": (
        "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
    ),
    "power tower": "{{ 9**9**9 }}",
    "doubling": "{% set a = 'x' * 60000 %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c }}",
    "slow sorting": "{% for i in range(10000) %}{{ range(10000)|list|sort|length }}{% endfor %}",
}

PAYLOADS = {**ESCAPES, **EXHAUSTION}
# What a leak would look like: a Python repr, a module path, a traceback, a secret.
LEAK = re.compile(
    r"<(class|module|function|built-in|bound|method)\b|object at 0x|Traceback|site-packages"
    r"|/usr/|jinja2\.|markupsafe|werkzeug|sqlalchemy|flask\.|SECRET|uid=\d",
    re.IGNORECASE,
)


def test_there_are_enough_payloads():
    # The report quotes this number; the issue asks for at least its eight kinds.
    assert len(PAYLOADS) >= 45


@pytest.mark.parametrize("source", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_is_refused_quickly_and_leaks_nothing(source):
    limits = Limits()
    started = time.monotonic()
    with pytest.raises(Invalid) as caught:
        render_text(source, sample_context(), limits=limits)
    elapsed = time.monotonic() - started
    assert elapsed < limits.seconds + 1.0, elapsed
    reason = caught.value.reason
    assert reason.startswith("line 1:"), reason
    assert not LEAK.search(reason), reason


@pytest.mark.parametrize("source", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_payload_is_refused_on_save_too(source):
    with pytest.raises(Invalid):
        check_template(source)


def test_slow_payload_is_stopped_at_the_configured_time():
    limits = Limits(seconds=0.3)
    started = time.monotonic()
    # Many cheap filter calls: about 2 s of work before the loop cap here, so only the clock
    # stops it (sorting would hit the work cap first on a quiet machine).
    slow = "{% for i in range(10000) %}{% for j in range(2) %}{{ i" + "|abs" * 100
    slow += " }}{% endfor %}{% endfor %}"
    with pytest.raises(Invalid, match="longer than 0.3 s"):
        render_text(slow, sample_context(), limits=limits)
    assert time.monotonic() - started < 1.5


def test_runtime_errors_show_no_python_reprs():
    # A failing comparison would name the Python types and objects involved.
    with pytest.raises(Invalid) as caught:
        render_text("{{ signatories < target }}", sample_context())
    assert not LEAK.search(caught.value.reason), caught.value.reason


HOSTILE = "<img src=http://169.254.169.254/>"
BODY = (
    "{{ target.salutation }},\n\n"
    "Signed: {% for s in signatories %}{{ s.organisation }} ({{ s.name }}){% endfor %}\n"
)


def _sign_as_hostile(c, owner):
    p = f.partner(c, owner, name=HOSTILE)
    f.sign(c, owner, p, signer_name="<script>alert(1)</script>", signer_title="Director")


def test_partner_values_are_escaped_in_preview_and_pdf(client, app):
    owner = f.user()
    c = f.published(owner, body=BODY)
    _sign_as_hostile(c, owner)
    f.login(client, owner)
    html = client.get(f"/c/{c.slug}/letter/preview").get_data(as_text=True)
    assert "<img src=http" not in html and "<script>" not in html
    assert "&lt;img src=http://169.254.169.254/&gt;" in html
    letter = letters.letter_data(c, letters.published_version(c), c.targets[0])
    pdf = html_to_pdf(letter_html(letter))  # no_network fails the test on any fetch
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert text.count(HOSTILE) >= 2  # in the body and in the signatory list
    assert "<script>alert(1)</script>" in text


RUNTIME_ONLY = [
    "{% set f = 'x'.format %}{{ f('{0.__class__}', 1) }}",
    "{{ ('{0.__class__}'.format_map)([1]) }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ signatories.append(1) }}",
]


@pytest.mark.parametrize("source", RUNTIME_ONLY)
def test_the_sandbox_refuses_even_without_the_static_checks(source):
    # Defence in depth: the environment itself stops the call if a check is ever missed.
    from jinja2.exceptions import SecurityError, UndefinedError

    from campaign.letters.sandbox import _ENV, _message

    with pytest.raises((SecurityError, UndefinedError)) as caught:
        _ENV.from_string(source).render(sample_context())
    # Jinja's own message may hold a repr; what the organiser would see does not.
    assert not LEAK.search(_message(caught.value)), _message(caught.value)
