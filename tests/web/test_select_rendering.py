"""form_control builds plain selects itself (Django's per-option templates are slow): the markup must be Django's."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html

from rmdesk.customers.forms import CustomerForm
from rmdesk.web.templatetags.rmdesk_tags import form_control
from tests.personas import Bank


class Choosing(forms.Form):
    plain = forms.ChoiceField(choices=[("", "—"), ("a", "A & <b>"), ("b", "B")])
    grouped = forms.ChoiceField(
        required=False, choices=[("", "—"), ("East", [("33", "浙江"), ("32", '江苏 "苏"')]), ("West", [("51", "四川")])]
    )
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")], disabled=True)


def django_markup(field: forms.BoundField) -> str:
    # what form_control rendered before: Django's own templates
    return field.as_widget(attrs={"class": form_control(field).split('class="')[1].split('"')[0]})


@pytest.mark.parametrize(
    "data",
    [{}, {"plain": "a", "grouped": "32", "several": ["x", "z"]}, {"plain": "nope", "grouped": "51"}],
)
def test_selects_render_as_django_renders_them(data: dict[str, object]) -> None:
    # given: a bound form (with errors when a choice is unknown) and an unbound one
    for form in (Choosing(data=data), Choosing(initial=data)):
        form.is_valid()
        for name in ("plain", "grouped", "several"):
            # when / then: the same elements, attributes, selection and escaping
            assert parse_html(form_control(form[name])) == parse_html(django_markup(form[name]))


def test_the_customer_forms_selects_render_as_django_renders_them(bank: Bank) -> None:
    # given: the customer form of a lead, with its RM, unit, city and industry selects
    form = CustomerForm(data={"region": "330100", "industry": "39"}, user=bank.lead)
    form.is_valid()
    for name in ("region", "industry", "primary_rm", "owning_unit", "size"):
        assert parse_html(form_control(form[name])) == parse_html(django_markup(form[name]))
