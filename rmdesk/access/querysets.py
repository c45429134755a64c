"""RestrictedQuerySet: `.restrict(user, action)` on every model that holds customer data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self, TypeVar

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from rmdesk.access.policy import Action, Scope, scope_for
from rmdesk.core.lookups import id_array

M = TypeVar("M", bound=models.Model)


def customer_q(scope: Scope, *, root: str, co_rm_model: type[models.Model]) -> Q:
    """The filter for `scope`, with `root` the lookup path from the queried model to its customer."""
    if scope.everything:
        return Q()
    pk = f"{root}pk" if root else "pk"
    if scope.rm_id is not None:
        # A subquery, not a join on co-RMs: no duplicate rows and no DISTINCT on a million customers.
        co_rm_of = co_rm_model._default_manager.filter(user_id=scope.rm_id).values("customer_id")
        return Q(**{f"{root}primary_rm_id": scope.rm_id}) | Q(**{f"{pk}__in": co_rm_of})
    if scope.pool_units:
        # The pools: prospects no RM holds yet, owned by one of these units (an unassigned row has no co-RMs).
        return Q(**{f"{root}primary_rm__isnull": True, f"{root}owning_unit_id__in": scope.pool_units})
    if scope.unit_path is not None:
        # A co-RM from inside the subtree brings a customer owned elsewhere into the lead's view too.
        # The units by id, their people and those people's co-RM links as nested subqueries rather than joins: the
        # database reads the subtree's customers and links on the owning-unit and co-RM indexes, where a join on the
        # unit path made it read every customer, or every co-RM link of the bank, and test each.
        units = list(scope.units)
        people = get_user_model()._default_manager.filter(unit_id__among=id_array(units)).values("pk")
        co_rm_in = co_rm_model._default_manager.filter(user_id__in=people).values("customer_id")
        return Q(**{f"{root}owning_unit_id__among": id_array(units)}) | Q(**{f"{pk}__in": co_rm_in})
    return Q(pk__in=[])


class RestrictedQuerySet(models.QuerySet[M]):
    """A queryset that knows how to cut itself down to what a user may see or do.

    Models set `scope_root` ("" on Customer, "customer__" on what belongs to a customer).
    """

    # The scope restrict() applied, kept through further filtering: search plans differently for one RM's book
    # (filter its few rows) than for a unit or the whole bank (walk the search indexes).
    scope: Scope | None = None

    def restrict(self, user: Any, action: Action | str = Action.VIEW) -> Self:
        scope = scope_for(user, action)
        if scope.nothing:
            restricted = self.none()
        elif scope.everything:
            restricted = self.all()
        else:
            root: str = getattr(self.model, "scope_root", "")
            co_rm_model = _co_rm_model(self.model, root)
            restricted = self.filter(customer_q(scope, root=root, co_rm_model=co_rm_model))
        restricted.scope = scope
        return restricted

    def held_ids(self, ids: Iterable[int]) -> set[int]:
        """Which of these primary keys the queryset holds (its scope and filters): one id array, not an `IN` list,
        which SQLite plans as a read of a whole unit once it is long (docs/architecture.md, "Search")."""
        wanted = id_array(ids)
        if not wanted:
            return set()
        return set(self.filter(pk__any_of=wanted).values_list("pk", flat=True))

    def _clone(self) -> Self:  # Django's private copy step, which every filter(), all() and slice goes through
        clone = super()._clone()  # type: ignore[misc]
        clone.scope = self.scope
        return clone


def _co_rm_model(model: type[models.Model], root: str) -> type[models.Model]:
    """The co-RM link table of the customer model that `root` leads to."""
    customer_model: Any = model
    for part in [p for p in root.split("__") if p]:
        customer_model = customer_model._meta.get_field(part).related_model
    return customer_model.co_rms.through
