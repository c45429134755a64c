"""`pk__any_of=id_array(…)`: a long list of ids as one parameter; `__among`, a short one (a scope's units)."""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler


def id_array(ids: Iterable[int]) -> array[int]:
    """Ids for an `__any_of` lookup. Django walks a list or tuple given to a filter item by item, looking for
    expressions in it (2,676 co-RM customers of a branch: 0.4 ms a query); an array it passes on whole."""
    return array("q", ids)


@models.ForeignKey.register_lookup
@models.IntegerField.register_lookup
class AnyOf(models.Lookup[Any]):
    """`column = ANY(%s)` with the ids as one array on PostgreSQL; on SQLite `IN` the rows of one JSON array.

    An `__in` list is one placeholder per id, each prepared by Django: 2,600 co-RM customers of a branch cost
    more to compile than to run, and PostgreSQL never sees that the list came from one value. As an array it is one
    parameter, and the planner can combine it with other index conditions (a BitmapOr) where an `OR id IN
    (subquery)` made it read every customer. SQLite has no arrays, but reads a JSON one as a table (json_each, built
    in since 3.38) and looks each id up by index, as it does an `IN (…)` list: an RM's search passes their book of
    some 330 ids to three statements, and preparing them one by one was a tenth of the request.
    """

    lookup_name = "any_of"
    prepare_rhs = False
    json_on_sqlite = True

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(value) for value in self.rhs]
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            # As the array's text, '{1,2,3}': psycopg dumps a list element by element, testing each against a
            # pattern (2,676 ids: 2 ms); the ids are ints, so the text is all digits and commas.
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, "{" + ",".join(map(str, values)) + "}"]
        if connection.vendor == "sqlite" and self.json_on_sqlite:
            return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values)]  # noqa: S608 - the column from Django, the ids a parameter
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


@models.ForeignKey.register_lookup
@models.IntegerField.register_lookup
class Among(AnyOf):
    """`among`: a short list of ids (a scope's units) as one array on PostgreSQL, as any_of, and as a plain `IN` list
    on SQLite, whose planner estimates a list where it cannot a JSON table (its unit plans were measured that way).

    A branch's 21 units are in each statement that a restricted queryset makes, twice: one array instead of 42
    placeholders, each prepared by Django and quoted by psycopg, took 0.2–1.1 ms (the medians per kind) from a branch
    head's search on PostgreSQL, whose planner sees the same constant array as for an `IN` list (it turns one into the
    other)."""

    lookup_name = "among"
    json_on_sqlite = False
