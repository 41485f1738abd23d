"""The template language: what it renders, and every escape it refuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError

from notify.domain import sandbox
from notify.domain.sandbox import MAX_OUTPUT, MAX_SOURCE, Compiled, RenderError, check, render_text


def compiled(source: str) -> Compiled:
    result = check(source)
    assert isinstance(result, Compiled), result
    return result


def refusal(source: str) -> str:
    result = check(source)
    assert isinstance(result, list), f"{source!r} was accepted"
    return " ".join(result)


ESCAPES = [
    ("{{ ''.__class__ }}", "internals"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "internals"),
    ("{{ name.__init__.__globals__ }}", "internals"),
    ("{{ name['__class__'] }}", "internals"),
    ("{{ name._secret }}", "internals"),
    ("{% import 'os' as os %}", "imports"),
    ("{% from 'x' import y %}", "imports"),
    ("{% include 'other' %}", "imports"),
    ("{% extends 'base' %}", "imports"),
    ("{{ range(10) }}", "calls"),
    ("{{ lipsum() }}", "calls"),
    ("{{ cycler('a', 'b').next() }}", "calls"),
    ("{{ name.upper() }}", "calls"),
    ("{% macro m() %}x{% endmacro %}{{ m() }}", "calls"),
    ("{% call x() %}y{% endcall %}", "calls"),
    ("{% for i in range(100000000) %}x{% endfor %}", "calls"),
    ("{% for i in items %}{% for j in items %}x{% endfor %}{% endfor %}", "nested"),
    ("{% for i in items recursive %}{{ loop(i) }}{% endfor %}", "recursive"),
    ("{% for i in [1, 2, 3] %}x{% endfor %}", "over a variable"),
    ("{{ 'x' * 1000000000 }}", "arithmetic"),
    ("{{ 9 ** 9 ** 9 }}", "arithmetic"),
    ("{{ amount + 1 }}", "arithmetic"),
    ("{{ '%s' % name }}", "arithmetic"),
    ("{{ name | center(1000000000) }}", "filter 'center'"),
    ("{{ name | replace('', 'xxxxxxxx') }}", "filter 'replace'"),
    ("{{ name | format(1) }}", "filter 'format'"),
    ("{{ name | attr('__class__') }}", "filter 'attr'"),
    ("{{ name | map(attribute='x') }}", "filter 'map'"),
    ("{{ name is callable }}", "test 'callable'"),
    ("{{ name | join(*parts) }}", "written out"),
    ("{{ self }}", "reserved"),
    ("{% block b %}x{% endblock %}", "'block'"),
    ("{% with a = 1 %}{{ a }}{% endwith %}", "'with'"),
    ("{% filter upper %}x{% endfilter %}", "'filter'"),
    ("{% autoescape true %}x{% endautoescape %}", "'autoescape'"),
    ("{{ name ", "syntax error"),
    ("{% if %}", "syntax error"),
    ("{% endfor %}", "syntax error"),
]


@pytest.mark.parametrize(("source", "reason"), ESCAPES, ids=[s for s, _ in ESCAPES])
def test_an_escape_or_a_runaway_is_refused_when_checked(source: str, reason: str) -> None:
    assert reason in refusal(source)


@pytest.mark.parametrize("depth", [60, 150, 250, 450, 5000])
@pytest.mark.parametrize(
    "nest",
    [
        lambda n: "{{ " + "(" * n + "name" + ")" * n + " }}",
        lambda n: "{{ " + "not " * n + "name }}",
        lambda n: "{{ " + "[" * n + "name" + "]" * n + " }}",
        lambda n: "{% if name %}" * n + "x" + "{% endif %}" * n,
        lambda n: "{{ name" + " | upper" * n + " }}",
    ],
    ids=["parentheses", "not", "lists", "ifs", "filters"],
)
def test_a_deeply_nested_template_is_refused_not_crashing(
    nest: Callable[[int], str], depth: int
) -> None:
    source = nest(depth)

    result = check(source)  # never an exception (a 500) whatever the depth

    if isinstance(result, Compiled):  # grouping parentheses add no depth to the tree
        assert depth < 100
        assert render_text(result, {"name": "x"}) in ("x", "X", "['x']", "False", "True")
    elif len(source) <= MAX_SOURCE:
        assert result == ["template is nested too deeply"]
    else:
        assert "at most" in result[0]


def test_nesting_a_message_could_need_is_accepted() -> None:
    compiled(
        "{% if a %}{% if b %}{% if c %}{{ name | trim | upper }}{% endif %}{% endif %}{% endif %}"
    )


def test_a_text_longer_than_the_limit_is_refused() -> None:
    assert f"at most {MAX_SOURCE}" in refusal("x" * (MAX_SOURCE + 1))


def test_variables_conditions_one_loop_filters_and_set_render() -> None:
    source = (
        "{{ name | upper }}{% if dpd > 3 %} late{% else %} soon{% endif %}:"
        "{% for line in lines %} {{ loop.index }}.{{ line.due_on }}{% endfor %}"
        "{% set total = amount ~ ' CNY' %} {{ total }} {{ lines[0].note | default('-') }}"
        " {{ name[:1] }} {{ lines | length }} {{ tags | join(',') }}"
    )
    template = compiled(source)
    variables = {
        "name": "zhang",
        "dpd": 5,
        "lines": [{"due_on": "2026-02-15"}, {"due_on": "2026-03-15"}],
        "amount": "1066.19",
        "tags": ["a", "b"],
    }

    text = render_text(template, variables)

    assert text == "ZHANG late: 1.2026-02-15 2.2026-03-15 1066.19 CNY - z 2 a,b"
    assert template.variables == {"name", "dpd", "lines", "amount", "tags"}


def test_none_renders_as_nothing() -> None:
    assert render_text(compiled("[{{ note }}]"), {"note": None}) == "[]"


def test_output_is_not_escaped_for_html() -> None:
    assert render_text(compiled("{{ name }}"), {"name": "<b>&</b>"}) == "<b>&</b>"


def test_a_render_that_grows_past_the_limit_is_refused_not_truncated() -> None:
    template = compiled("{% for line in lines %}{{ line }}{% endfor %}")

    with pytest.raises(RenderError, match="more than"):
        render_text(template, {"lines": ["x" * 1000] * (MAX_OUTPUT // 1000 + 1)})


def test_a_key_computed_at_render_time_cannot_reach_internals() -> None:
    template = compiled("{{ name[key] }}")

    with pytest.raises(RenderError, match="sandbox"):
        render_text(template, {"name": "abc", "key": "__class__"})


def test_an_undefined_attribute_is_refused_not_rendered_empty() -> None:
    with pytest.raises(RenderError, match="undefined"):
        render_text(compiled("{{ loan.due_on }}"), {"loan": {}})


def test_the_sandbox_refuses_arithmetic_and_internals_even_past_the_check() -> None:
    environment = sandbox._ENV  # the second wall, behind check()

    with pytest.raises(SecurityError):
        environment.from_string("{{ 'x' * 1000000000 }}").render()
    with pytest.raises(SecurityError):
        environment.from_string("{{ ''.__class__.__mro__ }}").render()
    assert environment.globals == {}


@given(st.text(max_size=200))
def test_any_text_is_either_accepted_or_refused_with_reasons(source: str) -> None:
    result = check(source)

    assert isinstance(result, Compiled) or (result and all(result))
