"""``isu-ledger demo``: realistic books from 2020 to today, through the real import path."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from app.cli.base import Environment, Refused, pass_env, today


@click.command()
@click.argument("directory", metavar="DIR", required=False)
@click.option("--today", "as_of", metavar="DATE", help="the story's today (default: today); the same date gives the same books")
@click.option("--seed", type=int, default=None, hidden=True)
@pass_env
def demo(env: Environment, directory: str | None, as_of: str | None, seed: int | None) -> None:
    """Build a realistic multi-year demo ledger (in DIR, default: the --ledger directory)."""
    from app.demo.build import DEFAULT_SEED, build_demo

    try:
        day = datetime.date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        raise Refused(f"--today {as_of}: not a date (YYYY-MM-DD)") from None
    result = build_demo(Path(directory) if directory else env.ledger_dir, today=day, seed=DEFAULT_SEED if seed is None else seed,
                        say=click.echo)
    click.echo(f"demo books in {result.ledger_dir} (as of {day}), built in {result.seconds:.1f} s")
    if result.accounts:
        click.echo("demo accounts (web app; passwords generated for this demo only):")
        for name, password in result.accounts.items():
            click.echo(f"  {name} / {password}")
