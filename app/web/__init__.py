"""The web application: finance staff do the monthly job in a browser,
auditors browse the books in Fava and sign off, the Committee downloads
reports. A thin shell over the same ledger and report functions as the CLI.

``create_app(config)`` builds the Flask app (one blueprint per feature);
``create_wsgi(config)`` adds Fava, read-only, at ``/fava/`` behind our login.
Configuration flows in from the caller (``isu-ledger serve`` reads the
environment); nothing is read from the environment here.
"""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, message_flashed, redirect, request, url_for
from flask_wtf.csrf import CSRFProtect


MiB = 1024 * 1024
DEFAULTS: dict[str, Any] = {
    "MAX_CONTENT_LENGTH": 20 * MiB,  # uploads: bank statements and Excel templates
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "isu_session",
    "PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=8),
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "WTF_CSRF_SSL_STRICT": False,  # Referer checks break behind some proxies; the token suffices
    "UPLOAD_DIR": None,  # where uploads wait between preview and confirm (default: system temp)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto it
    # trusts (Werkzeug's ProxyFix, that many hops). 0: none - the client
    # address is the socket's, and a forged X-Forwarded-For changes nothing.
    "TRUSTED_PROXIES": 0,
    "REPORT_BUILDS_PER_USER": 1,  # packs and PDFs one user may have building at once (app.web.report_builds)
}

# The app's pages: nothing but our own files, never inside a frame.
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"

csrf = CSRFProtect()


def security_headers(response: Response, csp: str = CSP, *, cacheable: bool = False) -> Response:
    """Give ``response`` the headers every response of ours carries, the
    app's and Fava's alike: ``csp`` (the policy of that kind of response,
    unless the view set a stricter one), no framing, no type sniffing, no
    referrer to other sites, and nothing kept in any cache unless
    ``cacheable`` (static files; ``send_file``'s own ``no-cache`` still
    stores)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", csp)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if not cacheable:
        headers["Cache-Control"] = "no-store"
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` must name ``LEDGER_DIR`` and ``SECRET_KEY``
    (tests may omit the key with ``TESTING``); ``DATABASE_URL`` defaults to a
    SQLite file in the ledger directory. Migrations run here (Alembic)."""
    app = _build(config)
    app.wsgi_app = _behind_proxies(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def _build(config: dict[str, Any] | None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.update(config or {})
    if "LEDGER_DIR" not in app.config:
        raise ValueError("create_app needs LEDGER_DIR")
    if not app.config.get("SECRET_KEY"):
        if not app.config.get("TESTING"):
            raise ValueError("create_app needs SECRET_KEY")
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["LEDGER_DIR"] = Path(app.config["LEDGER_DIR"]).resolve()
    hops = app.config["TRUSTED_PROXIES"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 10:
        raise ValueError(f"TRUSTED_PROXIES={hops!r}: the number of reverse proxies in front of the app (0 to 10)")

    from app.web import errors
    from app.web.db import default_url, open_database

    url = app.config.get("DATABASE_URL") or default_url(app.config["LEDGER_DIR"])
    app.config["DATABASE_URL"] = url
    app.extensions["isu_db"] = open_database(url)
    csrf.init_app(app)
    _setup_blueprints(app)
    errors.setup(app)
    _setup_templates(app)
    return app


def _setup_blueprints(app: Flask) -> None:
    from app.web import (
        accounts,
        api,
        audit,
        auth,
        dashboard,
        imports,
        letters,
        registry,
        reports,
        review,
        rules,
        workbooks,
        yearend,
    )

    for module in (auth, dashboard, imports, review, reports, yearend, registry, workbooks, audit, accounts, rules, letters, api):
        app.register_blueprint(module.bp)
    app.teardown_appcontext(auth.close_db)

    app.after_request(audit.record_refusal)
    message_flashed.connect(audit.note_flash, app)
    app.add_url_rule("/favicon.ico", "favicon", lambda: redirect(url_for("static", filename="favicon.svg"), 301))

    @app.after_request
    def headers(response: Response) -> Response:
        return security_headers(response, cacheable=request.endpoint == "static")


def _setup_templates(app: Flask) -> None:
    from app.web.auth import current_user
    from app.roles import allowed
    from app.web.errors import plain_words
    from app.web.views import money

    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["plain_words"] = plain_words

    @app.context_processor
    def inject():
        user = current_user()
        return {
            "current_user": user,
            "can": lambda permission: user is not None and allowed(user.role, permission),
        }


def _behind_proxies(app: Flask, wsgi):
    """``wsgi`` as seen through TRUSTED_PROXIES reverse proxies: the client
    address (what login throttling counts by) and scheme are taken from the
    X-Forwarded-For/-Proto entries those proxies added, and only from those."""
    hops = app.config["TRUSTED_PROXIES"]
    if not hops:
        return wsgi
    from werkzeug.middleware.proxy_fix import ProxyFix

    return ProxyFix(wsgi, x_for=hops, x_proto=hops)


def create_wsgi(config: dict[str, Any]):
    """The served application: our app at ``/`` and Fava at ``/fava/``, Fava
    reachable only through our login, for the auditor and admin roles, and
    only for reading."""
    from app.web.fava_mount import FavaGuard, create_fava

    app = _build(config)
    fava = create_fava(app)
    app.wsgi_app = _behind_proxies(app, FavaGuard(app, app.wsgi_app, fava.wsgi_app))  # type: ignore[method-assign]
    return app
