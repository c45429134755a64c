"""The development pages, one module per area: overview (board, list, funnel, market), pool (and its claims),
prospect (registering, the development file and the actions on it), suggestions and scorecard. Pages that act share
service_calls: every POST goes through a service of this app, which decides scope (out of scope is a 404, never a
403); its field errors are shown beside the field, and a successful POST redirects.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from rmdesk.org.models import User


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
