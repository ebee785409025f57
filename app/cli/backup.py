"""``isu-ledger backup``: the books' backup remotes (``ledger.store.backup``).

Any git remote named ``backup`` or ``backup-NAME`` is one; the ledger writer
pushes to each after every commit. ``push`` and ``status`` exit 1 while a
remote is behind the books (fit for cron and monitoring), 2 when refused.
"""

from __future__ import annotations

import click

from app.cli.base import Environment, Refused, pass_env

NO_REMOTE = "no backup remote (isu-ledger backup add NAME URL)"


@click.group()
@pass_env
def backup(env: Environment) -> None:
    """The books' backup remotes (git remotes named backup or backup-*)."""
    from ledger.conventions import MAIN_FILE

    # Never git's search upwards: a directory without books is refused, not
    # taken for whatever repository holds it.
    if not (env.ledger_dir / MAIN_FILE).is_file():
        raise Refused(f"{env.ledger_dir}: no ledger here (run 'isu-ledger init' first)")


@backup.command()
@click.argument("name", metavar="NAME")
@click.argument("url", metavar="URL")
@click.pass_context
def add(ctx: click.Context, name: str, url: str) -> None:
    """Add a backup remote (any git URL or path; NAME is backup or backup-NAME) and push to it."""
    from ledger.store import backup as store

    env = ctx.find_object(Environment)
    try:
        store.add(env.ledger_dir, name, url)
    except store.BackupRefused as exc:
        raise Refused(str(exc)) from None
    click.echo(f"{name}: added")
    _push(ctx, env)


@backup.command()
@click.argument("name", metavar="NAME")
@pass_env
def remove(env: Environment, name: str) -> None:
    """Stop backing up to a remote (what it holds stays there)."""
    from ledger.store import backup as store

    try:
        store.remove(env.ledger_dir, name)
    except store.BackupRefused as exc:
        raise Refused(str(exc)) from None
    click.echo(f"{name}: removed (what it holds stays there)")


@backup.command()
@click.pass_context
def push(ctx: click.Context) -> None:
    """Push the books to every backup remote now; exit 1 while one is behind."""
    from ledger.store import backup as store

    env = ctx.find_object(Environment)
    if not store.remotes(env.ledger_dir):
        raise Refused(f"{env.ledger_dir}: {NO_REMOTE}")
    _push(ctx, env)


@backup.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """One line per backup remote: level with the books, or behind and why; exit 1 while one is behind."""
    from ledger.store import backup as store

    env = ctx.find_object(Environment)
    found = store.status(env.ledger_dir)
    if not found:
        click.echo(f"{env.ledger_dir}: {NO_REMOTE}")
        return
    _report(ctx, found)


def _push(ctx: click.Context, env: Environment) -> None:
    from ledger.store import backup as store

    found = store.push(env.ledger_dir, wait=store.DEFAULT_TIMEOUT)
    if found is None:
        click.echo("isu-ledger: another push is still running; try again later (isu-ledger backup status)", err=True)
        ctx.exit(1)
    _report(ctx, found)


def _report(ctx: click.Context, found: list) -> None:
    for remote in found:
        click.echo(remote.line())
    if not all(remote.level for remote in found):
        ctx.exit(1)


def warnings(ledger_dir) -> list[str]:
    """``check``'s warning lines: one per backup remote behind the books."""
    from ledger.store import backup as store
    from ledger.store import gitrepo

    try:
        return [f"warning: backup remote {r.line()}" for r in store.status(ledger_dir) if not r.level]
    except gitrepo.GitError:
        return []
