"""One view, two renders: the full page, or only its partial when htmx asks."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page_or_partial(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render `partial` for an htmx request that targets part of the page, else the whole `page`."""
    htmx = getattr(request, "htmx", None)
    template = partial if htmx and not htmx.boosted else page
    response = render(request, template, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response
