"""Writes to org units, users and tokens; each writes its audit event in the same transaction."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from rmdesk.audit.services import record
from rmdesk.org.models import ApiToken, OrgUnit, User, hash_token


@transaction.atomic
def create_user(
    *, actor: User | None, username: str, password: str | None, role: str, unit: OrgUnit | None, full_name: str = ""
) -> User:
    """Create a user; validation runs the model's rules and the password validators."""
    from django.contrib.auth.password_validation import validate_password

    user = User(username=username, role=role, unit=unit, full_name=full_name, is_staff=role == "administrator")
    user.full_clean(exclude=["password"])
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    user.save()
    record(
        actor=actor,
        action="user.create",
        obj=user,
        changes={"username": username, "role": role, "unit": unit.code if unit else None},
    )
    return user


@transaction.atomic
def issue_token(*, actor: User | None, user: User) -> str:
    """Issue a new API token for `user` and return it; it cannot be shown again."""
    raw = "rmd_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, prefix=raw[4:12], key_hash=hash_token(raw))
    record(actor=actor, action="token.issue", obj=token, changes={"user": user.username, "prefix": token.prefix})
    return raw


def authenticate_token(raw: str) -> User | None:
    """The active user a Bearer token belongs to, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy integration must not turn every read into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
