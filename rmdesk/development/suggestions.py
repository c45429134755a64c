"""Who should we call next: firms linked to our customers that are not customers yet (sources 10–12, domain.md §3.1).

A customer's relationships name the firms around it. Those that are no customer of the bank are prospects the
software finds by itself: its suppliers and buyers (source 10 上下游), the firms that guarantee its loans (11 担保单位)
and its affiliates and sister firms under the same controller (12 关联单位).

Which links count, read from our customer's side (customers.choices.Direction):
- supply chain, any direction: the firm supplies our customer (inward), buys from it (outward), or both → 10;
- guarantee inward or mutual: the firm guarantees our customer's borrowing → 11. An outward guarantee (our customer
  guarantees the firm) is left out on purpose: that firm is no guarantor of ours but a borrower leaning on our
  customer's credit, and courting it would draw the bank deeper into the same guarantee chain (担保圈);
- affiliate, any direction (shareholder, investee, cross-holding), and common controller → 12.

"Not a customer yet": the link names no counterparty customer, its credit code is not on file for any customer of
the bank (visible to the user or not: such firms are simply left out, whoever holds them), and, for a firm known only
by name, no customer on file has that name. A prospect is a customer, so registered prospects drop out the same way.

One firm linked to several of our customers is one suggestion: firms are told apart by credit code, or by the
normalised name when the link records no code (joined to the coded firm of that name when there is exactly one).

The ranking score, in whole points (higher first; ties by number of our customers linked, then by name):
- each linked customer adds the points of its best link to the firm, so every customer linked counts;
- a link's points: what the firm is to the customer (guarantor 40, supplier or buyer 30, affiliate 20, under the
  same controller 15), plus the annual amount of a supply or guarantee link (from 1 亿元 +30, from 1,000 万元 +20,
  from 100 万元 +10), plus an affiliate's share (from 50 % +20, from 20 % +10), plus the linking customer's tier
  (strategic +30, core +20, key +10).
Supply links of 1,000 万元 a year or more read as major (主要供应商 / 主要买方).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core import validators
from rmdesk.core.errors import NotFoundError
from rmdesk.core.money import format_wan
from rmdesk.customers.choices import Direction, RelationshipKind, Tier
from rmdesk.customers.models import Customer, Relationship
from rmdesk.customers.queries import by_scope_indexes
from rmdesk.customers.search import normalize
from rmdesk.customers.services import update_relationship
from rmdesk.development.choices import Source
from rmdesk.development.models import DismissedSuggestion, Prospect
from rmdesk.development.prospects import register_prospect
from rmdesk.org.choices import Role
from rmdesk.org.models import User

T = TypeVar("T")

KIND, DIR = RelationshipKind, Direction
SUGGESTED_KINDS = (KIND.SUPPLY_CHAIN, KIND.GUARANTEE, KIND.AFFILIATE, KIND.COMMON_CONTROLLER)

# --- the score (see the module docstring) ---------------------------------------------------------------------

CONTROLLER_POINTS = 15
KIND_POINTS: dict[str, int] = {KIND.GUARANTEE: 40, KIND.SUPPLY_CHAIN: 30, KIND.AFFILIATE: 20}
# (at least this many yuan, points), largest first
AMOUNT_POINTS = ((Decimal(100_000_000), 30), (Decimal(10_000_000), 20), (Decimal(1_000_000), 10))
# (at least this share in per cent, points), largest first
SHARE_POINTS = ((Decimal(50), 20), (Decimal(20), 10))
TIER_POINTS: dict[str, int] = {Tier.STRATEGIC: 30, Tier.CORE: 20, Tier.KEY: 10, Tier.GENERAL: 0}
# A supplier or buyer trading this much a year with our customer is a major one.
MAJOR_SUPPLY_AMOUNT = Decimal(10_000_000)

MAX_LIMIT = 500
# Rows per IN (...) list: well below SQLite's bound on query parameters.
_CHUNK = 2000
HUNDREDTH = Decimal("0.01")


def source_of(kind: str, direction: str) -> Source | None:
    """The development source a relationship of our customer points to, or None if it suggests nobody."""
    if kind == KIND.SUPPLY_CHAIN:
        return Source.SUPPLY_CHAIN
    if kind == KIND.GUARANTEE:
        return Source.GUARANTORS if direction in (DIR.INWARD, DIR.MUTUAL) else None
    if kind in (KIND.AFFILIATE, KIND.COMMON_CONTROLLER):
        return Source.AFFILIATES
    return None


def link_points(kind: str, amount: Decimal | None, share_pct: Decimal | None, tier: str) -> int:
    """What one link of one customer adds to the firm's score."""
    points = KIND_POINTS.get(kind, CONTROLLER_POINTS)
    if kind in (KIND.SUPPLY_CHAIN, KIND.GUARANTEE) and amount is not None:
        points += next((p for floor, p in AMOUNT_POINTS if amount >= floor), 0)
    if kind == KIND.AFFILIATE and share_pct is not None:
        points += next((p for floor, p in SHARE_POINTS if share_pct >= floor), 0)
    return points + TIER_POINTS.get(tier, 0)


