"""`rmdesk serve`'s collector settings: a warm worker's long-lived objects are frozen out of the collector's reach."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from gunicorn.config import validate_post_request

from rmdesk.core.management.commands import serve


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_a_worker_freezes_what_it_loaded_once_warm() -> None:
    # given gunicorn's hook as gunicorn itself wraps it (it checks the arity)
    hook = validate_post_request(serve._post_request)
    # when the worker has served fewer requests than the warm-up, then the warm-up's
    for served in range(1, serve.WARM_UP_REQUESTS):
        hook(SimpleNamespace(nr=served), None, {}, None)
        assert gc.get_freeze_count() == 0
    hook(SimpleNamespace(nr=serve.WARM_UP_REQUESTS), None, {}, None)
    # then everything alive is frozen, once
    frozen = gc.get_freeze_count()
    assert frozen > 0
    fresh = [[] for _ in range(1000)]  # alive and tracked: a second freeze would add them all
    hook(SimpleNamespace(nr=serve.WARM_UP_REQUESTS + 1), None, {}, None)
    # A frozen object that dies meanwhile lowers the count (CI saw 606,720 → 606,719 with nothing frozen again).
    assert gc.get_freeze_count() <= frozen
    assert len(fresh) == 1000


@pytest.mark.parametrize(("cores", "workers"), [(None, 2), (1, 2), (2, 2), (4, 4), (8, 8), (64, serve.MAX_WORKERS)])
def test_serve_runs_one_worker_per_core_and_at_least_two(cores: int | None, workers: int) -> None:
    assert serve.default_workers(cores) == workers
