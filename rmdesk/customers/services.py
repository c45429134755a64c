"""The only writers of the customer archive; each writes its audit event in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rmdesk.access.policy import Action, may, scope_for
from rmdesk.audit.services import diff, record
from rmdesk.core import validators
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.core.models import VersionedModel
from rmdesk.customers import search_index
from rmdesk.customers.models import (
    Customer,
    CustomerCoRM,
    Document,
    FinancialStatement,
    KeyPerson,
    Relationship,
)
from rmdesk.customers.search import Searchable, bulk_search_rows
from rmdesk.org.choices import Role
from rmdesk.org.models import OrgUnit, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

V = TypeVar("V", bound=VersionedModel)
M = TypeVar("M", bound=models.Model)

# The firm's own facts, as a registry would give them (all a prospect is registered with), then how the bank holds it.
FIRM_FIELDS = (
    "name",
    "credit_code",
    "legal_representative",
    "registered_capital",
    "established_on",
    "industry",
    "region",
    "size",
    "ownership",
)
CUSTOMER_FIELDS = (
    *FIRM_FIELDS,
    "credit_rating",
    "tier",
    "status",
    "primary_rm",
    "owning_unit",
)
KEY_PERSON_FIELDS = ("role", "name", "title", "decision_role", "phone", "id_number", "preferences")
STATEMENT_FIELDS = ("year", "total_assets", "total_liabilities", "revenue", "net_profit", "operating_cash_flow")
RELATIONSHIP_FIELDS = (
    "kind",
    "direction",
    "counterparty",
    "counterparty_name",
    "counterparty_credit_code",
    "share_pct",
    "amount",
    "controller_name",
    "note",
)
# Personal data never enters the audit trail in clear: the trail is read by more people than the archive.
PII_FIELDS = {"phone", "id_number"}


def _snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in fields:
        field = cast(models.Field, obj._meta.get_field(name))
        values[name] = getattr(obj, field.attname)
    return values


def _audit_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes = diff(before, after)
    for name in PII_FIELDS & changes.keys():
        changes[name] = ["***", "***"]
    return changes


def _normalized(name: str, value: Any) -> Any:
    """Identifiers as stored: codes upper-case, mobiles as 11 digits; invalid input is left for full_clean()."""
    normalizer = NORMALIZERS.get(name)
    if normalizer is None or not isinstance(value, str) or not value.strip():
        return value.strip() if isinstance(value, str) else value
    try:
        return normalizer(value)
    except ValidationError:
        return value.strip()


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "credit_code": validators.validate_credit_code,
    "counterparty_credit_code": validators.validate_credit_code,
    "phone": validators.validate_mobile,
    "id_number": validators.validate_id_number,
}


def _assign(obj: models.Model, data: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    nul = [name for name, value in data.items() if isinstance(value, str) and "\x00" in value]
    if nul:
        # PostgreSQL cannot store NUL in text; refuse it on both databases alike.
        raise ValidationError({name: _("Null characters are not allowed.") for name in nul})
    for name, value in data.items():
        field = cast(models.Field, obj._meta.get_field(name))
        if value is None and not field.null and isinstance(field, models.CharField | models.TextField):
            value = ""
        if isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            value = _to_places(value, field.decimal_places)
        setattr(obj, name, _normalized(name, value))


def _to_places(value: Decimal, places: int | None) -> Decimal:
    """12500000 → 12500000.00, as the database will hold it; more decimals are left for full_clean() to refuse."""
    exponent = value.as_tuple().exponent
    if places is None or not value.is_finite() or not isinstance(exponent, int) or -exponent > places:
        return value
    return value.quantize(Decimal(1).scaleb(-places))


def _save_clean(
    obj: M, *, unique_message: dict[str, StrOrPromise] | None = None, validate: Callable[[M], None] | None = None
) -> None:
    """Validate every field and cross-field rule (`validate`, else full_clean()), then save; a unique clash becomes a
    field error."""
    if validate is None:
        obj.full_clean()
    else:
        validate(obj)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        # A concurrent insert won the unique index between full_clean() and save().
        raise ValidationError(unique_message or {"__all__": _("This record already exists.")}) from None


def _customer_for(actor: User, customer_id: int, action: Action, *, lock: bool = False) -> Customer:
    queryset = Customer.objects.restrict(actor, action).filter(pk=customer_id, archived_at__isnull=True)
    if lock:
        queryset = queryset.select_for_update()
    customer = queryset.first()
    if customer is None:
        raise NotFoundError()
    return customer


def _check_reassignment(actor: User, customer: Customer, data: dict[str, Any]) -> None:
    """Only a team lead or branch head hands a customer to another RM or unit; an RM cannot take or give one."""
    changes = {
        name
        for name in ("primary_rm", "owning_unit")
        if name in data and getattr(data[name], "pk", data[name]) != getattr(customer, f"{name}_id")
    }
    if changes and actor.role == Role.RM:
        message = _("Only a team lead or branch head can reassign a customer.")
        raise ValidationError(dict.fromkeys(sorted(changes), message))
    if changes:
        _check_assignment(actor, owning_unit=data.get("owning_unit"), primary_rm=data.get("primary_rm"))


def _check_assignment(actor: User, *, owning_unit: OrgUnit | None, primary_rm: User | None) -> None:
    """The owning unit and primary RM must lie inside what the actor manages."""
    errors: dict[str, StrOrPromise] = {}
    if primary_rm is not None and (primary_rm.role != Role.RM or not primary_rm.is_active):
        errors["primary_rm"] = _("The primary RM must be an active relationship manager.")
    scope = scope_for(actor, Action.CREATE)
    if scope.rm_id is not None:
        if primary_rm is not None and primary_rm.pk != actor.pk:
            errors["primary_rm"] = _("You can only make yourself the primary RM.")
        if owning_unit is not None and owning_unit.pk != actor.unit_id:
            errors["owning_unit"] = _("The owning unit must be your own unit.")
    elif scope.unit_path is not None:
        if owning_unit is not None and not owning_unit.path.startswith(scope.unit_path):
            errors["owning_unit"] = _("The owning unit must be inside your unit.")
        if primary_rm is not None and not (primary_rm.unit and primary_rm.unit.path.startswith(scope.unit_path)):
            errors["primary_rm"] = _("The primary RM must work inside your unit.")
    if errors:
        raise ValidationError(errors)


def _update_versioned(
    *,
    actor: User,
    obj: V,
    version: int,
    data: dict[str, Any],
    fields: Iterable[str],
    action: str,
    customer_id: int,
    after_assign: Callable[[V], None] | None = None,
) -> V:
    """Apply `data` to a locked row if nobody saved it since `version`, and audit the difference."""
    if obj.version != version:
        raise ConflictError()
    fields = tuple(fields)
    before = _snapshot(obj, fields)
    _assign(obj, data, fields)
    if after_assign is not None:
        after_assign(obj)
    obj.version += 1
    _save_clean(obj)
    changes = _audit_changes(before, _snapshot(obj, fields))
    if changes:
        record(actor=actor, action=action, obj=obj, customer_id=customer_id, changes=changes)
    return obj


def _credit_code_taken() -> dict[str, StrOrPromise]:
    return {"credit_code": _("A customer with this unified social credit code already exists.")}


def _new_customer(actor: User, data: dict[str, Any]) -> Customer:
    """An unsaved customer from `data`, filed as create_customer() files it, its assignment checked."""
    data = dict(data)
    if actor.role == Role.RM:
        data.setdefault("primary_rm", actor)
        data.setdefault("owning_unit", actor.unit)
    elif data.get("primary_rm") is not None and data.get("owning_unit") is None:
        data["owning_unit"] = data["primary_rm"].unit
    customer = Customer()
    _assign(customer, data, CUSTOMER_FIELDS)
    _check_assignment(actor, owning_unit=data.get("owning_unit"), primary_rm=data.get("primary_rm"))
    search_index.prepare(customer)
    return customer


# What full_clean() would ask the database about a new customer, and who checks it instead. The credit code is a
# customer's only unique field: the create services check it first, with a message users understand (for a batch,
# in one query). The pool rule is its only constraint: Customer.clean() checks it in Python. Both facts are guarded
# by tests/customers/test_import_speed.py.
REFERENCE_FIELDS = ("owning_unit", "primary_rm")


def _clean_new_customer(
    customer: Customer, *, checked: dict[tuple[str, Any], list[ValidationError]] | None = None
) -> None:
    """full_clean() of a customer about to be created, less the round trips checked elsewhere (see above).

    `checked`: within a batch, whether each primary RM and owning unit exists is asked once, not once per row.
    """
    errors: dict[str, list[ValidationError]] = {}
    if checked is not None:
        errors = _check_references(customer, checked)
    try:
        customer.full_clean(
            exclude=REFERENCE_FIELDS if checked is not None else None, validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        names = [*(f.name for f in Customer._meta.fields), NON_FIELD_ERRORS]
        raise ValidationError({name: errors[name] for name in names if name in errors})


def _check_references(customer: Customer, checked: dict[tuple[str, Any], list[ValidationError]]) -> dict[str, Any]:
    """Django's own check of the primary RM and owning unit (that they exist), remembered per value in `checked`."""
    errors: dict[str, Any] = {}
    for name in REFERENCE_FIELDS:
        field = cast(models.Field, Customer._meta.get_field(name))
        raw = getattr(customer, field.attname)
        if field.blank and raw in field.empty_values:
            continue
        if (name, raw) not in checked:
            try:
                field.clean(raw, customer)
                checked[name, raw] = []
            except ValidationError as error:
                checked[name, raw] = error.error_list
        if checked[name, raw]:
            errors[name] = list(checked[name, raw])
    return errors


