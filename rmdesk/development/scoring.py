"""The target scorecard on the archive: rating items, scoring prospects, head office's settings, bulk re-scoring.

The arithmetic is the pure kernel `scorecard`; this module reads its inputs from the archive, keeps each
prospect's ratings and score, and says in the user's language what decided each rating. Scores are derived data:
they go stale when head office changes the scorecard (its `version` rises) and are recomputed when next read
(`score_of`) or by `rmdesk rescore-prospects`; neither is audited. What people do — rating an item, moving a
prospect to target, changing the scorecard — is.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rmdesk.audit.services import diff, record
from rmdesk.core import reference
from rmdesk.core.errors import ConflictError, DomainError
from rmdesk.customers.choices import Direction, LifecycleStatus, RelationshipKind
from rmdesk.customers.models import POOL_STATUSES, Customer, FinancialStatement, Relationship
from rmdesk.customers.services import update_customer
from rmdesk.development import scorecard as kernel
from rmdesk.development.choices import OPEN_STAGES, Characteristic, RatingOrigin
from rmdesk.development.lookups import prospect_to_change
from rmdesk.development.models import ItemRating, Prospect, Scorecard, ScorecardItem
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import User

REASON_MAX = 200
RESCORE_BATCH = 2000
# A batch is read with `IN (…)` lists; SQLite's limit on parameters is 32,766.
RESCORE_BATCH_MAX = 20_000
WEIGHT_MAX = Decimal("999.99")


class HeadOfficeOnly(DomainError):
    """The scorecard is the bank's policy: only head office changes it (it is no secret, so no 404)."""

    code = "forbidden"
    status = 403

    def __init__(self) -> None:
        super().__init__(gettext_lazy("Only head office can change the target scorecard."))


# --- the scorecard as loaded ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """The bank's scorecard settings at one version, ready for the kernel."""

    version: int
    threshold: Decimal
    items: tuple[kernel.Item, ...]
    policy: kernel.Policy
    prepared: kernel.Card

    def item(self, characteristic: int) -> kernel.Item | None:
        return next((i for i in self.items if i.characteristic == characteristic), None)

    @functools.cached_property
    def data_max(self) -> dict[int, int]:
        """The top of the scale of each data-decided item."""
        return {i.characteristic: i.max_rating for i in self.items if i.characteristic in kernel.DATA_ITEMS}


def load_card(*, lock: bool = False) -> Card:
    """The scorecard now. `lock` holds its row until the transaction ends: every writer of ratings and scores takes
    it first (then the prospect, then the customer), so that they never interleave with each other nor with a change
    of the scorecard, and never deadlock (on SQLite every write transaction is serial anyway)."""
    queryset = Scorecard.objects.order_by("pk")
    if lock:
        queryset = queryset.select_for_update()
    row = queryset.first()
    if row is None:  # the migration creates it; a database without it is broken, not a user error
        raise RuntimeError("the target scorecard is missing: run `rmdesk migrate`")
    items = tuple(
        kernel.Item(characteristic, weight, max_rating)
        for characteristic, weight, max_rating in ScorecardItem.objects.order_by("characteristic").values_list(
            "characteristic", "weight", "max_rating"
        )
    )
    policy = kernel.Policy(
        credit_scale=tuple(settings.CREDIT_RATING_SCALE),
        encouraged_industries=frozenset(row.encouraged_industries),
        promising_regions=tuple(row.promising_regions),
    )
    return Card(row.version, row.threshold, items, policy, kernel.Card(items))


# --- what decided a rating, in words ----------------------------------------------------------------------------


@functools.cache
def _division(code: str, language: str) -> str:
    return reference.division_label(code)


@functools.cache
def _city(code: str, language: str) -> str:
    return reference.city_label(code)


@functools.cache
def _region_entry_label(entry: str, language: str) -> str:
    """A promising-region entry in words: a province (2 digits) by its name, a city (4 or 6 digits) by its own."""
    if len(entry) == 2:
        province = next((p for p in reference.regions() if p.code.startswith(entry)), None)
        return reference.province_name(province) if province is not None else entry
    return _city(entry.ljust(6, "0"), language)


