"""Relationships among one chunk's customers and with outside firms, guarantee circles included.

Links stay inside a chunk (and a branch) so a million-customer bank never sits in memory at once. The outside
firms (no counterparty customer, a valid credit code) are what "who should we call next" suggests from: a
supplier often serves several customers of a branch, and a named RM's current customers always have one.
The loader numbers relationships itself, so a prospect can name the link that led to it (sources 10–12).
"""

from __future__ import annotations

import random
from itertools import pairwise
from typing import TYPE_CHECKING

from rmdesk.customers.choices import LifecycleStatus
from rmdesk.demo import names
from rmdesk.demo.vocabulary import (
    CUSTOMERS_PER_CHAIN,
    CUSTOMERS_PER_CIRCLE,
    CUSTOMERS_PER_MUTUAL,
    DIVISIONS,
    GUARANTEE_WAN,
    LINK_KINDS,
    LINK_NOTES,
    LINKS_PER_CUSTOMER,
    OTHER_ZHEJIANG,
    ROUND_SHARES,
    SIZES,
    SUPPLY_WAN,
    D,
    R,
    pick,
    wan,
)
from rmdesk.demo.writer import Row

if TYPE_CHECKING:
    from rmdesk.demo.customers import Book, Firm

RELATIONSHIP_FIELDS = (
    "id",
    "customer_id",
    "kind",
    "direction",
    "counterparty_id",
    "counterparty_name",
    "counterparty_credit_code",
    "share_pct",
    "amount",
    "controller_name",
    "note",
    "created_at",
    "updated_at",
    "version",
    "archived_at",
)
BORROWER = LifecycleStatus.CUSTOMER.value
SUPPLY_CHAIN, GUARANTEE, AFFILIATE = R.SUPPLY_CHAIN.value, R.GUARANTEE.value, R.AFFILIATE.value
OUTWARD, INWARD, MUTUAL = D.OUTWARD.value, D.INWARD.value, D.MUTUAL.value
EITHER_WAY = (OUTWARD, INWARD)