def _record_created(actor: User, customer: Customer) -> None:
    after = _snapshot(customer, CUSTOMER_FIELDS)
    record(actor=actor, action="customer.create", obj=customer, customer_id=customer.pk, changes=diff({}, after))


@transaction.atomic
def create_customer(*, actor: User, data: dict[str, Any], co_rms: Iterable[User] = ()) -> Customer:
    """Open a customer file; an RM files it under themselves, a lead or head under someone of theirs."""
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    customer = _new_customer(actor, data)
    if Customer.objects.filter(credit_code=customer.credit_code).exists():
        raise ValidationError(_credit_code_taken())
    _save_clean(customer, unique_message=_credit_code_taken(), validate=_clean_new_customer)
    _record_created(actor, customer)
    co_rms = list(co_rms)
    if co_rms:  # a new file has no co-RMs yet: with none to add there is nothing to compare, write or audit
        _set_co_rms(actor, customer, co_rms)
    units = [u.unit_id for u in co_rms if u.pk != customer.primary_rm_id and u.unit_id is not None]
    search_index.index_customer(customer, co_rm_units=units, new=True)
    return customer


@transaction.atomic
def create_customers(*, actor: User, rows: Sequence[dict[str, Any]]) -> list[Customer | ValidationError]:
    """Open many customer files at once (an import's new rows), each as create_customer() would, without co-RMs.

    Returns, row by row, the saved customer or the error that refused the row, which then wrote nothing. Rows are
    checked one by one as create_customer() checks them, then written together: one insert, their audit events in
    row order, one write of their search rows. If the insert fails (on PostgreSQL another transaction may commit
    the same credit code meanwhile), it is undone and every row goes through create_customer() alone.
    """
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    results: list[Customer | ValidationError] = []
    for data in rows:
        try:
            results.append(_new_customer(actor, data))
        except ValidationError as error:
            results.append(error)
    codes = [c.credit_code for c in results if isinstance(c, Customer)]
    taken = set(Customer.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))
    checked: dict[tuple[str, Any], list[ValidationError]] = {}
    for n, customer in enumerate(results):
        if not isinstance(customer, Customer):
            continue
        if customer.credit_code in taken:
            results[n] = ValidationError(_credit_code_taken())
            continue
        try:
            _clean_new_customer(customer, checked=checked)
        except ValidationError as error:
            results[n] = error
            continue
        taken.add(customer.credit_code)  # a later row with the same code is refused, as it would be after this one
    customers = [c for c in results if isinstance(c, Customer)]
    if not customers:
        return results
    try:
        with transaction.atomic():
            Customer.objects.bulk_create(customers)
    except IntegrityError:
        return [
            result if isinstance(result, ValidationError) else _create_alone(actor, data)
            for result, data in zip(results, rows, strict=True)
        ]
    for customer in customers:
        _record_created(actor, customer)
    searchables = [Searchable(c.pk, c.name, c.credit_code, (c.owning_unit_id,)) for c in customers]
    search_index.write_search_rows(bulk_search_rows(searchables), new=True)
    return results


