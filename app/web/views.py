"""Small helpers shared by the pages and the API: the ledger directory,
the books, the acting user as the ledger knows it, money and year formats.
No ledger logic lives here."""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from flask import abort, current_app

import ledger.money

from app.web.auth import current_user


def ledger_dir() -> Path:
    return current_app.config["LEDGER_DIR"]


def books():
    from ledger.loader import load_books

    return load_books(ledger_dir())


def acting_user() -> str:
    """The author of ledger commits for this request (``web:alice``)."""
    user = current_user()
    if user is None:  # views are decorated with require(); this is a bug guard
        abort(401)
    return user.ledger_user


def money(value) -> str:
    """``1234567.5`` -> ``1,234,567.50`` (display only; JSON uses plain two-decimal strings)."""
    if value is None or value == "":
        return "—"
    return ledger.money.grouped(Decimal(value))


def money_text(value: Decimal | None) -> str | None:
    """The API's two-decimal string (``null`` stays ``None``)."""
    return None if value is None else ledger.money.text(value)


def book_years(entries) -> list[int]:
    """Calendar years that have transactions, newest first. The opening
    balance alone does not make a year of the books (the books opened on 31
    December 2019 begin with 2020)."""
    from beancount.core import data

    from ledger import conventions

    years = {
        e.date.year for e in entries
        if isinstance(e, data.Transaction) and not any(p.account == conventions.OPENING for p in e.postings)
    }
    return sorted(years, reverse=True)


def default_year(entries) -> int:
    years = book_years(entries)
    today = datetime.date.today().year
    if not years or today in years:
        return today
    return years[0]


def is_year_text(text: str) -> bool:
    """Four ASCII digits (``str.isdigit`` alone also takes full-width and
    other scripts' digits, which ``int`` reads: '２０２５' would be 2025)."""
    return len(text) == 4 and text.isascii() and text.isdigit()


def parse_year(value, *, fallback: int | None = None) -> int:
    """A four-digit year from a form or query string; 400 otherwise."""
    if value in (None, "") and fallback is not None:
        return fallback
    text = str(value).strip()
    if not (is_year_text(text) and 1999 <= int(text) <= 2200):
        abort(400, f"{text[:20]!r}: not a year (YYYY)")
    return int(text)


def parse_date(value, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        abort(400, f"{name}: not a date (YYYY-MM-DD)")


class Refused(Exception):
    """An action the ledger or the rules refused: ``str()`` is the one-line
    reason shown to the user; ``status`` the HTTP status the API answers."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def ledger_refusal(exc: Exception) -> Refused:
    """The ledger's expected refusals as one line each (as the CLI prints them)."""
    from ledger.store.writer import CheckFailed, WriteRefused

    if isinstance(exc, CheckFailed):
        return Refused(f"refused: the change fails the ledger check; nothing written ({exc.errors[0] if exc.errors else ''})", 409)
    if isinstance(exc, WriteRefused):
        return Refused(f"refused: {exc}", 409)
    return Refused(" ".join(str(exc).split()))


def form_year(value) -> int:
    """A work-plan year typed in a form, or Refused (one line)."""
    text = str(value or "").strip()
    if not is_year_text(text):
        raise Refused(f"{text or '(empty)'}: not a year (YYYY)")
    return int(text)


@contextmanager
def refusals_audited(action: str, what: str, *domain: type[BaseException]):
    """Run a ledger action: its domain refusals (``domain``) and the ledger's
    own refusals become :class:`Refused` (one line), each recorded as a
    refused audit event ``action`` with ``what: reason``."""
    from app.web.audit import record

    try:
        yield
    except domain as exc:
        record(action, "refused", f"{what}: {exc}")
        raise Refused(str(exc)) from None
    except ledger_errors() as exc:
        refusal = ledger_refusal(exc)
        record(action, "refused", f"{what}: {refusal}")
        raise refusal from None


def ledger_errors() -> tuple[type[BaseException], ...]:
    """Exceptions from the ledger that are a refusal, not a bug (as in the CLI)."""
    from importers.model import BadFile
    from ledger.store.gitrepo import GitError
    from ledger.store.writer import CheckFailed, WriteRefused

    return (BadFile, WriteRefused, CheckFailed, GitError)
