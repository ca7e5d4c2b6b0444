"""Letter templates cannot reach Python internals, other templates, or unbounded work.

Every case must be refused with Invalid (never run to completion, never crash the
process); the test suite finishing at all is the check that each is refused quickly.
"""

import pytest
from markupsafe import Markup

from campaign.errors import Invalid
from campaign.letters.sandbox import check_template, render_text, sample_context

ESCAPES = {
    "dunder attribute": "{{ ''.__class__.__mro__ }}",
    "dunder item": "{{ target['__class__'] }}",
    "private attribute": "{{ target._sa_instance_state }}",
    "attr filter": "{{ ''|attr('__class__') }}",
    "map attr filter": "{{ signatories|map('attr', '__class__')|list }}",
    "format filter": "{{ '%s'|format(target) }}",
    "str.format": "{{ '{0.__class__}'.format(target) }}",
    "include": "{% include 'x' %}",
    "import": "{% import 'x' as x %}",
    "from import": "{% from 'x' import y %}",
    "extends": "{% extends 'x' %}",
    "self": "{{ self }}",
    "range internals": "{{ range.__self__ }}",
    "loop internals": "{% for s in signatories %}{{ loop.__class__ }}{% endfor %}",
    "mutating a list": "{{ signatories.append(1) }}",
    "mutating a dict": "{{ target.update(name='x') }}",
    "switching escaping off": "{% autoescape false %}{{ target.name }}{% endautoescape %}",
    "safe filter": "{{ target.name|safe }}",
    "unknown filter": "{{ target.name|no_such_filter }}",
}

EXHAUSTION = {
    "string repetition": "{{ 'a'*50000000 }}",
    "reversed repetition": "{{ 50000000*'a' }}",
    "nested huge ranges": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "nested allowed ranges": (
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"
    ),
    "power tower": "{{ 9**9**9 }}",
    "big exponent": "{{ 2**100000 }}",
    "big product": "{% set n = 2**60 %}{{ n * n * n }}",
    "doubling with ~": (
        "{% set a = 'x' * 60000 %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c|length }}"
    ),
    "doubling with +": "{% set a = 'x' * 60000 %}{% set b = a + a %}{{ b|length }}",
    "list repetition": "{{ [target.name] * 100000 }}",
    "list concatenation": "{% set a = [1, 2] %}{{ a + a }}",
    "replace blow-up": "{{ 'x'|replace('', 'y' * 90000) }}",
    "join blow-up": "{{ range(10000)|join('y' * 1000) }}",
    "percent padding": "{{ '%0999999999d' % 1 }}",
    "ljust padding": "{{ 'a'.ljust(999999999) }}",
    "center filter": "{{ 'a'|center(999999999) }}",
    "indent filter": "{{ target.name|indent(999999999) }}",
    "wordwrap filter": "{{ target.name|wordwrap(1) }}",
    "batch fill": "{{ [1]|batch(999999999, 0)|list }}",
    "slice loop": "{{ [1]|slice(999999999)|list }}",
    "tojson indent": "{{ signatories|tojson(indent=999999999) }}",
    "namespace accumulator": (
        "{% set ns = namespace(s='x') %}"
        "{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    ),
    "recursive macro": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
    "block set capture": "{% set big %}{{ target.name }}{% endset %}",
    "filter block": "{% filter upper %}{{ target.name }}{% endfilter %}",
    "recursive loop": ("{% for s in signatories recursive %}{{ loop(signatories) }}{% endfor %}"),
    "lipsum": "{{ lipsum(n=100000) }}",
    "huge literal list": "{{ [" + "1," * 1000 + "1] }}",
}


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_hatches_are_refused(source):
    with pytest.raises(Invalid) as caught:
        check_template(source)
    assert caught.value.field == "body"
    assert caught.value.reason.startswith("line 1:"), caught.value.reason


@pytest.mark.parametrize("source", EXHAUSTION.values(), ids=EXHAUSTION.keys())
def test_resource_exhaustion_is_refused(source):
    with pytest.raises(Invalid) as caught:
        check_template(source)
    assert caught.value.reason.startswith("line 1:"), caught.value.reason


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_render_refuses_what_check_refuses(source):
    # Rendering re-checks: a template that skipped check_template is still refused.
    with pytest.raises(Invalid):
        render_text(source, sample_context())


def test_limits_hold_in_branches_the_trial_render_does_not_take():
    source = "{% if signatory_count > 1000 %}{{ 'a' * 50000000 }}{% endif %}ok"
    check_template(source)  # the sample has 3 signatories
    context = sample_context()
    context["signatory_count"] = 5000
    with pytest.raises(Invalid):
        render_text(source, context)


def test_html_in_merge_values_is_escaped():
    context = sample_context()
    context["target"]["name"] = '<script>alert("x")</script>'
    context["signatories"][0]["organisation"] = "<img src=x onerror=alert(1)>"
    out = render_text(
        "{{ target.name }} {% for s in signatories %}{{ s.organisation }}{% endfor %}", context
    )
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out


@pytest.mark.parametrize(
    "value",
    [Markup("<b>pre-escaped</b>"), object(), b"bytes", {1: "non-string key"}],
    ids=["markup", "object", "bytes", "int key"],
)
def test_context_accepts_only_plain_data(value):
    context = sample_context()
    context["today"] = value
    with pytest.raises(TypeError):
        render_text("{{ today }}", context)