def _create_alone(actor: User, data: dict[str, Any]) -> Customer | ValidationError:
    try:
        return create_customer(actor=actor, data=data)
    except ValidationError as error:
        return error


@transaction.atomic
def update_customer(
    *, actor: User, customer_id: int, version: int, data: dict[str, Any], co_rms: Iterable[User] | None = None
) -> Customer:
    """Change master data (and, if given, the co-RMs); a stale `version` is a conflict and nothing is written."""
    customer = _customer_for(actor, customer_id, Action.CHANGE, lock=True)
    _check_reassignment(actor, customer, data)
    found_by = _found_by(customer)
    customer = _update_versioned(
        actor=actor,
        obj=customer,
        version=version,
        data=data,
        fields=CUSTOMER_FIELDS,
        action="customer.update",
        customer_id=customer.pk,
    )
    if co_rms is not None:
        _set_co_rms(actor, customer, co_rms)
    if co_rms is not None or _found_by(customer) != found_by:
        search_index.index_customer(customer)
    return customer


def _found_by(customer: Customer) -> tuple[str, str, int]:
    """What quick search finds a customer by (besides its co-RMs): when it changes, its search rows are rewritten."""
    return customer.name, customer.credit_code, customer.owning_unit_id


def _set_co_rms(actor: User, customer: Customer, users: Iterable[User]) -> None:
    wanted = {u.pk: u for u in users}
    for user in wanted.values():
        if user.role != Role.RM or not user.is_active:
            raise ValidationError({"co_rms": _("Co-RMs must be active relationship managers.")})
    if customer.primary_rm_id is not None:
        wanted.pop(customer.primary_rm_id, None)
    elif wanted:
        raise ValidationError({"co_rms": _("A prospect in the pool has no RM yet, so it cannot have co-RMs.")})
    current = set(CustomerCoRM.objects.filter(customer=customer).values_list("user_id", flat=True))
    added, removed = wanted.keys() - current, current - wanted.keys()
    CustomerCoRM.objects.filter(customer=customer, user_id__in=removed).delete()
    CustomerCoRM.objects.bulk_create(
        [CustomerCoRM(customer=customer, user_id=pk, customer_unit_id=customer.owning_unit_id) for pk in sorted(added)]
    )
    if added or removed:
        names = dict(User.objects.filter(pk__in=added | removed).values_list("pk", "username"))
        record(
            actor=actor,
            action="customer.co_rms",
            obj=customer,
            customer_id=customer.pk,
            changes={"added": sorted(names[p] for p in added), "removed": sorted(names[p] for p in removed)},
        )


