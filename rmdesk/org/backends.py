"""Signing in against the bank's users: Django's model backend, reading a request's user with their unit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from rmdesk.org.models import User


class UserBackend(ModelBackend):
    """Django's ModelBackend, but the user of each request comes with their unit in the same statement: restrict()
    and the page header ask every page for it, which was a third statement before the view's own on every request
    (session, user, unit)."""

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User._default_manager.select_related("unit").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