@functools.cache
def _bands(language: str) -> dict[str, str]:
    """The kernel's bands in words, once per language (the bulk re-score names two per prospect)."""
    return {"good": _("good"), "fair": _("fair"), "poor": _("poor")}


def explain(auto: kernel.AutoRating) -> str:
    """What in the archive decided a rating, e.g. "内部评级 AA" or "资产负债率 45.2%,营收增长 12.0%"."""
    facts = auto.facts
    language = translation.get_language() or ""
    if isinstance(facts, kernel.CreditFacts):
        return _("Internal credit rating %(grade)s") % {"grade": facts.grade}
    if isinstance(facts, kernel.FinanceFacts):
        values = {
            "year": facts.year,
            "debt": kernel.percent(facts.debt_ratio),
            "debt_band": _bands(language)[facts.debt_band],
        }
        if facts.revenue_growth is None or facts.growth_band is None:
            return _("Debt ratio %(debt)s%% (%(debt_band)s) in %(year)s; no revenue of the year before") % values
        values.update(growth=kernel.percent(facts.revenue_growth), growth_band=_bands(language)[facts.growth_band])
        return (
            _("Debt ratio %(debt)s%% (%(debt_band)s), revenue growth %(growth)s%% (%(growth_band)s) in %(year)s")
            % values
        )
    if isinstance(facts, kernel.IndustryFacts):
        industry = _division(facts.industry, language)
        if facts.encouraged:
            return _("Industry %(industry)s is on the encouraged list") % {"industry": industry}
        return _("Industry %(industry)s is not on the encouraged list") % {"industry": industry}
    if isinstance(facts, kernel.RegionFacts):
        region = _city(facts.region, language)
        if facts.matched:
            entry = _region_entry_label(facts.matched, language)
            return _("Region %(region)s is on the promising list (%(entry)s)") % {"region": region, "entry": entry}
        return _("Region %(region)s is not on the promising list") % {"region": region}
    return _("%(suppliers)s suppliers and %(buyers)s buyers on record") % {
        "suppliers": facts.suppliers,
        "buyers": facts.buyers,
    }


def silent_data_hint(characteristic: int, card: Card) -> str:
    """Why the archive did not decide a data item, so the RM knows they may rate it."""
    if characteristic == kernel.ENCOURAGED_INDUSTRY and not card.policy.encouraged_industries:
        return _("Head office lists no encouraged industries: rate it yourself.")
    if characteristic == kernel.PROMISING_REGION and not card.policy.promising_regions:
        return _("Head office lists no promising regions: rate it yourself.")
    hints = {
        kernel.ENCOURAGED_INDUSTRY: _("The customer's industry is not recorded: rate it yourself."),
        kernel.CREDIT_STANDING: _("The customer has no internal credit rating: rate it yourself."),
        kernel.FINANCIAL_STRUCTURE: _("No financial statements with total assets are on file: rate it yourself."),
        kernel.PROMISING_REGION: _("The customer's region is not recorded: rate it yourself."),
        kernel.STABLE_PARTNERS: _("No suppliers or buyers are on record: rate it yourself."),
    }
    return hints.get(characteristic, "")


# --- reading a batch of prospects and keeping their ratings -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRating:
    pk: int | None
    rating: int
    reason: str
    origin: str
    rated_by_id: int | None = None  # who and when are read only to show one prospect (`details`)
    rated_at: datetime | None = None


@dataclass
class Evaluation:
    """One prospect's ratings and score as the archive and the RM's ratings make them now."""

    prospect_id: int
    customer_id: int
    autos: dict[int, kernel.AutoRating | None]
    ratings: dict[int, StoredRating]  # what counts: data ratings where the data decides, else the RM's
    total: Decimal
    # What differs from what is stored.
    inserts: list[tuple[int, kernel.AutoRating]]
    updates: list[tuple[int, kernel.AutoRating]]  # (rating row pk, new data rating)
    deletes: list[int]  # rating rows of data items the data no longer decides
    score_stale: bool

    @property
    def changed(self) -> bool:
        return bool(self.inserts or self.updates or self.deletes or self.score_stale)