def firm_key(credit_code: str | None, name: str) -> str:
    """How a firm is told apart: its credit code, or its normalised name when no code is known."""
    code = (credit_code or "").strip().upper()
    return code if code else "name:" + normalize(name)[:200]


# --- explanations -----------------------------------------------------------------------------------------------

# What the firm is to our customer; the comments give translators the bank's Chinese terms.
_ROLES: dict[tuple[str, str, bool], Promise] = {
    # Translators: 华兴科技的供应商 (上游)
    (KIND.SUPPLY_CHAIN, DIR.INWARD, False): gettext_lazy("Supplier of %(customer)s"),
    # Translators: 华兴科技的主要供应商
    (KIND.SUPPLY_CHAIN, DIR.INWARD, True): gettext_lazy("Major supplier of %(customer)s"),
    # Translators: 华兴科技的买方 (下游客户)
    (KIND.SUPPLY_CHAIN, DIR.OUTWARD, False): gettext_lazy("Buyer of %(customer)s"),
    # Translators: 华兴科技的主要买方 (主要下游客户)
    (KIND.SUPPLY_CHAIN, DIR.OUTWARD, True): gettext_lazy("Major buyer of %(customer)s"),
    # Translators: 与华兴科技互为上下游
    (KIND.SUPPLY_CHAIN, DIR.MUTUAL, False): gettext_lazy("Supplier and buyer of %(customer)s"),
    # Translators: 与华兴科技互为主要上下游
    (KIND.SUPPLY_CHAIN, DIR.MUTUAL, True): gettext_lazy("Major supplier and buyer of %(customer)s"),
    # Translators: 为华兴科技提供担保
    (KIND.GUARANTEE, DIR.INWARD, False): gettext_lazy("Guarantor of %(customer)s"),
    # Translators: 与华兴科技互保
    (KIND.GUARANTEE, DIR.MUTUAL, False): gettext_lazy("Mutual guarantor of %(customer)s"),
    # Translators: 华兴科技的股东
    (KIND.AFFILIATE, DIR.INWARD, False): gettext_lazy("Shareholder of %(customer)s"),
    # Translators: 华兴科技对外投资的企业
    (KIND.AFFILIATE, DIR.OUTWARD, False): gettext_lazy("Invested in by %(customer)s"),
    # Translators: 与华兴科技交叉持股
    (KIND.AFFILIATE, DIR.MUTUAL, False): gettext_lazy("Cross-shareholding with %(customer)s"),
}
# Translators: 与华兴科技同一实际控制人
_COMMON_CONTROL = gettext_lazy("Under the same controller as %(customer)s")
# The figure that goes with the link, by kind and direction.
_DETAILS: dict[tuple[str, str], Promise] = {
    # Translators: 年供货 3,200 万元 (%(amount)s already carries its unit)
    (KIND.SUPPLY_CHAIN, DIR.INWARD): gettext_lazy("supplies %(amount)s a year"),
    # Translators: 年采购 3,200 万元
    (KIND.SUPPLY_CHAIN, DIR.OUTWARD): gettext_lazy("buys %(amount)s a year"),
    # Translators: 年交易额 3,200 万元
    (KIND.SUPPLY_CHAIN, DIR.MUTUAL): gettext_lazy("trades %(amount)s a year"),
    # Translators: 担保金额 3,200 万元
    (KIND.GUARANTEE, DIR.INWARD): gettext_lazy("guarantees %(amount)s"),
    # Translators: 担保金额 3,200 万元
    (KIND.GUARANTEE, DIR.MUTUAL): gettext_lazy("guarantees %(amount)s"),
    # Translators: 持股 51.00%
    (KIND.AFFILIATE, DIR.INWARD): gettext_lazy("holds %(share)s"),
    # Translators: 华兴科技持股 51.00%
    (KIND.AFFILIATE, DIR.OUTWARD): gettext_lazy("%(share)s held by the customer"),
    # Translators: 持股 51.00%
    (KIND.AFFILIATE, DIR.MUTUAL): gettext_lazy("%(share)s cross-held"),
}


