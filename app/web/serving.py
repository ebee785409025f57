"""What ``isu-ledger serve`` and ``isu-ledger user ...`` need from the app:
the configuration from the environment (read here, by the CLI, never at
import time), the secret key kept beside the books, and the gunicorn
server that runs the app."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

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
    proxies' X-Forwarded-For entries to trust; ``ISU_REPORT_BUILDS`` how many
    packs and PDFs one user may have building at once (default 1)."""
    secure = not is_loopback(host)
    if env.get("ISU_SECURE_COOKIES") in ("0", "1"):
        secure = env["ISU_SECURE_COOKIES"] == "1"
    config = {
        "LEDGER_DIR": Path(ledger_dir),
        "SECRET_KEY": secret_key(ledger_dir, env),
        "DATABASE_URL": database_url(ledger_dir, env),
        "SESSION_COOKIE_SECURE": secure,
        "TRUSTED_PROXIES": trusted_proxies(env),
    }
    if env.get("ISU_REPORT_BUILDS", "").isdigit() and int(env["ISU_REPORT_BUILDS"]) >= 1:
        config["REPORT_BUILDS_PER_USER"] = int(env["ISU_REPORT_BUILDS"])
    return config


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


def migrate(url: str) -> None:
    """Bring the database schema up to date once, in the server's master
    process: the workers then find it current (their own check is a read),
    so two workers never race to create the same tables."""
    from app.web.db import make_engine, upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


# The access log: gunicorn's default (combined log format) plus the worker's
# process id and the time taken, in milliseconds.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s %(M)sms'


class Server(BaseApplication):
    """gunicorn running ``create_wsgi(config)``: ``workers`` processes of
    ``threads`` threads (the gthread worker), each process building its own
    app after the fork (no preload), so every worker opens its own database
    engine and its own Fava; the books and the SQLite file are shared on
    disk, and the ledger writer's flock serialises writes across them.

    Only the settings given here apply: no gunicorn.conf.py, no
    GUNICORN_CMD_ARGS, no control socket."""

    def __init__(self, config: dict[str, Any], *, host: str, port: int, workers: int, threads: int):
        self.app_config = config
        self.options: dict[str, Any] = {
            "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": False,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "proc_name": "isu-ledger",
            "timeout": 120,  # seconds of silence before a worker is replaced (a pack builds in seconds)
            "control_socket_disable": True,
        }
        super().__init__(prog="isu-ledger serve")

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # a setting older gunicorns lack is left out
                self.cfg.set(key, value)

    def load(self):
        from app.web import create_wsgi

        return create_wsgi(self.app_config)
