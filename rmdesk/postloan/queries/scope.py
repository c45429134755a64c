"""Where the collection reads start: the user's loans, restated by index, narrowed to a unit or an RM; and sums
of amounts exact to the fen on both databases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    DecimalField,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Round

from rmdesk.access.policy import Action, may, scope_for
from rmdesk.core.errors import NotFoundError
from rmdesk.core.money import from_fen
from rmdesk.customers.models import Customer
from rmdesk.development.funnel import scope_customers
from rmdesk.loans.models import LoanContract
from rmdesk.org.choices import UnitLevel
from rmdesk.org.models import OrgUnit, User

ZERO = Decimal("0.00")
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=18, decimal_places=2)


# --- scope ------------------------------------------------------------------------------------------------------------


def view_units(user: Any) -> QuerySet[OrgUnit]:
    """The units a user may narrow the loan views to: their subtree (every unit for a bank-wide role), departments
    left out (they own no customers); none for an RM."""
    scope = scope_for(user, Action.VIEW)
    units = OrgUnit.objects.exclude(level=UnitLevel.DEPARTMENT)
    if scope.everything:
        return units
    if scope.unit_path is not None:
        return units.filter(path__startswith=scope.unit_path)
    return units.none()


def home_unit(user: Any) -> OrgUnit | None:
    """The unit at the top of a unit-scoped user's subtree (a lead's team, a head's branch); None for an RM, whose
    scope is their customers, and for a bank-wide role."""
    scope = scope_for(user, Action.VIEW)
    if scope.everything or scope.unit_path is None:
        return None
    return OrgUnit.objects.filter(path=scope.unit_path).first()


def scope_customers_of(user: Any, action: Action, unit: OrgUnit | None = None) -> QuerySet[Customer]:
    """The customers whose loans `user` may `action`: restrict() on the customer decides; its scope is restated by
    index (development.funnel.scope_customers: the owning units and the co-RM customers as lists), so that both
    databases find the scope's customers by index — restrict()'s subqueries inside an OR make PostgreSQL read every
    customer. With `unit`, only customers owned in its subtree."""
    customers = Customer.objects.restrict(user, action)
    parts = scope_customers(scope_for(user, action))
    if parts is not None:
        owned, co_rm = parts
        customers = customers.filter(owned | Q(pk__in=co_rm))
    if unit is not None:
        subtree = list(OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True))
        customers = customers.filter(owning_unit_id__in=subtree)
    return customers


def scoped_loans(
    user: Any, *, unit: OrgUnit | None = None, rm: User | None = None, action: Action = Action.VIEW
) -> QuerySet[LoanContract]:
    """The loans in the user's scope, narrowed to a unit's customers (owned in its subtree) and to one primary RM.

    A loan inherits its customer's visibility: these are the loans of the customers restrict() gives the user (a
    semi-join on the loan's customer index), which is what `LoanContract.objects.restrict()` selects — without its
    join to the customer, which makes either database read every loan of the bank (test_queries checks the two
    agree). A unit or RM outside the user's scope narrows to nothing, never widens."""
    if not may(user, action):
        raise NotFoundError()
    if scope_for(user, action).everything and unit is None:
        # The whole bank: restrict() itself, no semi-join over a million customers.
        loans = LoanContract.objects.restrict(user, action)
    else:
        loans = LoanContract.objects.filter(customer_id__in=scope_customers_of(user, action, unit).values("pk"))
    if rm is not None:
        loans = loans.filter(primary_rm_id=rm.pk)
    return loans


def fen(expression: Any) -> Cast:
    """An amount as whole fen, exactly: SQLite keeps decimals as binary floats, and a sum of a branch's thousands of
    them (hundreds of billions) drifts by fen; whole numbers add up exactly on both databases."""
    return Cast(Round(expression * 100), BigIntegerField())


def fen_sum(expression: Any, **options: Any) -> Sum:
    """Σ of an amount in whole fen (None over no rows); read back with `amount_of`."""
    return Sum(fen(F(expression) if isinstance(expression, str) else expression), **options)


def amount_of(value: Any) -> Decimal:
    """A sum in whole fen as read back (None over no rows) as an amount."""
    return ZERO if value is None else from_fen(int(value))
