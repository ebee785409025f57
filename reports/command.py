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
import importlib
from pathlib import Path

# "module:function" of each report and format, imported when asked for: a PDF
# need not load the spreadsheet and SVG libraries, nor a JSON answer ReportLab.
BUILDERS = {
    "contributions": "reports.contributions:contributions_report",
    "annual": "reports.annual:annual_report",
    "budget": "reports.budget:budget_report",
    "buffer": "reports.buffer:buffer_report",
    "statement": "reports.statement:statement_report",
    "outlook": "reports.outlook:outlook_report",
}
RENDERERS = {
    "json": "reports.render_json:render_json",
    "xlsx": "reports.render_xlsx:render_xlsx",
    "pdf": "reports.render_pdf:render_pdf",
    "html": "reports.render_html:render_html",
}
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
        return _compute_report(books, name, year, as_of, commit=commit, state_party=state_party)
    report = memo.get(key)
    if report is None:
        report = memo[key] = _compute_report(books, name, year, as_of, commit=commit, state_party=state_party)
    return report


def _compute_report(books, name: str, year: int, as_of: datetime.date | None, *, commit: str | None,
           state_party: str | None = None):
    if name == "statement":
        if not state_party:
            raise ReportRefused("report statement: --state-party ISO3 is required")
        from ledger.registry import Registry

        if state_party.upper() not in Registry.load(books.ledger_dir):
            raise ReportRefused(f"--state-party {state_party}: not in the registry")
        return _function(BUILDERS["statement"])(books, year, state_party, as_of, commit=commit)
    if name not in BUILDERS:
        raise ReportRefused(f"report {name}: unknown report")
    return _function(BUILDERS[name])(books, year, as_of, commit=commit)


def render(report, fmt: str) -> bytes:
    return _function(RENDERERS[fmt])(report)


def _function(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
