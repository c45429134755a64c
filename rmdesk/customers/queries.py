"""Quick search: the customers of an already restricted queryset that match what was typed, most relevant first.

Ranking: the exact name or credit code; then prefixes (of the name, of its full pinyin or initials, of the code);
then substrings (of the name from two characters, of the initials from a later character). Within a tier shorter
names come first, then lower ids.

How each search is planned (measured by bench/bench_search.py; docs/architecture.md, "Search", says why):
- A scope of at most SMALL_SCOPE customers (an RM's book, a team) is searched over its own rows, which the
  database finds through the scope's indexes: their names, and for a letters query their keys (search_letters) and
  codes, matched here.
- A larger scope: a letters query's exact matches first (name and code indexes; a Chinese query's exact match is
  its prefix tier's first), then each tier from candidates in rank order, kept when the queryset holds them (its
  scope and filters), best first, until the limit:
  - a Chinese query: the rows of its rarest gram, its other grams checked at the same distance in the same name.
    Held at most CANDIDATES times in the scope's units (name_gram_unit), they are all read and sorted here (first
    looked for among the gram's first PEEK rows in rank order, when held more than PEEK_WORTH times); more, and the
    gram's rows are walked in rank order (name_gram_rank), skipping other units' rows on the index;
  - pinyin, initials and code prefixes: the database counts the scope's matching keys and ranks them on the index
    alone (search_key_unit holds the name length), a rare prefix's in the statement that counts them, up to
    KEY_RANK_CAP of them; a prefix more common than that is found
    at once by walking customers in rank order (customer_search_rank). A unit's prefix starting more than
    KEY_PEEK_WORTH of its names is first looked for among the bank's first KEY_PEEK customers in rank order.
"""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Length

from rmdesk.core.lookups import id_array
from rmdesk.core.validators import may_begin_credit_code
from rmdesk.customers.models import Customer, CustomerCoRM, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.search import (
    CODE,
    INITIALS,
    INITIALS_KEY_LENGTH,
    LATER,
    PINYIN,
    PINYIN_KEY_LENGTH,
    Query,
    next_prefix,
    read_query,
)
from rmdesk.org.models import OrgUnit, User

SEARCH_LIMIT = 20
# A scope of at most this many customers is searched by filtering its own rows.
SMALL_SCOPE = 1000
# A gram held at most this many times in the scope's units: its rows are all read and sorted; more: walked in rank
# order. Also how far a gram is counted to find a query's rarest; among common ones, SAMPLE rows of each decide.
CANDIDATES = 5000
SAMPLE = 256
# A scope holding the anchor gram more than PEEK_WORTH times (and at most CANDIDATES) first looks for its best
# matches among the gram's first PEEK rows in rank order (see _peek).
PEEK = 2048
PEEK_WORTH = 500
# Matching keys in scope up to this many are ranked by the database on the index alone; more, and the matches are
# common enough to be found at once by walking customers in rank order (see _key_tier for the two caps).
KEY_PREFIX_CAP = 50_000
KEY_RANK_CAP = 200_000
# A unit's or the bank's search whose prefix starts more than KEY_PEEK_WORTH names in scope first looks for its best
# matches among the bank's first KEY_PEEK customers in rank order (see _key_peek).
KEY_PEEK = 2048
KEY_PEEK_WORTH = 10_000  # below KEY_PREFIX_CAP
# A range of at most this many matching keys is ranked with its count (see _counted_keys).
KEYS_RANKED_AT_ONCE = 256

RANK = (Length("search_name"), "pk")
CO_RM_ARRAY = 200_000  # co-RM customer ids passed to PostgreSQL as one array (by_scope_indexes)
MAX_BATCH = 1000  # candidates checked against the queryset at once (SQLite allows 32,766 parameters a statement)

Ids = list[int]
Pairs = list[tuple[int, int]]  # (customer id, name length)
Names = list[tuple[int, str]]  # (customer id, normalised name)
K = TypeVar("K")  # what a process keeps facts by (Kept)
V = TypeVar("V")