def _statements_by_customer(customer_ids: Sequence[int]) -> dict[int, list[kernel.Statement]]:
    """The two latest statements of each customer, latest first."""
    latest: dict[int, list[kernel.Statement]] = defaultdict(list)
    rows = (
        FinancialStatement.objects.filter(customer_id__in=customer_ids, archived_at__isnull=True)
        .order_by("customer_id", "-year")
        .values_list("customer_id", "year", "total_assets", "total_liabilities", "revenue")
    )
    for customer_id, year, assets, liabilities, revenue in rows:
        kept = latest[customer_id]
        if len(kept) < 2:
            kept.append(kernel.Statement(year, assets, liabilities, revenue))
    return latest


def _partners_by_customer(customer_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(suppliers, buyers) on record per customer: an inward supply link is a supplier, outward a buyer."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = (
        Relationship.objects.filter(
            kind=RelationshipKind.SUPPLY_CHAIN, customer_id__in=customer_ids, archived_at__isnull=True
        )
        .order_by()
        .values("customer_id", "direction")
        .annotate(firms=Count("counterparty_name", distinct=True))
        .values_list("customer_id", "direction", "firms")
    )
    for customer_id, direction, firms in rows:
        side = counts[customer_id]
        if direction in (Direction.INWARD, Direction.MUTUAL):
            side[0] += firms
        if direction in (Direction.OUTWARD, Direction.MUTUAL):
            side[1] += firms
    return {customer_id: (s, b) for customer_id, (s, b) in counts.items()}


def _stored_ratings(prospect_ids: Sequence[int], *, details: bool) -> dict[int, dict[int, StoredRating]]:
    stored: dict[int, dict[int, StoredRating]] = defaultdict(dict)
    columns = ["pk", "prospect_id", "characteristic", "rating", "reason", "origin"]
    rows = ItemRating.objects.filter(prospect_id__in=prospect_ids).values_list(
        *columns, *(("rated_by_id", "rated_at") if details else ())
    )
    for pk, prospect_id, characteristic, *values in rows:
        stored[prospect_id][characteristic] = StoredRating(pk, *values)
    return stored


def evaluate(prospect_ids: Sequence[int], card: Card, *, now: datetime, details: bool = False) -> list[Evaluation]:
    """Read what the archive holds on these prospects (a few queries for the whole batch) and work out their
    ratings and scores; nothing is written. `details` also reads who rated each item and when."""
    rows = list(
        Prospect.objects.filter(pk__in=prospect_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "customer__credit_rating",
            "customer__industry",
            "customer__region",
            "score",
            "scorecard_version",
        )
    )
    customer_ids = [row[1] for row in rows]
    statements = _statements_by_customer(customer_ids)
    partners = _partners_by_customer(customer_ids)
    stored = _stored_ratings([row[0] for row in rows], details=details)
    reasons: dict[kernel.AutoRating, str] = {}
    # Reasons are kept in the bank's language whoever triggers the refresh, so an unchanged one is not rewritten.
    with translation.override(settings.LANGUAGE_CODE):
        evaluations = [_evaluation(row, card, statements, partners, stored, now, reasons) for row in rows]
    return evaluations