def explain_link(
    *,
    kind: str,
    direction: str,
    customer_name: str,
    amount: Decimal | None,
    share_pct: Decimal | None,
    controller_name: str,
) -> str:
    """One link in words, in the active language: 华兴科技的主要供应商, 年供货 3,200 万元."""
    if kind == KIND.COMMON_CONTROLLER:
        text = _COMMON_CONTROL % {"customer": customer_name}
        # Translators: 实际控制人 张三
        detail = _("controller %(name)s") % {"name": controller_name} if controller_name else ""
    else:
        major = kind == KIND.SUPPLY_CHAIN and amount is not None and amount >= MAJOR_SUPPLY_AMOUNT
        role = _ROLES.get((kind, direction, major))
        text = role % {"customer": customer_name} if role is not None else customer_name
        template = _DETAILS.get((kind, direction))
        detail = ""
        if template is not None and kind == KIND.AFFILIATE and share_pct is not None:
            share = share_pct.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
            detail = template % {"share": f"{share}%"}
        elif template is not None and kind != KIND.AFFILIATE and amount is not None:
            # Translators: an amount in units of 10,000 yuan: 3,200 万元
            detail = template % {"amount": _("%(wan)s × 10,000 yuan") % {"wan": format_wan(amount)}}
    # Translators: a link and its figure: 华兴科技的主要供应商，年供货 3,200 万元
    return _("%(link)s, %(detail)s") % {"link": text, "detail": detail} if detail else str(text)


# --- suggestions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One relationship of one of our customers that names the suggested firm."""

    relationship_id: int
    customer_id: int
    customer_name: str
    customer_tier: str
    kind: str
    direction: str
    source: Source
    amount: Decimal | None
    share_pct: Decimal | None
    controller_name: str
    points: int
    explanation: str


@dataclass(frozen=True)
class Suggestion:
    """A firm worth calling, with every link of ours that leads to it, best first."""

    key: str
    name: str
    credit_code: str  # empty when no link records it: accepting then asks for it
    score: int
    links: tuple[Link, ...]

    @property
    def source(self) -> Source:
        return self.links[0].source

    @property
    def relationship_id(self) -> int:
        """The link to accept the suggestion through (its best)."""
        return self.links[0].relationship_id

    @property
    def customers_linked(self) -> int:
        return len({link.customer_id for link in self.links})

    @property
    def explanation(self) -> str:
        return "; ".join(link.explanation for link in self.links)


