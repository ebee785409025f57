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

What Fava serves is held to the app's rules (``create_fava``): the app's
security headers on every response; stored files (bank statements a payer
abroad may have written) only as downloads a browser never renders or runs;
Fava's errors as the app's error pages, with a 4xx status for a bad request;
query results as CSV whose cells never become formulas.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import quote, urlparse

from defusedcsv import csv as safe_csv
from fava.application import create_app as fava_create_app
from fava.core import EntryNotFoundForHashError, StatementMetadataInvalidError, StatementNotFoundError
from fava.core.file import NonSourceFileError
from fava.core.query_shell import QueryNotFoundError
from fava.helpers import FavaAPIError
from flask import Flask, Response, abort, g, request, send_file
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header
from werkzeug.utils import secure_filename

from app.web import security_headers
from app.web.errors import READ_ONLY, error_response
from ledger.conventions import MAIN_FILE

PREFIX = "/fava"
READ_METHODS = frozenset({"GET", "HEAD"})
OUTER_ENVIRON = "isu.outer_environ"  # the request as our app saw it, before the guard moved it under /fava
_API_PATH = re.compile(r"^/[^/]+/api/")  # Fava's JSON API: /<ledger slug>/api/...

# Fava's pages: its own script and styles only. Its Svelte components insert
# <style> elements and its editor's parser (tree-sitter) is WebAssembly.
FAVA_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; style-src-elem 'self' 'unsafe-inline'; "
    "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# A stored file: nothing in it may load, run or be framed, even if a browser renders it.
FILE_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
FILE_ENDPOINTS = frozenset({"document", "statement"})  # Fava's views that serve stored files

# Fava answers these (and every FavaAPIError) with 500; they name something that is not there.
_NOT_FOUND = (EntryNotFoundForHashError, StatementNotFoundError, StatementMetadataInvalidError, NonSourceFileError, QueryNotFoundError)


def create_fava(app: Flask) -> Flask:
    """Fava over ``app``'s books, read-only. It parses the ledger on its
    first request (``load=False``), not at server start: most sessions never
    open Fava."""
    fava = fava_create_app([Path(app.config["LEDGER_DIR"]) / MAIN_FILE], load=False, read_only=True)
    _setup_headers(fava)
    _setup_errors(fava, app)
    fava.before_request(_refuse_what_fava_would_fail_on)
    fava.view_functions["download_query"] = _download_query
    return fava


def _setup_headers(fava: Flask) -> None:
    @fava.after_request
    def headers(response: Response) -> Response:
        if response.status_code < 300 and (request.endpoint in FILE_ENDPOINTS or _is_attachment(response)):
            return security_headers(_as_download(response), FILE_CSP)
        return security_headers(response, FAVA_CSP, cacheable=request.endpoint == "static")


def _is_attachment(response: Response) -> bool:
    return parse_options_header(response.headers.get("Content-Disposition", ""))[0] == "attachment"


def _as_download(response: Response) -> Response:
    """A file is saved, never shown: an attachment of no renderable type."""
    _kind, options = parse_options_header(response.headers.get("Content-Disposition", ""))
    name = options.get("filename") or "download"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["Content-Type"] = "application/octet-stream"
    return response


def _setup_errors(fava: Flask, app: Flask) -> None:
    """Fava's errors become our error page, or our JSON error under its
    /api/. Fava answers its own request errors (``FavaAPIError``) and
    failed file reads with 500; here they are refusals: 404 when the request
    names something that is not there, else 400."""
    for scope in fava.error_handler_spec.values():  # Fava's handlers scoped to its JSON API
        for handlers in scope.values():
            handlers.pop(FavaAPIError, None)
            handlers.pop(OSError, None)

    def refuse(status: int, message: str) -> Response:
        outer = request.environ.get(OUTER_ENVIRON, request.environ)
        return app_error(app, outer, status, message, as_json=request.blueprint == "json_api")

    @fava.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return refuse(exc.code or 500, exc.description or exc.name)

    @fava.errorhandler(FavaAPIError)
    def fava_error(exc: FavaAPIError) -> Response:
        return refuse(404 if isinstance(exc, _NOT_FOUND) else 400, " ".join(exc.message.split()) or "refused")

    @fava.errorhandler(OSError)
    def unreadable(_exc: OSError) -> Response:
        return refuse(404, "not found: the file cannot be read")