def _evaluation(
    row: tuple[Any, ...],
    card: Card,
    statements: dict[int, list[kernel.Statement]],
    partners: dict[int, tuple[int, int]],
    stored: dict[int, dict[int, StoredRating]],
    now: datetime,
    reasons: dict[kernel.AutoRating, str],
) -> Evaluation:
    """One prospect's ratings and score from its row and the batch's archive data.

    Where the data decides an item, its rating replaces whatever is stored (an RM's rating too: rating by hand is
    only for what the data leaves open); where the data no longer decides, the old data rating goes.
    """
    prospect_id, customer_id, credit_rating, industry, region, score, version = row
    latest = statements.get(customer_id, [])
    suppliers, buyers = partners.get(customer_id, (0, 0))
    facts = kernel.ProspectFacts(
        credit_rating=credit_rating,
        industry=industry,
        region=region,
        latest=latest[0] if latest else None,
        previous=latest[1] if len(latest) > 1 else None,
        suppliers=suppliers,
        buyers=buyers,
    )
    autos = kernel.auto_ratings(facts, card.policy, card.data_max)
    kept = stored.get(prospect_id, {})
    ratings = dict(kept)
    inserts: list[tuple[int, kernel.AutoRating]] = []
    updates: list[tuple[int, kernel.AutoRating]] = []
    deletes: list[int] = []
    for characteristic, auto in autos.items():
        current = kept.get(characteristic)
        if auto is None:
            if current is not None and current.origin == RatingOrigin.DATA and current.pk is not None:
                deletes.append(current.pk)
                del ratings[characteristic]
            continue
        reason = reasons.get(auto)
        if reason is None:
            reason = reasons[auto] = explain(auto)[:REASON_MAX]
        if current is None:
            inserts.append((prospect_id, auto))
        elif current.origin != RatingOrigin.DATA or current.rating != auto.rating or current.reason != reason:
            updates.append((current.pk, auto))  # type: ignore[arg-type]  # stored rows have a pk
        else:
            continue
        ratings[characteristic] = StoredRating(None, auto.rating, reason, RatingOrigin.DATA, None, now)
    total = card.prepared.total({c: r.rating for c, r in ratings.items()})
    stale = version != card.version or score != total
    return Evaluation(prospect_id, customer_id, autos, ratings, total, inserts, updates, deletes, stale)


def _write(evaluations: Iterable[Evaluation], card: Card, now: datetime) -> None:
    """Store what `evaluate` found different: data ratings (inserted, updated, deleted) and scores, in bulk."""
    inserts: list[ItemRating] = []
    updates: list[tuple[Any, ...]] = []
    deletes: list[int] = []
    scores: list[tuple[Any, ...]] = []
    stamp = connection.ops.adapt_datetimefield_value(now)
    for evaluation in evaluations:
        for prospect_id, auto in evaluation.inserts:
            reason = evaluation.ratings[auto.characteristic].reason
            inserts.append(
                ItemRating(
                    prospect_id=prospect_id,
                    characteristic=auto.characteristic,
                    rating=auto.rating,
                    reason=reason,
                    origin=RatingOrigin.DATA,
                    rated_at=now,
                )
            )
        for pk, auto in evaluation.updates:
            reason = evaluation.ratings[auto.characteristic].reason
            updates.append((auto.rating, reason, RatingOrigin.DATA.value, stamp, pk))
        deletes.extend(evaluation.deletes)
        if evaluation.score_stale:
            scores.append((evaluation.total, card.version, evaluation.prospect_id))
    if deletes:
        ItemRating.objects.filter(pk__in=deletes).delete()
    if inserts:
        ItemRating.objects.bulk_create(inserts)
    if updates:
        rating_columns = (("rating", "smallint"), ("reason", "text"), ("origin", "text"), ("rated_at", "timestamptz"))
        _update_rows(ItemRating._meta.db_table, rating_columns, updates, also="rated_by_id = NULL")
    if scores:
        # Derived data: neither the prospect's edit version nor its updated_at moves.
        _update_rows(Prospect._meta.db_table, (("score", "numeric"), ("scorecard_version", "integer")), scores)


def _update_rows(table: str, columns: Sequence[tuple[str, str]], rows: list[tuple[Any, ...]], also: str = "") -> None:
    """`UPDATE table SET column = value, … WHERE id = …` for many rows, each row its columns' values then its id.

    On PostgreSQL one statement joins arrays of the values (`columns` give their types), since a statement per row
    costs a round trip each; SQLite runs in this process, where `executemany` is as fast.
    """
    names = [name for name, _type in columns]
    extra = f", {also}" if also else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{pg_type}[]" for _name, pg_type in columns)
            assignments = ", ".join(f"{name} = v.{name}" for name in names)
            cursor.execute(
                f"UPDATE {table} SET {assignments}{extra} FROM unnest({arrays}, %s::bigint[]) "  # noqa: S608
                f"AS v({', '.join(names)}, id) WHERE {table}.id = v.id",
                [list(values) for values in zip(*rows, strict=True)],
            )
        else:
            assignments = ", ".join(f"{name} = %s" for name in names)
            cursor.executemany(f"UPDATE {table} SET {assignments}{extra} WHERE id = %s", rows)  # noqa: S608


