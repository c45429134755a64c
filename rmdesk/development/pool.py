"""The prospect pool 公海: prospects no RM holds yet, claims on them, and claims that lapse back into the pool.

A prospect waits in its owning unit's pool while its customer has no primary RM. An RM claims it (at once, or
through the team lead when the unit's rule says so) and must make first contact within the rule's working days;
a claim still at 识别 after that goes back to the pool by itself (`release_lapsed_claims`, run daily).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action, scope_for
from rmdesk.audit.services import record
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.core.workdays import add_working_days
from rmdesk.customers import search_index
from rmdesk.customers.assignment import assignable_rms as subtree_rms
from rmdesk.customers.models import POOL_STATUSES, Customer, CustomerCoRM
from rmdesk.development.choices import OPEN_STAGES, ClaimStatus, Stage
from rmdesk.development.lookups import prospect_to_change
from rmdesk.development.models import Claim, PoolRule, Prospect
from rmdesk.org.choices import Role
from rmdesk.org.models import OrgUnit, User
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.tasks.services import close_source_tasks, create_task, notify

# What tasks raised here point back at (Task.source_type).
PROSPECT_SOURCE = "development.prospect"
CLAIM_SOURCE = "development.claim"
# Working days a team lead has to decide a claim before the task shows as overdue.
DECISION_DAYS = 2
DECIDER_ROLES = (Role.TEAM_LEAD, Role.BRANCH_HEAD)


def _ancestor_paths(unit: OrgUnit) -> list[str]:
    """The unit's path and its ancestors' paths, nearest first: /HO/BR1/T1/, /HO/BR1/, /HO/."""
    codes = [code for code in unit.path.split("/") if code]
    return ["/" + "/".join(codes[:n]) + "/" for n in range(len(codes), 0, -1)]


def pool_rule(unit: OrgUnit) -> PoolRule:
    """The rule of the unit's pool: its own, or the nearest unit above that has one, or the bank's defaults."""
    rule = (
        PoolRule.objects.filter(unit__path__in=_ancestor_paths(unit))
        .order_by(Length("unit__path").desc())
        .select_related("unit")
        .first()
    )
    return rule if rule is not None else PoolRule(unit=unit)


def pool_for(user: User) -> QuerySet[Prospect]:
    """The prospects waiting in the pools the user may claim from (an RM's: their unit's and those above it)."""
    return Prospect.objects.restrict(user, Action.CLAIM).filter(
        customer__primary_rm__isnull=True,
        customer__archived_at__isnull=True,
        merged_into__isnull=True,
        stage__in=OPEN_STAGES,
    )


def deciders(unit: OrgUnit) -> list[User]:
    """Who decides about a unit's pool: its team lead(s), else the heads of the nearest unit above that has one."""
    paths = _ancestor_paths(unit)
    users = list(
        User.objects.filter(unit__path__in=paths, role__in=DECIDER_ROLES, is_active=True)
        .select_related("unit")
        .order_by("pk")
    )
    for path in paths:
        here = [user for user in users if user.unit is not None and user.unit.path == path]
        if here:
            return here
    return []


def _pool_units_q(actor: User) -> Q | None:
    """The prospects whose pool the actor could claim from, whoever holds them now (None: no pool at all)."""
    scope = scope_for(actor, Action.CLAIM)
    if scope.pool_units:
        return Q(customer__owning_unit_id__in=scope.pool_units)
    if scope.unit_path is not None:
        return Q(customer__owning_unit__path__startswith=scope.unit_path)
    return None


def _taken_error(actor: User, prospect_id: int) -> Exception:
    """Why a prospect of the actor's pools is not claimable any more, naming who has it (else: not found)."""
    in_reach = _pool_units_q(actor)
    prospect = None
    if in_reach is not None:
        prospect = Prospect.objects.filter(in_reach, pk=prospect_id).select_related("customer__primary_rm").first()
    if prospect is None:
        return NotFoundError()
    holder = prospect.customer.primary_rm
    if holder is not None and holder.pk == actor.pk:
        return ValidationError({"prospect": _("You already hold this prospect.")})
    if holder is not None:
        return ConflictError(_("%(name)s has already claimed this prospect.") % {"name": holder.display_name})
    return ValidationError({"prospect": _("This prospect is no longer open for claims.")})