@transaction.atomic
def set_co_rms(*, actor: User, customer_id: int, version: int, users: Iterable[User]) -> Customer:
    """Replace the customer's co-RMs 协办 (the primary RM is never also a co-RM)."""
    customer = _customer_for(actor, customer_id, Action.CHANGE, lock=True)
    if customer.version != version:
        raise ConflictError()
    _set_co_rms(actor, customer, users)
    customer.version += 1
    customer.save(update_fields=["version", "updated_at"])
    search_index.index_customer(customer)  # the co-RMs' units see the customer in quick search
    return customer


@transaction.atomic
def archive_customer(*, actor: User, customer_id: int, version: int) -> Customer:
    """Archive instead of delete: the file leaves the working lists but its history stays."""
    customer = _customer_for(actor, customer_id, Action.CHANGE, lock=True)
    if customer.version != version:
        raise ConflictError()
    customer.archived_at = timezone.now()
    customer.version += 1
    customer.save(update_fields=["archived_at", "version", "updated_at"])
    record(actor=actor, action="customer.archive", obj=customer, customer_id=customer.pk)
    return customer


# --- key persons -----------------------------------------------------------------------------------------


def _add_owned(
    *,
    actor: User,
    customer_id: int,
    obj: V,
    data: dict[str, Any],
    fields: tuple[str, ...],
    action: str,
    unique_message: dict[str, StrOrPromise] | None = None,
    before_save: Callable[[V], None] | None = None,
) -> V:
    """Attach a new row to a customer the actor may change, and audit its fields."""
    customer = _customer_for(actor, customer_id, Action.CHANGE)
    obj.customer = customer  # type: ignore[attr-defined]
    _assign(obj, data, fields)
    if before_save is not None:
        before_save(obj)
    _save_clean(obj, unique_message=unique_message)
    record(
        actor=actor,
        action=action,
        obj=obj,
        customer_id=customer.pk,
        changes=_audit_changes({}, _snapshot(obj, fields)),
    )
    return obj


