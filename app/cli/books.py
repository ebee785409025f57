"""``isu-ledger init``, ``check``, ``parse`` and ``import``: the books and the bank files."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from app.cli import backup
from app.cli.base import PROG, Environment, Refused, as_refusal, echo_json, pass_env


@click.command()
@click.option("--iban", help="the ISU bank account (default: the UBS Geneva account)")
@click.option("--opening-balance", metavar="AMOUNT", help="bank balance in CHF at --as-of")
@click.option("--as-of", metavar="DATE", help="date of the opening balance (YYYY-MM-DD)")
@pass_env
def init(env: Environment, iban: str | None, opening_balance: str | None, as_of: str | None) -> None:
    """Create a new ledger (git, chart of accounts, registry)."""
    from ledger.books import DEFAULT_IBAN, init_ledger

    result = init_ledger(env.ledger_dir, iban=iban or DEFAULT_IBAN, opening_balance=opening_balance, as_of=as_of, user=env.user)
    click.echo(f"initialised the ISU ledger in {result.ledger_dir} (IBAN {result.iban}, commit {result.commit[:12]})")


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """bean-check plus the ISU rules; exit 1 when it finds errors. A backup
    remote behind the books is a warning line (the exit code stays)."""
    from ledger.check import check_ledger

    env = ctx.find_object(Environment)
    errors = check_ledger(env.ledger_dir)
    for line in errors:
        click.echo(line, err=True)
    for line in backup.warnings(env.ledger_dir):  # warnings only: the exit code is the books' own
        click.echo(line, err=True)
    if errors:
        click.echo(f"{PROG}: {len(errors)} error(s) in {env.ledger_dir}", err=True)
        ctx.exit(1)
    click.echo(f"{env.ledger_dir}: ok")


@click.command()
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--verbose", "-v", is_flag=True,
              help="on a refusal, also print what the reader met (library messages), before the one-line reason")
def parse(file: str, as_json: bool, verbose: bool) -> None:
    """Show the normalised content of a bank file (no ledger needed)."""
    from importers.parse import parse_file, to_json

    with _reader_log(verbose) as met:
        try:
            result = parse_file(file)
        except Exception as exc:
            if not verbose:
                raise
            refusal = as_refusal(exc, None)
            if refusal is None:
                raise
            raise Refused(refusal.message, [*refusal.details, *met, *_causes(exc)]) from exc
    if as_json:
        echo_json(to_json(result))
        return
    click.echo(f"{file}: {result.format}")
    for st in result.statements:
        closing = f"closing {st.closing.amount} {st.closing.currency} on {st.closing.date}" if st.closing else "no closing balance"
        click.echo(f"  statement {st.id} account {st.account}: {len(st.entries)} entries, {closing}")
    for warning in result.warnings:
        click.echo(f"  warning: {warning}")


@contextlib.contextmanager
def _reader_log(verbose: bool) -> Iterator[list[str]]:
    """With ``verbose``, the messages the bank-file libraries log while
    reading (the mt-940 library says where it stopped); silent otherwise."""
    import logging

    met: list[str] = []
    if not verbose:
        yield met
        return

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            met.append(f"detail: {record.name}: {record.getMessage()[:500]}")

    logger, handler = logging.getLogger("mt940"), _Collect(logging.WARNING)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield met
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _causes(exc: BaseException) -> list[str]:
    """What lies under a refusal: each underlying error (``Refused`` makes
    each detail one inert line)."""
    lines = []
    cause = exc.__cause__
    while cause is not None and len(lines) < 10:
        lines.append(f"detail: {type(cause).__name__}: {str(cause)[:500]}")
        cause = cause.__cause__
    return lines


@contextlib.contextmanager
def progress_bar() -> Iterator:
    """The import's progress callback ``(done, total, label)``: a click progress
    bar on standard error when that is a terminal, else None (nothing shown)."""
    if not sys.stderr.isatty():
        yield None
        return
    # update_min_steps=0: a new label shows even when no step was made.
    with click.progressbar(length=1, label="import", file=sys.stderr, show_pos=True, update_min_steps=0,
                           item_show_func=lambda label: label) as bar:

        def update(done: int, total: int, label: str) -> None:
            bar.length = max(total, 1)  # the count of entries is known once the files are read
            bar.update(done - bar.pos, label)

        yield update


@click.command("import")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="show what would be booked, and why; write nothing")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def import_(env: Environment, files: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Import bank statements (idempotent, all or nothing)."""
    from importers.importing import import_files, summary_lines

    with progress_bar() as progress:
        report = import_files(env.ledger_dir, files, dry_run=dry_run, user=env.user, progress=progress)
    if as_json:
        echo_json(report.to_json())
    else:
        click.echo("\n".join(summary_lines(report)))


@click.command("import-undo")
@click.argument("batch", metavar="BATCH")
@click.option("--dry-run", is_flag=True, help="make every check of the undo; write nothing")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def import_undo(env: Environment, batch: str, dry_run: bool, as_json: bool) -> None:
    """Undo one import: take what it booked out of the books (one commit).

    BATCH is the import's ledger commit (as ``import`` printed it) or the
    number of a web import batch. Refused, nothing written, when the import
    touches a signed-off year, when review decisions were made on its
    receipts, or when a later import continues from its closing balance.
    """
    from importers.import_undo import undo_import

    with _batches(env) as batches:
        commit, label = batches.commit_of(batch)
        report = undo_import(env.ledger_dir, commit, user=env.user, label=label, name_of=batches.name_of, dry_run=dry_run)
        if not dry_run:
            batches.mark_undone(report.commit, report.undo_commit)
    if as_json:
        echo_json({**report.to_json(), "dry_run": dry_run})
        return
    verb = "would remove" if dry_run else "removed"
    tail = f" (commit {report.undo_commit[:12]})" if report.undo_commit else ""
    click.echo(f"undo of import {report.commit[:12]}: {verb} {report.entries} entries, "
               f"{report.receipts} of them bank transactions, and {len(report.documents)} archived file(s){tail}")


@contextlib.contextmanager
def _batches(env: Environment) -> Iterator:
    """The web app's import batches when it has a database (ISU_DATABASE_URL,
    else the SQLite file in the ledger), else none: the ledger alone."""
    import os

    from app.web.db import DEFAULT_DB_NAME
    from app.web.import_batches import Batches

    if not os.environ.get("ISU_DATABASE_URL") and not (env.ledger_dir / DEFAULT_DB_NAME).is_file():
        yield Batches(None)
        return
    from app.web.serving import user_session

    with user_session(env.ledger_dir, os.environ) as session:
        yield Batches(session)
