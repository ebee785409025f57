"""What every ``isu-ledger`` command shares: where the books are, who acts,
how a refusal is said, and the small helpers of the commands that write.

A command refuses by raising: its own ``Refused`` or a refusal of the
function it calls (``as_refusal`` knows them all). Either ends as one line
on standard error and exit 2, nothing written.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
from dataclasses import dataclass
from pathlib import Path

import click

PROG = "isu-ledger"


@dataclass
class Environment:
    """What every command gets besides its arguments: where the books are
    and who acts (the author of the commits it makes)."""

    ledger_dir: Path
    user: str


pass_env = click.make_pass_decorator(Environment)


def default_user() -> str:
    """``$ISU_USER``, else ``cli:`` and the login name."""
    user = os.environ.get("ISU_USER")
    if user:
        return user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


class Refused(click.ClickException):
    """A refusal or bad input: ``details`` (lines shown as they are, e.g. the
    check's ``file:line: message``), then ``isu-ledger: <message>`` on one
    line; exit 2."""

    exit_code = 2

    def __init__(self, message: str, details: list[str] | tuple[str, ...] = ()):
        from importers.booking import one_line

        # Made inert for the terminal: a bank's or a user's text may hold line
        # breaks or escape sequences.
        super().__init__(one_line(str(message)))
        self.details = [one_line(str(line)) for line in details]

    def show(self, file=None) -> None:
        for line in self.details:
            click.echo(line, err=True)
        click.echo(f"{PROG}: {self.message}", err=True)


def _refusals() -> tuple[type[BaseException], ...]:
    """The exceptions by which the product refuses a request or a file (not bugs)."""
    from app.demo.build import DemoError
    from app.web.serving import ConfigError
    from app.web.users import UserError
    from importers.importing import ImportRefused
    from importers.model import BadFile
    from importers.review import ReviewRefused
    from importers.import_undo import UndoRefused
    from ledger.books import InitRefused
    from ledger.finance.budgets import BudgetRefused
    from ledger.finance.buffer import BufferRefused
    from ledger.finance.inkind import InKindRefused
    from ledger.finance.pledges import PledgeRefused
    from ledger.finance.yearend import YearEndRefused
    from ledger.registry_language import LanguageRefused
    from ledger.store.gitrepo import GitError
    from ledger.store.writer import WriteRefused
    from reports.command import ReportRefused
    from reports.letters import LetterTemplateError

    return (BadFile, InitRefused, WriteRefused, GitError, ImportRefused, ReviewRefused, ReportRefused, UserError,
            DemoError, BudgetRefused, BufferRefused, InKindRefused, PledgeRefused, YearEndRefused, UnicodeDecodeError,
            ConfigError, LanguageRefused, LetterTemplateError, UndoRefused)


_FILE_ERRORS = (FileNotFoundError, IsADirectoryError, PermissionError)


def as_refusal(exc: Exception, ledger_dir: Path | None) -> Refused | None:
    """The ``Refused`` that says ``exc`` to the user; None when ``exc`` is a bug."""
    from ledger.finance.workbooks import ExcelErrors
    from ledger.store.writer import CheckFailed

    if isinstance(exc, CheckFailed):
        return Refused(f"{ledger_dir}: refused: the change fails the ledger check; nothing written", exc.errors)
    if isinstance(exc, ExcelErrors):
        return Refused("refused: nothing written", [f"{PROG}: {line}" for line in exc.errors])
    if isinstance(exc, _FILE_ERRORS) and exc.filename:
        return Refused(f"{exc.filename}: {exc.strerror}")
    if isinstance(exc, _FILE_ERRORS + _refusals()):
        return Refused(str(exc))
    return None


class _Year(click.ParamType):
    name = "YYYY"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int):
            return value
        if not (value.isdigit() and len(value) == 4):
            self.fail(f"{value}: not a year (YYYY)", param, ctx)
        return int(value)


YEAR = _Year()


def echo_json(value) -> None:
    """The JSON of the contract: indented, UTF-8 as it is."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def today() -> datetime.date:
    return datetime.date.today()


def load(env: Environment):
    """The loaded books; refused when there is no ledger in the directory."""
    from ledger.conventions import MAIN_FILE
    from ledger.loader import load_books

    if not (env.ledger_dir / MAIN_FILE).is_file():
        raise Refused(f"{env.ledger_dir}: no ledger here (run 'isu-ledger init' first)")
    return load_books(env.ledger_dir)


def write(env: Environment, action: str, entries: list, replacements=(), files=()) -> str | None:
    """Write planned entries once through the ledger writer (one commit)."""
    from ledger.store.writer import write_plan

    return write_plan(env.ledger_dir, env.user, action, entries, replacements, files)


def dry_run_note(dry_run: bool) -> str:
    return " (dry run: nothing written)" if dry_run else ""
