"""`rmdesk createuser USERNAME --role R --unit CODE`: add a user through the audited service."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.org.choices import Role
from rmdesk.org.models import OrgUnit
from rmdesk.org.services import create_user


class Command(BaseCommand):
    help = "Create a user with one role and a home unit. The password is asked for, or read from RMDESK_PASSWORD."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--unit", help="home org-unit code (not needed for administrators)")
        parser.add_argument("--full-name", default="")
        parser.add_argument("--no-password", action="store_true", help="create the user without a usable password")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = None
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"--unit: no org unit has the code {options['unit']!r}")
        password = None
        if not options["no_password"]:
            password = os.environ.get("RMDESK_PASSWORD") or getpass.getpass("Password: ")
        try:
            user = create_user(
                actor=None,
                username=options["username"],
                password=password,
                role=options["role"],
                unit=unit,
                full_name=options["full_name"],
            )
        except ValidationError as exc:
            messages = (
                "; ".join(f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else "; ".join(exc.messages)
            )
            raise CommandError(messages) from None
        self.stdout.write(f"created {user.username} ({user.get_role_display()})")
