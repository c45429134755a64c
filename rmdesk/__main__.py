"""The `rmdesk` console script: Django's management commands with rmdesk's settings preset."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command; a bad RMDESK_* value stops with a message, not a traceback."""
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")
    if len(argv) > 1 and argv[1] == "demo":
        # The demo bank runs on a laptop over plain HTTP with a published password.
        os.environ.setdefault("RMDESK_DEMO", "1")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"rmdesk: configuration error: {exc}\n")
        raise SystemExit(2) from None
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
