"""``isu-ledger report``: a report of the books (reports.command), or the pack."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.base import YEAR, Environment, Refused, pass_env

REPORT_NAMES = ("contributions", "annual", "budget", "buffer", "statement", "outlook", "pack")
FORMATS = ("json", "xlsx", "pdf", "html")


@click.command()
@click.argument("name", metavar="NAME", type=click.Choice(REPORT_NAMES))
@click.option("--year", type=YEAR, required=True)
@click.option("--as-of", metavar="DATE", help="default: the latest date in the books for that year")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="default: json")
@click.option("--state-party", metavar="ISO3", help="the State of a statement")
@click.option("-o", "--output", metavar="FILE", help="write here (binary formats and the pack need it)")
@pass_env
def report(env: Environment, name: str, year: int, as_of: str | None, fmt: str | None, state_party: str | None,
           output: str | None) -> None:
    """Generate a report (contributions, annual, budget, buffer, statement, outlook, pack)."""
    from reports import command

    fmt = fmt or "json"
    if name == "pack" and not output:
        raise Refused("report pack: -o FILE.zip is required")
    if name != "pack" and fmt in command.BINARY and not output:
        raise Refused(f"--format {fmt}: binary output needs -o FILE")
    as_of_date = command.parse_as_of(as_of)
    books, commit = command.load(env.ledger_dir)
    if name == "pack":
        _pack(books, year, as_of_date, commit, output)
        return
    model = command.build(books, name, year, as_of_date, commit=commit, state_party=state_party)
    content = command.render(model, fmt)
    if output:
        Path(output).write_bytes(content)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()


def _pack(books, year: int, as_of, commit: str | None, output: str) -> None:
    """The Committee and auditor pack: a zip of the reports with their manifest."""
    from reports.pack import build_pack

    pack = build_pack(books, year, as_of, commit=commit)
    Path(output).write_bytes(pack.data)
    click.echo(f"{output}: {len(pack.manifest['files'])} files, {pack.manifest['status']} as of {pack.manifest['as_of']}")
