"""Quick search: the customers of an already restricted queryset that match what was typed, most relevant first.

Ranking: the exact name or credit code; then prefixes (of the name, of its full pinyin or initials, of the code);
then substrings (of the name from two characters, of the initials from a later character). Within a tier shorter
names come first, then lower ids.

How each search is planned (measured by bench/bench_search.py; docs/architecture.md, "Search", says why):
- A scope of at most SMALL_SCOPE customers (an RM's book, a team) is searched in one statement over its own
  rows, which the database finds through the scope's indexes.
- A larger scope: the exact matches first (name and code indexes). Then the query's search rows in the scope's
  units are read on the unit-first indexes (name_gram_unit: the rarest gram of a Chinese query; search_key_unit:
  the code, pinyin and initials ranges), which hold the name length, so that when there are few (CANDIDATES,
  KEY_CANDIDATES) they are ranked on the index alone and only the best are read from the customer table. When
  there are more, the matches are common in scope and each tier walks an index in rank order and stops at the
  `limit`th match: a gram's rows (name_gram_rank), or customers by name length (customer_search_rank).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Length

from rmdesk.customers.models import Customer, CustomerCoRM, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.search import (
    CODE,
    INITIALS,
    INITIALS_KEY_LENGTH,
    PINYIN,
    PINYIN_KEY_LENGTH,
    Query,
    next_prefix,
    read_query,
)
from rmdesk.org.models import OrgUnit

SEARCH_LIMIT = 20
# A scope of at most this many customers is searched by filtering its own rows.
SMALL_SCOPE = 5000
# A query with at most this many matching rows in the scope's units is ranked from all of them (more: walks).
# Keys rank on the index alone and a walk for them tests each customer, so they take more before walking.
CANDIDATES = 5000
KEY_CANDIDATES = 20_000

RANK = (Length("search_name"), "pk")

Ids = list[int]
Pairs = list[tuple[int, int]]  # (customer id, name length)


def search_customers(queryset: QuerySet[Customer], q: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """The `limit` customers of `queryset` (already restricted) that best match `q`, best first."""
    ids = ranked_ids(queryset, q, limit=limit)
    found = queryset.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def ranked_ids(queryset: QuerySet[Customer], q: str, *, limit: int = SEARCH_LIMIT) -> Ids:
    """The ids of the best `limit` matches of `q` in `queryset`, best first; [] when `q` has nothing to look for."""
    query = read_query(q)
    if query is None or limit < 1:
        return []
    base = queryset.order_by()
    units = _scope_units(base)
    if _is_small(base, units):
        return _search_rows(_by_scope_indexes(base, units), query, limit)
    return _search_large(base, query, units, limit)


def _scope_units(base: QuerySet[Customer]) -> list[int] | None:
    """The units of a unit scope, whose search rows it reads (None: not a unit scope; the customer rows decide)."""
    scope = getattr(base, "scope", None)
    if scope is None or scope.unit_path is None:
        return None
    return list(OrgUnit.objects.filter(path__startswith=scope.unit_path).values_list("pk", flat=True))


def _is_small(base: QuerySet[Customer], units: list[int] | None) -> bool:
    """Whether the scope holds at most SMALL_SCOPE customers, counted on indexes alone where it can be.

    For an RM or a unit the count is of their customers and co-RM links, archived or not and before other filters:
    an upper bound, read from the primary-RM, owning-unit and co-RM indexes without touching a customer row.
    """
    scope = getattr(base, "scope", None)
    if scope is not None and (scope.rm_id is not None or units is not None):
        if scope.rm_id is not None:
            owned = Customer.objects.filter(primary_rm_id=scope.rm_id)
            co_rm = CustomerCoRM.objects.filter(user_id=scope.rm_id)
        else:
            owned = Customer.objects.filter(owning_unit_id__in=units)
            co_rm = CustomerCoRM.objects.filter(user__unit_id__in=units)
        counted = owned[: SMALL_SCOPE + 1].count()
        return counted <= SMALL_SCOPE and counted + co_rm[: SMALL_SCOPE + 1].count() <= SMALL_SCOPE
    return not base[SMALL_SCOPE : SMALL_SCOPE + 1].exists()


def _by_scope_indexes(base: QuerySet[Customer], units: list[int] | None) -> QuerySet[Customer]:
    """`base` with its unit scope restated by unit ids, so that the database can find the scope's rows by index.

    restrict() selects a unit's customers by the unit path through a join, which SQLite can only evaluate by
    scanning every customer. The condition added here selects the same customers (the unit subtree by id, or a
    co-RM inside it) and is ANDed to restrict()'s own, so it can only ever narrow, never widen, what is visible.
    """
    if units is None:
        return base  # one RM's book (found by its indexes already), the whole bank, or an unrestricted queryset
    co_rm_in = CustomerCoRM.objects.filter(user__unit_id__in=units).values("customer_id")
    return base.filter(Q(owning_unit_id__in=units) | Q(pk__in=co_rm_in))


# --- a small scope: one statement over its rows ------------------------------------------------------------------


def _search_rows(rows: QuerySet[Customer], query: Query, limit: int) -> Ids:
    """A small scope, searched over its own rows, which the database finds through the scope's indexes.

    A name query is one statement: its ORDER BY starts with the tier, so it cannot follow the rank index and make
    the database walk every customer. Code, pinyin and initials keys are looked up per customer of the scope
    (search_key_customer: customer first, covering) and ranked here on their name length.
    """
    if query.kind == "name":
        filters = _name_tiers(query)
        tier = Case(*(When(row, then=Value(rank)) for rank, row in enumerate(filters)), output_field=IntegerField())
        matches = rows.annotate(search_tier=tier).filter(search_tier__isnull=False)
        return list(matches.order_by("search_tier", *RANK).values_list("pk", flat=True)[:limit])
    text = query.text
    exact = _ranked([(0, len(text), pk) for pk in rows.filter(search_name=text).values_list("pk", flat=True)])
    tiers: dict[int, tuple[int, int, int]] = {}
    # Keys of the scope's customers only: search_key_customer (customer first, and covering) per customer.
    ranges = _key_range(CODE, text) | _key_range(PINYIN, text) | _key_range(INITIALS, text)
    keys = CustomerSearchKey.objects.filter(ranges, customer__in=rows.values("pk"))
    for pk, key, position, length in keys.values_list("customer_id", "key", "position", "name_length"):
        if key == CODE + text:
            triple = (0, length, pk)
        elif position == 0:
            triple = (1, length, pk)
        elif len(text) >= 2:
            triple = (2, length, pk)
        else:
            continue
        tiers[pk] = min(triple, tiers.get(pk, triple))
    return list(dict.fromkeys(exact + _ranked(list(tiers.values()))))[:limit]


# --- a large scope -------------------------------------------------------------------------------------------------


def _search_large(base: QuerySet[Customer], query: Query, units: list[int] | None, limit: int) -> Ids:
    """The exact matches, then either every candidate in scope ranked here (few), or walks in rank order (many)."""
    rows = ScopeRows(units)
    exact = Q(search_name=query.text) if query.kind == "name" else Q(search_name=query.text) | Q(credit_code=query.code)
    found = _best(_pairs(base.filter(exact)), limit, [])  # the customer_search_name or the unique code index
    if len(found) >= limit:
        return found
    few_of = _few_names if query.kind == "name" else _few_keys
    few = few_of(base, query, rows, found, limit - len(found))
    if few is not None:
        return found + few[: limit - len(found)]
    for walk in _name_walks(query, rows) if query.kind == "name" else _letter_walks(query):
        need = limit - len(found)
        if need <= 0:
            break
        found += walk(base, need, found)
    return found


def _ranked(triples: list[tuple[int, int, int]]) -> Ids:
    """Ids by (tier, name length, id)."""
    return [pk for _tier, _length, pk in sorted(triples)]


class ScopeRows:
    """The search rows a scope reads: those of its units, or all of them (the customer rows then decide)."""

    def __init__(self, units: list[int] | None) -> None:
        self.units = units

    def q(self, path: str = "") -> Q:
        return Q() if self.units is None else Q(**{f"{path}unit__in": self.units})

    def all_units_q(self) -> Q:
        """Every row through the unit-first search_key_unit index: each unit's range, and rows without a unit."""
        if self.units is not None:
            return Q(unit__in=self.units)
        return Q(unit__in=list(OrgUnit.objects.values_list("pk", flat=True))) | Q(unit__isnull=True)