def _pending_error(actor: User, pending: Claim) -> Exception:
    if pending.rm_id == actor.pk:
        return ValidationError({"prospect": _("You have already applied for this prospect; the team lead decides.")})
    return ConflictError(
        _("%(name)s has already applied to claim this prospect; the team lead decides.")
        % {"name": pending.rm.display_name}
    )


def take_from_pool(*, customer_id: int, rm: User) -> bool:
    """Make `rm` the primary RM if the customer still waits in the pool, in one conditional UPDATE.

    Two RMs claiming at once both get here; the database lets exactly one UPDATE match (on PostgreSQL the second
    waits for the first to commit and then finds primary_rm set), so no claim overwrites another.
    """
    taken = Customer.objects.filter(pk=customer_id, primary_rm__isnull=True, archived_at__isnull=True).update(
        primary_rm=rm, version=F("version") + 1, updated_at=timezone.now()
    )
    return taken == 1


def _assign(*, actor: User | None, prospect: Prospect, rm: User, rule: PoolRule) -> None:
    """Hand a pool prospect to `rm` with a first-contact deadline and task; ConflictError if someone was faster."""
    if not take_from_pool(customer_id=prospect.customer_id, rm=rm):
        raise _taken_error(rm, prospect.pk)
    now = timezone.now()
    today = timezone.localdate(now)
    prospect.claimed_at = now
    prospect.contact_due = add_working_days(today, rule.contact_days)
    prospect.version += 1
    prospect.save(update_fields=["claimed_at", "contact_due", "version", "updated_at"])
    customer = prospect.customer
    customer.refresh_from_db(fields=["primary_rm", "version", "updated_at"])
    record(
        actor=actor,
        action="prospect.assign",
        obj=prospect,
        customer_id=customer.pk,
        changes={"primary_rm": [None, rm.username], "contact_due": [None, prospect.contact_due]},
    )
    create_task(
        actor=actor,
        owner=rm,
        title=_("First contact with %(name)s") % {"name": customer.name},
        due_date=prospect.contact_due,
        kind=TaskKind.FIRST_CONTACT,
        customer=customer,
        priority=Priority.HIGH,
        source_type=PROSPECT_SOURCE,
        source_id=str(prospect.pk),
    )


@transaction.atomic
def claim(*, actor: User, prospect_id: int, version: int | None = None) -> Claim:
    """An RM takes a prospect from a pool: at once, or as a pending claim when the unit's rule needs approval."""
    prospect = pool_for(actor).select_related("customer__owning_unit").filter(pk=prospect_id).first()
    if prospect is None:
        raise _taken_error(actor, prospect_id)
    if actor.role != Role.RM:
        raise ValidationError({"prospect": _("Only an RM claims prospects; a team lead assigns them to an RM.")})
    if version is not None and prospect.version != version:
        raise ConflictError()
    pending = Claim.objects.filter(prospect=prospect, status=ClaimStatus.PENDING).select_related("rm").first()
    if pending is not None:
        raise _pending_error(actor, pending)
    rule = pool_rule(prospect.customer.owning_unit)
    customer = prospect.customer
    if rule.approval_required:
        request = Claim(prospect=prospect, rm=actor, status=ClaimStatus.PENDING)
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            # Another RM's pending claim reached the one-pending-claim index first.
            first = Claim.objects.filter(prospect=prospect, status=ClaimStatus.PENDING).select_related("rm").first()
            if first is None:
                raise
            raise _pending_error(actor, first) from None
        record(actor=actor, action="prospect.claim_request", obj=request, customer_id=customer.pk)
        due = add_working_days(timezone.localdate(), DECISION_DAYS)
        for lead in deciders(customer.owning_unit):
            # Raised by the system on the RM's behalf: the RM may not change a pool customer, the lead may.
            create_task(
                actor=None,
                owner=lead,
                title=_("Decide %(rm)s's claim on %(name)s") % {"rm": actor.display_name, "name": customer.name},
                due_date=due,
                kind=TaskKind.CLAIM_APPROVAL,
                customer=customer,
                source_type=CLAIM_SOURCE,
                source_id=str(request.pk),
            )
        return request
    granted = _grant(actor=actor, prospect=prospect, rm=actor, rule=rule)
    record(actor=actor, action="prospect.claim", obj=granted, customer_id=customer.pk)
    return granted


