"""``isu-ledger close-year`` and ``sign-off``: the year end (ledger.finance.yearend)."""

from __future__ import annotations

import click

from app.cli.base import YEAR, Environment, Refused, load, pass_env


@click.command("close-year")
@click.argument("year", type=YEAR, metavar="YYYY")
@click.option("--dry-run", is_flag=True, help="show the closing entries; write nothing")
@pass_env
def close_year(env: Environment, year: int, dry_run: bool) -> None:
    """Close a year (surplus or deficit per policy)."""
    from ledger.finance.yearend import close_year as close

    load(env)
    plan = close(env.ledger_dir, year, user=env.user, dry_run=dry_run)
    click.echo("\n".join(plan.lines()))
    if plan.empty:
        click.echo(f"{year} is closed and unchanged: nothing to book")
    elif dry_run:
        click.echo("(dry run: nothing written)")
    else:
        click.echo(f"{year} closed; commit {(plan.commit or '')[:12]}")


@click.command("sign-off")
@click.argument("year", type=YEAR, metavar="YYYY")
@click.option("--auditor", metavar="NAME", required=True, help="the auditor who signed the opinion")
@click.option("--opinion-date", metavar="DATE", required=True)
@click.option("--on-behalf-of", metavar="NAME", help="the firm or office the auditor signed for (recorded apart)")
@click.option("--opinion", type=click.Choice(("unmodified", "qualified", "adverse", "disclaimer")), default="unmodified",
              show_default=True, help="the type of the audit opinion")
@pass_env
def sign_off(env: Environment, year: int, auditor: str, opinion_date: str, on_behalf_of: str | None, opinion: str) -> None:
    """Record the auditor's sign-off and lock the year."""
    from ledger.finance import workbooks
    from ledger.finance.yearend import sign_off as record

    load(env)
    try:
        day = workbooks.parse_date(opinion_date)
    except ValueError as exc:
        raise Refused(f"--opinion-date {exc}") from None
    result = record(env.ledger_dir, year, auditor, day, user=env.user, on_behalf_of=on_behalf_of, opinion=opinion)
    behalf = f", on behalf of {result.on_behalf_of}" if result.on_behalf_of else ""
    click.echo(
        f"{year} signed off (auditor {result.auditor}{behalf}, {opinion} opinion {day}); "
        f"fingerprint {result.fingerprint}; commit {(result.commit or '')[:12]}; the year is locked"
    )
