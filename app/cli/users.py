"""``isu-ledger user``: web accounts (app.web.users), one line of output each."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from app.cli.base import Environment, Refused, pass_env
from app.roles import ROLES


@click.group()
def user() -> None:
    """Web accounts."""


def new_password() -> str:
    """A new password: typed twice at a terminal, else the first line of
    standard input (for scripts)."""
    if sys.stdin.isatty():
        return click.prompt("New password", hide_input=True, confirmation_prompt="Repeat it", err=True)
    return sys.stdin.readline().rstrip("\r\n")


def _need_database(env: Environment) -> None:
    """Refuse before asking anything when there is no database of web accounts."""
    from ledger.conventions import MAIN_FILE

    if not os.environ.get("ISU_DATABASE_URL") and not (env.ledger_dir / MAIN_FILE).is_file():
        raise Refused(f"{env.ledger_dir}: no ledger here (its database holds the web accounts; or set ISU_DATABASE_URL)")


@contextmanager
def _accounts(env: Environment) -> Iterator:
    """A database session on the web accounts, committed when the block ends well."""
    from app.web.serving import user_session

    with user_session(env.ledger_dir, os.environ) as session:
        yield session
        session.commit()


@user.command()
@click.argument("name", metavar="NAME")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--full-name", metavar="TEXT", help="the person's full name (required for an auditor: its sign-offs record it)")
@pass_env
def add(env: Environment, name: str, role: str, full_name: str | None) -> None:
    """Add a web account (asks for its password)."""
    from app.web import users

    _need_database(env)
    password = new_password()
    with _accounts(env) as session:
        account = users.add_user(session, name, role, password, full_name)
    click.echo(f"user {account.name}: added ({account.role})")


@user.command("set")
@click.argument("name", metavar="NAME")
@click.option("--full-name", metavar="TEXT", required=True, help="the person's full name")
@pass_env
def set_(env: Environment, name: str, full_name: str) -> None:
    """Set a web account's full name."""
    from app.web import users

    _need_database(env)
    with _accounts(env) as session:
        account = users.set_full_name(session, name, full_name)
    click.echo(f"user {account.name}: full name {account.full_name or '(none)'}")


@user.command()
@click.argument("name", metavar="NAME")
@pass_env
def passwd(env: Environment, name: str) -> None:
    """Set a web account's password."""
    from app.web import users

    _need_database(env)
    password = new_password()
    with _accounts(env) as session:
        account = users.set_password(session, name, password)
    click.echo(f"user {account.name}: password changed")


@user.command()
@click.argument("name", metavar="NAME")
@pass_env
def disable(env: Environment, name: str) -> None:
    """Disable a web account (its sessions end)."""
    from app.web import users

    _need_database(env)
    with _accounts(env) as session:
        account = users.disable_user(session, name)
    click.echo(f"user {account.name}: disabled")
