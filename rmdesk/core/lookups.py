"""`pk__any_of=[…]`: a long list of ids as one parameter on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler


@models.IntegerField.register_lookup
class AnyOf(models.Lookup[Any]):
    """`column = ANY(%s)` with the ids as one array on PostgreSQL; `IN (…)` elsewhere.

    An `__in` list is one placeholder per id, each prepared by Django: 2,600 co-RM customers of a branch cost
    more to compile than to run, and PostgreSQL never sees that the list came from one value. As an array it is one
    parameter, and the planner can combine it with other index conditions (a BitmapOr) where an `OR id IN
    (subquery)` made it read every customer. SQLite has no arrays; its lists stay short (callers cap them).
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [int(value) for value in self.rhs]
        if not values:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
