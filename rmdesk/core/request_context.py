"""The current request's id, so audit events can name the request that caused them."""

from __future__ import annotations

import contextvars

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("rmdesk_request_id", default="")
