"""Domain errors, mapped to one error shape {code, message, fields} at every edge."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the bank was broken by the request; the user can fix it."""

    code = "invalid"
    status = 422

    def __init__(self, message: str | Promise, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.fields = fields or {}


class ConflictError(DomainError):
    """Someone else saved the record since this form was opened."""

    code = "conflict"
    status = 409

    def __init__(self, message: str | Promise | None = None, **kwargs: dict[str, list[str]] | None) -> None:
        super().__init__(
            message or _("Someone else changed this record after you opened it. Review their changes and save again."),
            **kwargs,
        )


class NotFoundError(DomainError):
    """The object does not exist or is outside the user's scope (the two are never told apart)."""

    code = "not_found"
    status = 404

    def __init__(self, message: str | Promise | None = None) -> None:
        super().__init__(message or _("Not found."))
