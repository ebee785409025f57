"""``isu-ledger letters``: the year's letters to States Parties as PDFs
(reports.letters), each written once and recorded with its SHA-256 in the
audit log, as the web page records them (app.web.letter_log)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from app.cli.base import YEAR, Environment, echo_json, pass_env, today

KINDS = ("acknowledgement", "reminder")


@click.command()
@click.option("--year", type=YEAR, required=True, help="work-plan year")
@click.option("--kind", type=click.Choice(KINDS), required=True,
              help="acknowledgement: one per receipt; reminder: one per overdue pledge")
@click.option("-o", "--output", "output", metavar="DIR", required=True, type=click.Path(path_type=Path),
              help="directory the PDFs are written to")
@click.option("--as-of", metavar="DATE", help="reminders: overdue at this date (default: the latest date in the books for that year)")
@click.option("--again", is_flag=True, help="write letters already written once again")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def letters(env: Environment, year: int, kind: str, output: Path, as_of: str | None, again: bool, as_json: bool) -> None:
    """Write the year's acknowledgements or reminders, one PDF per letter."""
    from app.web import letter_log
    from app.web.serving import user_session
    from reports import command
    from reports.letters import letters as find, render

    when = command.parse_as_of(as_of)
    books, commit = command.load(env.ledger_dir)
    found = find(books, year, kind, when)
    day = today()
    with user_session(env.ledger_dir, os.environ) as session:
        done = letter_log.written(session, kind, [letter.key for letter in found])
        todo = [letter for letter in found if again or letter.key not in done]
        rendered = [render(letter, books.ledger_dir, day) for letter in todo]  # every template works, or nothing is written
        output.mkdir(parents=True, exist_ok=True)
        rows = []
        for one in rendered:
            path = output / one.filename
            path.write_bytes(one.pdf)
            letter_log.keep(session, one, user_name=env.user, commit=commit)
            rows.append(_row(one.letter, "written", str(path), one.sha256))
        session.commit()
    skipped = [_row(letter, "skipped", None, done[letter.key].sha256, done[letter.key])
               for letter in found if letter not in todo]
    if as_json:
        echo_json({"year": year, "kind": kind, "letters": rows + skipped, "written": len(rows), "skipped": len(skipped)})
        return
    for row in rows:
        click.echo(row["file"])
    for row in skipped:
        click.echo(f"skipped {kind} {row['key']} ({row['state_party']}): written on {row['written_at']} "
                   f"(sha256 {row['sha256'][:12]}); --again writes it again")
    click.echo(f"{len(rows)} {kind} letter(s) written to {output}, {len(skipped)} already written")


def _row(letter, status: str, file: str | None, sha: str, previous=None) -> dict:
    from ledger.money import text

    row = {"key": letter.key, "state_party": letter.state_party, "language": letter.language,
           "amount": text(letter.amount), "currency": letter.currency, "date": letter.date.isoformat(),
           "status": status, "file": file, "sha256": sha}
    if previous is not None:
        row["written_at"] = previous.created_at.isoformat(sep=" ", timespec="minutes") + " UTC"
    return row
