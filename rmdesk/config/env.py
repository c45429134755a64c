"""Typed readers for RMDESK_* environment variables that fail loudly, naming the variable."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; anything but a recognised word stops start-up."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false, yes/no, on/off).")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Read a whole number no smaller than `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list, ignoring blanks."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_order(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated ordering of exactly the names in `default` (each once, any order)."""
    order = env_list(name, default)
    if sorted(order) != sorted(default):
        raise ImproperlyConfigured(
            f"{name}={os.environ.get(name)!r} must list each of {', '.join(default)} exactly once, in the order wanted."
        )
    return order


def env_int_list(name: str, default: list[int], *, minimum: int = 0) -> list[int]:
    """Read a comma-separated list of whole numbers, each no smaller than `minimum`."""
    values = []
    for item in env_list(name, [str(value) for value in default]):
        try:
            value = int(item)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={os.environ.get(name)!r}: {item!r} is not a whole number.") from None
        if value < minimum:
            raise ImproperlyConfigured(f"{name}={os.environ.get(name)!r}: {value} must be at least {minimum}.")
        values.append(value)
    return values


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Read one of a fixed set of words."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of {', '.join(choices)}.")
    return value


def data_dir() -> Path:
    """The directory that holds the SQLite database, uploaded documents and the generated secret key."""
    path = Path(os.environ.get("RMDESK_DATA_DIR") or "var").expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"RMDESK_DATA_DIR={str(path)!r} cannot be created: {exc.strerror}.") from None
    return path


def secret_key(directory: Path) -> str:
    """RMDESK_SECRET_KEY, or a key generated once into the data directory so restarts keep sessions."""
    raw = os.environ.get("RMDESK_SECRET_KEY")
    if raw is not None:
        if len(raw) < 50:
            raise ImproperlyConfigured("RMDESK_SECRET_KEY must be at least 50 characters long.")
        return raw
    key_file = directory / "secret_key"
    if not key_file.exists():
        # O_EXCL: two workers starting together must not write two different keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(64))
    return key_file.read_text().strip()


def database(directory: Path) -> dict[str, object]:
    """RMDESK_DATABASE_URL as a Django DATABASES entry; SQLite in the data directory by default."""
    import dj_database_url

    raw = os.environ.get("RMDESK_DATABASE_URL", "").strip()
    if not raw:
        raw = f"sqlite:///{directory / 'rmdesk.sqlite3'}"
    try:
        # A worker reuses its connection from request to request for up to a minute: on SQLite a new connection per
        # request parsed the whole schema again and started with an empty page cache, 1.8 ms of a list request's 17 ms
        # of CPU on the 1M demo bank (bench/cpu_per_request.py).
        config: dict[str, object] = dict(dj_database_url.parse(raw, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"RMDESK_DATABASE_URL is not a usable database URL: {exc}") from None
    engine = str(config.get("ENGINE", ""))
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # IMMEDIATE: writers queue on the lock up front instead of failing on upgrade, which
            # matters for the audit chain head every write touches.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    elif engine == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"RMDESK_DATABASE_URL uses {engine or 'an unknown engine'}; rmdesk runs on sqlite:// or postgres://."
        )
    return config
