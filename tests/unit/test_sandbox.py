"""Letter templates: what organisers may write, and the messages when they get it wrong."""

import time

import pytest

from campaign.errors import Invalid
from campaign.letters.markdown import markdown_to_html
from campaign.letters.sandbox import (
    FIELDS,
    Limits,
    check_template,
    render_text,
    sample_context,
    to_plain_text,
)


def test_fields_name_every_merge_field_with_a_meaning():
    assert set(FIELDS) == {
        "target.name",
        "target.title",
        "target.organisation",
        "target.salutation",
        "campaign.title",
        "campaign.lead_organisation",
        "campaign.deadline",
        "today",
        "signatory_count",
        "signatories",
    }
    assert all(meaning.strip() for meaning in FIELDS.values())


def test_every_field_renders_from_the_sample_context():
    scalars = [name for name in FIELDS if name != "signatories"]
    source = "\n".join("{{ " + name + " }}" for name in scalars) + (
        "\n{% for s in signatories %}"
        "{{ s.organisation }}|{{ s.name }}|{{ s.title }}|{{ s.tier }}\n"
        "{% endfor %}"
    )
    check_template(source)
    context = sample_context()
    out = render_text(source, context)
    assert context["target"]["name"] in out
    assert context["campaign"]["lead_organisation"] in out
    assert f"{context['signatory_count']}" in out
    assert "Civil Liberties Union|Ana Ortiz|Director|national" in out


def test_loop_variables_set_names_and_common_filters_are_allowed():
    source = (
        "{% set lead = campaign.lead_organisation %}"
        "{% for s in signatories|sort(attribute='organisation') %}"
        "{{ loop.index }}. {{ s.organisation|upper }}{% if not loop.last %}, {% endif %}"
        "{% endfor %}\n"
        "{{ lead }} and {{ signatory_count - 1 }} others; "
        "{{ signatories|map(attribute='name')|join(' / ') }}; "
        "{{ target.title|default('Sir or Madam') }} {{ target.name.split(' ')|first }}"
    )
    check_template(source)
    out = render_text(source, sample_context())
    assert "1. CIVIL LIBERTIES UNION, 2. PRIVACY ALLIANCE OF OHIO" in out
    assert "Digital Rights Coalition and 2 others" in out
    assert "Ana Ortiz / Ben Okafor" in out
    assert out.endswith("Chief Executive Officer Dana")


def test_unknown_attribute_names_the_field_the_line_and_the_choices():
    with pytest.raises(Invalid) as caught:
        check_template("{{ target.salutation }},\n\nWe write to {{ target.nme }}.")
    assert caught.value.field == "body"
    reason = caught.value.reason
    assert reason.startswith("line 3:")
    assert "target.nme" in reason
    assert "name, title, organisation, salutation" in reason


def test_unknown_top_level_name_lists_the_fields():
    with pytest.raises(Invalid) as caught:
        check_template("Hello\n{{ organisation }}")
    assert caught.value.reason.startswith("line 2:")
    assert "'organisation'" in caught.value.reason
    assert "target.organisation" in caught.value.reason


def test_unknown_signatory_field_inside_a_loop():
    with pytest.raises(Invalid) as caught:
        check_template("{% for s in signatories %}\n{{ s.org }}\n{% endfor %}")
    assert caught.value.reason.startswith("line 2:")
    assert "s.org" in caught.value.reason
    assert "organisation, name, title, tier" in caught.value.reason


def test_syntax_error_reports_its_line():
    with pytest.raises(Invalid) as caught:
        check_template("Dear {{ target.name }},\n{% for s in signatories %}\n{{ s.name }")
    assert caught.value.reason.startswith("line 3:")


def test_runtime_error_reports_its_line():
    with pytest.raises(Invalid) as caught:
        check_template("Dear all,\n\n{{ signatory_count / 0 }}")
    assert caught.value.reason.startswith("line 3:")
    assert "division by zero" in caught.value.reason


def test_the_field_name_is_the_callers():
    with pytest.raises(Invalid) as caught:
        check_template("Re: {{ target.company }}", field="subject")
    assert caught.value.field == "subject"


