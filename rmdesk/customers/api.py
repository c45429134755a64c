"""/api/v1 endpoints of the customer archive; thin: scope via restrict(), writes via services."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from rmdesk.access.policy import Action
from rmdesk.core.api import ERRORS, amount_in, amount_out
from rmdesk.core.errors import NotFoundError
from rmdesk.core.money import ratio
from rmdesk.core.pagination import check_limit, keyset_page
from rmdesk.core.reference import city_label, division_label
from rmdesk.customers import services
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.models import Customer, FinancialStatement, KeyPerson, Relationship
from rmdesk.customers.queries import co_rm_usernames, in_order, ranked_ids
from rmdesk.customers.schemas import (
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    KeyPersonIn,
    KeyPersonOut,
    KeyPersonPatch,
    RelationshipIn,
    RelationshipOut,
    RelationshipPatch,
    RevealIn,
    RevealOut,
    StatementIn,
    StatementOut,
    StatementPatch,
    VersionIn,
)
from rmdesk.org.models import OrgUnit, User

router = Router(tags=["customers"])

AMOUNT_FIELDS = {
    "registered_capital",
    "total_assets",
    "total_liabilities",
    "revenue",
    "net_profit",
    "operating_cash_flow",
    "share_pct",
    "amount",
}


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _visible_customer(request: HttpRequest, customer_id: int) -> Customer:
    customer = Customer.objects.restrict(_actor(request), Action.VIEW).filter(pk=customer_id).first()
    if customer is None:
        raise NotFoundError()
    return customer


def payload_data(payload: Schema, *, drop: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    """The fields the client sent, amounts as Decimal (parsed from strings, never floats)."""
    data = payload.model_dump(exclude_unset=True)
    for name in drop:
        data.pop(name, None)
    for name in AMOUNT_FIELDS & data.keys():
        data[name] = amount_in(data[name])
    return data


def resolve_people(data: dict[str, Any]) -> dict[str, Any]:
    """Usernames and unit codes in the payload, as the rows they name."""
    errors: dict[str, str] = {}
    if data.get("owning_unit") is not None:
        unit = OrgUnit.objects.filter(code=data["owning_unit"]).first()
        if unit is None:
            errors["owning_unit"] = _("No org unit has this code.")
        data["owning_unit"] = unit
    if data.get("primary_rm") is not None:
        user = User.objects.filter(username=data["primary_rm"], is_active=True).first()
        if user is None:
            errors["primary_rm"] = _("No active user has this username.")
        data["primary_rm"] = user
    if errors:
        raise ValidationError(errors)
    return data


def _co_rm_users(usernames: list[str]) -> list[User]:
    users = list(User.objects.filter(username__in=usernames, is_active=True))
    missing = set(usernames) - {u.username for u in users}
    if missing:
        raise ValidationError(
            {"co_rms": _("No active user has the username %(names)s.") % {"names": ", ".join(sorted(missing))}}
        )
    return users


def customers_out(customers: list[Customer]) -> list[dict[str, Any]]:
    """The customers as the API shows them (CustomerOut), their co-RMs read for all of them at once."""
    co_rms = co_rm_usernames(customers)
    return [_customer_row(customer, co_rms[customer.pk]) for customer in customers]


def customer_out(customer: Customer) -> dict[str, Any]:
    return customers_out([customer])[0]


def _customer_row(customer: Customer, co_rms: list[str]) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "name": customer.name,
        "credit_code": customer.credit_code,
        "legal_representative": customer.legal_representative,
        "registered_capital": amount_out(customer.registered_capital),
        "established_on": customer.established_on,
        "industry": customer.industry,
        "industry_name": division_label(customer.industry) if customer.industry else "",
        "region": customer.region,
        "region_name": city_label(customer.region) if customer.region else "",
        "size": customer.size,
        "ownership": customer.ownership,
        "credit_rating": customer.credit_rating,
        "tier": customer.tier,
        "status": customer.status,
        "owning_unit": customer.owning_unit.code,
        "primary_rm": customer.primary_rm.username if customer.primary_rm else None,
        "co_rms": co_rms,
        "version": customer.version,
        "archived": customer.archived_at is not None,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


# What customer_out reads and nothing more: every column of the customer, its unit and its RM (a password hash among
# them) built into twenty rows' models was a tenth of the time the API took to read a quick search's rows.
OUT_COLUMNS = (
    *(name for name in CustomerOut.model_fields if name not in {"industry_name", "region_name", "archived", "co_rms"}),
    "archived_at",
    "owning_unit__code",
    "primary_rm__username",
)


def _with_people(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    return queryset.select_related("owning_unit", "primary_rm").only(*OUT_COLUMNS)


class CustomerQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    q: str | None = None
    status: str | None = None
    tier: str | None = None
    size: str | None = None
    credit_rating: str | None = None
    industry_section: str | None = None
    province: str | None = None
    primary_rm: int | None = None
    include_archived: bool = False


@router.get(
    "/customers",
    response={200: CustomerPage, **ERRORS},
    summary="List customers in your scope",
    description=(
        "Without `q`: the customers in your scope that pass the filters, by ascending id, `limit` per page; pass "
        "`next_cursor` back as `cursor` for the next page.\n\n"
        "With `q` (quick search): the `limit` best matches in your scope, most relevant first, and `next_cursor` "
        "is always null (a search is not paged: type more to narrow it). `q` is read after NFKC normalisation "
        "(full-width → half-width) with spaces removed: Chinese text matches inside names from 2 characters "
        "(1 character: names starting with it); ASCII letters and digits match the start of the full pinyin, "
        "pinyin initials from the first or a later character (hxkj), or the start of the credit code. Ranking: "
        "exact name or code, then prefixes, then matches inside; shorter names first, then older customers."
    ),
)
def list_customers(request: HttpRequest, query: Query[CustomerQuery]) -> Any:
    params = query.model_dump(exclude_none=True, exclude={"limit", "cursor"})
    customer_filter = CustomerFilter(params)
    if not customer_filter.is_valid():
        raise ValidationError(customer_filter.error_fields())
    restricted = Customer.objects.restrict(_actor(request), Action.VIEW)
    if customer_filter.is_search:
        check_limit(query.limit)
        narrowed = customer_filter.narrow(restricted)
        ids = ranked_ids(narrowed, customer_filter.cleaned_data["q"], limit=query.limit)
        return {"items": customers_out(in_order(_with_people(narrowed), ids)), "next_cursor": None}
    queryset = customer_filter.apply(restricted)
    page = keyset_page(_with_people(queryset), limit=query.limit, cursor=query.cursor)
    return {"items": customers_out(page.items), "next_cursor": page.next_cursor}


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="One customer")
def get_customer(request: HttpRequest, customer_id: int) -> Any:
    customer = _with_people(Customer.objects.restrict(_actor(request), Action.VIEW)).filter(pk=customer_id).first()
    if customer is None:
        raise NotFoundError()
    return customer_out(customer)


@router.post("/customers", response={201: CustomerOut, **ERRORS}, summary="Open a customer file")
@transaction.atomic
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    data = resolve_people(payload_data(payload, drop={"co_rms"}))
    co_rms = _co_rm_users(payload.co_rms or [])
    customer = services.create_customer(actor=_actor(request), data=data, co_rms=co_rms)
    return Status(201, customer_out(customer))


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Change master data")
@transaction.atomic
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Any:
    actor = _actor(request)
    data = resolve_people(payload_data(payload, drop={"version", "co_rms"}))
    co_rms = None if payload.co_rms is None else _co_rm_users(payload.co_rms)
    customer = services.update_customer(
        actor=actor, customer_id=customer_id, version=payload.version, data=data, co_rms=co_rms
    )
    # Read back fresh (co-RMs, search name) the customer the service has just found in the actor's change scope.
    return customer_out(Customer.objects.get(pk=customer.pk))


@router.post(
    "/customers/{customer_id}/archive", response={200: CustomerOut, **ERRORS}, summary="Archive a customer (no deletes)"
)
def archive_customer(request: HttpRequest, customer_id: int, payload: VersionIn) -> Any:
    customer = services.archive_customer(actor=_actor(request), customer_id=customer_id, version=payload.version)
    return customer_out(customer)


# --- key persons ------------------------------------------------------------------------------------------


def key_person_out(person: KeyPerson) -> dict[str, Any]:
    return {
        "id": person.pk,
        "customer_id": person.customer_id,
        "role": person.role,
        "name": person.name,
        "title": person.title,
        "decision_role": person.decision_role,
        "phone": person.phone_masked,
        "id_number": person.id_number_masked,
        "preferences": person.preferences,
        "version": person.version,
    }


@router.get(
    "/customers/{customer_id}/key-persons",
    response={200: list[KeyPersonOut], **ERRORS},
    summary="Key persons, personal data masked",
)
def list_key_persons(request: HttpRequest, customer_id: int) -> Any:
    customer = _visible_customer(request, customer_id)
    return [key_person_out(p) for p in customer.key_persons.filter(archived_at__isnull=True)]


@router.post("/customers/{customer_id}/key-persons", response={201: KeyPersonOut, **ERRORS}, summary="Add a key person")
def create_key_person(request: HttpRequest, customer_id: int, payload: KeyPersonIn) -> Any:
    person = services.add_key_person(actor=_actor(request), customer_id=customer_id, data=payload_data(payload))
    return Status(201, key_person_out(person))


@router.patch("/key-persons/{key_person_id}", response={200: KeyPersonOut, **ERRORS}, summary="Change a key person")
def update_key_person(request: HttpRequest, key_person_id: int, payload: KeyPersonPatch) -> Any:
    person = services.update_key_person(
        actor=_actor(request),
        key_person_id=key_person_id,
        version=payload.version,
        data=payload_data(payload, drop={"version"}),
    )
    return key_person_out(person)


@router.post(
    "/key-persons/{key_person_id}/archive", response={200: KeyPersonOut, **ERRORS}, summary="Archive a key person"
)
def archive_key_person(request: HttpRequest, key_person_id: int, payload: VersionIn) -> Any:
    person = services.archive_key_person(actor=_actor(request), key_person_id=key_person_id, version=payload.version)
    return key_person_out(person)


@router.post(
    "/key-persons/{key_person_id}/reveal",
    response={200: RevealOut, **ERRORS},
    summary="See an ID number or phone unmasked (audited)",
)
def reveal_key_person(request: HttpRequest, key_person_id: int, payload: RevealIn) -> Any:
    value = services.reveal_key_person(actor=_actor(request), key_person_id=key_person_id, field=payload.field)
    return {"field": payload.field, "value": value}


# --- financial statements ---------------------------------------------------------------------------------


def statements_out(statements: list[FinancialStatement]) -> list[dict[str, Any]]:
    """Statements newest first, each with its debt ratio and revenue growth on the year before."""
    by_year = {s.year: s for s in statements}
    rows = []
    for s in sorted(statements, key=lambda s: s.year, reverse=True):
        previous = by_year.get(s.year - 1)
        growth = ratio(s.revenue - previous.revenue, previous.revenue) if previous else None
        rows.append(
            {
                "id": s.pk,
                "customer_id": s.customer_id,
                "year": s.year,
                "total_assets": amount_out(s.total_assets),
                "total_liabilities": amount_out(s.total_liabilities),
                "revenue": amount_out(s.revenue),
                "net_profit": amount_out(s.net_profit),
                "operating_cash_flow": amount_out(s.operating_cash_flow),
                "debt_ratio": _ratio_out(s.debt_ratio),
                "revenue_growth": _ratio_out(growth),
                "version": s.version,
            }
        )
    return rows


def _ratio_out(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.4f}"


@router.get(
    "/customers/{customer_id}/financial-statements",
    response={200: list[StatementOut], **ERRORS},
    summary="Yearly financial statements with debt ratio and growth",
)
def list_statements(request: HttpRequest, customer_id: int) -> Any:
    customer = _visible_customer(request, customer_id)
    return statements_out(list(customer.financial_statements.filter(archived_at__isnull=True)))


def _statement_out(statement: FinancialStatement) -> dict[str, Any]:
    # The statement came from a scoped service or view; its own customer's other years give its growth figures.
    siblings = FinancialStatement.objects.filter(
        customer_id=statement.customer_id, archived_at__isnull=True, year__in=[statement.year, statement.year - 1]
    )
    return next(row for row in statements_out(list(siblings)) if row["id"] == statement.pk)


@router.post(
    "/customers/{customer_id}/financial-statements",
    response={201: StatementOut, **ERRORS},
    summary="Add a year's statement",
)
def create_statement(request: HttpRequest, customer_id: int, payload: StatementIn) -> Any:
    statement = services.add_financial_statement(
        actor=_actor(request), customer_id=customer_id, data=payload_data(payload)
    )
    return Status(201, _statement_out(statement))


@router.patch(
    "/financial-statements/{statement_id}", response={200: StatementOut, **ERRORS}, summary="Correct a year's statement"
)
def update_statement(request: HttpRequest, statement_id: int, payload: StatementPatch) -> Any:
    statement = services.update_financial_statement(
        actor=_actor(request),
        statement_id=statement_id,
        version=payload.version,
        data=payload_data(payload, drop={"version"}),
    )
    return _statement_out(statement)


# --- relationships ----------------------------------------------------------------------------------------


def relationships_out(request: HttpRequest, relationships: list[Relationship]) -> list[dict[str, Any]]:
    linked = {r.counterparty_id for r in relationships if r.counterparty_id}
    # The counterparty's id is shown only if the user may open it: no hint of files out of scope.
    visible = Customer.objects.restrict(_actor(request), Action.VIEW).held_ids(linked)
    return [
        {
            "id": r.pk,
            "customer_id": r.customer_id,
            "kind": r.kind,
            "direction": r.direction,
            "counterparty_id": r.counterparty_id if r.counterparty_id in visible else None,
            "counterparty_name": r.counterparty_name,
            "counterparty_credit_code": r.counterparty_credit_code,
            "share_pct": amount_out(r.share_pct),
            "amount": amount_out(r.amount),
            "controller_name": r.controller_name,
            "note": r.note,
            "version": r.version,
        }
        for r in relationships
    ]


@contextmanager
def _api_field_names() -> Iterator[None]:
    """The services speak of `counterparty`; the API's field is `counterparty_id`."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "counterparty" in exc.error_dict:
            exc.error_dict["counterparty_id"] = exc.error_dict.pop("counterparty")
        raise