def _grant(*, actor: User, prospect: Prospect, rm: User, rule: PoolRule, note: str = "") -> Claim:
    """Hand the prospect to `rm` and keep the granted claim on its file (decided by the actor unless it is `rm`)."""
    _assign(actor=actor, prospect=prospect, rm=rm, rule=rule)
    granted = Claim(
        prospect=prospect,
        rm=rm,
        status=ClaimStatus.APPROVED,
        decided_by=None if actor.pk == rm.pk else actor,
        decided_at=prospect.claimed_at,
        note=note,
    )
    granted.save()
    return granted


def assignable_rms(actor: User) -> QuerySet[User]:
    """The active RMs a team lead or branch head may give pool prospects to: those of their unit subtree."""
    if actor.role not in DECIDER_ROLES:
        return User.objects.none()
    return subtree_rms(actor)


@transaction.atomic
def assign(*, actor: User, prospect_id: int, rm_id: int, version: int | None = None) -> Prospect:
    """A team lead or branch head gives a prospect of their pools to an active RM of their subtree, as if the RM's
    claim had been approved: first-contact deadline, task and notice."""
    if actor.role not in DECIDER_ROLES:
        raise NotFoundError()
    prospect = pool_for(actor).select_related("customer__owning_unit").filter(pk=prospect_id).first()
    if prospect is None:
        raise _taken_error(actor, prospect_id)
    rm = assignable_rms(actor).filter(pk=rm_id).first()
    if rm is None:
        raise ValidationError({"rm": _("Choose an active RM of your unit.")})
    if version is not None and prospect.version != version:
        raise ConflictError()
    pending = Claim.objects.filter(prospect=prospect, status=ClaimStatus.PENDING).select_related("rm").first()
    if pending is not None:
        # Assigning over a pending claim would leave that RM's application hanging: decide it first.
        raise ValidationError(
            {
                "prospect": _("%(name)s has applied to claim this prospect; approve or reject that claim first.")
                % {"name": pending.rm.display_name}
            }
        )
    customer = prospect.customer
    granted = _grant(actor=actor, prospect=prospect, rm=rm, rule=pool_rule(customer.owning_unit))
    record(
        actor=actor,
        action="prospect.claim_assign",
        obj=granted,
        customer_id=customer.pk,
        changes={"rm": rm.username},
    )
    notify(
        recipient=rm,
        text=_("%(lead)s gave you %(name)s; first contact is due by %(due)s.")
        % {"lead": actor.display_name, "name": customer.name, "due": prospect.contact_due},
        customer=customer,
    )
    return prospect


def _pending_claim_for_decision(actor: User, claim_id: int) -> Claim:
    """A pending claim in the subtree of the team lead or branch head deciding it (else not found)."""
    if actor.role not in DECIDER_ROLES:
        raise NotFoundError()
    found = (
        Claim.objects.restrict(actor, Action.CLAIM)
        .select_for_update(of=("self",))
        .select_related("rm", "prospect__customer__owning_unit")
        .filter(pk=claim_id)
        .first()
    )
    if found is None:
        raise NotFoundError()
    if found.status != ClaimStatus.PENDING:
        raise ValidationError({"claim": _("This claim has already been decided or withdrawn.")})
    return found


