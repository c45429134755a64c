"""form_control builds plain selects and inputs itself (Django's widget templates are slow): the markup must be
Django's."""

from __future__ import annotations

import pytest
from django import forms
from django.test.html import parse_html
from django.utils import translation

from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.forms import CustomerForm
from rmdesk.web.templatetags import rmdesk_tags
from rmdesk.web.templatetags.rmdesk_tags import form_control
from tests.personas import Bank


class Choosing(forms.Form):
    plain = forms.ChoiceField(choices=[("", "—"), ("a", "A & <b>"), ("b", "B")])
    grouped = forms.ChoiceField(
        required=False, choices=[("", "—"), ("East", [("33", "浙江"), ("32", '江苏 "苏"')]), ("West", [("51", "四川")])]
    )
    several = forms.MultipleChoiceField(choices=[("x", "X"), ("y", "Y"), ("z", "Z")], disabled=True)


class Typing(forms.Form):
    name = forms.CharField(max_length=20, help_text="Up to 20 characters")
    code = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": 'e.g. "91" & <more>'}))
    amount = forms.DecimalField(required=False, localize=True)
    count = forms.IntegerField(min_value=0, disabled=True)
    email = forms.EmailField(required=False)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    secret_hidden = forms.CharField(required=False, widget=forms.PasswordInput)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    styled = forms.BooleanField(required=False, widget=forms.CheckboxInput(attrs={"class": "big", "data-on": True}))


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


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "name": '<script>alert("x")</script> & 华兴',
            "code": "91 33",
            "amount": "1,250,000.50",
            "count": "3",
            "email": "not an address",
            "secret": "s3cret",
            "secret_hidden": "s3cret",
            "day": "2020-01-05",
            "hidden": "'quoted'",
            "flag": "on",
            "styled": "",
        },
        {"name": "", "amount": "x", "day": "never", "flag": "", "styled": "on"},
    ],
)
def test_inputs_render_as_django_renders_them(data: dict[str, object]) -> None:
    # given: bound forms, valid and with errors (aria-invalid, is-invalid), and unbound ones with initial values
    for form in (Typing(data=data), Typing(initial=data)):
        form.is_valid()
        for name in form.fields:
            # when / then: the same element, type, value, attributes (required, disabled, aria-*) and escaping
            assert parse_html(form_control(form[name])) == parse_html(django_markup(form[name])), name


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "data", [{}, {"status": "dormant", "province": "33", "credit_rating": "AA"}, {"tier": "nope", "province": "99"}]
)
def test_the_list_filters_fixed_selects_render_as_django_renders_them_every_time(
    language: str, data: dict[str, str]
) -> None:
    # given the customer list's filter, bound (with errors for unknown values), in either language
    with translation.override(language):
        form = CustomerFilter(data=data)
        form.is_valid()
        for name in ("status", "tier", "size", "credit_rating", "industry_section", "province"):
            # when it is rendered twice (the second time as kept)
            first, second = form_control(form[name]), form_control(form[name])
            # then both are Django's markup for this language and value
            assert parse_html(first) == parse_html(django_markup(form[name])), name
            assert second == first


def test_fixed_selects_are_kept_per_language() -> None:
    with translation.override("zh-hans"):
        chinese = form_control(CustomerFilter(data={})["status"])
    with translation.override("en"):
        english = form_control(CustomerFilter(data={})["status"])
    assert ">Dormant</option>" in english
    assert ">Dormant</option>" not in chinese


def test_values_from_the_request_never_grow_the_kept_selects_past_their_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a small cap, already reached
    monkeypatch.setattr(rmdesk_tags, "_fixed_selects", {})
    monkeypatch.setattr(rmdesk_tags, "FIXED_SELECTS_KEPT", 3)
    # when 20 different unknown values are asked for
    for n in range(20):
        form = CustomerFilter(data={"status": f"unknown-{n}"})
        form.is_valid()
        markup = form_control(form["status"])
        # then each is still rendered right, marked invalid
        assert parse_html(markup) == parse_html(django_markup(form["status"]))
        assert "is-invalid" in markup
    assert len(rmdesk_tags._fixed_selects) == 3