def _relationship_data(request: HttpRequest, payload: Schema) -> dict[str, Any]:
    data = payload_data(payload, drop={"version", "counterparty_id"})
    if "counterparty_id" in payload.model_fields_set:
        counterparty_id = payload.counterparty_id  # type: ignore[attr-defined]
        data["counterparty"] = None
        if counterparty_id is not None:
            data["counterparty"] = (
                Customer.objects.restrict(_actor(request), Action.VIEW).filter(pk=counterparty_id).first()
            )
            if data["counterparty"] is None:
                raise ValidationError({"counterparty_id": _("No customer you can see has this id.")})
    return data


@router.get(
    "/customers/{customer_id}/relationships",
    response={200: list[RelationshipOut], **ERRORS},
    summary="Links to other firms",
)
def list_relationships(request: HttpRequest, customer_id: int) -> Any:
    customer = _visible_customer(request, customer_id)
    return relationships_out(request, list(customer.relationships.filter(archived_at__isnull=True)))


@router.post(
    "/customers/{customer_id}/relationships",
    response={201: RelationshipOut, **ERRORS},
    summary="Link the customer to another firm",
)
def create_relationship(request: HttpRequest, customer_id: int, payload: RelationshipIn) -> Any:
    with _api_field_names():
        relationship = services.add_relationship(
            actor=_actor(request), customer_id=customer_id, data=_relationship_data(request, payload)
        )
    return Status(201, relationships_out(request, [relationship])[0])


@router.patch(
    "/relationships/{relationship_id}", response={200: RelationshipOut, **ERRORS}, summary="Change a relationship"
)
def update_relationship(request: HttpRequest, relationship_id: int, payload: RelationshipPatch) -> Any:
    with _api_field_names():
        relationship = services.update_relationship(
            actor=_actor(request),
            relationship_id=relationship_id,
            version=payload.version,
            data=_relationship_data(request, payload),
        )
    return relationships_out(request, [relationship])[0]


@router.post(
    "/relationships/{relationship_id}/archive",
    response={200: RelationshipOut, **ERRORS},
    summary="Archive a relationship",
)
def archive_relationship(request: HttpRequest, relationship_id: int, payload: VersionIn) -> Any:
    relationship = services.archive_relationship(
        actor=_actor(request), relationship_id=relationship_id, version=payload.version
    )
    return relationships_out(request, [relationship])[0]