def _best(rows: Pairs, need: int, found: Ids) -> Ids:
    seen = set(found)
    best: Ids = []
    for pk, _length in sorted(set(rows), key=lambda row: (row[1], row[0])):
        if pk not in seen:
            seen.add(pk)
            best.append(pk)
            if len(best) == need:
                break
    return best


def _pairs(queryset: QuerySet[Customer]) -> Pairs:
    return list(queryset.values_list("pk", Length("search_name")))


Walk = Callable[[QuerySet[Customer], int, Ids], Ids]


def _walk_customers(row: Q) -> Walk:
    """Customers in rank order (the customer_search_rank index), filtered by `row`: only for common matches."""

    def walk(base: QuerySet[Customer], need: int, found: Ids) -> Ids:
        matches = base.filter(row).exclude(pk__in=found).order_by(*RANK)
        return list(matches.values_list("pk", flat=True)[:need])

    return walk


# --- Chinese (or any non-ASCII) text: the normalised name --------------------------------------------------------


def _gram_count(gram: str) -> int:
    """How many rows `gram` has in the whole bank, counted up to CANDIDATES + 1 on the index alone."""
    return CustomerNameGram.objects.filter(gram=gram)[: CANDIDATES + 1].count()


def _rarest_gram(query: Query) -> tuple[int, str]:
    """(offset, gram): the query's gram that the fewest names hold; one character is a name's first (its own row)."""
    grams = query.grams() or [(0, query.text)]
    return grams[0] if len(grams) == 1 else min(grams, key=lambda pair: (_gram_count(pair[1]), pair))


