"""Personalisation is variable substitution only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaigns.services.personalise import render, template_problems, template_variables


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
