"""The end-of-day's settings read from the environment fail loudly on bad values, naming the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from rmdesk.config import env


def test_a_list_of_days_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # given / when / then
    assert env.env_int_list("RMDESK_DUE_REMINDER_DAYS", [7, 3, 1], minimum=1) == [7, 3, 1]
    monkeypatch.setenv("RMDESK_DUE_REMINDER_DAYS", " 10, 5 ,1")
    assert env.env_int_list("RMDESK_DUE_REMINDER_DAYS", [7, 3, 1], minimum=1) == [10, 5, 1]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("7,three", "RMDESK_DUE_REMINDER_DAYS='7,three': 'three' is not a whole number."),
        ("7,0", "RMDESK_DUE_REMINDER_DAYS='7,0': 0 must be at least 1."),
    ],
)
def test_a_bad_list_of_days_stops_start_up(monkeypatch: pytest.MonkeyPatch, raw: str, message: str) -> None:
    # given
    monkeypatch.setenv("RMDESK_DUE_REMINDER_DAYS", raw)
    # when / then
    with pytest.raises(ImproperlyConfigured) as refusal:
        env.env_int_list("RMDESK_DUE_REMINDER_DAYS", [7, 3, 1], minimum=1)
    assert str(refusal.value) == message