def _few_names(base: QuerySet[Customer], query: Query, rows: ScopeRows, found: Ids, need: int) -> Ids | None:
    """All matches ranked, when the scope's units hold the query's rarest gram at most CANDIDATES times (read on
    name_gram_unit, the units' own rows); None when they hold it more often.

    A longer query is matched on the index too: each of its other grams must sit at the same distance in the same
    name (name_gram_customer), which is exactly "the name holds the query". So the ranking needs no name, and the
    customers are read only to check the queryset (scope, filters), best first.
    """
    offset, gram = _rarest_gram(query)
    grams = CustomerNameGram.objects.filter(rows.q(), gram=gram)
    if len(query.text) == 1:
        grams = grams.filter(position=0)  # the first character's own row
    if grams[CANDIDATES : CANDIDATES + 1].exists():
        return None
    for other_offset, other in query.grams():
        if other_offset != offset:
            same_name = CustomerNameGram.objects.filter(
                customer=OuterRef("customer"), gram=other, position=OuterRef("position") + (other_offset - offset)
            )
            grams = grams.filter(Exists(same_name))
    tiers: dict[int, tuple[int, int, int]] = {}
    hits = grams.filter(position__gte=offset).values_list("customer_id", "name_length", "position")
    for pk, length, position in hits:
        triple = (1 if position == offset else 2, length, pk)  # the query starts at offset 0 of the name: a prefix
        tiers[pk] = min(triple, tiers.get(pk, triple))
    return _in_queryset(base, _ranked(list(tiers.values())), found, need)


def _in_queryset(base: QuerySet[Customer], ranked: Ids, found: Ids, need: int) -> Ids:
    """`ranked` cut down to the customers `base` holds (its scope and filters) and not in `found`, in order.

    Reads the customers in growing batches from the best down, so a search that fills its limit early reads few.
    """
    seen = set(found)
    ranked = [pk for pk in ranked if pk not in seen]
    kept: Ids = []
    start, size = 0, 64
    while start < len(ranked) and len(kept) < need:
        batch = ranked[start : start + size]
        held = set(base.filter(pk__in=batch).values_list("pk", flat=True))
        kept += [pk for pk in batch if pk in held]
        start, size = start + size, size * 4
    return kept


def _name_walks(query: Query, rows: ScopeRows) -> list[Walk]:
    text = query.text
    # Names starting with the query: the rows of its first character alone, or of one of its grams at the same
    # offset, whichever list is shorter.
    lists = [(0, text[0]), *query.grams()]
    position, gram = min(lists, key=lambda pair: (_gram_count(pair[1]), pair))
    walks = [_walk_grams(rows, Q(search_name__startswith=text), gram=gram, position=position)]
    if query.substring:
        walks.append(_walk_grams(rows, Q(search_name__contains=text), gram=_rarest_gram(query)[1], position=None))
    return walks