# --- a prospect's score, item by item ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreLine:
    """One characteristic of a prospect's scorecard, as the page explains it."""

    characteristic: int
    label: str
    weight: Decimal
    max_rating: int
    rating: int | None
    points: Decimal
    origin: str  # RatingOrigin, or "" when unrated
    reason: str  # what decided it (data), the RM's reason, or why the data is silent
    rated_by_id: int | None
    rated_at: datetime | None
    data_item: bool  # one of the items the archive can decide

    @property
    def rated(self) -> bool:
        return self.rating is not None

    @property
    def from_data(self) -> bool:
        return self.origin == RatingOrigin.DATA


@dataclass(frozen=True)
class ProspectScore:
    """A prospect's target score (0–100), how each item contributes, and the status it suggests."""

    prospect_id: int
    total: Decimal
    threshold: Decimal
    suggested_status: str  # LifecycleStatus.TARGET or PROSPECT
    scorecard_version: int
    lines: tuple[ScoreLine, ...]

    @property
    def unrated(self) -> tuple[int, ...]:
        return tuple(line.characteristic for line in self.lines if not line.rated)


def suggested_status(total: Decimal, threshold: Decimal) -> str:
    return LifecycleStatus.TARGET if kernel.meets_threshold(total, threshold) else LifecycleStatus.PROSPECT


def _result(evaluation: Evaluation, card: Card) -> ProspectScore:
    score = card.prepared.score({c: r.rating for c, r in evaluation.ratings.items()})
    lines = []
    for contribution in score.contributions:
        characteristic = contribution.characteristic
        rating = evaluation.ratings.get(characteristic)
        auto = evaluation.autos.get(characteristic)
        if auto is not None:
            reason = explain(auto)  # in the reader's language, from the facts just read
        elif rating is not None:
            reason = rating.reason
        elif characteristic in kernel.DATA_ITEMS:
            reason = silent_data_hint(characteristic, card)
        else:
            reason = ""
        lines.append(
            ScoreLine(
                characteristic=characteristic,
                label=str(Characteristic(characteristic).label),
                weight=contribution.weight,
                max_rating=contribution.max_rating,
                rating=contribution.rating,
                points=contribution.points,
                origin=rating.origin if rating is not None else "",
                reason=reason,
                rated_by_id=rating.rated_by_id if rating is not None else None,
                rated_at=rating.rated_at if rating is not None else None,
                data_item=characteristic in kernel.DATA_ITEMS,
            )
        )
    total = score.total
    return ProspectScore(
        prospect_id=evaluation.prospect_id,
        total=total,
        threshold=card.threshold,
        suggested_status=suggested_status(total, card.threshold),
        scorecard_version=card.version,
        lines=tuple(lines),
    )


def _remember(prospect: Prospect, result: ProspectScore) -> ProspectScore:
    prospect.score, prospect.scorecard_version = result.total, result.scorecard_version
    return result


def score_of(prospect: Prospect) -> ProspectScore:
    """The prospect's current score, item by item. Computed from the archive on every call; stored (score, version,
    data ratings) only when that differs from what is kept — after a scorecard change, an edit of the customer's
    file or an RM's rating — so a read of an up-to-date prospect writes nothing."""
    now = timezone.now()
    card = load_card()
    evaluation = evaluate([prospect.pk], card, now=now, details=True)[0]
    if not evaluation.changed:
        return _remember(prospect, _result(evaluation, card))
    return refresh_auto_ratings(prospect)


@transaction.atomic
def refresh_auto_ratings(prospect: Prospect) -> ProspectScore:
    """Recompute the data-decided items of a prospect from the archive, and its score; store what changed."""
    now = timezone.now()
    card = load_card(lock=True)
    evaluation = evaluate([prospect.pk], card, now=now, details=True)[0]
    if evaluation.changed:
        _write([evaluation], card, now)
    return _remember(prospect, _result(evaluation, card))