def search_customers(queryset: QuerySet[Customer], q: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """The `limit` customers of `queryset` (already restricted) that best match `q`, best first."""
    return in_order(queryset, ranked_ids(queryset, q, limit=limit))


def in_order(queryset: QuerySet[Customer], ids: Ids) -> list[Customer]:
    """The customers of `queryset` with these ids, in their order (those it does not hold left out)."""
    found = {customer.pk: customer for customer in queryset.filter(pk__any_of=id_array(ids))}
    return [found[pk] for pk in ids if pk in found]


def co_rm_usernames(customers: Iterable[Customer]) -> dict[int, list[str]]:
    """Each customer's co-RMs (协办) as their usernames, sorted: one statement for a page of customers, the links read
    with the users' names alone. Prefetched as users instead, a page built a user model and a related manager for each
    customer: a fifth of the time the API took to read a quick search's twenty rows (docs/benchmarks.md, session 17)."""
    found: dict[int, list[str]] = {customer.pk: [] for customer in customers}
    links = CustomerCoRM.objects.filter(customer_id__any_of=id_array(list(found))).order_by("user__username")
    for customer_id, username in links.values_list("customer_id", "user__username"):
        found[customer_id].append(username)
    return found


def ranked_ids(queryset: QuerySet[Customer], q: str, *, limit: int = SEARCH_LIMIT) -> Ids:
    """The ids of the best `limit` matches of `q` in `queryset`, best first; [] when `q` has nothing to look for."""
    query = read_query(q)
    if query is None or limit < 1:
        return []
    base = queryset.order_by()
    if query.kind == "name":
        names = _small_scope(base, "pk", "search_name")
        if names is not None:
            return _search_names(names, query, limit)
    else:
        # With its keys and code, matched here: no key is read (that was a statement more, the book's ids sent back).
        letters = _small_scope(base, "pk", "search_name", "search_letters", "credit_code")
        if letters is not None:
            return _search_letters(letters, query, limit)
    return _search_large(base, query, scope_units(base), limit)


def _small_scope(base: QuerySet[Customer], *columns: str) -> list[tuple[Any, ...]] | None:
    """These columns of the customers of a scope of at most SMALL_SCOPE (an RM's book, a small team), else None.

    An RM's or a unit's are read on the scope's own indexes, at most one more than SMALL_SCOPE: the list is what
    a small scope is then searched by, so knowing it is small costs nothing more (counting first, on the primary-RM
    and co-RM indexes, was four more statements per search: a third of an RM's search time).
    """
    scope = getattr(base, "scope", None)
    # A unit owning more is not small, known on customer_unit_list alone: the scope's first SMALL_SCOPE + 1 rows read
    # by their own indexes cost a branch 11 ms on PostgreSQL (the co-RM ids ORed in make it a bitmap scan of all 33,250
    # first).
    if (
        scope is not None
        and scope.unit_path is not None
        and base.filter(owning_unit_id__among=id_array(scope.units))[SMALL_SCOPE : SMALL_SCOPE + 1].exists()
    ):
        return None
    if scope is not None and (scope.rm_id is not None or scope.unit_path is not None):
        # SQLite reads an RM's book as restrict() states it, on the primary-RM and co-RM indexes (MULTI-INDEX OR);
        # restated, it cost a statement more, the co-RM ids read first: 0.4 ms of an RM's 1.1–3.0 ms search ranking.
        sqlite_book = scope.rm_id is not None and connections[base.db].vendor == "sqlite"
        rows = list((base if sqlite_book else by_scope_indexes(base)).values_list(*columns)[: SMALL_SCOPE + 1])
        return rows if len(rows) <= SMALL_SCOPE else None
    if base[SMALL_SCOPE : SMALL_SCOPE + 1].exists():
        return None  # the whole bank, or a queryset restrict() did not make, with many customers
    return list(base.values_list(*columns))


def scope_units(base: QuerySet[Customer]) -> list[int] | None:
    """The units whose search rows hold every customer of the scope (None: all rows; the customer rows decide).

    A unit scope: its subtree. An RM: the units owning their customers (customer_rm_unit, on the index alone) and
    their own unit, under which their co-RM customers' rows are written. A superset of the book: the queryset
    then keeps the RM's own.
    """
    scope = getattr(base, "scope", None)
    if scope is None or (scope.rm_id is None and scope.unit_path is None):
        return None  # the whole bank, nothing at all, or a queryset restrict() did not make
    if scope.rm_id is not None:
        owning = Customer.objects.filter(primary_rm_id=scope.rm_id).values_list("owning_unit_id", flat=True)
        own_unit = User.objects.filter(pk=scope.rm_id).values_list("unit_id", flat=True)
        return sorted({*owning.distinct(), *(unit for unit in own_unit if unit is not None)})
    return list(scope.units)


def co_rm_links(units: Iterable[int]) -> QuerySet[CustomerCoRM]:
    """The co-RM links of the units' staff. The staff by id: joined to the users instead, PostgreSQL read every link of
    the bank (11 ms, not 1)."""
    staff = list(User.objects.filter(unit_id__among=id_array(units)).values_list("pk", flat=True))
    return CustomerCoRM.objects.filter(user_id__any_of=id_array(staff))


def by_scope_indexes(base: QuerySet[Customer]) -> QuerySet[Customer]:
    """A restricted queryset of customers whose scope the database can find by index, for reading a whole scope.

    The scope is restated by its own indexes: an RM's customers or their co-RM customers, a unit subtree's by unit
    ids or its co-RMs' customers, the co-RM customers as a list of ids where it is short. PostgreSQL cannot estimate
    "… or id in (subquery)" and scans every customer; "… or id in (ids)" is an OR of two index scans. The condition
    is ANDed to restrict()'s own, so it only ever narrows what is visible.
    """
    scope = getattr(base, "scope", None)
    if scope is None or (scope.rm_id is None and scope.unit_path is None):
        return base
    if scope.rm_id is not None:
        co_rm = CustomerCoRM.objects.filter(user_id=scope.rm_id)
        owned = Q(primary_rm_id=scope.rm_id)
    else:
        units = scope_units(base) or []  # a unit scope's subtree
        co_rm = CustomerCoRM.objects.filter(user__unit_id__among=id_array(units))
        owned = Q(owning_unit_id__among=id_array(units))
    # PostgreSQL takes the ids as one array, however many (a branch's co-RMs bring in thousands). SQLite keeps the
    # subquery past MAX_BATCH ids, as its plans were measured (bench/bench_http.py); a longer JSON array is untried.
    longest = CO_RM_ARRAY if connections[base.db].vendor == "postgresql" else MAX_BATCH
    co_rm_of = list(co_rm.values_list("customer_id", flat=True)[: longest + 1])
    if len(co_rm_of) > longest:
        return base.filter(owned | Q(pk__in=co_rm.values("customer_id")))
    return base.filter(owned | Q(pk__any_of=id_array(co_rm_of)))


# --- a small scope: searched over its own rows -------------------------------------------------------------------


def _search_names(names: Names, query: Query, limit: int) -> Ids:
    """A small scope's name query, matched on its customers' normalised names, tier by tier as the SQL would (exact,
    prefix, substring; both sides normalised alike).

    Asked of the database instead, as one statement ranking the scope's rows by a CASE over the tiers, it was a second
    statement carrying the scope's ids, which cost more to build than the names take to read: the ranking of an RM's
    2- and 3-character searches of their 327 customers on the 1M demo bank took 8–10 ms on SQLite and 13–16 on
    PostgreSQL that way, 6–7 and 4–7 this way (docs/benchmarks.md).
    """
    text = query.text
    ranked: list[tuple[int, int, int]] = []
    for pk, name in names:
        if name == text:
            ranked.append((0, len(name), pk))
        elif name.startswith(text):
            ranked.append((1, len(name), pk))
        elif query.substring and text in name:
            ranked.append((2, len(name), pk))
    return _ranked(ranked)[:limit]


def _search_letters(rows: list[tuple[Any, ...]], query: Query, limit: int) -> Ids:
    """A small scope's pinyin, initials or code query, matched on its customers' names, keys (search_letters, each
    after a space) and codes as the key ranges match them on the indexes: exact, prefix, then initials from a later
    character.

    Looked up in the search keys instead, per customer of the book (search_key_customer), it was a statement more, with
    the book's ids read and sent back: an RM's letters searches were 0.7 ms slower than their Chinese ones on SQLite,
    and their page no faster than the admin changelist's that finds nothing (docs/benchmarks.md, session 16).

    A name the query is exactly is letters and digits only, one run, so its full pinyin is the name itself: compared
    whole, as the indexes' exact tier does.
    """
    text = query.text
    # The key a match starts with, cut as keys are (a longer query is matched on as much of it as a key holds).
    starts = [f" {_key_text(kind, text)}" for kind in (PINYIN, INITIALS)]
    later = f" {LATER}{_key_text(INITIALS, text)}" if len(text) >= 2 else None
    codes = CODE in _start_kinds(query)
    ranked: list[tuple[int, int, int]] = []
    for pk, name, letters, credit_code in rows:
        keys, code = letters or "", credit_code.lower() if codes else None
        if name == text or code == text:
            ranked.append((0, len(name), pk))
        elif any(start in keys for start in starts) or (code is not None and code.startswith(text)):
            ranked.append((1, len(name), pk))
        elif later is not None and later in keys:
            ranked.append((2, len(name), pk))
    return _ranked(ranked)[:limit]


# --- a large scope -------------------------------------------------------------------------------------------------


def _search_large(base: QuerySet[Customer], query: Query, units: list[int] | None, limit: int) -> Ids:
    """Tier by tier: candidates from the search indexes in rank order, kept when the queryset holds them."""
    scope = getattr(base, "scope", None)
    rows = ScopeRows(units, one_rm=scope is not None and scope.rm_id is not None)
    text = query.text
    found: Ids = []
    tiers: list[Tier]
    if query.kind == "name":
        # No exact tier of its own: a name that is the query is the shortest that starts with it, so the prefix tier
        # ranks it first anyway, one statement fewer (of a branch head's eleven on PostgreSQL).
        tiers = [_name_tier(base, query, rows, start=0)]
        if query.substring:
            tiers.append(_name_tier(base, query, rows, start=None))
    else:
        # The exact name or credit code first (customer_search_name, the unique code index): a name of letters typed
        # whole ranks before the longer names its pinyin starts.
        exact = Q(search_name=text) | Q(credit_code=query.code)
        found = [pk for _length, pk in sorted((n, pk) for pk, n in _pairs(base.filter(exact)))][:limit]
        tiers = [_key_tier(base, query, rows, _start_kinds(query), at_start=True)]
        if len(text) >= 2:
            tiers.append(_key_tier(base, query, rows, (INITIALS,), at_start=False))
    for tier in tiers:
        need = limit - len(found)
        if need <= 0:
            break
        found += tier(need, found)
    return found


Tier = Callable[[int, Ids], Ids]  # (how many, ids already found) → the tier's next best ids


class ScopeRows:
    """The search rows a scope reads: those of its units, or all of them (the customer rows then decide)."""

    def __init__(self, units: list[int] | None, *, one_rm: bool = False) -> None:
        self.units = units
        # An RM's book: a "walk" over customers in rank order is then a scan of the whole book (the database prefers
        # the RM's index), so ranking on the search indexes is worth more.
        self.one_rm = one_rm

    def q(self) -> Q:
        """On the unit-first indexes: the scope's units' own rows."""
        return Q() if self.units is None else Q(unit__among=id_array(self.units))

    def q_in_passing(self) -> Q:
        """On a rank-ordered index: the same rows, tested on each entry. `unit_id + 0` cannot use an index, so the
        database keeps to the rank order (and never sorts) instead of seeking each unit and sorting all of them."""
        if self.units is None:
            return Q()
        return Q(unit_plus__in=self.units)

    def unit_conditions(self) -> list[Q]:
        """The scope's rows on the unit-first search_key_unit index, as conditions to query one by one: its units;
        or for a whole-bank search every unit, and the rows without one (from bulk rows given no units)."""
        if self.units is not None:
            return [Q(unit__among=id_array(self.units))]
        return [Q(unit__in=list(OrgUnit.objects.values_list("pk", flat=True))), Q(unit__isnull=True)]


def _ranked(triples: list[tuple[int, int, int]]) -> Ids:
    """Ids by (tier, name length, id)."""
    return [pk for _tier, _length, pk in sorted(triples)]


def _pairs(queryset: QuerySet[Customer]) -> Pairs:
    return list(queryset.values_list("pk", Length("search_name")))


def _in_queryset(base: QuerySet[Customer], runs: Iterable[Ids], found: Ids, need: int) -> Ids:
    """The first `need` of the candidates that `base` holds (its scope and filters) and `found` does not.

    The candidates come best first in runs, each what one read of the search rows gave. They are checked in growing
    batches from the best down, so a search that fills its limit early reads few customers; a batch never reaches
    into the next run, whose read is not made while what is at hand may do.
    """
    seen = set(found)
    kept: Ids = []
    size = 2 * need + 16
    for run in runs:
        fresh = [pk for pk in dict.fromkeys(run) if pk not in seen]
        seen.update(fresh)
        at = 0
        while at < len(fresh):
            batch = fresh[at : at + size]
            # The ids as one array (any_of): as an IN list of more than some 60, SQLite read the scope's every customer
            # on its unit indexes to test them instead (224 of a branch's 33,250 candidates: 12.5 ms, not 0.6).
            held = set(base.filter(pk__any_of=id_array(batch)).values_list("pk", flat=True))
            kept += [pk for pk in batch if pk in held][: need - len(kept)]
            if len(kept) >= need:
                return kept
            at += len(batch)
            size = min(size * 4, MAX_BATCH)
    return kept


# --- Chinese (or any non-ASCII) text: the normalised name --------------------------------------------------------


GramRow = tuple[int, int | None, int, int]  # customer, unit, position, name length
GramSample = tuple[int, int, str]  # customer, position, normalised name


class Kept(Generic[K, V]):
    """Facts a process keeps for SECONDS, at most KEPT of them, the least recently asked let go first."""

    SECONDS = 300.0
    KEPT = 1024

    def __init__(self) -> None:
        self._kept: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def clear(self) -> None:
        self._kept.clear()

    def get(self, key: K) -> V | None:
        kept = self._kept.get(key)
        if kept is None or time.monotonic() - kept[0] >= self.SECONDS:
            return None
        self._kept.move_to_end(key)
        return kept[1]

    def put(self, key: K, value: V) -> V:
        self._kept[key] = (time.monotonic(), value)
        self._kept.move_to_end(key)
        if len(self._kept) > self.KEPT:
            self._kept.popitem(last=False)
        return value


class GramFacts(Kept[str, tuple[int, list[GramSample]]]):
    """What the whole bank's rows of a gram are like: how many (up to CANDIDATES + 1) and, of a common gram, the first
    SAMPLE in rank order with their names. They choose only how a query is searched, never what it finds, and change
    slowly, while every query holding the gram asks them (杭州 in 杭州华, 杭州恒, hangzhou…): so each process keeps
    them (a common one keeps 256 small tuples, each with a name)."""

    def _of(self, gram: str) -> tuple[int, list[GramSample]]:
        kept = self.get(gram)
        if kept is not None:
            return kept
        rows = CustomerNameGram.objects.filter(gram=gram)
        count = rows[: CANDIDATES + 1].count()
        ranked = rows.order_by("name_length", "customer_id").values_list(
            "customer_id", "position", "customer__search_name"
        )
        first = ranked[:SAMPLE] if count > CANDIDATES else []  # asked only of common grams
        return self.put(gram, (count, list(first)))

    def count(self, gram: str) -> int:
        """How many rows `gram` has in the whole bank, counted up to CANDIDATES + 1 on the index alone."""
        return self._of(gram)[0]

    def first(self, gram: str) -> list[GramSample]:
        """The gram's first SAMPLE rows in rank order with their names, of a gram held more than CANDIDATES times."""
        return self._of(gram)[1]


gram_facts = GramFacts()


def _ranked_rows(gram: str) -> QuerySet[CustomerNameGram, GramRow]:
    """A gram's rows in rank order as customer, unit, position and name length: all on name_gram_rank, which
    PostgreSQL then reads alone."""
    ranked = CustomerNameGram.objects.filter(gram=gram).order_by("name_length", "customer_id")
    return ranked.values_list("customer_id", "unit", "position", "name_length")


def _name_tier(base: QuerySet[Customer], query: Query, rows: ScopeRows, *, start: int | None) -> Tier:
    """Names that hold the query at `start` (0: a prefix) or anywhere (None), best first."""
    # For a prefix, the first character's own row also lists the names starting with it.
    choices = query.grams() if start is None else [(0, query.text[0]), *query.grams()]

    def best(need: int, found: Ids) -> Ids:
        anchor = _anchor(query, choices, start=start)
        return _in_queryset(base, _gram_candidates(query, rows, anchor, start=start), found, need)

    return best


def _rows_at(anchor: tuple[int, str], *, start: int | None) -> QuerySet[CustomerNameGram]:
    """The rows of the anchor gram where the query can sit: at offset `start` of the name, or anywhere."""
    offset, gram = anchor
    grams = CustomerNameGram.objects.filter(gram=gram)
    return grams.filter(position__gte=offset) if start is None else grams.filter(position=start + offset)


def _aligned(query: Query, anchor: tuple[int, str], *, start: int | None) -> QuerySet[CustomerNameGram]:
    """The anchor's rows whose name holds the whole query: every other gram of it at the same distance in the same
    name (name_gram_customer), which is exactly "the name holds the query", no name read."""
    offset, _gram = anchor
    grams = _rows_at(anchor, start=start)
    for other_offset, other in query.grams():
        if (other_offset, other) != anchor:
            at: Any = OuterRef("position") + (other_offset - offset) if start is None else start + other_offset
            same_name = CustomerNameGram.objects.filter(customer=OuterRef("customer"), gram=other, position=at)
            grams = grams.filter(Exists(same_name))
    return grams


def _anchor(query: Query, choices: list[tuple[int, str]], *, start: int | None) -> tuple[int, str]:
    """The (offset, gram) whose rows to read: the rarest; when all are common, the one whose first rows in rank
    order most often hold the query (有限责 reads 限责: the shortest names hold 有限 without 责)."""
    if len(choices) == 1:
        return choices[0]
    counts = {choice: gram_facts.count(choice[1]) for choice in choices}
    rarest = min(choices, key=lambda choice: (counts[choice], choice))
    if counts[rarest] <= CANDIDATES:
        return rarest

    def hits(choice: tuple[int, str]) -> int:
        # The gram's first rows in rank order, wherever it sits, with the names they are of: those holding the query
        # where the anchor puts it, told here. Asked of the database instead, the query's other grams beside those
        # rows cost PostgreSQL 4–6 ms a choice.
        offset, gram = choice
        return len(
            {
                customer
                for customer, position, name in gram_facts.first(gram)
                if (position - offset >= 0 if start is None else position - offset == start)
                and name.startswith(query.text, position - offset)
            }
        )

    # Alike, the one that leaves fewer grams to check beside each row: 杭州 over 杭 for names starting 杭州.
    grams = query.grams()
    return max(choices, key=lambda choice: (hits(choice), choice in grams, -choice[0]))


def _gram_candidates(query: Query, rows: ScopeRows, anchor: tuple[int, str], *, start: int | None) -> Iterator[Ids]:
    """Customers of the scope's units whose name holds the query (at `start`, or anywhere), in rank order, in runs.

    When the units hold the anchor gram at most CANDIDATES times (name_gram_unit, their own rows) they are all read
    and sorted here (after a look at the gram's first rows, when there are more than PEEK_WORTH); more, and the
    gram's rows are walked in rank order (name_gram_rank), a batch at a time.
    """
    aligned = _aligned(query, anchor, start=start)
    # The scope's units hold the gram no more often than the bank (whose count the process keeps): counted in them only
    # where that could choose a look or a walk, a statement fewer for a rare gram.
    held = gram_facts.count(anchor[1])
    if held > PEEK_WORTH and rows.units is not None:
        held = CustomerNameGram.objects.filter(rows.q(), gram=anchor[1])[: CANDIDATES + 1].count()
    if held <= CANDIDATES:
        if held > PEEK_WORTH:
            yield _peek(query, rows, anchor, start=start)
        # Those the look found are here again, and the batches skip them; every one ranks before any of the rest.
        yield _ranked_customers(aligned.filter(rows.q()))
        return
    walk = aligned.annotate(unit_plus=F("unit") + 0).filter(rows.q_in_passing())
    ordered = walk.order_by("name_length", "customer_id").values_list("customer_id", flat=True)
    done, size = 0, 256
    while True:
        batch = list(ordered[done : done + size])
        yield batch
        if len(batch) < size:
            return
        done, size = done + size, size * 4


def _ranked_customers(grams: QuerySet[CustomerNameGram]) -> Ids:
    """The customers of these gram rows, in rank order (name length, id)."""
    return [pk for _length, pk in sorted(set(grams.values_list("name_length", "customer_id")))]


def _peek(query: Query, rows: ScopeRows, anchor: tuple[int, str], *, start: int | None) -> Ids:
    """The matches among the anchor gram's first PEEK rows in rank order (name_gram_rank, on the index alone), best
    first, looked at before the scope's rows are read whole.

    A branch holding a common gram a few thousand times finds its best matches here: its share of the bank's rows
    puts dozens of them among the first PEEK. Read whole with the other grams checked beside each, 责任公's 4,998 rows
    of 责任 in a branch cost PostgreSQL a hash join over the bank's 157,810 rows of 任公 (33–39 ms). A scope whose
    share is small finds few here and reads its rows whole after all. Every customer ranked before the last one
    looked at had all its rows among the first PEEK, so what is found here ranks before anything found after.
    """
    return _holding(query, anchor, _ranked_rows(anchor[1])[:PEEK], start=start, units=rows.units)


def _holding(
    query: Query, anchor: tuple[int, str], first: Iterable[GramRow], *, start: int | None, units: list[int] | None
) -> Ids:
    """The customers of the anchor's `first` rows (its first in rank order), in `units`, whose name holds the query
    where it can sit, in rank order.

    The other grams of the query are read for those customers only (name_gram_customer) and lined up here. With the
    rows read by id, PostgreSQL fetched every row of a gram it had counted too few of and sorted them (50 ms for 物流);
    with the other grams checked in the statement, it scanned their rows in the bank (2–5 ms for 256 rows).
    """
    offset, _gram = anchor
    held = None if units is None else set(units)
    places: dict[int, tuple[int, set[int]]] = {}  # customer → (name length, where the anchor sits)
    for customer, unit, position, length in first:
        if (held is None or unit in held) and (position >= offset if start is None else position == start + offset):
            places.setdefault(customer, (length, set()))[1].add(position)  # as _rows_at asks, in the units
    others = [(other_offset, other) for other_offset, other in query.grams() if (other_offset, other) != anchor]
    if others and places:
        grams: dict[int, set[tuple[str, int]]] = {customer: set() for customer in places}
        beside = CustomerNameGram.objects.filter(customer__in=sorted(places), gram__in=sorted({g for _o, g in others}))
        for customer, other, position in beside.values_list("customer_id", "gram", "position"):
            grams[customer].add((other, position))
        # As _aligned: every other gram at the same distance from the anchor in the same name.
        places = {
            customer: (length, {p for p in at if all((g, p - offset + o) in grams[customer] for o, g in others)})
            for customer, (length, at) in places.items()
        }
    return [pk for _length, pk in sorted((length, pk) for pk, (length, at) in places.items() if at)]


# --- ASCII letters and digits: pinyin, initials, credit code ----------------------------------------------------


def _start_kinds(query: Query) -> tuple[str, ...]:
    """The kinds of key a letters query may start: a credit code only where the query could begin a valid one (most
    pinyin and initials cannot: an authority first, no I, O, S, V or Z); pinyin and initials always, as a name's runs
    of ASCII letters and digits are kept in both (3m, tcl)."""
    if may_begin_credit_code(query.code):
        return (CODE, PINYIN, INITIALS)
    return (PINYIN, INITIALS)


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


class CommonPrefixes(Kept[tuple[tuple[int, ...] | None, tuple[str, ...], str], bool]):
    """The prefixes (of these kinds, in these units' search rows) found to start more than KEY_PEEK_WORTH names: a
    branch's hangzhou, 913301. Like the grams' facts they choose only how a query is searched, and a common prefix
    stays common; kept, the count of up to KEY_PEEK_WORTH + 1 keys that sends such a search to look at the bank's first
    customers is not made again: 2.7–3.0 ms of a branch head's 19–21 on PostgreSQL (docs/benchmarks.md, session 17).
    A rare prefix is counted every time, as its keys are ranked with the count."""


common_prefixes = CommonPrefixes()


def _key_tier(
    base: QuerySet[Customer], query: Query, rows: ScopeRows, kinds: tuple[str, ...], *, at_start: bool
) -> Tier:
    """Keys of `kinds` starting with the query at the name's start (or after it), best first.

    The scope's matching keys (search_key_unit: each unit's range, with the name length) are counted and ranked by
    the database on the index alone. More than a cap of them, and the matches are so common that a walk over
    customers in rank order (customer_search_rank) finds the best at once. The cap is higher for initials after the
    start, which are often in long names (企业管理… glyx) that a walk from the shortest names reaches late, and for an
    RM's book, which the database walks by scanning it.
    """
    cap = KEY_PREFIX_CAP if at_start and not rows.one_rm else KEY_RANK_CAP

    def best(need: int, found: Ids) -> Ids:
        ranges = _key_ranges(query.text, rows, kinds, at_start=at_start)
        kept: Ids = []
        looks = at_start and not rows.one_rm
        size = 2 * need + 16
        prefix = (None if rows.units is None else tuple(rows.units), kinds, query.text)
        if looks and common_prefixes.get(prefix):
            held, ranks = KEY_PEEK_WORTH + 1, None  # counted before: the look comes first
        else:
            held, ranks = _counted_keys(ranges, KEY_PEEK_WORTH if looks else cap, size)
            if looks and held > KEY_PEEK_WORTH:
                common_prefixes.put(prefix, True)
        if looks and held > KEY_PEEK_WORTH:
            # Every match ranked before the last customer looked at was looked at: what the look keeps ranks first.
            kept = _in_queryset(base, [_key_peek(query, rows, kinds)], found, need)
            if len(kept) >= need:
                return kept
            need, found, held = need - len(kept), found + kept, _held(ranges, cap)
            ranks, size = None, 2 * need + 16
        if held > cap:
            row = _letter_row(query, kinds, at_start=at_start)
            return kept + _walk_customers(base.exclude(pk__in=found), row, need)
        if ranks is not None:  # every range's best `size`, read with the count
            ranked, complete = ranks
            kept = _in_queryset(base, [ranked], found, need)
            if len(kept) >= need or complete:
                return kept
            need, found, size = need - len(kept), found + kept, size * 4
        return kept + by_rank(ranges, need, found, size)

    def by_rank(ranges: list[QuerySet[CustomerSearchKey]], need: int, found: Ids, size: int) -> Ids:
        while True:
            ranked, complete = _ranked_keys(ranges, size)
            kept = _in_queryset(base, [ranked], found, need)
            if len(kept) >= need or complete:
                return kept
            size *= 4

    return best


def _held(ranges: list[QuerySet[CustomerSearchKey]], most: int) -> int:
    """How many keys the ranges hold, counted up to `most` + 1 in each on the index alone."""
    return sum(keys[: most + 1].count() for keys in ranges)


def _counted_keys(
    ranges: list[QuerySet[CustomerSearchKey]], most: int, size: int
) -> tuple[int, tuple[Ids, bool] | None]:
    """_held(ranges, most) and, where no range holds more than KEYS_RANKED_AT_ONCE keys, _ranked_keys(ranges, size)
    (else None): one statement.

    Each range is counted as _held counts it and its first KEYS_RANKED_AT_ONCE + 1 entries (search_key_unit, on the
    index alone) ranked: all of a rare prefix's, so it is ranked with no statement more. Asked apart, as two statements
    a range, the counts and ranks were six of a branch head's thirteen for an initials search on PostgreSQL. Ranking
    every entry counted instead, over a window, cost a common prefix more than the statement saved (hangzhou: ten
    thousand entries sorted).
    """
    first_size = max(KEYS_RANKED_AT_ONCE, size)
    parts, params = [], []
    for number, keys in enumerate(ranges):
        first = keys.values_list("name_length", "customer_id")[: first_size + 1]
        counted = keys.values_list("pk")[: max(most + 1, 0)]
        try:
            first_sql, first_params = first.query.get_compiler(using=first.db).as_sql()
            counted_sql, counted_params = counted.query.get_compiler(using=counted.db).as_sql()
        except EmptyResultSet:
            continue  # no units, or nothing to count: none in this range
        best = f"SELECT {number} AS part, k.* FROM ({first_sql}) AS k ORDER BY 2, 3 LIMIT {size}"  # noqa: S608 - Django's own SQL
        parts += [
            f"SELECT * FROM ({best}) AS r{number}",  # noqa: S608 - Django's own SQL
            f"SELECT {number} AS part, COUNT(*), NULL FROM ({counted_sql}) AS c{number}",  # noqa: S608 - Django's own SQL
        ]
        params += [*first_params, *counted_params]
    if not parts:
        return 0, ([], True)
    with connections[ranges[0].db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = cursor.fetchall()
    lists: list[list[tuple[int, int]]] = [[] for _ in ranges]  # (name length, id)
    counts = [0] * len(ranges)
    for number, length_or_count, pk in found:
        if pk is None:
            counts[number] = length_or_count
        else:
            lists[number].append((length_or_count, pk))
    held = sum(counts)
    if any(count > first_size for count in counts):
        return held, None
    return held, _merged([sorted(pairs) for pairs in lists], size)


class FirstCustomers:
    """Where the bank's first KEY_PEEK customers in rank order end: the (name length, id) of the last of them, or None
    when the bank has fewer. A look at the first customers reads every one up to it, whoever joined since, so this
    bounds how much a look reads, never what it finds; it moves slowly, so each process keeps it for SECONDS."""

    SECONDS = 300.0

    def __init__(self) -> None:
        self._kept: tuple[float, int, tuple[int, int] | None] | None = None

    def clear(self) -> None:
        self._kept = None

    def last(self) -> tuple[int, int] | None:
        now = time.monotonic()
        if self._kept is None or now - self._kept[0] >= self.SECONDS or self._kept[1] != KEY_PEEK:
            ranked = Customer.objects.annotate(rank_length=Length("search_name")).order_by(*RANK)
            last = ranked.values_list("rank_length", "pk")[KEY_PEEK - 1 : KEY_PEEK]
            self._kept = (now, KEY_PEEK, next(iter(last), None))
        return self._kept[2]


first_customers = FirstCustomers()


def _key_peek(query: Query, rows: ScopeRows, kinds: tuple[str, ...]) -> Ids:
    """The customers among the bank's first KEY_PEEK in rank order (customer_search_rank) that the scope's units may
    hold and that have a key of `kinds` starting with the query (search_key_customer), best first.

    A branch's prefix that a city's names share (hangzhou, 913301: 41,446 of its keys) is matched by dozens of the
    bank's first customers, while ranking all of the scope's matching keys cost PostgreSQL 7 ms to count and 8 to sort
    them. The units are tested on each customer read (`owning_unit_id + 0`: no index, so the database keeps to the
    rank order), with the co-RM customers owned elsewhere: a superset of the scope, which the queryset then narrows.
    """
    customers: QuerySet[Any] = Customer.objects.annotate(rank_length=Length("search_name"))
    if rows.units is not None:
        elsewhere = co_rm_links(rows.units).exclude(customer_unit_id__among=id_array(rows.units)).values("customer_id")
        customers = customers.annotate(unit_plus=F("owning_unit") + 0)
        customers = customers.filter(Q(unit_plus__in=rows.units) | Q(pk__in=elsewhere))
    matching = customers.filter(_letter_row(query, kinds, at_start=True)).values_list("pk", "rank_length")
    last = first_customers.last()
    if last is not None:
        # Two ranges of customer_search_rank, the shorter names and the first of the last one's length: as one OR (or
        # a row-value comparison), SQLite read every name up to that length (423,000 rows, 94 ms).
        length, pk = last
        shorter = matching.filter(rank_length__lt=length)
        matching = shorter.union(matching.filter(rank_length=length, pk__lte=pk), all=True)
    return [pk for pk, _length in matching.order_by("rank_length", "pk")]


def _key_ranges(
    text: str, rows: ScopeRows, kinds: tuple[str, ...], *, at_start: bool
) -> list[QuerySet[CustomerSearchKey]]:
    """The scope's keys of `kinds` starting with `text`, as one plain range on search_key_unit per kind and unit
    condition (an OR of ranges, or of a unit list with IS NULL, would make the database scan instead)."""
    found = []
    for kind in kinds:
        for units in rows.unit_conditions():
            keys = CustomerSearchKey.objects.filter(units, _key_range(kind, text))
            found.append(keys.filter(position=0) if at_start else keys.filter(position__gt=0))
    return found


def _ranked_keys(ranges: list[QuerySet[CustomerSearchKey]], size: int) -> tuple[Ids, bool]:
    """The best `size` customers by (name length, id) of all `ranges` (each sorted by the database on the index
    entries alone, then merged here), and whether that is all of them."""
    lists = [
        list(keys.order_by("name_length", "customer_id").values_list("name_length", "customer_id")[:size])
        for keys in ranges
    ]
    return _merged(lists, size)


def _merged(lists: list[list[tuple[int, int]]], size: int) -> tuple[Ids, bool]:
    """The best `size` customers of ranges' (name length, id) lists, each sorted and at most `size` long, and whether
    that is all of them (no list was cut)."""
    ranked = list(dict.fromkeys(pk for _length, pk in heapq.merge(*lists)))
    return ranked[:size], all(len(found) < size for found in lists)


def _letter_row(query: Query, kinds: tuple[str, ...], *, at_start: bool) -> Q:
    """The tier as a filter on customer rows, for a walk."""
    row = Q(credit_code__startswith=query.code) if CODE in kinds else Q(pk__in=[])
    for kind in kinds:
        if kind != CODE:
            row |= _has_key(kind, query.text, at_start=at_start)
    return row


def _walk_customers(base: QuerySet[Customer], row: Q, need: int) -> Ids:
    """Customers in rank order (customer_search_rank), filtered by `row`: only for matches common in scope."""
    return list(base.filter(row).order_by(*RANK).values_list("pk", flat=True)[:need])
