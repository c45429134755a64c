"""The one NinjaAPI under /api/v1: auth, error handlers and the routers of the domain apps."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import HttpBearer, SessionAuth

from rmdesk.core.api import django_error_fields, error_response, request_error_fields
from rmdesk.core.errors import DomainError
from rmdesk.customers.api import router as customers_router
from rmdesk.development.api import router as development_router
from rmdesk.loans.api import router as loans_router
from rmdesk.org.services import authenticate_token
from rmdesk.postloan.api import router as postloan_router
from rmdesk.visits.api import router as visits_router

logger = logging.getLogger("rmdesk.api")


class BearerToken(HttpBearer):
    """`Authorization: Bearer rmd_…` from `rmdesk token USERNAME`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="rmdesk API",
    version="1",
    description="客户经理工作台 API. Amounts are strings; errors are {code, message, fields}.",
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
)
api.add_router("/", customers_router)
api.add_router("/", development_router)
api.add_router("/", visits_router)
api.add_router("/", loans_router)
api.add_router("/", postloan_router)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(api, request, exc.status, exc.code, str(exc.message), exc.fields)


@api.exception_handler(DjangoValidationError)
def on_model_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return error_response(api, request, 422, "invalid", _("Some fields are not valid."), django_error_fields(exc))


@api.exception_handler(RequestValidationError)
def on_request_validation(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    return error_response(api, request, 422, "invalid", _("Some fields are not valid."), request_error_fields(exc))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(api, request, 401, "unauthenticated", _("Log in or send a valid API token."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(api, request, 404, "not_found", _("Not found."))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Still our error shape, never a traceback; the details go to the log for the operators.
    logger.exception("unexpected API error", exc_info=exc)
    return error_response(api, request, 500, "server_error", _("Something went wrong on our side. Please try again."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return error_response(api, request, 400, "bad_request", _("The request body is not valid JSON."))
    if exc.status_code == 403:
        # The only 403 ninja raises for us is a missing CSRF token on a session-authenticated write.
        return error_response(api, request, 403, "csrf", _("The CSRF token is missing or wrong."))
    return error_response(api, request, exc.status_code, "error", str(exc))
