"""Personalisation is variable substitution only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaigns.services.personalise import (
    missing_variables,
    render,
    template_problems,
    template_variables,
    variables_without_default,
)


def test_variables_defaults_and_attributes() -> None:
    template = 'Hi {{ first_name|default:"there" }} {{last_name}}, {{ city }} store: {{ missing }}!'
    ctx = {"first_name": "", "last_name": "Smith", "city": "Leeds"}
    assert render(template, ctx) == "Hi there Smith, Leeds store: !"
    assert render("{{ first_name|default:'friend' }}", {"first_name": "Ann"}) == "Ann"
    assert template_variables(template) == {"first_name", "last_name", "city", "missing"}


def test_template_code_is_not_executed() -> None:
    template = "{% for x in y %}{{ x }}{% endfor %} {{ settings.SECRET_KEY }} {{ name|upper }}"
    out = render(template, {"x": "1", "name": "a"})
    assert "{% for x in y %}" in out
    assert "{{ settings.SECRET_KEY }}" in out
    assert "{{ name|upper }}" in out
    assert len(template_problems(template)) == 4


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=50))
def test_text_without_tags_is_unchanged(text: str) -> None:
    assert render(text, {"a": "b"}) == text
    assert template_problems(text) == []


def test_variables_without_default_in_order_of_first_use() -> None:
    template = "Hi {{ first_name|default:\"there\" }} {{ city }}, {{ first_name }} {{ shop|default:'x' }} {{ city }}"
    assert variables_without_default(template) == ["city", "first_name"]
    assert variables_without_default('{{ a|default:"" }} {% if b %}{{ b|upper }}') == []


def test_missing_variables_are_the_ones_render_leaves_empty() -> None:
    template = "{{ first_name }} {{ city }} {{ zip }} {{ n }} {{ shop|default:'x' }}"
    context = {"first_name": "", "city": None, "n": 0, "shop": ""}
    assert missing_variables(template, context) == ["first_name", "city", "zip"]
    assert missing_variables(template, {"first_name": "A", "city": "B", "zip": "C", "n": 1}) == []


_NAMES = st.sampled_from(["a", "b", "city"])
_VALUES = st.one_of(st.none(), st.just(""), st.text(alphabet="xyz", min_size=1, max_size=3), st.integers(0, 9))


@given(name=_NAMES, context=st.dictionaries(_NAMES, _VALUES))
def test_a_variable_is_missing_exactly_when_its_tag_renders_empty(name: str, context: dict) -> None:
    tag = "{{ " + name + " }}"
    assert (name in missing_variables(tag, context)) == (render(tag, context) == "")
