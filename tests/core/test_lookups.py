"""`__any_of=id_array(…)` (rmdesk/core/lookups.py): a list of ids as one parameter, on SQLite and PostgreSQL."""

from __future__ import annotations

from array import array

from django.db import connection
from django.db.models import Q

from rmdesk.core.lookups import id_array
from rmdesk.org.models import OrgUnit, User
from tests.personas import Bank


def test_the_rows_with_those_ids_and_no_others(bank: Bank) -> None:
    wanted = [bank.branch1.pk, bank.team3.pk]
    found = OrgUnit.objects.filter(pk__any_of=id_array(wanted)).values_list("pk", flat=True)
    assert sorted(found) == sorted(wanted)


def test_no_ids_match_nothing(bank: Bank) -> None:
    assert not OrgUnit.objects.filter(pk__any_of=id_array([])).exists()
    assert OrgUnit.objects.filter(Q(pk__any_of=id_array([])) | Q(code="HO")).get() == bank.head_office


def test_a_foreign_key_and_thousands_of_ids_in_one_parameter(bank: Bank) -> None:
    # given: more ids than SQLite allows parameters in a statement, most of them no unit's
    ids = [*range(10**9, 10**9 + 40_000), bank.team1.pk]
    queryset = User.objects.filter(unit__any_of=id_array(ids)).values_list("username", flat=True)
    # when
    users = set(queryset)
    _sql, params = queryset.query.sql_with_params()
    # then
    assert users == {"alice", "dave", "lead"}
    assert len(params) == 1  # the ids travel as one value, not 40,001 of them


def test_id_array_holds_ints_only() -> None:
    assert id_array([3, 1, 2]) == array("q", [3, 1, 2])


def test_among_is_one_array_on_postgresql_and_a_list_of_ids_on_sqlite(bank: Bank) -> None:
    # given: a scope's few units, as restrict() passes them
    units = [bank.team1.pk, bank.team3.pk]
    queryset = User.objects.filter(unit__among=id_array(units)).values_list("username", flat=True)
    # when
    users = set(queryset)
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    # then: the same users either way; an array where the planner sees one, a list SQLite can estimate
    assert users == set(User.objects.filter(unit__in=units).values_list("username", flat=True))
    assert "alice" in users
    if connection.vendor == "postgresql":
        assert "ANY(" in sql and len(params) == 1
    else:
        assert "json_each" not in sql and len(params) == len(units)
    assert not User.objects.filter(unit__among=id_array([])).exists()
