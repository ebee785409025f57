"""What ``isu-ledger report`` does, so the CLI and the web app share it:
build the named report from the books and render it in a format.

Report models are kept with the load of the books they were built from
(``Books.memo``), by the commit and the report's arguments: a web request for
a report already built from the same books is a dict look-up and a render. A
change of the files is a new load with an empty memo, so nothing stale is ever
served; models are frozen dataclasses, safe to share.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

from reports.annual import annual_report
from reports.budget import budget_report
from reports.buffer import buffer_report
from reports.contributions import contributions_report
from reports.render_html import render_html
from reports.render_json import render_json
from reports.render_pdf import render_pdf
from reports.render_xlsx import render_xlsx
from reports.statement import statement_report

BUILDERS: dict[str, Callable] = {
    "contributions": contributions_report,
    "annual": annual_report,
    "budget": budget_report,
    "buffer": buffer_report,
}
RENDERERS: dict[str, Callable] = {"json": render_json, "xlsx": render_xlsx, "pdf": render_pdf, "html": render_html}
BINARY = ("xlsx", "pdf")


class ReportRefused(Exception):
    """The report cannot be made; ``str()`` is one line."""


def parse_as_of(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise ReportRefused(f"--as-of {text}: not a date (YYYY-MM-DD)") from None


def load(ledger_dir: Path | str):
    """The books and their git commit; refuses books that do not check."""
    from ledger.conventions import MAIN_FILE
    from ledger.loader import load_books
    from reports.base import ledger_commit

    ledger_dir = Path(ledger_dir)
    if not (ledger_dir / MAIN_FILE).is_file():
        raise ReportRefused(f"{ledger_dir}: no ledger here (run 'isu-ledger init' first)")
    books = load_books(ledger_dir)
    if books.errors:
        raise ReportRefused(f"{ledger_dir}: the books have {len(books.errors)} error(s) "
                            f"(first: {books.errors[0]}); run 'isu-ledger check'")
    return books, ledger_commit(ledger_dir)


def build(books, name: str, year: int, as_of: datetime.date | None, *, commit: str | None,
          state_party: str | None = None):
    """The report model, from the memo when the same books asked for it."""
    key = (name, year, as_of, state_party, commit)
    memo = getattr(books, "memo", None)
    if memo is None:  # books not loaded by load_books
        return _build(books, name, year, as_of, commit=commit, state_party=state_party)
    report = memo.get(key)
    if report is None:
        report = memo[key] = _build(books, name, year, as_of, commit=commit, state_party=state_party)
    return report


def _build(books, name: str, year: int, as_of: datetime.date | None, *, commit: str | None,
           state_party: str | None = None):
    if name == "statement":
        if not state_party:
            raise ReportRefused("report statement: --state-party ISO3 is required")
        from ledger.registry import Registry

        if state_party.upper() not in Registry.load(books.ledger_dir):
            raise ReportRefused(f"--state-party {state_party}: not in the registry")
        return statement_report(books, year, state_party, as_of, commit=commit)
    if name not in BUILDERS:
        raise ReportRefused(f"report {name}: unknown report")
    return BUILDERS[name](books, year, as_of, commit=commit)


def render(report, fmt: str) -> bytes:
    return RENDERERS[fmt](report)
