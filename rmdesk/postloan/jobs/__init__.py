"""The post-loan jobs of the end-of-day batch 日终, one module each, run by `rmdesk eod` (rmdesk.batch.runner) in
this order: calendar → reprice → due → accrual → standing → classification → reminders → snapshots.

Every job is a function `run(*, on, customers) -> counts` over one business date and one range of customer ids (the
whole bank by default). Each is state-based: it reads what the rows are, writes what they should be as of `on`, and
counts what it changed, so running it again — after a crash halfway, or twice — changes nothing more. They work on
sets of rows (UPDATE … WHERE, INSERT … SELECT, arrays of values written in one statement), never loan by loan.
"""
