"""A whole scope of customers in name order, counted and read a page at a time (the customer list).

A scope is asked in two halves. A unit's scope is the customers its subtree owns (经营机构) or whose co-RM works in it;
an RM's, their own customers and those they are a co-RM of. Asked as one query, "owned by these units (or this RM) OR in
this co-RM list" is an OR of two indexes, and every row it finds is read from the table to be tested and sorted by name:
a branch of 33,250 on the 1M demo bank took 35 ms to count and as long again for a page, on SQLite, and an RM's book
1.1 ms to count. The first half, the customers the subtree owns or the RM holds, is counted and paged on an index alone
(customer_unit_list, customer_rm_list: owner, archived_at, name, and the id; 7 ms to count a branch, 1.5 ms for its
first page). The second, the co-RM customers the first does not hold (for a unit, told by the links, which hold their
customers' owning unit: almost always none; an RM's few co-RM customers), is merged in by the database only when there
are any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL

from rmdesk.core.lookups import id_array
from rmdesk.core.planner import by_index
from rmdesk.customers.models import Customer, CustomerCoRM, UnitCustomerCount
from rmdesk.customers.queries import by_scope_indexes, co_rm_links, in_order, scope_units

# A scope is read in two halves when its staff (or the RM) co-RM at most this many customers (2,676 for a branch of the
# 1M demo bank). More (a head office's whole bank, where ordering the first half would sort every customer), and the
# scope is read as one query.
CO_RM_CHECKED = 5000
ORDER = ("name", "pk")
# On PostgreSQL a page of a scope of several units, down to this row, is merged from each unit's first rows (see
# ScopeList.ids); further down, the scope's rows are sorted whole.
BY_UNIT_DEPTH = 1000


@dataclass
class ScopeList:
    """`base` (restricted and filtered) in name order: its count, and the ids of any page."""

    base: QuerySet[Customer]
    owned: QuerySet[Customer] | None  # the customers the subtree owns, or the RM holds (None: one query)
    outside: list[int]  # … and the co-RM customers the first half does not hold, in the queryset
    units: list[int] = field(default_factory=list)  # the units whose customers `owned` is (empty: an RM's)
    archived_hidden: bool = False  # `base` holds no archived customer (the list's default)
    whole: bool = False  # `owned` is all its units' customers (current ones, where archived_hidden): no other filter

    # The planner is steered (by_index) for the single query only: it could cost the OR of two indexes above a scan of
    # every customer. Each half is one index range, which it picks alone (the same plans, by EXPLAIN ANALYZE on the 1M
    # demo bank); the transaction and two statements of steering took an RM's list from 14.2 to 17.3 ms on PostgreSQL.
    def count(self) -> int:
        if self.owned is None:
            with by_index():
                return self.base.count()
        if self.whole and self.units:
            return _units_own(self.units, archived_hidden=self.archived_hidden) + len(self.outside)
        return self.owned.count() + len(self.outside)

    def ids(self, start: int, size: int) -> list[int]:
        """The ids of rows start … start + size − 1."""
        if self.owned is None:
            with by_index():
                return list(self.base.order_by(*ORDER).values_list("pk", flat=True)[start : start + size])
        owned = self.owned.order_by(*ORDER).values_list("pk", flat=True)
        if not self.outside:
            if self._by_unit(start + size):
                return self._page_by_unit(start, size)
            return list(owned[start : start + size])
        return list(self._among(self.base, start + size).values_list("pk", flat=True)[start : start + size])

    def page(self, rows: QuerySet[Customer], start: int, size: int) -> list[Customer]:
        """The customers of rows start … start + size − 1, read as `rows` (`base` with what a row shows) reads them:
        by their ids, or, where the page is merged from the owned and the few from outside (an RM's co-RM customers),
        in the one statement that orders them."""
        if self.owned is not None and self.outside:
            return list(self._among(rows, start + size)[start : start + size])
        return in_order(rows, self.ids(start, size))

    def _among(self, queryset: QuerySet[Customer], depth: int) -> QuerySet[Customer]:
        """`queryset` cut to the first `depth` owned and the few from outside, in name order. The page lies among them:
        the database orders those (its collation, not Python's), reading only them."""
        assert self.owned is not None
        owned = self.owned.order_by(*ORDER).values_list("pk", flat=True)
        return queryset.filter(pk__any_of=id_array([*owned[:depth], *self.outside])).order_by(*ORDER)

    def _by_unit(self, depth: int) -> bool:
        """Whether a page is merged from each unit's first rows: on PostgreSQL, for several units, near the top.

        customer_unit_list holds each unit's customers in name order, several units' together in none: PostgreSQL read
        all 33,250 entries of a branch's 21 units and sorted them for its first page (9 ms). SQLite walks its name
        order and stops at the page (0.6 ms).
        """
        vendor = connections[self.base.db].vendor
        return vendor == "postgresql" and len(self.units) > 1 and depth <= BY_UNIT_DEPTH

    def _page_by_unit(self, start: int, size: int) -> list[int]:
        """The page merged from each unit's first start + size, each one short range of customer_unit_list.

        One statement, a LATERAL join the ORM cannot write: `each` is the restricted, filtered queryset narrowed to the
        unit the join is at. From `base`, not `owned`, whose "unit in (all of them)" kept PostgreSQL from reading the
        index in order; and ordered by archived_at first where every row's is null: the planner does not count "is
        null" as one value for the index's order, and sorted each unit's rows (10 ms).
        """
        order = ("archived_at", *ORDER) if self.archived_hidden else ORDER
        at_unit = self.base.filter(owning_unit_id=RawSQL("unit.id", ()))
        each, params = at_unit.order_by(*order).values("pk", "name")[: start + size].query.sql_with_params()
        sql = (
            f"SELECT first.pk FROM unnest(%s::bigint[]) AS unit(id) CROSS JOIN LATERAL ({each}) AS first "  # noqa: S608 - Django's own SQL
            "ORDER BY first.name, first.pk LIMIT %s OFFSET %s"
        )
        with connections[self.base.db].cursor() as cursor:
            cursor.execute(sql, [self.units, *params, size, start])
            return [pk for (pk,) in cursor.fetchall()]


def _units_own(units: list[int], *, archived_hidden: bool) -> int:
    """How many customers these units own, from their counts (UnitCustomerCount, kept by the database): 21 rows for a
    branch, where counting its 33,250 customers on customer_unit_list took 2 ms on SQLite and 3 on PostgreSQL."""
    owned = F("current") if archived_hidden else F("current") + F("archived")
    return int(UnitCustomerCount.objects.filter(unit_id__in=units).aggregate(owned=Sum(owned))["owned"] or 0)


def scope_list(base: QuerySet[Customer], *, archived_hidden: bool = False, whole: bool = False) -> ScopeList:
    """The list of a restricted (and filtered) queryset; an RM's or a unit's scope in two halves (see the module).

    `archived_hidden`: the queryset holds no archived customer, which lets PostgreSQL read each unit's in order.
    `whole`: nothing else filters it, so a unit scope is counted from its units' customer counts.
    """
    scope = getattr(base, "scope", None)
    if scope is None or (scope.rm_id is None and scope.unit_path is None):
        return ScopeList(by_scope_indexes(base), None, [])
    if scope.rm_id is not None:
        # An RM's own customers on customer_rm_list; their co-RM customers are the few from outside.
        owned = base.filter(primary_rm_id=scope.rm_id)
        units: list[int] = []  # one index range, customer_rm_list
        links = CustomerCoRM.objects.filter(user_id=scope.rm_id).values_list("customer_id", flat=True)
        candidates = list(links[: CO_RM_CHECKED + 1])
        too_many = len(candidates) > CO_RM_CHECKED
        elsewhere = ~Q(primary_rm_id=scope.rm_id)
    else:
        units = scope_units(base) or []
        owned = base.filter(owning_unit_id__among=id_array(units))
        unit_links = co_rm_links(units)
        too_many = unit_links[CO_RM_CHECKED : CO_RM_CHECKED + 1].exists()  # counted on the index alone
        # Each link holds its customer's owning unit (co_rm_user_unit), so only those the units do not own are read
        # and looked up: almost always none (looking up all of a branch's 2,676 took 7.5 ms on PostgreSQL; reading
        # every link to tell them apart here, 0.9).
        outside_links = unit_links.exclude(customer_unit_id__among=id_array(units))
        candidates = [] if too_many else list(outside_links.values_list("customer_id", flat=True))
        elsewhere = ~Q(owning_unit_id__among=id_array(units))
    if too_many:
        return ScopeList(by_scope_indexes(base), None, [])
    if not candidates:
        return ScopeList(base, owned, [], units, archived_hidden, whole)
    # The co-RM customers that the other half does not hold (and the queryset does): almost always none for a unit, an
    # RM's co-RM customers for an RM.
    outside = base.filter(elsewhere, pk__any_of=id_array(candidates)).values_list("pk", flat=True)
    return ScopeList(base, owned, list(outside), units, archived_hidden, whole)
