"""The customer book made chunk by chunk, in line or in a second process a few chunks ahead of the writer.

Making a chunk (the customers, their people, statements and links, then their quick-search rows from
`rmdesk.customers.search.bulk_search_rows` and their visits from `rmdesk.demo.visits`) costs about as much as
writing it. A big load makes chunks
in a worker process while this one writes, so a two-core machine works on both at once; a small load
makes them in line (a process costs a second to start). The chunks come in order from one Book either
way, so the rows are the same.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from types import TracebackType
from typing import Any

from rmdesk.customers.search import Searchable, bulk_search_rows
from rmdesk.demo.customers import CUSTOMER_FIELDS, Book
from rmdesk.demo.loans import LoanBook, LoanChunk, LoanPlan
from rmdesk.demo.visits import VisitBook, VisitChunk, VisitPlan
from rmdesk.demo.writer import Row

PARALLEL_FROM = 50_000  # customers: from here a worker process makes the chunks
AHEAD = 3  # chunks made ahead of the writer


# Customers in credit-code order: the unique index on it stays during the load (the others are built after
# it), and a chunk inserted in index order costs it half as much on SQLite.
CUSTOMER_ORDER = itemgetter(CUSTOMER_FIELDS.index("credit_code"))


@dataclass
class ChunkRows:
    """What the writer needs of one chunk, table by table, each in its insert order."""

    customers: list[Row]  # CUSTOMER_FIELDS, search_name and search_letters
    co_rms: list[Row]
    key_persons: list[Row]
    statements: list[Row]
    relationships: list[Row]
    prospects: list[Row]  # rmdesk.demo.prospects: PROSPECT_FIELDS, STAGE_CHANGE_FIELDS, CLAIM_FIELDS …
    stage_changes: list[Row]
    claims: list[Row]
    ratings: list[Row]
    grams: list[Row]  # rmdesk.customers.search.GRAM_COLUMNS
    keys: list[Row]  # KEY_COLUMNS
    visits: VisitChunk = field(default_factory=VisitChunk)  # rmdesk.demo.visits: its current customers' visits
    loans: LoanChunk = field(default_factory=LoanChunk)  # rmdesk.demo.loans: its current customers' loans


def make_chunk(book: Book, index: int, start: int, count: int) -> ChunkRows:
    """Customers start … start + count − 1 of the book, with everything that hangs off them."""
    chunk = book.chunk(index, start, count)
    search = bulk_search_rows([Searchable(firm.pk, firm.name, firm.credit_code, firm.units) for firm in chunk.firms])
    # The customer row carries its normalised name and its keys, as the customer services write them on every save.
    customers = [
        (*row, name, letters)
        for row, (_, name), letters in zip(chunk.customers, search.names, search.letters, strict=True)
    ]
    customers.sort(key=CUSTOMER_ORDER)
    return ChunkRows(
        customers=customers,
        co_rms=chunk.co_rms,
        key_persons=chunk.key_persons,
        statements=chunk.statements,
        relationships=chunk.relationships,
        prospects=chunk.prospects,
        stage_changes=chunk.stage_changes,
        claims=chunk.claims,
        ratings=chunk.ratings,
        grams=search.grams,
        keys=search.keys,
    )


def with_visits(rows: ChunkRows, visits: VisitBook | None, index: int, loans: LoanBook | None = None) -> ChunkRows:
    """The chunk with its customers' visits and loans, made from its rows (the visit and loan books number them
    across chunks)."""
    if visits is not None:
        rows.visits = visits.chunk(index, rows.customers, rows.co_rms, rows.prospects)
    if loans is not None:
        rows.loans = loans.chunk(index, rows.customers, rows.relationships, rows.key_persons)
    return rows


# --- the worker process -------------------------------------------------------------------------------

_worker_book: Book | None = None
_worker_visits: VisitBook | None = None
_worker_loans: LoanBook | None = None


def _start_worker(book_options: dict[str, Any], visits: VisitPlan | None, loans: LoanPlan | None = None) -> None:
    global _worker_book, _worker_visits, _worker_loans  # the worker process's one book, kept from call to call
    _worker_book = Book(**book_options)
    _worker_visits = VisitBook(visits) if visits is not None else None
    _worker_loans = LoanBook(loans) if loans is not None else None


def _worker_chunk(index: int, start: int, count: int) -> ChunkRows:
    assert _worker_book is not None
    return with_visits(make_chunk(_worker_book, index, start, count), _worker_visits, index, _worker_loans)


def _worker_tasks(today: date) -> list[Row]:
    assert _worker_book is not None
    return _worker_book.tasks(today)


def _context() -> multiprocessing.context.BaseContext:
    # On Linux the worker is forked: it starts at once with everything imported, never touches the database
    # connection it inherits, and leaves through os._exit, which closes nothing of it. Elsewhere (macOS, where
    # forking is unsafe) it is spawned, which imports the caller's main module again: a script calling
    # build_demo_bank needs the `if __name__ == "__main__":` guard there.
    return multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")


class BookMaker:
    """Makes the chunks of one Book in order, in line or in a worker process (`parallel`)."""

    def __init__(
        self, *, parallel: bool, visits: VisitPlan | None = None, loans: LoanPlan | None = None, **book_options: Any
    ) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.book: Book | None = None
        self.visits: VisitBook | None = None
        self.loans: LoanBook | None = None
        if parallel:
            # One worker: chunks must come from one Book, in order (names and codes are unique across them).
            self.pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=_context(),
                initializer=_start_worker,
                initargs=(book_options, visits, loans),
            )
        else:
            self.book = Book(**book_options)
            self.visits = VisitBook(visits) if visits is not None else None
            self.loans = LoanBook(loans) if loans is not None else None

    def chunks(self, customers: int, size: int) -> Iterator[ChunkRows]:
        """The book's chunks of `size` customers (the last one smaller), in order."""
        spans = [(index, start, min(size, customers - start)) for index, start in enumerate(range(0, customers, size))]
        if self.book is not None:
            for span in spans:
                yield with_visits(make_chunk(self.book, *span), self.visits, span[0], self.loans)
            return
        assert self.pool is not None
        waiting: deque[Future[ChunkRows]] = deque()
        for span in spans:
            waiting.append(self.pool.submit(_worker_chunk, *span))
            if len(waiting) > AHEAD:
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()

    def tasks(self, today: date) -> list[Row]:
        """The RMs' tasks on their own customers and first contacts owed, once every chunk is made."""
        if self.book is not None:
            return self.book.tasks(today)
        assert self.pool is not None
        return self.pool.submit(_worker_tasks, today).result()

    def __enter__(self) -> BookMaker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