class Links:
    """Relationships among one chunk's customers and outside firms, guarantee circles included."""

    def __init__(self, book: Book, rng: random.Random, firms: list[Firm], *, first_chunk: bool) -> None:
        self.book, self.rng, self.first_chunk = book, rng, first_chunk
        self.by_branch: dict[str, list[Firm]] = {}
        for firm in firms:
            self.by_branch.setdefault(firm.branch, []).append(firm)
        self.rows: list[Row] = []
        # (customer, kind, counterparty code) → the relationship's id and direction
        self.seen: dict[tuple[int, str, str], tuple[int, str]] = {}
        self.with_outside: set[int] = set()  # customers with a link to an outside firm
        # Outside firms met so far in the chunk, by branch: a supplier often serves several customers,
        # which is what later makes it a prospect worth suggesting.
        self.outside: dict[str, list[tuple[str, str]]] = {}

    def build(self) -> list[Row]:
        for branch in sorted(self.by_branch):
            self._guarantee_structures(self.by_branch[branch])
        for branch in sorted(self.by_branch):
            members = self.by_branch[branch]
            for firm in members:
                for _ in range(LINKS_PER_CUSTOMER.draw(self.rng)):
                    self._random_link(branch, firm, members)
            for firm in members:
                if firm.named and firm.status == BORROWER and firm.pk not in self.with_outside:
                    # Whoever logs in as a named RM finds suggestions from each of their customers.
                    self._outside_link(branch, firm)
        return self.rows

    def refer(self, referrer: Firm, prospect: Firm, kind: str) -> tuple[int, str]:
        """The referrer's link of `kind` to the prospect, added unless it has one: (its id, its direction)."""
        rng = self.rng
        direction = INWARD if kind == GUARANTEE else pick(rng, EITHER_WAY)  # the prospect guarantees its loan
        key = (referrer.pk, kind, prospect.credit_code)
        if key not in self.seen:
            if kind == AFFILIATE:
                self._add(referrer, kind, direction, counterparty=prospect, share_pct=pick(rng, ROUND_SHARES))
            else:
                bands = SUPPLY_WAN if kind == SUPPLY_CHAIN else GUARANTEE_WAN
                self._add(referrer, kind, direction, counterparty=prospect, amount=wan(rng, bands[referrer.size]))
        return self.seen[key]

    def _outside_link(self, branch: str, firm: Firm) -> None:
        rng = self.rng
        kind = pick(rng, (SUPPLY_CHAIN, SUPPLY_CHAIN, GUARANTEE, AFFILIATE))
        outside = self._outside_firm(branch, firm)
        if kind == AFFILIATE:
            self._add(firm, kind, pick(rng, EITHER_WAY), outside=outside, share_pct=pick(rng, ROUND_SHARES))
        elif kind == SUPPLY_CHAIN:
            self._add(firm, kind, pick(rng, EITHER_WAY), outside=outside, amount=wan(rng, SUPPLY_WAN[firm.size]))
        else:  # the firm guarantees the customer's loan: a guarantor worth courting (source 11)
            self._add(firm, kind, INWARD, outside=outside, amount=wan(rng, GUARANTEE_WAN[firm.size]))

    def _structure_count(self, members: int, per: int) -> int:
        count, rest = divmod(members, per)
        count += int(self.rng.random() * per) < rest  # the fraction as a chance, so the rate holds at any size
        return max(count, 1) if self.first_chunk else count

    def _guarantee_structures(self, members: list[Firm]) -> None:
        """Chains A→B→C→D(→E), mutual pairs A⇄B and 3-circles A→B→C→A among one branch's customers."""
        # Borrowers first: guarantees are given for loans, and prospects have none yet.
        pool = [firm for firm in members if firm.status == BORROWER]
        others = [firm for firm in members if firm.status != BORROWER]
        self.rng.shuffle(pool)
        self.rng.shuffle(others)
        pool += others
        chains = self._structure_count(len(members), CUSTOMERS_PER_CHAIN)
        mutuals = self._structure_count(len(members), CUSTOMERS_PER_MUTUAL)
        circles = self._structure_count(len(members), CUSTOMERS_PER_CIRCLE)
        for _ in range(chains):
            length = 4 + (self.rng.random() < 0.5)  # firms, so three or four guarantees in a row
            if len(pool) < length:
                break
            firms = [pool.pop() for _ in range(length)]
            for guarantor, guaranteed in pairwise(firms):
                self._guarantee(guarantor, guaranteed)
        for _ in range(mutuals):
            if len(pool) < 2:
                break
            a, b = pool.pop(), pool.pop()
            self._guarantee(a, b)
            self._guarantee(b, a)
        for _ in range(circles):
            if len(pool) < 3:
                break
            a, b, c = pool.pop(), pool.pop(), pool.pop()
            self._guarantee(a, b)
            self._guarantee(b, c)
            self._guarantee(c, a)

    def _guarantee(self, guarantor: Firm, guaranteed: Firm) -> None:
        amount = wan(self.rng, GUARANTEE_WAN[guaranteed.size])
        self._add(guarantor, GUARANTEE, OUTWARD, counterparty=guaranteed, amount=amount)

    def _random_link(self, branch: str, firm: Firm, members: list[Firm]) -> None:
        rng = self.rng
        kind = LINK_KINDS.draw(rng)
        counterparty: Firm | None = None
        if rng.random() < 0.45 and len(members) > 1:
            counterparty = pick(rng, members)
            if counterparty.pk == firm.pk:
                return
        outside = None if counterparty else self._outside_firm(branch, firm)
        size = counterparty.size if counterparty else firm.size
        if kind == SUPPLY_CHAIN:
            amount = wan(rng, SUPPLY_WAN[firm.size])
            self._add(firm, kind, pick(rng, EITHER_WAY), counterparty=counterparty, outside=outside, amount=amount)
        elif kind == GUARANTEE:
            amount = wan(rng, GUARANTEE_WAN[size])
            self._add(firm, kind, pick(rng, EITHER_WAY), counterparty=counterparty, outside=outside, amount=amount)
        elif kind == AFFILIATE:
            share = pick(rng, ROUND_SHARES) if rng.random() < 0.4 else _percent(500 + int(rng.random() * 9_401))
            self._add(firm, kind, pick(rng, EITHER_WAY), counterparty=counterparty, outside=outside, share_pct=share)
        else:
            # In a private firm the actual controller is usually also its legal representative.
            controller = firm.legal_representative if rng.random() < 0.7 else names.person_name(rng)
            self._add(firm, kind, MUTUAL, counterparty=counterparty, outside=outside, controller_name=controller)

    def _outside_firm(self, branch: str, firm: Firm) -> tuple[str, str]:
        rng = self.rng
        known = self.outside.setdefault(branch, [])
        if known and rng.random() < 0.3:
            return pick(rng, known)
        region = firm.region if rng.random() < 0.7 else pick(rng, OTHER_ZHEJIANG)
        name = self.book.new_company_name(rng, region, DIVISIONS.draw(rng), SIZES.draw(rng))
        outside = (name, self.book.new_credit_code(rng, region))
        known.append(outside)
        return outside

    def _add(
        self,
        firm: Firm,
        kind: str,
        direction: str,
        *,
        counterparty: Firm | None = None,
        outside: tuple[str, str] | None = None,
        amount: str | None = None,
        share_pct: str | None = None,
        controller_name: str = "",
    ) -> None:
        if counterparty is not None:
            name, code = counterparty.name, counterparty.credit_code
        else:
            assert outside is not None
            name, code = outside
        key = (firm.pk, kind, code)
        if key in self.seen:
            return
        pk = self.book.new_relationship_id()
        self.seen[key] = (pk, direction)
        if counterparty is None:
            self.with_outside.add(firm.pk)
        stamp = self.book.stamp
        self.rows.append(
            (
                pk,
                firm.pk,
                kind,
                direction,
                counterparty.pk if counterparty else None,
                name,
                code,
                share_pct,
                amount,
                controller_name,
                LINK_NOTES.get((kind, direction), ""),
                stamp,
                stamp,
                1,
                None,
            )
        )


def _percent(hundredths: int) -> str:
    """12.34 % from 1234, as the decimal text the database stores."""
    return f"{hundredths // 100}.{hundredths % 100:02d}"
