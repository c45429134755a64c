"""Registering prospects 潜在客户 (into an RM's book or a unit's pool) and merging two files of the same firm."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core import validators
from rmdesk.core.errors import DomainError, NotFoundError
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import POOL_STATUSES, Customer, Document, FinancialStatement, KeyPerson, Relationship
from rmdesk.customers.services import create_customer
from rmdesk.development.choices import REFERRED_SOURCES, ClaimStatus, Source, Stage
from rmdesk.development.duplicates import similar_customers
from rmdesk.development.lookups import prospect_to_change
from rmdesk.development.models import Claim, ItemRating, Prospect, StageChange
from rmdesk.development.pool import CLAIM_SOURCE, PROSPECT_SOURCE
from rmdesk.org.choices import Role
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.tasks.services import close_source_tasks, notify


class SimilarProspects(DomainError):
    """A firm with a very similar name is already on file in the same region; register anyway only on purpose."""

    code = "similar"
    status = 409

    def __init__(self, *, similar: list[Customer], hidden: int) -> None:
        names = "、".join(c.name for c in similar)
        if similar and hidden:
            message = _(
                "Customers with a very similar name are already on file in this region: %(names)s, and %(n)d more "
                "you cannot see. Check them before registering another."
            ) % {"names": names, "n": hidden}
        elif similar:
            message = _(
                "Customers with a very similar name are already on file in this region: %(names)s. "
                "Check them before registering another."
            ) % {"names": names}
        else:
            message = ngettext(
                "%(n)d customer with a very similar name is already on file in this region, outside what you see. "
                "Ask your team lead before registering another.",
                "%(n)d customers with a very similar name are already on file in this region, outside what you "
                "see. Ask your team lead before registering another.",
                hidden,
            ) % {"n": hidden}
        super().__init__(message, fields={"name": [message]})
        self.similar = similar
        self.hidden = hidden


def visible_ids(actor: User, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers the actor may see: their own view, plus the pools they may claim from."""
    ids = list(customer_ids)
    if not ids:
        return set()
    customers = Customer.objects
    return customers.restrict(actor, Action.VIEW).held_ids(ids) | customers.restrict(actor, Action.CLAIM).held_ids(ids)


def _check_credit_code(actor: User, raw: Any) -> None:
    """A credit code already on file (even on an archived file: codes are unique for good) stops the entry."""
    if not isinstance(raw, str) or not raw.strip():
        return  # missing or malformed: create_customer names the field
    try:
        code = validators.validate_credit_code(raw)
    except ValidationError:
        return
    existing = Customer.objects.filter(credit_code=code).first()
    if existing is None:
        return
    if existing.pk in visible_ids(actor, [existing.pk]):
        message = _("This unified social credit code is already on file, as %(name)s.") % {"name": existing.name}
    else:
        message = _("This unified social credit code is already on file, with a customer outside your view.")
    raise ValidationError({"credit_code": message})


