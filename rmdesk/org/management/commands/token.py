"""`rmdesk token USERNAME`: issue an API token; only its hash is stored, so it is printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.org.models import User
from rmdesk.org.services import issue_token


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (use it as `Authorization: Bearer <token>`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user is called {options['username']!r}")
        self.stdout.write(issue_token(actor=None, user=user))