def test_template_size_is_capped_in_bytes():
    cap = Limits().template_bytes
    assert cap == 100 * 1024
    check_template("x" * cap)
    with pytest.raises(Invalid) as caught:
        check_template("x" * (cap + 1))
    assert "larger than 100 KB" in caught.value.reason
    with pytest.raises(Invalid):  # two bytes each in UTF-8
        check_template("é" * (cap // 2 + 1))


def test_output_size_is_capped():
    small = Limits(output_bytes=200_000)
    source = "{% for i in range(3000) %}{{ 'x' * 99 }}{% endfor %}"
    render_text(source, sample_context())  # 297,000 bytes is under the 2 MB default
    with pytest.raises(Invalid) as caught:
        render_text(source, sample_context(), limits=small)
    assert "larger than 200,000 bytes" in caught.value.reason


def test_literal_text_in_loops_counts_towards_the_output_cap():
    line = "A sentence of the letter, repeated to make it long. " * 2
    source = (
        "{% for i in range(10000) %}{% for j in range(2) %}" + line + "{% endfor %}{% endfor %}"
    )
    with pytest.raises(Invalid) as caught:
        render_text(source, sample_context(), limits=Limits(output_bytes=1024 * 1024))
    assert "larger than 1,024 KB" in caught.value.reason


def test_render_time_is_capped():
    # Many cheap filter calls: about 2 s of work here before the loop cap, so only the clock
    # can stop it at 0.2 s (a sort would hit the work cap first on a quiet machine).
    slow = "{% for i in range(10000) %}{% for j in range(2) %}{{ i" + "|abs" * 100
    slow += " }}{% endfor %}{% endfor %}"
    started = time.monotonic()
    with pytest.raises(Invalid) as caught:
        render_text(slow, sample_context(), limits=Limits(seconds=0.2))
    elapsed = time.monotonic() - started
    assert "longer than 0.2 s" in caught.value.reason
    assert caught.value.reason.startswith("line 1:")
    assert elapsed < 1.5  # the limit plus one loop step, with room for a busy machine


def test_limits_come_from_the_app_settings(app):
    app.config.update(TEMPLATE_MAX_BYTES=20, TEMPLATE_MAX_OUTPUT=5, TEMPLATE_MAX_SECONDS=0.5)
    try:
        assert Limits.from_app() == Limits(template_bytes=20, output_bytes=5, seconds=0.5)
        with pytest.raises(Invalid, match="larger than 20 bytes"):
            check_template("x" * 21)
        with pytest.raises(Invalid, match="larger than 5 bytes"):
            check_template("{{ target.name }}")
    finally:
        app.config.update(
            TEMPLATE_MAX_BYTES=100 * 1024,
            TEMPLATE_MAX_OUTPUT=2 * 1024 * 1024,
            TEMPLATE_MAX_SECONDS=2.0,
        )


def test_merged_values_are_html_escaped():
    context = sample_context()
    context["target"]["name"] = "<script>alert(1)</script>"
    out = render_text("Dear {{ target.name }},", context)
    assert "<script>" not in out
    assert "&lt;script&gt;" in out


def test_merged_values_are_literal_text_not_markdown():
    context = sample_context()
    context["signatories"][0]["organisation"] = "[Click here](https://evil.example) *now*"
    context["signatories"][1]["organisation"] = "# Not a heading"
    source = "{% for s in signatories %}\n{{ s.organisation }}\n{% endfor %}"
    html = markdown_to_html(render_text(source, context))
    assert "<a" not in html and "<em>" not in html and "<h1>" not in html
    assert "[Click here](https://evil.example) *now*" in html
    assert "# Not a heading" in html


def test_to_plain_text_undoes_escaping():
    context = sample_context()
    context["target"]["organisation"] = "AT&T *Labs* [1]"
    out = render_text("{{ target.organisation }} - St. Louis", context)
    assert to_plain_text(out) == "AT&T *Labs* [1] - St. Louis"


def test_context_must_be_plain_data():
    class Row:
        name = "ORM object"

    context = sample_context()
    context["target"] = Row()
    with pytest.raises(TypeError, match="plain data"):
        render_text("{{ target.name }}", context)


@pytest.mark.parametrize(
    ("source", "construct"),
    [
        ("Dear all,\n{% include 'letterhead' %}", "{% include %}"),
        ("Dear all,\n{% macro m() %}x{% endmacro %}", "{% macro %}"),
        ("Dear all,\n{{ target.name|attr('upper') }}", "|attr"),
        ("Dear all,\n{{ target.name|no_such }}", "|no_such"),
        ("Dear all,\n{{ target.name.format(1) }}", "format()"),
        ("Dear all,\n{% for s in signatories recursive %}{% endfor %}", "recursive"),
    ],
)
def test_refusals_name_the_line_and_the_construct(source, construct):
    with pytest.raises(Invalid) as caught:
        check_template(source)
    assert caught.value.reason.startswith("line 2:"), caught.value.reason
    assert construct in caught.value.reason