def _decide(*, actor: User, request: Claim, status: str, note: str) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.note = note
    request.full_clean(exclude=["prospect", "rm", "decided_by"])
    request.save(update_fields=["status", "decided_by", "decided_at", "note", "updated_at"])
    close_source_tasks(
        actor=actor,
        kind=TaskKind.CLAIM_APPROVAL,
        source_type=CLAIM_SOURCE,
        source_id=str(request.pk),
        status=TaskStatus.DONE if status != ClaimStatus.WITHDRAWN else TaskStatus.CANCELLED,
    )


@transaction.atomic
def approve_claim(*, actor: User, claim_id: int, note: str = "") -> Claim:
    """The team lead grants a pending claim: the RM gets the prospect and its first-contact deadline."""
    request = _pending_claim_for_decision(actor, claim_id)
    prospect = request.prospect
    if prospect.merged_into_id is not None or prospect.stage not in OPEN_STAGES:
        raise ValidationError({"claim": _("This prospect is no longer open for claims.")})
    _decide(actor=actor, request=request, status=ClaimStatus.APPROVED, note=(note or "").strip())
    _assign(actor=actor, prospect=prospect, rm=request.rm, rule=pool_rule(prospect.customer.owning_unit))
    record(actor=actor, action="prospect.claim_approve", obj=request, customer_id=prospect.customer_id)
    notify(
        recipient=request.rm,
        text=_("Your claim on %(name)s was approved; first contact is due by %(due)s.")
        % {"name": prospect.customer.name, "due": prospect.contact_due},
        customer=prospect.customer,
    )
    return request