# The columns read per candidate link; a tuple per row keeps a head's tens of thousands of links cheap.
_COLUMNS = (
    "pk",
    "customer_id",
    "kind",
    "direction",
    "counterparty_name",
    "counterparty_credit_code",
    "amount",
    "share_pct",
    "controller_name",
)
# (relationship, customer, customer's name, customer's tier, kind, direction, firm's name, firm's code, amount,
#  share, controller)
_Row = tuple[int, int, str, str, str, str, str, str, Decimal | None, Decimal | None, str]


@dataclass
class _Firm:
    key: str
    rows: list[_Row]
    score: int = 0
    name: str = ""


def _chunks(items: Iterable[T], size: int = _CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def customers_in_view(user: User) -> dict[int, tuple[str, str]]:
    """The user's customers (not archived) as id → (name, tier), found through the scope's own indexes."""
    customers = by_scope_indexes(Customer.objects.restrict(user, Action.VIEW)).filter(archived_at__isnull=True)
    return {pk: (name, tier) for pk, name, tier in customers.order_by().values_list("pk", "name", "tier")}


def open_links(customer_ids: list[int]) -> QuerySet[Relationship, tuple[Any, ...]]:
    """The links of these customers that may point to a firm not on file, as tuples of _COLUMNS.

    The customers come as ids, read first: the scope's OR of primary RM and co-RM subquery is one the planners
    cannot estimate (PostgreSQL then scans every customer), while a list of ids walks the index on customer.
    """
    return (
        Relationship.objects.filter(customer_id__in=customer_ids, kind__in=SUGGESTED_KINDS, archived_at__isnull=True)
        # Written so that no index on counterparty can serve it: most links name outside firms, and SQLite would
        # otherwise walk half the bank's links from "counterparty IS NULL".
        .filter(Q(counterparty_id__isnull=True) | Q(counterparty_id__lt=0))
        .exclude(kind=KIND.GUARANTEE, direction=DIR.OUTWARD)
        .order_by()
        .values_list(*_COLUMNS)
    )


def candidate_links(user: User) -> list[_Row]:
    """The links of the customers in the user's view that may point to a firm not on file."""
    customers = customers_in_view(user)
    rows: list[_Row] = []
    for batch in _chunks(sorted(customers)):
        for pk, customer_id, kind, direction, name, code, amount, share, controller in open_links(batch):
            customer_name, tier = customers[customer_id]
            rows.append((pk, customer_id, customer_name, tier, kind, direction, name, code, amount, share, controller))
    return rows


def _codes_on_file(codes: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for batch in _chunks(sorted(codes)):
        found.update(Customer.objects.filter(credit_code__in=batch).values_list("credit_code", flat=True))
    return found


def _names_on_file(names: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for batch in _chunks(sorted(names)):
        found.update(Customer.objects.filter(search_name__in=batch).values_list("search_name", flat=True))
    return found


def _group(rows: Iterable[_Row]) -> dict[str, _Firm]:
    """Links by firm, without the firms on file; a name-only firm joins the one coded firm of the same name."""
    by_code: dict[str, list[_Row]] = defaultdict(list)
    by_name: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        code = row[7].strip().upper()
        if code:
            by_code[code].append(row)
        else:
            by_name[normalize(row[6])].append(row)
    for code in _codes_on_file(by_code):
        del by_code[code]
    for name in _names_on_file(by_name):
        del by_name[name]
    firms = {code: _Firm(code, rows) for code, rows in by_code.items()}
    coded_names: dict[str, list[str]] = defaultdict(list)
    for code, code_rows in by_code.items():
        for name in {normalize(row[6]) for row in code_rows}:
            coded_names[name].append(code)
    for name, name_rows in by_name.items():
        codes = coded_names.get(name, [])
        if len(codes) == 1:
            firms[codes[0]].rows.extend(name_rows)
        else:
            key = firm_key(None, name)
            firms[key] = _Firm(key, name_rows)
    return firms


def _row_points(row: _Row) -> int:
    return link_points(row[4], row[8], row[9], row[3])


def _score(firm: _Firm) -> None:
    """Each linked customer adds its best link's points; the rows end up best first."""
    firm.rows.sort(key=lambda row: (-_row_points(row), row[2], row[0]))
    best: dict[int, int] = {}
    for row in firm.rows:
        best.setdefault(row[1], _row_points(row))
    firm.score = sum(best.values())
    # Its name as the links spell it most often (those that record its code first), else the tidiest spelling.
    names = [row[6].strip() for row in firm.rows if row[7].strip()] or [row[6].strip() for row in firm.rows]
    firm.name = min(names, key=lambda name: (-names.count(name), len(name), name))


def _suggestion(firm: _Firm) -> Suggestion:
    links = tuple(
        Link(
            relationship_id=row[0],
            customer_id=row[1],
            customer_name=row[2],
            customer_tier=row[3],
            kind=row[4],
            direction=row[5],
            source=source_of(row[4], row[5]) or Source.AFFILIATES,
            amount=row[8],
            share_pct=row[9],
            controller_name=row[10],
            points=_row_points(row),
            explanation=explain_link(
                kind=row[4],
                direction=row[5],
                customer_name=row[2],
                amount=row[8],
                share_pct=row[9],
                controller_name=row[10],
            ),
        )
        for row in firm.rows
    )
    code = "" if firm.key.startswith("name:") else firm.key
    return Suggestion(key=firm.key, name=firm.name, credit_code=code, score=firm.score, links=links)


def suggestions_for(user: User, *, limit: int = 50, offset: int = 0) -> list[Suggestion]:
    """The firms linked to the user's customers that are not customers yet, best first (see the module docstring).

    Only users who may register prospects get suggestions; a risk officer's or auditor's bank-wide view gets none.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": _("Ask for 1 to %(max)d suggestions at a time.") % {"max": MAX_LIMIT}})
    if offset < 0:
        raise ValidationError({"offset": _("The offset cannot be negative.")})
    if not may(user, Action.CREATE):
        return []
    firms = _group(candidate_links(user))
    dismissed = set(DismissedSuggestion.objects.filter(user=user).values_list("firm", flat=True))
    ranked = [firm for key, firm in firms.items() if key not in dismissed]
    for firm in ranked:
        _score(firm)
    customers = {firm.key: len({row[1] for row in firm.rows}) for firm in ranked}
    ranked.sort(key=lambda f: (-f.score, -customers[f.key], f.name, f.key))
    # Explanations are worded only for the page shown: a head's view holds tens of thousands of firms.
    return [_suggestion(firm) for firm in ranked[offset : offset + limit]]


# --- accepting and dismissing -----------------------------------------------------------------------------------


def _accepted_code(typed: str | None, recorded: str) -> str:
    """The firm's credit code: the one on the link, or the one the user typed when the link has none."""
    recorded = recorded.strip().upper()
    raw = (typed or "").strip()
    if not raw and not recorded:
        raise ValidationError(
            {"credit_code": _("No unified social credit code is on file for this firm: enter it to register it.")}
        )
    try:
        code = validators.validate_credit_code(raw or recorded)
    except ValidationError as error:
        raise ValidationError({"credit_code": error.messages}) from None
    if recorded and code != recorded:
        raise ValidationError(
            {"credit_code": _("The relationship records this firm's code as %(code)s.") % {"code": recorded}}
        )
    return code


def _pool_unit(actor: User, referring: Customer) -> Any:
    """A lead or head puts the prospect into the pool of the unit that holds the referring customer, if theirs."""
    unit = referring.owning_unit
    if actor.unit is not None and unit.path.startswith(actor.unit.path):
        return unit
    return actor.unit


@transaction.atomic
def accept_suggestion(
    *,
    actor: User,
    credit_code: str | None,
    name: str,
    relationship_id: int,
    claim: bool = False,
    allow_similar: bool = False,
) -> Prospect:
    """Register the firm a relationship of ours names as a prospect (source 10, 11 or 12), in the unit's pool or,
    with `claim`, in the actor's own book; every link of the actor's customers to that firm then names it."""
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    relationship = (
        Relationship.objects.restrict(actor, Action.CHANGE)
        .select_related("customer__owning_unit")
        .filter(pk=relationship_id, archived_at__isnull=True, customer__archived_at__isnull=True)
        .first()
    )
    if relationship is None:
        raise NotFoundError()
    source = source_of(relationship.kind, relationship.direction)
    if source is None:
        raise ValidationError(
            {"relationship_id": _("This relationship names no prospect: the customer guarantees that firm.")}
        )
    if relationship.counterparty_id is not None:
        raise ValidationError({"credit_code": _("This firm is already a customer on file.")})
    code = _accepted_code(credit_code, relationship.counterparty_credit_code)
    firm_name = (name or "").strip() or relationship.counterparty_name
    data: dict[str, Any] = {"name": firm_name, "credit_code": code}
    if actor.role != Role.RM:
        if claim:
            raise ValidationError(
                {"claim": _("Only an RM takes a prospect into their own book; put it into the pool instead.")}
            )
        data["owning_unit"] = _pool_unit(actor, relationship.customer)
    customer_name = relationship.customer.name
    prospect = register_prospect(
        actor=actor,
        customer_data=data,
        source=source,
        source_detail=explain_link(
            kind=relationship.kind,
            direction=relationship.direction,
            customer_name=customer_name,
            amount=relationship.amount,
            share_pct=relationship.share_pct,
            controller_name=relationship.controller_name,
        )[:200],
        referring_customer=relationship.customer,
        referring_relationship=relationship,
        to_pool=not claim,
        allow_similar=allow_similar,
    )
    _link_to(actor, prospect.customer, names={normalize(relationship.counterparty_name), normalize(firm_name)})
    return prospect


def _link_to(actor: User, customer: Customer, *, names: set[str]) -> None:
    """Point the actor's links to the firm (by its code, or by its name where they record no code) at its new file."""
    open_links = Relationship.objects.restrict(actor, Action.CHANGE).filter(
        kind__in=SUGGESTED_KINDS,
        counterparty__isnull=True,
        archived_at__isnull=True,
        customer__archived_at__isnull=True,
    )
    matches = list(open_links.filter(counterparty_credit_code=customer.credit_code).values_list("pk", "version"))
    nameless = open_links.filter(counterparty_credit_code="").values_list("pk", "version", "counterparty_name")
    matches += [(pk, version) for pk, version, name in nameless if normalize(name) in names]
    for pk, version in sorted(matches):
        update_relationship(actor=actor, relationship_id=pk, version=version, data={"counterparty": customer})


@transaction.atomic
def dismiss_suggestion(*, actor: User, credit_code: str | None, name: str) -> DismissedSuggestion:
    """Stop suggesting a firm to this user (for others it stays); dismissing twice keeps the first."""
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    if not (credit_code or "").strip() and not normalize(name or ""):
        raise ValidationError({"name": _("Name the firm to stop suggesting.")})
    key = firm_key(credit_code, name or "")
    dismissal, created = DismissedSuggestion.objects.get_or_create(
        user=actor, firm=key, defaults={"name": (name or "").strip()[:200], "dismissed_at": timezone.now()}
    )
    if created:
        record(actor=actor, action="suggestion.dismiss", obj=dismissal, changes={"firm": key})
    return dismissal


@transaction.atomic
def restore_suggestion(*, actor: User, credit_code: str | None, name: str) -> None:
    """Suggest a dismissed firm again."""
    key = firm_key(credit_code, name or "")
    deleted, _rows = DismissedSuggestion.objects.filter(user=actor, firm=key).delete()
    if deleted:
        record(actor=actor, action="suggestion.restore", changes={"firm": key})
