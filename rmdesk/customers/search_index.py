"""Writes the quick-search rows of customers (derived data, so no audit event of their own): one customer when a
service changes what they are found by, all of them from `rmdesk reindex-search`. The keys themselves come
from the pure `rmdesk.customers.search`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection, transaction

from rmdesk.customers.models import Customer, CustomerCoRM, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.search import Searchable, SearchRows, bulk_search_rows, search_keys

REINDEX_BATCH = 2000
_DELETE_CHUNK = 500


def write_search_rows(rows: SearchRows, *, new: bool = False) -> None:
    """Replace the search rows of the customers in `rows` (from `bulk_search_rows`).

    `new`: customers just created with their search_name and search_letters already saved (see `prepare`), so there is
    nothing to delete or update.
    """
    ids = [customer_id for customer_id, _name in rows.names]
    if not ids:
        return
    q = connection.ops.quote_name
    customer, grams, keys = (q(m._meta.db_table) for m in (Customer, CustomerNameGram, CustomerSearchKey))
    with transaction.atomic(), connection.cursor() as cursor:
        # Plain executemany: portable SQL, and several times faster than the ORM over millions of rows.
        if not new:
            for start in range(0, len(ids), _DELETE_CHUNK):
                chunk = ids[start : start + _DELETE_CHUNK]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {grams} WHERE customer_id IN ({marks})", chunk)  # noqa: S608
                cursor.execute(f"DELETE FROM {keys} WHERE customer_id IN ({marks})", chunk)  # noqa: S608
            cursor.executemany(
                f"UPDATE {customer} SET search_name = %s, search_letters = %s WHERE id = %s",  # noqa: S608
                [(name, letters, pk) for (pk, name), letters in zip(rows.names, rows.letters, strict=True)],
            )
        cursor.executemany(
            f"INSERT INTO {grams} (customer_id, unit_id, {q('position')}, gram, name_length)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s)",
            rows.grams,
        )
        cursor.executemany(
            f"INSERT INTO {keys} (customer_id, unit_id, {q('key')}, {q('position')}, name_length)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s)",
            rows.keys,
        )


def searchables(customer_ids: list[int]) -> list[Searchable]:
    """What the search rows of these customers are computed from, read from the database."""
    co_rm_units: dict[int, list[int]] = {}
    links = CustomerCoRM.objects.filter(customer_id__in=customer_ids, user__unit__isnull=False)
    for customer_id, unit_id in links.order_by("pk").values_list("customer_id", "user__unit_id"):
        co_rm_units.setdefault(customer_id, []).append(unit_id)
    rows = Customer.objects.filter(pk__in=customer_ids).order_by("pk")
    return [
        Searchable(pk, name, code, (unit_id, *co_rm_units.get(pk, ())))
        for pk, name, code, unit_id in rows.values_list("pk", "name", "credit_code", "owning_unit_id")
    ]


def index_customers(customer_ids: list[int]) -> None:
    """Recompute and store the search rows of these customers."""
    write_search_rows(bulk_search_rows(searchables(customer_ids)))


def index_customer(customer: Customer, *, co_rm_units: Iterable[int] | None = None, new: bool = False) -> None:
    """Store the search rows of one saved customer; the services call it whenever its name, code, owning unit or
    co-RMs change. `co_rm_units`: the units of its co-RMs, when the caller knows them (else they are read);
    `new`: just created, with `search_name` set before the save (see `prepare`)."""
    if co_rm_units is None:
        links = CustomerCoRM.objects.filter(customer_id=customer.pk, user__unit__isnull=False)
        co_rm_units = links.order_by("pk").values_list("user__unit_id", flat=True)
    units = (customer.owning_unit_id, *co_rm_units)
    rows = bulk_search_rows([Searchable(customer.pk, customer.name, customer.credit_code, units)])
    write_search_rows(rows, new=new)
    # So that a later save() of this instance keeps them.
    customer.search_name, customer.search_letters = rows.names[0][1], rows.letters[0]


def prepare(customer: Customer) -> None:
    """Set the normalised name and its keys on a customer about to be saved, so that its row is written whole at
    once."""
    keys = search_keys(customer.name)
    customer.search_name, customer.search_letters = keys.name, keys.letters


def reindex_search(*, batch: int = REINDEX_BATCH, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the search rows of every customer, `batch` customers per transaction; returns how many."""
    total = Customer.objects.count()
    done = 0
    last_id = 0
    while True:
        ids = list(Customer.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        index_customers(ids)
        done += len(ids)
        last_id = ids[-1]
        if progress is not None:
            progress(done, total)
    return done