@transaction.atomic
def reject_claim(*, actor: User, claim_id: int, note: str) -> Claim:
    """The team lead turns a pending claim down, saying why; the prospect stays in the pool."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the claim is rejected.")})
    request = _pending_claim_for_decision(actor, claim_id)
    _decide(actor=actor, request=request, status=ClaimStatus.REJECTED, note=note)
    customer = request.prospect.customer
    record(actor=actor, action="prospect.claim_reject", obj=request, customer_id=customer.pk, changes={"note": note})
    notify(
        recipient=request.rm,
        text=_("Your claim on %(name)s was rejected: %(note)s") % {"name": customer.name, "note": note},
        customer=customer,
    )
    return request


@transaction.atomic
def withdraw_claim(*, actor: User, claim_id: int) -> Claim:
    """The RM takes back their own pending claim."""
    request = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("prospect__customer")
        .filter(pk=claim_id, rm=actor)
        .first()
    )
    if request is None:
        raise NotFoundError()
    if request.status != ClaimStatus.PENDING:
        raise ValidationError({"claim": _("Only a claim awaiting the team lead can be withdrawn.")})
    request.status = ClaimStatus.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at", "updated_at"])
    close_source_tasks(
        actor=actor,
        kind=TaskKind.CLAIM_APPROVAL,
        source_type=CLAIM_SOURCE,
        source_id=str(request.pk),
        status=TaskStatus.CANCELLED,
    )
    record(actor=actor, action="prospect.claim_withdraw", obj=request, customer_id=request.prospect.customer_id)
    return request


def _return_to_pool(*, actor: User | None, prospect: Prospect, action: str, changes: dict[str, Any]) -> None:
    """Put a held prospect back into its owning unit's pool: no RM, no co-RMs, no deadline, no first-contact task."""
    customer = Customer.objects.select_for_update().get(pk=prospect.customer_id)
    if customer.status not in POOL_STATUSES:
        raise ValidationError({"prospect": _("Only a prospect or target can go back to the pool.")})
    holder = customer.primary_rm
    co_rms = list(
        CustomerCoRM.objects.filter(customer=customer)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    CustomerCoRM.objects.filter(customer=customer).delete()
    customer.primary_rm = None
    customer.version += 1
    customer.save(update_fields=["primary_rm", "version", "updated_at"])
    if co_rms:
        search_index.index_customer(customer, co_rm_units=())  # the co-RMs' units no longer find it
    contact_due = prospect.contact_due
    prospect.claimed_at = None
    prospect.contact_due = None
    prospect.version += 1
    prospect.save(update_fields=["claimed_at", "contact_due", "version", "updated_at"])
    close_source_tasks(
        actor=actor,
        kind=TaskKind.FIRST_CONTACT,
        source_type=PROSPECT_SOURCE,
        source_id=str(prospect.pk),
        status=TaskStatus.CANCELLED,
    )
    record(
        actor=actor,
        action=action,
        obj=prospect,
        customer_id=customer.pk,
        changes={
            "primary_rm": [holder.username if holder else None, None],
            "co_rms_removed": co_rms,
            "contact_due": [contact_due, None],
            **changes,
        },
    )
    prospect.customer = customer


@transaction.atomic
def release(*, actor: User, prospect_id: int, reason: str) -> Prospect:
    """The primary RM (or their team lead) gives a prospect back to the pool, saying why."""
    prospect = prospect_to_change(actor, prospect_id)
    if prospect.customer.primary_rm_id is None:
        raise ValidationError({"prospect": _("This prospect is already in the pool.")})
    if actor.role == Role.RM and prospect.customer.primary_rm_id != actor.pk:
        raise ValidationError({"prospect": _("Only the primary RM or the team lead can put a prospect back.")})
    if prospect.stage not in OPEN_STAGES:
        raise ValidationError({"prospect": _("A won or dropped prospect cannot go back to the pool.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the prospect goes back to the pool.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason within 200 characters.")})
    _return_to_pool(actor=actor, prospect=prospect, action="prospect.release", changes={"reason": reason})
    return prospect


def lapsed(today: date) -> QuerySet[Prospect]:
    """Held prospects still at 识别 whose first-contact deadline has passed by `today`."""
    return Prospect.objects.filter(
        stage=Stage.IDENTIFIED,
        contact_due__lt=today,
        customer__primary_rm__isnull=False,
        customer__archived_at__isnull=True,
        merged_into__isnull=True,
    )


def release_lapsed_claims(today: date) -> int:
    """Send every claim not worked in time back to the pool, with a notice to the RM and a review task for the
    team lead; one transaction per prospect, so a run stopped halfway resumes where it was. Returns how many."""
    released = 0
    for prospect_id in lapsed(today).order_by("pk").values_list("pk", flat=True):
        with transaction.atomic():
            prospect = (
                lapsed(today)
                .select_for_update(of=("self",))
                .select_related("customer__primary_rm", "customer__owning_unit")
                .filter(pk=prospect_id)
                .first()
            )
            if prospect is None:
                continue  # contacted or released meanwhile
            rm = prospect.customer.primary_rm
            due = prospect.contact_due
            assert rm is not None and due is not None  # the query above guarantees both
            _return_to_pool(actor=None, prospect=prospect, action="prospect.claim_lapse", changes={"on": today})
            _after_lapse(prospect=prospect, rm=rm, due=due, today=today)
            released += 1
    return released


def _after_lapse(*, prospect: Prospect, rm: User, due: date, today: date) -> None:
    customer = prospect.customer
    # A batch job has no reader: the notice and tasks are written in the bank's language.
    with translation.override(settings.LANGUAGE_CODE):
        notify(
            recipient=rm,
            text=_("Your claim on %(name)s lapsed without a first contact by %(due)s and went back to the pool.")
            % {"name": customer.name, "due": due},
            customer=customer,
        )
        for lead in deciders(customer.owning_unit):
            open_review = Task.objects.filter(
                kind=TaskKind.CLAIM_REVIEW,
                source_type=PROSPECT_SOURCE,
                source_id=str(prospect.pk),
                owner=lead,
                status=TaskStatus.OPEN,
            )
            if open_review.exists():
                continue
            create_task(
                actor=None,
                owner=lead,
                title=_("%(rm)s's claim on %(name)s lapsed: review it")
                % {"rm": rm.display_name, "name": customer.name},
                due_date=today,
                kind=TaskKind.CLAIM_REVIEW,
                customer=customer,
                source_type=PROSPECT_SOURCE,
                source_id=str(prospect.pk),
            )
