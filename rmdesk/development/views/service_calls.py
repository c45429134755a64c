"""How the development pages call a service: its errors land on the form (or, for a bare button, in a message);
out of scope becomes a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from rmdesk.core.errors import ConflictError, DomainError, NotFoundError
from rmdesk.customers.forms import add_service_errors
from rmdesk.development.models import Prospect
from rmdesk.development.prospects import SimilarProspects
from rmdesk.development.views import AuthedRequest

T = TypeVar("T")


def run_on_form(form: Any, call: Callable[[], object], aliases: dict[str, str] | None = None) -> bool:
    """Run a service call; its errors land on the form (conflicts on top), out of scope becomes a 404.

    `aliases` names the form's field for a service's field name where they differ (None: the form's top)."""
    try:
        call()
    except NotFoundError:
        raise Http404 from None
    except ConflictError as error:
        form.add_error(None, str(error.message))
        return False
    except DomainError as error:
        add_service_errors(form, _aliased(ValidationError(error.fields or str(error.message)), aliases))
        return False
    except ValidationError as error:
        add_service_errors(form, _aliased(error, aliases))
        return False
    return True


def _aliased(error: ValidationError, aliases: dict[str, str] | None) -> ValidationError:
    if not aliases or not hasattr(error, "error_dict"):
        return error
    renamed: dict[str, list[str]] = {}
    for name, messages_ in error.message_dict.items():
        renamed.setdefault(aliases.get(name, name), []).extend(messages_)
    return ValidationError(renamed)


def run_with_message(request: AuthedRequest, call: Callable[[], T]) -> T | None:
    """Run the service behind a button with no form to show errors beside: a refusal becomes an error message (and
    None), out of scope a 404."""
    try:
        return call()
    except NotFoundError:
        raise Http404 from None
    except (DomainError, ValidationError) as error:
        messages.error(request, _message_for(error))
        return None


def _message_for(error: DomainError | ValidationError) -> str:
    if isinstance(error, DomainError):
        return str(error.message)
    return " ".join(error.messages)


def file_prospect(form: Any, call: Callable[[], Prospect]) -> tuple[Prospect | None, SimilarProspects | None]:
    """Run a service that files a prospect (registering, accepting a suggestion): the new prospect, or None with
    the firms of similar names already on file, shown so the user can check them and confirm."""
    filed: list[Prospect] = []
    similar: list[SimilarProspects] = []

    def call_and_keep() -> None:
        try:
            filed.append(call())
        except SimilarProspects as error:
            similar.append(error)
            raise

    run_on_form(form, call_and_keep)
    return (filed[0] if filed else None), (similar[0] if similar else None)


def next_url(request: AuthedRequest, fallback: str) -> str:
    """Where a form asked to go back to (the board, the 360 page, the prospect page), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def form_page(request: AuthedRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, "development/form_page.html", context, status=status)
