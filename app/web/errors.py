"""The app's error pages: every failed request answers in the app's layout,
in plain words, with a link home; under /api/ it stays JSON
(``{"error": ..., "status": ...}``).

A framework's default description ("The requested URL was not found on the
server...") is replaced by our own sentence for that status; a message the
app wrote itself (a refusal naming the field) is kept."""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

# (title, what it means in plain words) per status.
PLAIN: dict[int, tuple[str, str]] = {
    400: ("The request could not be used", "Something in the form or the address could not be read. Go back, check what was entered and try again."),
    401: ("Please log in", "This needs you to be logged in."),
    403: ("Not allowed", "Your account's role does not give access to this page or action. Ask an administrator if you need it."),
    404: ("Page not found", "There is no page at this address. Check the link, or start again from the dashboard."),
    405: ("Not possible here", "This address cannot be used that way: it shows a page, it does not take a form."),
    409: ("Not done", "The books refused the change; nothing was written."),
    413: ("File too large", "The file is larger than the app accepts ({limit} MiB). Export a shorter period or split the file."),
    429: ("Too many requests", "Too many requests at once. Wait a moment and try again."),
    500: ("Something went wrong", "The app met an unexpected error. It has been logged; try again, and tell the administrator if it happens again."),
}
# The command line's options, as the web form fields that carry them.
FIELDS = {
    "--opinion-date": "Opinion date", "--state-party": "State Party", "--as-of": "As at date", "--full-name": "Full name",
    "--auditor": "Auditor", "--on-behalf-of": "On behalf of", "--decision": "Decision", "--years": "Years",
    "--kind": "Kind", "--value": "Value", "--amount": "Amount", "--year": "Year", "--work-plan": "Work plan",
}
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
READ_ONLY = "The books are read-only in the auditor view: Fava shows them, changes are made in the app (import, review, year end)."
_DEFAULT_DESCRIPTIONS = {cls.description for cls in default_exceptions.values() if cls.description}


def plain_words(message: str) -> str:
    """A message of the ledger or the importers (written for the command
    line) for a web user: each ``--flag`` becomes the name of its field, and
    "ISO3" after the State Party a plain "code"."""
    text = _FLAG.sub(lambda m: FIELDS.get(m.group(0), m.group(1).replace("-", " ").capitalize()), str(message))
    return text.replace("State Party ISO3 is required", "choose the State Party")


def plain(status: int) -> tuple[str, str]:
    title, text = PLAIN.get(status, PLAIN[500] if status >= 500 else PLAIN[400])
    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return title, text.format(limit=limit)


def error_response(status: int, message: str, *, as_json: bool, title: str | None = None) -> Response:
    """A failed request as our error page or, for API clients, as
    ``{"error": ..., "status": ...}``. Needs a request context of our app.
    ``message`` is kept for the audit of a refusal (``g.refusal``)."""
    default_title, default_text = plain(status)
    if not message or message in _DEFAULT_DESCRIPTIONS:
        message = default_text
    message = plain_words(message)
    g.refusal = message
    if as_json:
        response = jsonify({"error": message, "status": status})
    else:
        response = make_response(render_template("error.html", status=status, title=title or default_title, message=message))
    response.status_code = status
    return response


def setup(app: Flask) -> None:
    """One handler turns every failed request into a page or, under /api/,
    into JSON; unexpected exceptions (500) too, after Flask has logged them."""
    from app.web.views import Refused

    def respond(status: int, message: str) -> Response:
        return error_response(status, message, as_json=request.path.startswith("/api/"))

    @app.errorhandler(CSRFError)
    def csrf_error(_exc: CSRFError):
        return respond(400, "The form had expired or came from another page: its security (CSRF) token is missing or wrong. Reload the page and try again.")

    @app.errorhandler(Refused)
    def refused(exc: Refused):
        response = respond(exc.status, str(exc))
        if getattr(exc, "retry_after", None):  # 429: when to try again
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        return respond(code, "" if code >= 500 else exc.description or "")
