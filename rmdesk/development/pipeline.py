"""The development pipeline: 识别 → 接触 → 拜访 → 方案 → 开户/签约 (a real customer) or 放弃 (dropped)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.audit.services import record
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.services import update_customer
from rmdesk.development.choices import OPEN_STAGES, Stage
from rmdesk.development.lookups import prospect_to_change
from rmdesk.development.models import Prospect, StageChange
from rmdesk.development.pool import DECIDER_ROLES, PROSPECT_SOURCE, pool_for
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.services import close_source_tasks

# Forward order of the open stages; a move may skip stages but never go back (except a lead's reopening).
_ORDER: dict[str, int] = {stage.value: n for n, stage in enumerate(OPEN_STAGES)}


def days_in_stage(prospect: Prospect, today: date) -> int:
    """Whole days the prospect has been in its current stage, counted in the bank's time zone."""
    return max(0, (today - timezone.localdate(prospect.stage_changed_at)).days)


def _prospect_to_work(actor: User, prospect_id: int) -> Prospect:
    """A held prospect the actor may change (primary RM, co-RM, or a lead or head over it), locked."""
    try:
        prospect: Prospect | None = prospect_to_change(actor, prospect_id)
    except NotFoundError:
        # An RM may not change a pool prospect, but may claim it: say so rather than "not found".
        if not pool_for(actor).filter(pk=prospect_id).exists():
            raise
        prospect = None
    if prospect is None or prospect.customer.primary_rm_id is None:
        raise ValidationError({"to_stage": _("This prospect is in the pool: claim it before working it.")})
    return prospect


def _check_move(actor: User, prospect: Prospect, to_stage: str, won_evidence: str, drop_reason: str) -> None:
    if to_stage not in Stage.values:
        raise ValidationError({"to_stage": _("Choose one of the pipeline stages.")})
    current = prospect.stage
    if to_stage == current:
        raise ValidationError({"to_stage": _("The prospect is already in this stage.")})
    if current == Stage.WON:
        raise ValidationError({"to_stage": _("A won prospect is a customer now; its pipeline is closed.")})
    if current == Stage.DROPPED:
        if to_stage != Stage.IDENTIFIED:
            raise ValidationError({"to_stage": _("A dropped prospect can only be reopened, at the first stage.")})
        if actor.role not in DECIDER_ROLES:
            raise ValidationError({"to_stage": _("Only a team lead or branch head can reopen a dropped prospect.")})
    elif to_stage in _ORDER and _ORDER[to_stage] < _ORDER[current]:
        raise ValidationError({"to_stage": _("A prospect moves forward only; it cannot go back a stage.")})
    if to_stage == Stage.WON and not won_evidence:
        raise ValidationError(
            {"won_evidence": _("Give the account number opened or the signed product or contract reference.")}
        )
    if to_stage == Stage.DROPPED and not drop_reason:
        raise ValidationError({"drop_reason": _("Say why the prospect is dropped.")})


@transaction.atomic
def move_stage(
    *,
    actor: User,
    prospect_id: int,
    version: int,
    to_stage: str,
    note: str = "",
    won_evidence: str = "",
    drop_reason: str = "",
) -> Prospect:
    """Move a prospect along the pipeline; WON makes it a real customer, DROPPED needs a reason."""
    prospect = _prospect_to_work(actor, prospect_id)
    if prospect.version != version:
        raise ConflictError()
    won_evidence, drop_reason, note = (won_evidence or "").strip(), (drop_reason or "").strip(), (note or "").strip()
    _check_move(actor, prospect, to_stage, won_evidence, drop_reason)
    from_stage = prospect.stage
    now = timezone.now()
    prospect.stage = to_stage
    prospect.stage_changed_at = now
    if to_stage == Stage.WON:
        prospect.won_evidence = won_evidence
    # Reopening clears the old reason: the constraint asks a reason of dropped prospects only.
    prospect.drop_reason = drop_reason if to_stage == Stage.DROPPED else ""
    if from_stage == Stage.IDENTIFIED:
        prospect.contact_due = None  # first contact made (or the prospect dropped): the claim cannot lapse now
    prospect.version += 1
    prospect.full_clean(exclude=["customer", "found_by", "referring_customer", "referring_relationship"])
    prospect.save()
    change = StageChange(
        prospect=prospect, from_stage=from_stage, to_stage=to_stage, changed_at=now, changed_by=actor, note=note
    )
    change.full_clean(exclude=["prospect", "changed_by"])
    change.save()
    changes: dict[str, object] = {"stage": [from_stage, to_stage]}
    if note:
        changes["note"] = note
    if to_stage == Stage.WON:
        changes["won_evidence"] = won_evidence
    if to_stage == Stage.DROPPED:
        changes["drop_reason"] = drop_reason
    record(actor=actor, action="prospect.stage", obj=prospect, customer_id=prospect.customer_id, changes=changes)
    if from_stage == Stage.IDENTIFIED:
        close_source_tasks(
            actor=actor,
            kind=TaskKind.FIRST_CONTACT,
            source_type=PROSPECT_SOURCE,
            source_id=str(prospect.pk),
            status=TaskStatus.CANCELLED if to_stage == Stage.DROPPED else TaskStatus.DONE,
        )
    if to_stage == Stage.WON:
        customer = prospect.customer
        prospect.customer = update_customer(
            actor=actor,
            customer_id=customer.pk,
            version=customer.version,
            data={"status": LifecycleStatus.CUSTOMER},
        )
    return prospect
