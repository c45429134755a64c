"""Writers of loans: open a contract with its first drawdown and schedule, add a drawdown, publish an LPR, reprice a
floating loan (repayments are `loans.repayments`, the core banking feed `loans.feed`).

Every function validates everything before writing anything (one ValidationError naming each bad field, in the user's
language), checks scope through `restrict()` (the actor must be able to change the customer; out of scope is a 404),
and writes its audit event in the same transaction. Schedules come from the engine (`loans.schedule`) with due dates
rolled by the bank's calendar; the core banking feed writes the core's own schedules instead.
"""

from rmdesk.loans.services.checks import Errors
from rmdesk.loans.services.contracts import (
    ContractInput,
    GuarantorInput,
    add_drawdown,
    book_contract,
    check_contract,
    create_contract,
)
from rmdesk.loans.services.lpr import LprHeadOfficeOnly, may_publish_lpr, publish_lpr
from rmdesk.loans.services.repricing import RepriceResult, reprice

__all__ = [
    "ContractInput",
    "Errors",
    "GuarantorInput",
    "LprHeadOfficeOnly",
    "RepriceResult",
    "add_drawdown",
    "book_contract",
    "check_contract",
    "create_contract",
    "may_publish_lpr",
    "publish_lpr",
    "reprice",
]
