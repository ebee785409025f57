"""Fava at ``/fava/``: read-only, for auditors and admins, behind our login.

Fava's own ``read_only`` mode disables its editor and upload endpoints; on
top of that the guard refuses every method but GET and HEAD, so no request
through /fava/ can reach a writing code path even if Fava grew one. The
ledger files are written only by ``ledger.store.writer``. Fava watches the files
and reloads on change, so new imports are visible without a restart.

The guard runs before Fava sees the request: it opens our Flask session
from the same cookie (through the app's session interface, inside a request
context of our app) and checks the user and role with the same code as
every page.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fava.application import create_app as fava_create_app
from flask import Flask

from ledger.conventions import MAIN_FILE

PREFIX = "/fava"
READ_METHODS = frozenset({"GET", "HEAD"})


def create_fava(ledger_dir: Path) -> Flask:
    """Fava over the books, read-only. It parses the ledger on its first
    request (``load=False``), not at server start: the app's own cold start
    comes from the load cache, and most sessions never open Fava."""
    return fava_create_app([Path(ledger_dir) / MAIN_FILE], load=False, read_only=True)


def _plain(start_response, status: str, body: bytes, headers: list[tuple[str, str]] | None = None):
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *(headers or [])])
    return [body]


class FavaGuard:
    """WSGI middleware: ``/fava...`` goes to Fava after the checks, the rest to our app."""

    def __init__(self, app: Flask, app_wsgi, fava_wsgi):
        self.app = app
        self.app_wsgi = app_wsgi
        self.fava_wsgi = fava_wsgi

    def _user_role(self, environ) -> tuple[str | None, str]:
        from flask import url_for

        from app.web.auth import close_db, current_user

        with self.app.request_context(environ):
            try:
                user = current_user()
                return (user.role if user else None), url_for("auth.login")
            finally:
                close_db()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return self.app_wsgi(environ, start_response)
        from app.roles import allowed

        role, login = self._user_role(environ)
        if role is None:
            target = quote(environ.get("SCRIPT_NAME", "") + path + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""), safe="/")
            return _plain(start_response, "302 Found", b"login required\n", [("Location", f"{login}?next={quote(target, safe='')}")])
        if not allowed(role, "fava"):
            return _plain(start_response, "403 Forbidden", b"forbidden: Fava is for the auditor and admin roles\n")
        if environ.get("REQUEST_METHOD", "GET").upper() not in READ_METHODS:
            return _plain(start_response, "405 Method Not Allowed", b"the books are read-only here\n", [("Allow", "GET, HEAD")])
        environ = dict(environ)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX
        environ["PATH_INFO"] = path[len(PREFIX):]
        return self.fava_wsgi(environ, start_response)