@transaction.atomic
def add_key_person(*, actor: User, customer_id: int, data: dict[str, Any]) -> KeyPerson:
    """Record a key person 关键人物 of the customer."""
    return _add_owned(
        actor=actor,
        customer_id=customer_id,
        obj=KeyPerson(),
        data=data,
        fields=KEY_PERSON_FIELDS,
        action="key_person.create",
    )


def _owned_for(actor: User, model: type[V], pk: int, action: Action, *, customer_id: int | None = None) -> V:
    queryset = model.objects.restrict(actor, action).select_for_update()  # type: ignore[attr-defined]
    queryset = queryset.filter(pk=pk, archived_at__isnull=True, customer__archived_at__isnull=True)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    obj = queryset.first()
    if obj is None:
        raise NotFoundError()
    return obj


@transaction.atomic
def update_key_person(*, actor: User, key_person_id: int, version: int, data: dict[str, Any]) -> KeyPerson:
    """Change a key person; a stale version is a conflict."""
    person = _owned_for(actor, KeyPerson, key_person_id, Action.CHANGE)
    return _update_versioned(
        actor=actor,
        obj=person,
        version=version,
        data=data,
        fields=KEY_PERSON_FIELDS,
        action="key_person.update",
        customer_id=person.customer_id,
    )


@transaction.atomic
def reveal_key_person(*, actor: User, key_person_id: int, field: str) -> str:
    """The unmasked ID number or phone, for a role that may see it; every reveal is audited."""
    if field not in PII_FIELDS:
        raise ValidationError({"field": _("Only the ID number or the phone can be revealed.")})
    person = KeyPerson.objects.restrict(actor, Action.REVEAL).filter(pk=key_person_id).first()
    if person is None:
        raise NotFoundError()
    record(
        actor=actor, action="key_person.reveal", obj=person, customer_id=person.customer_id, changes={"field": field}
    )
    return str(getattr(person, field))


# --- financial statements, relationships, documents ---------------------------------------------------------


@transaction.atomic
def add_financial_statement(*, actor: User, customer_id: int, data: dict[str, Any]) -> FinancialStatement:
    """Record one year's financial statement figures."""
    taken: dict[str, StrOrPromise] = {"year": _("This customer already has a statement for that year.")}

    def year_free(statement: FinancialStatement) -> None:
        if FinancialStatement.objects.filter(customer_id=customer_id, year=statement.year).exists():
            raise ValidationError(taken)

    return _add_owned(
        actor=actor,
        customer_id=customer_id,
        obj=FinancialStatement(),
        data=data,
        fields=STATEMENT_FIELDS,
        action="financial_statement.create",
        unique_message=taken,
        before_save=year_free,
    )


@transaction.atomic
def update_financial_statement(
    *, actor: User, statement_id: int, version: int, data: dict[str, Any]
) -> FinancialStatement:
    """Correct a year's figures; a stale version is a conflict."""
    statement = _owned_for(actor, FinancialStatement, statement_id, Action.CHANGE)
    return _update_versioned(
        actor=actor,
        obj=statement,
        version=version,
        data=data,
        fields=STATEMENT_FIELDS,
        action="financial_statement.update",
        customer_id=statement.customer_id,
    )


def _link_counterparty(relationship: Relationship) -> None:
    """Fill name and code from a counterparty customer, or find the customer by its code."""
    counterparty = relationship.counterparty
    if counterparty is not None:
        if counterparty.pk == relationship.customer_id:
            raise ValidationError({"counterparty": _("A customer cannot be linked to itself.")})
        relationship.counterparty_name = counterparty.name
        relationship.counterparty_credit_code = counterparty.credit_code
    elif relationship.counterparty_credit_code:
        code = relationship.counterparty_credit_code.strip().upper()
        relationship.counterparty = (
            Customer.objects.filter(credit_code=code).exclude(pk=relationship.customer_id).first()
        )


