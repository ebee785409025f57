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

from flask import Flask, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

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
    "REPORT_BUILDS_PER_USER": 1,  # packs and PDFs one user may have building at once (app.web.report_builds)
}

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` must name ``LEDGER_DIR`` and ``SECRET_KEY``
    (tests may omit the key with ``TESTING``); ``DATABASE_URL`` defaults to a
    SQLite file in the ledger directory. Migrations run here (Alembic)."""
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

    from app.web.db import default_url, open_database

    url = app.config.get("DATABASE_URL") or default_url(app.config["LEDGER_DIR"])
    app.config["DATABASE_URL"] = url
    app.extensions["isu_db"] = open_database(url)
    csrf.init_app(app)
    _setup_blueprints(app)
    _setup_errors(app)
    _setup_templates(app)
    return app


def _setup_blueprints(app: Flask) -> None:
    from app.web import (
        api,
        audit,
        auth,
        dashboard,
        imports,
        registry,
        reports,
        review,
        workbooks,
        yearend,
    )

    for module in (auth, dashboard, imports, review, reports, yearend, registry, workbooks, audit, api):
        app.register_blueprint(module.bp)
    app.teardown_appcontext(auth.close_db)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _setup_errors(app: Flask) -> None:
    """One handler turns every failed request into a page or, under /api/,
    into ``{"error": ..., "status": ...}``."""

    def respond(status: int, message: str):
        if request.path.startswith("/api/"):
            return jsonify({"error": message, "status": status}), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return respond(400, f"refused: {exc.description} (reload the page and try again)")

    from app.web.views import Refused

    @app.errorhandler(Refused)
    def refused(exc: Refused):
        response, status = respond(exc.status, str(exc))
        if getattr(exc, "retry_after", None):  # 429: when to try again
            response = make_response(response, status)
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return respond(exc.code or 500, exc.description or exc.name)


def _setup_templates(app: Flask) -> None:
    from app.web.auth import current_user
    from app.roles import allowed
    from app.web.views import money

    app.jinja_env.filters["money"] = money

    @app.context_processor
    def inject():
        user = current_user()
        return {
            "current_user": user,
            "can": lambda permission: user is not None and allowed(user.role, permission),
        }


def create_wsgi(config: dict[str, Any]):
    """The served application: our app at ``/`` and Fava at ``/fava/``, Fava
    reachable only through our login, for the auditor and admin roles, and
    only for reading."""
    from app.web.fava_mount import FavaGuard, create_fava

    app = create_app(config)
    fava = create_fava(app.config["LEDGER_DIR"])
    app.wsgi_app = FavaGuard(app, app.wsgi_app, fava.wsgi_app)  # type: ignore[method-assign]
    return app
