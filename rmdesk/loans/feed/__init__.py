"""The core banking system's daily file 核心系统日终文件: loans, drawdowns, the core's schedules and repayments
(docs/core-feed.md). `records` reads and parses a file; `runner` applies it."""

from rmdesk.loans.feed.runner import FeedResult, run_feed

__all__ = ["FeedResult", "run_feed"]
