"""What ``isu-ledger serve`` and ``isu-ledger user ...`` need from the app:
the configuration from the environment (read here, by the CLI, never at
import time) and the secret key kept beside the books."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SECRET_FILE = ".isu-secret"  # git-ignored (ledger/books.py GITIGNORE_TEXT)


class ConfigError(ValueError):
    """A setting in the environment that cannot be used; ``str()`` is one line."""


def secret_key(ledger_dir: Path, env: Mapping[str, str]) -> str:
    """``ISU_SECRET_KEY``, else a random key created once in the ledger
    directory's ``.isu-secret`` (mode 0600) so sessions survive a restart."""
    if env.get("ISU_SECRET_KEY"):
        return env["ISU_SECRET_KEY"]
    path = Path(ledger_dir) / SECRET_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def database_url(ledger_dir: Path, env: Mapping[str, str]) -> str:
    from app.web.db import default_url

    return env.get("ISU_DATABASE_URL") or default_url(Path(ledger_dir).resolve())


def server_config(ledger_dir: Path, host: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The ``create_wsgi`` configuration for serving ``ledger_dir`` on ``host``.

    Session cookies are ``Secure`` unless the server listens on loopback
    only, where plain http is the only way in; ``ISU_SECURE_COOKIES=1|0``
    overrides (e.g. ``1`` behind a TLS proxy on the same machine).
    ``ISU_TRUSTED_PROXIES`` (``trusted_proxies``) says how many reverse
    proxies' X-Forwarded-For entries to trust."""
    secure = not is_loopback(host)
    if env.get("ISU_SECURE_COOKIES") in ("0", "1"):
        secure = env["ISU_SECURE_COOKIES"] == "1"
    return {
        "LEDGER_DIR": Path(ledger_dir),
        "SECRET_KEY": secret_key(ledger_dir, env),
        "DATABASE_URL": database_url(ledger_dir, env),
        "SESSION_COOKIE_SECURE": secure,
        "TRUSTED_PROXIES": trusted_proxies(env),
    }


def trusted_proxies(env: Mapping[str, str]) -> int:
    """``ISU_TRUSTED_PROXIES``: how many reverse proxies in front of the app
    add an X-Forwarded-For entry it may trust (default 0: none). Set it to
    the number of proxies actually there - more lets a client choose the
    address login throttling counts it by."""
    text = (env.get("ISU_TRUSTED_PROXIES") or "0").strip()
    if not (text.isascii() and text.isdigit() and int(text) <= 10):
        raise ConfigError(f"ISU_TRUSTED_PROXIES={text[:20]!r}: the number of reverse proxies in front of the app (0 to 10)")
    return int(text)


def user_session(ledger_dir: Path, env: Mapping[str, str]):
    """A database session for the ``user`` commands (migrations applied)."""
    from app.web.db import open_database

    return open_database(database_url(ledger_dir, env))()