def _check_similar(actor: User, name: Any, region: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        return
    similar = similar_customers(name, region if isinstance(region, str) else "")
    if not similar:
        return
    seen = visible_ids(actor, [c.pk for c in similar])
    raise SimilarProspects(similar=[c for c in similar if c.pk in seen], hidden=sum(c.pk not in seen for c in similar))


def _check_referral(
    actor: User, source: int, referring_customer: Customer | None, referring_relationship: Relationship | None
) -> None:
    if source not in Source.values:
        raise ValidationError({"source": _("Choose one of the 12 sources.")})
    if source in REFERRED_SOURCES:
        if referring_customer is None:
            raise ValidationError(
                {"referring_customer": _("Name the existing customer whose relationship led to this prospect.")}
            )
        visible = Customer.objects.restrict(actor, Action.VIEW).filter(pk=referring_customer.pk)
        if not visible.filter(archived_at__isnull=True).exists():
            raise NotFoundError()
    elif referring_customer is not None or referring_relationship is not None:
        message = _("Only sources 10–12 (existing customers' relationships) name a referring customer.")
        raise ValidationError({"referring_customer": message})
    if (
        referring_relationship is not None
        and referring_customer is not None
        and referring_relationship.customer_id != referring_customer.pk
    ):
        message = _("The relationship must be one of the referring customer's.")
        raise ValidationError({"referring_relationship": message})


def _placement(actor: User, customer_data: dict[str, Any], to_pool: bool) -> dict[str, Any]:
    """Where the new file goes: an RM's own book or own unit's pool; for a lead or head, an RM or a unit of theirs."""
    data = dict(customer_data)
    status = data.pop("status", LifecycleStatus.PROSPECT)
    if status != LifecycleStatus.PROSPECT:
        raise ValidationError({"status": _("A new prospect starts as a prospect; its score makes it a target.")})
    data["status"] = LifecycleStatus.PROSPECT
    if actor.role == Role.RM:
        for name in ("primary_rm", "owning_unit"):
            if data.get(name) is not None and getattr(data[name], "pk", None) != getattr(
                actor if name == "primary_rm" else actor.unit, "pk", None
            ):
                raise ValidationError({name: _("You register prospects into your own book or your own unit's pool.")})
        data["primary_rm"] = None if to_pool else actor
        data["owning_unit"] = actor.unit
    elif to_pool:
        if data.get("primary_rm") is not None:
            raise ValidationError({"primary_rm": _("A prospect put into the pool has no RM yet.")})
        if data.get("owning_unit") is None:
            raise ValidationError({"owning_unit": _("Choose the unit whose pool receives the prospect.")})
        data["primary_rm"] = None
    elif data.get("primary_rm") is None:
        raise ValidationError({"primary_rm": _("Choose the RM who develops the prospect, or put it into a pool.")})
    return data


@transaction.atomic
def register_prospect(
    *,
    actor: User,
    customer_data: dict[str, Any],
    source: int,
    source_detail: str = "",
    referring_customer: Customer | None = None,
    referring_relationship: Relationship | None = None,
    to_pool: bool = False,
    allow_similar: bool = False,
) -> Prospect:
    """File a newly found firm as a prospect, in the actor's book or a pool, after checking it is not on file."""
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    _check_referral(actor, source, referring_customer, referring_relationship)
    data = _placement(actor, customer_data, to_pool)
    _check_credit_code(actor, data.get("credit_code"))
    if not allow_similar:
        _check_similar(actor, data.get("name"), data.get("region", ""))
    customer = create_customer(actor=actor, data=data)
    now = timezone.now()
    prospect = Prospect(
        customer=customer,
        source=source,
        source_detail=(source_detail or "").strip(),
        found_by=actor,
        found_on=timezone.localdate(now),
        referring_customer=referring_customer,
        referring_relationship=referring_relationship,
        stage=Stage.IDENTIFIED,
        stage_changed_at=now,
    )
    prospect.full_clean(exclude=["customer"])
    prospect.save()
    StageChange.objects.create(
        prospect=prospect, from_stage="", to_stage=Stage.IDENTIFIED, changed_at=now, changed_by=actor
    )
    record(
        actor=actor,
        action="prospect.register",
        obj=prospect,
        customer_id=customer.pk,
        changes={
            "source": source,
            "source_detail": prospect.source_detail,
            "referring_customer": referring_customer.pk if referring_customer else None,
            "pool": customer.primary_rm_id is None,
            "similar_allowed": allow_similar,
        },
    )
    return prospect


def _prospect_to_merge(actor: User, prospect_id: int) -> Prospect:
    prospect = prospect_to_change(actor, prospect_id, "customer__primary_rm")
    if prospect.stage == Stage.WON or prospect.customer.status not in POOL_STATUSES:
        raise ValidationError(
            {
                "merge_id": _("Only prospects can be merged; %(name)s is a customer already.")
                % {"name": prospect.customer.name}
            }
        )
    return prospect


def _move_records(actor: User, keep: Prospect, gone: Prospect) -> dict[str, int]:
    """Re-point what the merged file holds to the kept one; what the kept one already has stays readable on the
    merged file (its ratings of the same items, its statements of the same years, links to the kept firm)."""
    kept, merged = keep.customer, gone.customer
    moved: dict[str, int] = {}
    moved["stage_changes"] = StageChange.objects.filter(prospect=gone).update(prospect=keep)
    # A pool prospect's pending claim cannot follow: the kept file may have its own, and only one may be pending.
    pending = list(Claim.objects.filter(prospect=gone, status=ClaimStatus.PENDING).values_list("pk", flat=True))
    Claim.objects.filter(pk__in=pending).update(
        status=ClaimStatus.WITHDRAWN,
        decided_at=timezone.now(),
        note=(_("Merged into %(name)s") % {"name": kept.name})[:200],
    )
    for claim_id in pending:
        close_source_tasks(
            actor=actor,
            kind=TaskKind.CLAIM_APPROVAL,
            source_type=CLAIM_SOURCE,
            source_id=str(claim_id),
            status=TaskStatus.CANCELLED,
        )
    moved["claims"] = Claim.objects.filter(prospect=gone).update(prospect=keep)
    rated = ItemRating.objects.filter(prospect=keep).values("characteristic")
    moved["ratings"] = ItemRating.objects.filter(prospect=gone).exclude(characteristic__in=rated).update(prospect=keep)
    close_source_tasks(
        actor=actor,
        kind=TaskKind.FIRST_CONTACT,
        source_type=PROSPECT_SOURCE,
        source_id=str(gone.pk),
        status=TaskStatus.CANCELLED,
    )
    moved["tasks"] = Task.objects.filter(customer=merged).update(customer=kept)
    moved["key_persons"] = KeyPerson.objects.filter(customer=merged).update(customer=kept)
    moved["documents"] = Document.objects.filter(customer=merged).update(customer=kept)
    years = FinancialStatement.objects.filter(customer=kept).values("year")
    moved["financial_statements"] = (
        FinancialStatement.objects.filter(customer=merged).exclude(year__in=years).update(customer=kept)
    )
    moved["relationships"] = (
        Relationship.objects.filter(customer=merged).exclude(counterparty=kept).update(customer=kept)
    )
    moved["inbound_relationships"] = (
        Relationship.objects.filter(counterparty=merged).exclude(customer=kept).update(counterparty=kept)
    )
    moved["referred_prospects"] = Prospect.objects.filter(referring_customer=merged).update(referring_customer=kept)
    return moved


@transaction.atomic
def merge_prospects(*, actor: User, keep_id: int, merge_id: int, reason: str) -> Prospect:
    """Fold a second file of the same firm into the kept one: its history, claims, ratings, tasks, people,
    relationships and documents move over, and the merged file is archived, pointing at the kept one."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the two files are the same firm.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason within 200 characters.")})
    if keep_id == merge_id:
        raise ValidationError({"merge_id": _("Choose two different prospects.")})
    # Lock in id order, so that two merges of the same pair cannot wait on each other.
    first, second = sorted((keep_id, merge_id))
    locked = {pk: _prospect_to_merge(actor, pk) for pk in (first, second)}
    keep, gone = locked[keep_id], locked[merge_id]
    if actor.role == Role.RM and keep.customer.primary_rm_id != gone.customer.primary_rm_id:
        raise ValidationError(
            {"merge_id": _("The two prospects are held by different RMs: their team lead must merge them.")}
        )
    moved = _move_records(actor, keep, gone)
    kept, merged = keep.customer, gone.customer
    now = timezone.now()
    merged.archived_at = now
    merged.version += 1
    merged.save(update_fields=["archived_at", "version", "updated_at"])
    gone.merged_into = kept
    gone.version += 1
    gone.save(update_fields=["merged_into", "version", "updated_at"])
    keep.version += 1
    if moved["ratings"]:
        keep.scorecard_version = 0  # its score no longer matches its ratings: stale, re-scored lazily
    keep.save(update_fields=["version", "scorecard_version", "updated_at"])
    record(
        actor=actor,
        action="prospect.merge",
        obj=keep,
        customer_id=kept.pk,
        changes={"merged": merged.pk, "merged_name": merged.name, "reason": reason, "moved": moved},
    )
    record(
        actor=actor,
        action="prospect.merged_into",
        obj=gone,
        customer_id=merged.pk,
        changes={"merged_into": kept.pk, "kept_name": kept.name, "reason": reason},
    )
    record(actor=actor, action="customer.archive", obj=merged, customer_id=merged.pk, changes={"reason": reason})
    holder = merged.primary_rm
    if holder is not None and holder.pk not in (actor.pk, kept.primary_rm_id):
        notify(
            recipient=holder,
            text=_("%(name)s was merged into %(kept)s by %(actor)s: %(reason)s")
            % {"name": merged.name, "kept": kept.name, "actor": actor.display_name, "reason": reason},
            customer=kept,
        )
    return keep