def app_error(app: Flask, environ: dict, status: int, message: str, *, as_json: bool, title: str | None = None) -> Response:
    """Our error page (or JSON error) for the request ``environ``, rendered
    by our app with the user's session: the page has the app's navigation.
    A refused method or role is recorded in the audit log."""
    from app.web.audit import record
    from app.web.auth import close_db

    with app.request_context(environ):
        try:
            if status in (403, 405):
                record("fava", "refused", f"{request.method} {request.path}: {message}")
            return error_response(status, message, as_json=as_json, title=title)
        finally:
            close_db()


def _refuse_what_fava_would_fail_on() -> None:
    """Requests Fava answers with a crash (500), refused first: a NUL byte in
    a parameter (a file name Python cannot open) and ``/jump`` without a
    Fava page to return to (it redirects to the Referer; browsers send ours
    only from our own pages, Referrer-Policy same-origin)."""
    if any("\x00" in value for _name, values in request.args.lists() for value in values):
        abort(400, "refused: a parameter holds a NUL character")
    if request.endpoint == "jump" and urlparse(request.referrer or "").netloc != request.host:
        abort(400, "refused: there is no Fava page to return to")


def _download_query(result_format: str) -> Response:
    """Fava's query download, CSV only. Fava writes query results verbatim,
    so a payer's name such as ``=HYPERLINK(...)`` would be a live formula in
    the spreadsheet that opens it: every text cell that would start a formula
    is written as text (defusedcsv). Fava's XLSX/ODS export writes cells as
    they come and is refused."""
    if result_format != "csv":
        abort(404)
    name, data = g.ledger.query_shell.query_to_file(g.filtered.entries_with_all_prices, request.args.get("query_string", ""), "csv")
    rows = csv.reader(io.StringIO(data.getvalue().decode("utf-8"), newline=""))
    out = io.StringIO()
    safe_csv.writer(out).writerows(rows)
    filename = f"{secure_filename(name.strip()) or 'query_result'}.csv"
    return send_file(io.BytesIO(out.getvalue().encode("utf-8")), as_attachment=True, download_name=filename)


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

    def _refuse(self, environ, start_response, status: int, message: str, headers: dict[str, str] | None = None, title: str | None = None):
        path = environ.get("PATH_INFO", "")[len(PREFIX):]
        response = app_error(self.app, environ, status, message, as_json=bool(_API_PATH.match(path)), title=title)
        response.headers.update(headers or {})
        return security_headers(response)(environ, start_response)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return self.app_wsgi(environ, start_response)
        from app.roles import allowed

        role, login = self._user_role(environ)
        if role is None:
            target = quote(environ.get("SCRIPT_NAME", "") + path + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""), safe="/")
            redirect = Response(b"login required\n", 302, {"Location": f"{login}?next={quote(target, safe='')}"}, mimetype="text/plain")
            return security_headers(redirect)(environ, start_response)
        if not allowed(role, "fava"):
            return self._refuse(environ, start_response, 403, "Fava (browsing the books) is for the auditor and admin roles.")
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method not in READ_METHODS:
            return self._refuse(environ, start_response, 405, READ_ONLY, {"Allow": "GET, HEAD"}, title="The books are read-only")
        inner = dict(environ)
        inner[OUTER_ENVIRON] = environ
        inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX
        inner["PATH_INFO"] = path[len(PREFIX):]
        # Fava's read-only mode refuses HEAD (401): HEAD is answered as GET, without the body.
        inner["REQUEST_METHOD"] = "GET"
        body = self.fava_wsgi(inner, start_response)
        if method == "HEAD":
            if hasattr(body, "close"):
                body.close()
            return []
        return body