def _check_relationship(relationship: Relationship) -> None:
    errors: dict[str, StrOrPromise] = {}
    if not relationship.counterparty_name and relationship.counterparty is None:
        errors["counterparty_name"] = _("Name the other firm or pick a customer.")
    if relationship.kind == "affiliate" and relationship.share_pct is None:
        errors["share_pct"] = _("Give the share held, in per cent.")
    if relationship.kind == "guarantee" and relationship.amount is None:
        errors["amount"] = _("Give the guaranteed amount.")
    if relationship.kind == "common_controller" and not relationship.controller_name:
        errors["controller_name"] = _("Name the common controller.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def add_relationship(*, actor: User, customer_id: int, data: dict[str, Any]) -> Relationship:
    """Link the customer to another firm (affiliate, guarantee, supplier/buyer, common controller)."""

    def link(relationship: Relationship) -> None:
        _link_counterparty(relationship)
        _check_relationship(relationship)

    return _add_owned(
        actor=actor,
        customer_id=customer_id,
        obj=Relationship(),
        data=data,
        fields=RELATIONSHIP_FIELDS,
        action="relationship.create",
        before_save=link,
    )


@transaction.atomic
def update_relationship(*, actor: User, relationship_id: int, version: int, data: dict[str, Any]) -> Relationship:
    """Change a relationship; a stale version is a conflict."""
    relationship = _owned_for(actor, Relationship, relationship_id, Action.CHANGE)

    def relink(obj: Relationship) -> None:
        _link_counterparty(obj)
        _check_relationship(obj)

    return _update_versioned(
        actor=actor,
        obj=relationship,
        version=version,
        data=data,
        fields=RELATIONSHIP_FIELDS,
        action="relationship.update",
        customer_id=relationship.customer_id,
        after_assign=relink,
    )


def _archive_owned(actor: User, model: type[V], pk: int, version: int, action: str) -> V:
    obj = _owned_for(actor, model, pk, Action.CHANGE)
    if obj.version != version:
        raise ConflictError()
    obj.archived_at = timezone.now()
    obj.version += 1
    obj.save(update_fields=["archived_at", "version", "updated_at"])
    record(actor=actor, action=action, obj=obj, customer_id=obj.customer_id)  # type: ignore[attr-defined]
    return obj


@transaction.atomic
def archive_key_person(*, actor: User, key_person_id: int, version: int) -> KeyPerson:
    """Archive a key person who no longer plays a part."""
    return _archive_owned(actor, KeyPerson, key_person_id, version, "key_person.archive")


@transaction.atomic
def archive_relationship(*, actor: User, relationship_id: int, version: int) -> Relationship:
    """Archive a relationship that has ended."""
    return _archive_owned(actor, Relationship, relationship_id, version, "relationship.archive")


@transaction.atomic
def upload_document(*, actor: User, customer_id: int, kind: str, title: str, upload: UploadedFile) -> Document:
    """File a document in the customer's archive, within the allowed types and size."""
    customer = _customer_for(actor, customer_id, Action.CHANGE)
    name = PurePath(upload.name or "").name
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in settings.DOCUMENT_EXTENSIONS:
        raise ValidationError(
            {
                "file": _("Files of this type cannot be filed. Allowed: %(types)s.")
                % {"types": ", ".join(settings.DOCUMENT_EXTENSIONS)}
            }
        )
    if upload.size is None or upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {"file": _("The file is larger than %(mb)d MB.") % {"mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)}}
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    document = Document(
        customer=customer,
        kind=kind,
        title=title or name,
        original_name=name[:255],
        content_type=(upload.content_type or "application/octet-stream")[:100],
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    document.full_clean(exclude=["file"])
    upload.seek(0)
    document.file.save(name, upload, save=False)
    # If the transaction rolls back, the stored file is orphaned but harmless: it is named by its hash.
    document.save()
    record(
        actor=actor,
        action="document.upload",
        obj=document,
        customer_id=customer.pk,
        changes={"kind": kind, "title": document.title, "size": document.size, "sha256": document.sha256},
    )
    return document


@transaction.atomic
def record_document_download(*, actor: User, document: Document) -> None:
    """A document leaving the archive is a sensitive read: it goes on the audit trail."""
    record(
        actor=actor,
        action="document.download",
        obj=document,
        customer_id=document.customer_id,
        changes={"title": document.title, "sha256": document.sha256},
    )


@transaction.atomic
def archive_document(*, actor: User, document_id: int) -> Document:
    """Take a document out of the archive's list; the file and its history stay."""
    document = Document.objects.restrict(actor, Action.CHANGE).filter(pk=document_id, archived_at__isnull=True).first()
    if document is None:
        raise NotFoundError()
    document.archived_at = timezone.now()
    document.save(update_fields=["archived_at", "updated_at"])
    record(actor=actor, action="document.archive", obj=document, customer_id=document.customer_id)
    return document
