"""The sign-in backend: a request's user comes with their unit, in one statement."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from rmdesk.org.backends import UserBackend
from tests.personas import Bank


def test_a_requests_user_comes_with_their_unit_in_one_statement(bank: Bank, django_assert_num_queries: Any) -> None:
    # when
    with django_assert_num_queries(1):
        user = UserBackend().get_user(bank.alice.pk)
        # then: the unit is at hand, no second statement
        assert user is not None and user.unit is not None and user.unit.pk == bank.team1.pk


def test_an_inactive_or_unknown_user_is_nobody(bank: Bank) -> None:
    # given
    bank.bob.is_active = False
    bank.bob.save(update_fields=["is_active"])
    # then
    assert UserBackend().get_user(bank.bob.pk) is None
    assert UserBackend().get_user(10**9) is None


def test_signing_in_goes_through_the_backend(bank: Bank, client: Client) -> None:
    # when
    response = client.post(reverse("login"), {"username": "alice", "password": "correct horse battery"})
    page = client.get(reverse("customers:list"))
    # then
    assert response.status_code == 302 and page.status_code == 200
    assert page.wsgi_request.user.pk == bank.alice.pk
    assert client.session["_auth_user_backend"] == "rmdesk.org.backends.UserBackend"
