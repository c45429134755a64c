"""Messages kept in no language until they are shown, for work whose reader may read another language.

A background job (an import) finds its errors in the language of whoever started it, but the page and the file
that report them are read later, possibly after a switch of language. Its messages are therefore lazy — a
`gettext_lazy` text, filled in with its values only when shown — and the job renders them once per language
the bank offers (`in_each_language`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

T = TypeVar("T")


def _interpolate(message: StrOrPromise, params: Mapping[str, Any]) -> str:
    # A lazy value among the params (a label, a choice) is translated here too, as `%s` calls str() on it.
    return str(message) % params


def _join(separator: str, messages: tuple[StrOrPromise, ...]) -> str:
    return separator.join(str(message) for message in messages)


_lazy_interpolate = lazy(_interpolate, str)
_lazy_join = lazy(_join, str)


def interpolate(message: StrOrPromise, params: Mapping[str, Any]) -> StrOrPromise:
    """`message % params`, translated when shown rather than now."""
    return _lazy_interpolate(message, dict(params))


def join(separator: str, messages: Iterable[StrOrPromise]) -> StrOrPromise:
    """The messages joined, each translated when shown."""
    return _lazy_join(separator, tuple(messages))


def of_validation_error(error: ValidationError) -> list[StrOrPromise]:
    """A ValidationError's messages with their params, still lazy (Django's `.messages` translates them now)."""
    return [
        interpolate(item.message, item.params) if item.params else item.message
        for item in error.error_list
    ]


def in_each_language(render: Callable[[], T]) -> dict[str, T]:
    """What `render` gives under each language of the bank, by language code."""
    rendered = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            rendered[code] = render()
    return rendered


def for_reader(by_language: Mapping[str, T], default: T) -> T:
    """The rendering in the active language; else the first there is (a job written before a language was added)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language in by_language:
        return by_language[language]
    return next(iter(by_language.values()), default)
