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

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from rmdesk.core.lookups import id_array
from rmdesk.core.planner import by_index
from rmdesk.customers.models import Customer, CustomerCoRM
from rmdesk.customers.queries import by_scope_indexes, scope_units
from rmdesk.org.models import User

# A scope is read in two halves when its staff (or the RM) co-RM at most this many customers (2,676 for a branch of the
# 1M demo bank). More (a head office's whole bank, where ordering the first half would sort every customer), and the
# scope is read as one query.
CO_RM_CHECKED = 5000
LINKS = CO_RM_CHECKED + 1  # read at most this many, to know whether there are more
ORDER = ("name", "pk")


@dataclass
class ScopeList:
    """`base` (restricted and filtered) in name order: its count, and the ids of any page."""

    base: QuerySet[Customer]
    owned: QuerySet[Customer] | None  # the customers the subtree owns, or the RM holds (None: one query)
    outside: list[int]  # … and the co-RM customers the first half does not hold, in the queryset

    # The planner is steered (by_index) for the single query only: it could cost the OR of two indexes above a scan of
    # every customer. Each half is one index range, which it picks alone (the same plans, by EXPLAIN ANALYZE on the 1M
    # demo bank); the transaction and two statements of steering took an RM's list from 14.2 to 17.3 ms on PostgreSQL.
    def count(self) -> int:
        if self.owned is None:
            with by_index():
                return self.base.count()
        return self.owned.count() + len(self.outside)

    def ids(self, start: int, size: int) -> list[int]:
        """The ids of rows start … start + size − 1."""
        if self.owned is None:
            with by_index():
                return list(self.base.order_by(*ORDER).values_list("pk", flat=True)[start : start + size])
        owned = self.owned.order_by(*ORDER).values_list("pk", flat=True)
        if not self.outside:
            return list(owned[start : start + size])
        # The page lies among the first start + size owned and the few from outside: the database orders those (its
        # collation, not Python's), reading only them.
        candidates = [*owned[: start + size], *self.outside]
        merged = self.base.filter(pk__any_of=id_array(candidates)).order_by(*ORDER).values_list("pk", flat=True)
        return list(merged[start : start + size])


def scope_list(base: QuerySet[Customer]) -> ScopeList:
    """The list of a restricted (and filtered) queryset; an RM's or a unit's scope in two halves (see the module)."""
    scope = getattr(base, "scope", None)
    if scope is None or (scope.rm_id is None and scope.unit_path is None):
        return ScopeList(by_scope_indexes(base), None, [])
    if scope.rm_id is not None:
        # An RM's own customers on customer_rm_list; their co-RM customers are the few from outside.
        owned = base.filter(primary_rm_id=scope.rm_id)
        links = list(CustomerCoRM.objects.filter(user_id=scope.rm_id).values_list("customer_id", flat=True)[:LINKS])
        candidates = links
        elsewhere = ~Q(primary_rm_id=scope.rm_id)
    else:
        units = scope_units(base) or []
        owned = base.filter(owning_unit_id__in=units)
        # Each link holds its customer's owning unit (co_rm_user_unit), so only those the units do not own are looked
        # up: almost always none (looking up all of a branch's 2,676 took 7.5 ms on PostgreSQL). The staff by id:
        # joined to the users instead, PostgreSQL read every link of the bank (11 ms, not 1).
        staff = list(User.objects.filter(unit_id__in=units).values_list("pk", flat=True))
        by_staff = CustomerCoRM.objects.filter(user_id__any_of=id_array(staff))
        unit_links = list(by_staff.values_list("customer_id", "customer_unit_id")[:LINKS])
        held = set(units)
        links = [customer for customer, _unit in unit_links]
        candidates = [customer for customer, unit in unit_links if unit not in held]
        elsewhere = ~Q(owning_unit_id__in=units)
    if len(links) > CO_RM_CHECKED:
        return ScopeList(by_scope_indexes(base), None, [])
    if not candidates:
        return ScopeList(base, owned, [])
    # The co-RM customers that the other half does not hold (and the queryset does): almost always none for a unit, an
    # RM's co-RM customers for an RM.
    outside = base.filter(elsewhere, pk__any_of=id_array(candidates)).values_list("pk", flat=True)
    return ScopeList(base, owned, list(outside))