# --- the RM's ratings and the suggested status -------------------------------------------------------------------


def _clean_reason(reason: Any) -> str:
    """The RM's reason as stored: required, short, plain text."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": _("Say briefly why you give this rating.")})
    reason = reason.strip()
    if "\x00" in reason:
        raise ValidationError({"reason": _("Null characters are not allowed.")})
    if len(reason) > REASON_MAX:
        message = _("Keep the reason to %(max)s characters (it has %(length)s).")
        raise ValidationError({"reason": message % {"max": REASON_MAX, "length": len(reason)}})
    return reason


@transaction.atomic
def rate_item(*, actor: User, prospect_id: int, characteristic: int, rating: int, reason: str) -> ItemRating:
    """The RM rates an item the archive does not decide (0 to the item's highest rating), with a short reason."""
    card = load_card(lock=True)  # the scorecard before the prospect, as every writer of scores takes them
    prospect = prospect_to_change(actor, prospect_id)
    item = None if isinstance(characteristic, bool) else card.item(characteristic)
    if item is None:
        raise ValidationError({"characteristic": _("Choose one of the 14 characteristics.")})
    if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= item.max_rating:
        raise ValidationError({"rating": _("Give a whole number from 0 to %(max)s.") % {"max": item.max_rating}})
    text = _clean_reason(reason)
    now = timezone.now()
    if characteristic in kernel.DATA_ITEMS:
        auto = evaluate([prospect.pk], card, now=now)[0].autos.get(characteristic)
        if auto is not None:
            message = _(
                "The customer's file decides this item (%(reason)s): correct the file rather than rating it by "
                "hand. You can rate it yourself only while the file has nothing on it."
            ) % {"reason": explain(auto)}
            raise ValidationError({"characteristic": message})
    existing = ItemRating.objects.select_for_update().filter(prospect=prospect, characteristic=characteristic).first()
    before = {"rating": existing.rating, "reason": existing.reason} if existing else {}
    row = existing or ItemRating(prospect=prospect, characteristic=characteristic)
    row.rating, row.reason, row.origin, row.rated_by, row.rated_at = rating, text, RatingOrigin.RM, actor, now
    row.save()
    changes = {"characteristic": characteristic, **diff(before, {"rating": rating, "reason": text})}
    record(actor=actor, action="prospect.rate", obj=row, customer_id=prospect.customer_id, changes=changes)
    evaluation = evaluate([prospect.pk], card, now=now, details=True)[0]
    _write([evaluation], card, now)
    _remember(prospect, _result(evaluation, card))
    return row


@transaction.atomic
def apply_suggested_status(*, actor: User, prospect_id: int) -> Customer:
    """Move the customer between 潜在 and 目标 as its score suggests (a real customer is never moved)."""
    load_card(lock=True)  # the scorecard before the prospect, as every writer of scores takes them
    prospect = prospect_to_change(actor, prospect_id)
    customer = prospect.customer
    if customer.status not in POOL_STATUSES:
        raise ValidationError(
            {"status": _("The score only moves a prospect or target; this customer is %(status)s.")
             % {"status": customer.get_status_display()}}
        )  # fmt: skip
    result = score_of(prospect)
    if result.suggested_status == customer.status:
        return customer
    before = customer.status
    customer = update_customer(
        actor=actor, customer_id=customer.pk, version=customer.version, data={"status": result.suggested_status}
    )
    record(
        actor=actor,
        action="prospect.status_from_score",
        obj=prospect,
        customer_id=customer.pk,
        changes={
            "status": [before, customer.status],
            "score": str(result.total),
            "threshold": str(result.threshold),
            "scorecard_version": result.scorecard_version,
        },
    )
    return customer


# --- head office's settings ----------------------------------------------------------------------------------------


def may_edit_scorecard(user: Any) -> bool:
    """Head office sets the scorecard: a branch head or team lead whose home unit is the head office itself or one of
    its departments (总行公司业务部: a department owns no customers, so its lead edits settings without a view of the
    whole bank)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    unit = user.unit
    if user.role not in (Role.BRANCH_HEAD, Role.TEAM_LEAD) or unit is None:
        return False
    if unit.level == UnitLevel.HEAD_OFFICE:
        return True
    return unit.level == UnitLevel.DEPARTMENT and unit.parent is not None and unit.parent.level == UnitLevel.HEAD_OFFICE


def _division_codes() -> frozenset[str]:
    return frozenset(division.code for section in reference.industries() for division in section.divisions)


def _region_prefixes() -> frozenset[str]:
    """Every code a promising-region entry may be: a province (2 digits), a city's first 4 digits, or a city."""
    codes: set[str] = set()
    for province in reference.regions():
        for city in province.cities:
            codes.update((city.code[:2], city.code[:4], city.code))
    return frozenset(codes)


def _codes(values: Any, valid: frozenset[str], field: str, message: str) -> list[str]:
    if not isinstance(values, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in values):
        raise ValidationError({field: _("Give a list of codes.")})
    codes = sorted({v.strip() for v in values if v.strip()})
    unknown = [code for code in codes if code not in valid]
    if unknown:
        raise ValidationError({field: message % {"codes": ", ".join(unknown)}})
    return codes


def _decimal(value: Any, places: int, low: Decimal, high: Decimal) -> Decimal | None:
    """A number given as Decimal, int or text, within [low, high] with at most `places` decimals; else None."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int) or -exponent > places or not low <= number <= high:
        return None
    return number.quantize(Decimal(1).scaleb(-places))


def _weight(value: Any, characteristic: int) -> Decimal:
    weight = _decimal(value, 2, Decimal(0), WEIGHT_MAX)
    if weight is None:
        message = _("Item %(item)s: a weight is a number from 0 to 999.99 with at most 2 decimals.")
        raise ValidationError({"weights": message % {"item": characteristic}})
    return weight


def _clean_weights(
    items: dict[int, ScorecardItem], weights: Any, max_ratings: Any
) -> tuple[dict[int, Decimal], dict[int, int]]:
    if not isinstance(weights, dict):
        raise ValidationError({"weights": _("Give a weight for each item.")})
    unknown = [key for key in weights if key not in items]
    if unknown:
        raise ValidationError({"weights": _("Choose one of the 14 characteristics.")})
    new_weights = {c: item.weight for c, item in items.items()}
    new_weights.update({c: _weight(value, c) for c, value in weights.items()})
    new_max = {c: item.max_rating for c, item in items.items()}
    if max_ratings is not None:
        if not isinstance(max_ratings, dict) or any(key not in items for key in max_ratings):
            raise ValidationError({"max_ratings": _("Choose one of the 14 characteristics.")})
        for c, value in max_ratings.items():
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
                message = _("Item %(item)s: the highest rating is a whole number from 1 to 10.")
                raise ValidationError({"max_ratings": message % {"item": c}})
            new_max[c] = value
    try:
        kernel.Card([kernel.Item(c, new_weights[c], new_max[c]) for c in sorted(items)])
    except kernel.ScorecardError:
        raise ValidationError({"weights": _("The weights add up to zero: give at least one item a weight.")}) from None
    return new_weights, new_max


def _clean_threshold(value: Any) -> Decimal:
    threshold = _decimal(value, 2, Decimal(0), Decimal(100))
    if threshold is None:
        raise ValidationError({"threshold": _("The threshold is a score from 0 to 100 with at most 2 decimals.")})
    return threshold


def _rescale_ratings(characteristic: int, old: int, new: int) -> int:
    """Keep stored ratings of an item on its new scale (4 of 5 → 8 of 10), half-up, in one statement. Data ratings
    are recomputed exactly on the next read anyway; the RM's keep what they meant."""
    return ItemRating.objects.filter(characteristic=characteristic).update(
        rating=(F("rating") * (2 * new) + old) / (2 * old)
    )


@transaction.atomic
def update_scorecard(
    *,
    actor: User,
    weights: dict[int, Decimal],
    max_ratings: dict[int, int] | None = None,
    threshold: Decimal,
    encouraged_industries: Sequence[str],
    promising_regions: Sequence[str],
    version: int | None = None,
) -> Scorecard:
    """Head office changes the scorecard; its version rises, so every score goes stale and is recomputed when read.

    `weights` and `max_ratings` name the items that change (by characteristic); `version`, when given, is the one the
    editor saw, and a newer one is a conflict.
    """
    if not may_edit_scorecard(actor):
        raise HeadOfficeOnly()
    row = Scorecard.objects.select_for_update().order_by("pk").first()
    if row is None:
        raise RuntimeError("the target scorecard is missing: run `rmdesk migrate`")
    if version is not None and version != row.version:
        raise ConflictError()
    items = {item.characteristic: item for item in ScorecardItem.objects.select_for_update().order_by("characteristic")}
    new_weights, new_max = _clean_weights(items, weights, max_ratings)
    new_threshold = _clean_threshold(threshold)
    industries = _codes(
        encouraged_industries,
        _division_codes(),
        "encouraged_industries",
        _("Unknown industry division: %(codes)s (use the 2-digit GB/T 4754 codes)."),
    )
    regions = _codes(
        promising_regions,
        _region_prefixes(),
        "promising_regions",
        _("Unknown region: %(codes)s (use a 2-digit province, 4-digit city or 6-digit GB/T 2260 code)."),
    )
    changes: dict[str, Any] = diff(
        {"threshold": row.threshold, "encouraged_industries": row.encouraged_industries,
         "promising_regions": row.promising_regions},
        {"threshold": new_threshold, "encouraged_industries": industries, "promising_regions": regions},
    )  # fmt: skip
    weight_changes = {c: [str(items[c].weight), str(w)] for c, w in new_weights.items() if w != items[c].weight}
    scale_changes = {c: [items[c].max_rating, m] for c, m in new_max.items() if m != items[c].max_rating}
    if weight_changes:
        changes["weights"] = weight_changes
    if scale_changes:
        changes["max_ratings"] = scale_changes
    if not changes:
        return row
    for c, item in items.items():
        if c in weight_changes or c in scale_changes:
            if c in scale_changes:
                _rescale_ratings(c, item.max_rating, new_max[c])
            item.weight, item.max_rating = new_weights[c], new_max[c]
            item.save(update_fields=["weight", "max_rating"])
    changes["version"] = [row.version, row.version + 1]
    row.threshold, row.encouraged_industries, row.promising_regions = new_threshold, industries, regions
    row.version += 1
    row.updated_by = actor
    row.save()
    record(actor=actor, action="scorecard.update", obj=row, changes=changes)
    return row


# --- re-scoring every prospect ---------------------------------------------------------------------------------------

Progress = Callable[[str, int, int], None]


def prospects_to_rescore(*, everything: bool = False) -> list[int]:
    """The open prospects whose score is older than the scorecard (or all of them), in id order."""
    queryset = Prospect.objects.filter(
        stage__in=OPEN_STAGES, merged_into__isnull=True, archived_at__isnull=True, customer__archived_at__isnull=True
    )
    if not everything:
        version = Scorecard.objects.order_by("pk").values_list("version", flat=True).first() or 0
        queryset = queryset.filter(scorecard_version__lt=version)
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def rescore_all(*, progress: Progress | None = None, batch: int = RESCORE_BATCH, everything: bool = False) -> int:
    """Recompute the data-decided ratings and the score of every stale open prospect (`everything`: of every open
    prospect, e.g. after a bulk load of the archive), `batch` prospects per transaction; returns how many were read.

    Each batch reads its inputs in a handful of queries and writes in bulk; a batch holds the scorecard row, so a
    change of the scorecard during the run waits for the batch, and later batches score with the new version.
    """
    if not 1 <= batch <= RESCORE_BATCH_MAX:
        raise ValueError(f"batch must be from 1 to {RESCORE_BATCH_MAX}")
    ids = prospects_to_rescore(everything=everything)
    total = len(ids)
    if progress:
        progress("rescoring", 0, total)
    for start in range(0, total, batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            now = timezone.now()
            card = load_card(lock=True)
            evaluations = evaluate(chunk, card, now=now)
            _write([e for e in evaluations if e.changed], card, now)
        if progress:
            progress("rescoring", min(start + batch, total), total)
    return total