def _walk_grams(rows: ScopeRows, row: Q, *, gram: str, position: int | None) -> Walk:
    """The customers with a row of `gram` (at `position`, if given) in the scope's units, in rank order.

    name_gram_rank holds a gram's rows in rank order with their unit and offset, so the walk skips other units'
    rows on the index alone, reads a customer only for a row in scope, and stops at the `need`th match.
    """

    def walk(base: QuerySet[Customer], need: int, found: Ids) -> Ids:
        lookups = Q(name_grams__gram=gram) & rows.q("name_grams__")
        if position is not None:
            lookups &= Q(name_grams__position=position)
        # One filter() call: the gram, unit and offset conditions apply to the same gram row.
        matches = base.filter(lookups & row).exclude(pk__in=found)
        # Ordered by the gram table's own columns, so the walk follows the index and never sorts.
        ordered = matches.order_by("name_grams__name_length", "name_grams__customer")
        # A customer has a row per unit that sees it, and a name can hold a gram twice: drop repeats.
        size = need + 8
        while True:
            ids = list(ordered.values_list("pk", flat=True)[:size])
            unique = list(dict.fromkeys(ids))
            if len(unique) >= need or len(ids) < size:
                return unique[:need]
            size *= 2

    return walk


# --- ASCII letters and digits: pinyin, initials, credit code ----------------------------------------------------


def _key_text(kind: str, text: str) -> str:
    # Keys are cut at a fixed length; a longer query is matched on as much of it as a key holds.
    return (kind + text)[: PINYIN_KEY_LENGTH if kind == PINYIN else INITIALS_KEY_LENGTH]


def _key_range(kind: str, text: str, path: str = "") -> Q:
    """Keys of `kind` starting with `text`: a range on a plain B-tree, ordered the same in any collation."""
    low = _key_text(kind, text)
    high = next_prefix(low)
    assert high is not None  # a key starts with its kind letter (c, i, p), so the next letter is above it
    return Q(**{f"{path}key__gte": low, f"{path}key__lt": high})


def _has_key(kind: str, text: str, *, at_start: bool) -> Q:
    keys = CustomerSearchKey.objects.filter(_key_range(kind, text), customer=OuterRef("pk"))
    return Q(Exists(keys.filter(position=0) if at_start else keys.filter(position__gt=0)))


def _few_keys(base: QuerySet[Customer], query: Query, rows: ScopeRows, found: Ids, need: int) -> Ids | None:
    """All matches ranked, when the scope's units have at most KEY_CANDIDATES code, pinyin or initials keys starting
    with the query (search_key_unit: each unit's range of keys, with the name length to rank on the index alone);
    None when they have more."""
    tiers: dict[int, tuple[int, int, int]] = {}
    read = 0
    for kind in (CODE, PINYIN, INITIALS):
        keys = CustomerSearchKey.objects.filter(rows.all_units_q(), _key_range(kind, query.text))
        if len(query.text) < 2:
            keys = keys.filter(position=0)  # one letter: prefixes only
        hits = list(keys.values_list("customer_id", "name_length", "position")[: KEY_CANDIDATES + 1 - read])
        read += len(hits)
        if read > KEY_CANDIDATES:
            return None
        for pk, length, position in hits:
            triple = (1 if position == 0 else 2, length, pk)
            tiers[pk] = min(triple, tiers.get(pk, triple))
    return _in_queryset(base, _ranked(list(tiers.values())), found, need)


def _letter_walks(query: Query) -> list[Walk]:
    text = query.text
    prefix = (
        Q(credit_code__startswith=query.code)
        | _has_key(PINYIN, text, at_start=True)
        | _has_key(INITIALS, text, at_start=True)
    )
    walks = [_walk_customers(prefix)]
    if len(text) >= 2:
        # Initials from a later character of the name (not inside its legal form): hxkj in 杭州华兴科技.
        walks.append(_walk_customers(_has_key(INITIALS, text, at_start=False)))
    return walks


def _name_tiers(query: Query) -> list[Q]:
    """The tiers as filters on customer rows (for a small scope's single statement)."""
    tiers = [Q(search_name=query.text), Q(search_name__startswith=query.text)]
    if query.substring:
        tiers.append(Q(search_name__contains=query.text))
    return tiers
