"""Keyset pagination: stable under inserts and O(limit) at any depth, unlike OFFSET."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from rmdesk.core.errors import DomainError

M = TypeVar("M", bound=Model)

MAX_LIMIT = 200


@dataclass
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id after which the next page starts; a cursor that was not ours is a field error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _sep, value = text.partition(":")
        if prefix != "id":
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        message = _("The cursor is not valid.")
        raise DomainError(message, fields={"cursor": [str(message)]}) from None


def check_limit(limit: int) -> None:
    """A page size outside 1…MAX_LIMIT is a field error."""
    if not 1 <= limit <= MAX_LIMIT:
        message = _("Enter a limit between 1 and %(max)d.") % {"max": MAX_LIMIT}
        raise DomainError(message, fields={"limit": [str(message)]})


def keyset_page(queryset: QuerySet[M], *, limit: int, cursor: str | None) -> Page[M]:
    """The next `limit` rows by ascending id after `cursor`."""
    check_limit(limit)
    if cursor:
        queryset = queryset.filter(pk__gt=decode_cursor(cursor))
    rows = list(queryset.order_by("pk")[: limit + 1])
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor(items[-1].pk) if more and items else None)
