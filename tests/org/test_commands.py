"""The console commands for people: createuser and token, and the org tree's paths."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from rmdesk.audit.models import AuditEvent
from rmdesk.org.models import ApiToken, OrgUnit, User
from tests.personas import Bank


def test_createuser_adds_an_audited_user_with_role_and_unit(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("RMDESK_PASSWORD", "a long enough passphrase 42")
    # when
    call_command("createuser", "rm_new", "--role", "rm", "--unit", "T1", "--full-name", "新员工", stdout=io.StringIO())
    # then
    user = User.objects.get(username="rm_new")
    assert (user.role, user.unit, user.full_name) == ("rm", bank.team1, "新员工")
    assert user.check_password("a long enough passphrase 42")
    assert user.password.startswith("argon2") or user.password.startswith("md5")
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).count() == 1


def test_createuser_names_the_bad_option(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setenv("RMDESK_PASSWORD", "a long enough passphrase 42")
    # when / then
    with pytest.raises(CommandError, match="--unit"):
        call_command("createuser", "rm_new", "--role", "rm", "--unit", "NOPE")
    with pytest.raises(CommandError, match="unit"):
        call_command("createuser", "rm_new", "--role", "rm")  # an RM needs a home unit
    assert not User.objects.filter(username="rm_new").exists()


def test_token_prints_a_bearer_token_that_is_stored_hashed(bank: Bank, client: Client) -> None:
    # given
    out = io.StringIO()
    # when
    call_command("token", "alice", stdout=out)
    raw = out.getvalue().strip()
    # then
    token = ApiToken.objects.get(user=bank.alice)
    assert raw.startswith("rmd_") and raw not in token.key_hash
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_token_for_an_unknown_user_is_a_clear_error(bank: Bank) -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("token", "nobody")


def test_moving_a_unit_re_roots_its_subtree(bank: Bank) -> None:
    # given: sub-branch 1 with its two teams moves from branch 1 to branch 2
    sub = bank.sub1
    # when
    sub.parent = bank.branch2
    sub.save()
    # then
    assert OrgUnit.objects.get(code="T1").path == "/HO/BR2/SB1/T1/"
    assert OrgUnit.objects.get(code="T2").path == "/HO/BR2/SB1/T2/"
