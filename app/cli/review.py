"""``isu-ledger review``: the queue of receipts that name no State Party."""

from __future__ import annotations

import click

from app.cli.base import YEAR, Environment, Refused, echo_json, pass_env


@click.group()
def review() -> None:
    """The queue of unidentified receipts."""


@review.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def list_(env: Environment, as_json: bool) -> None:
    """List the review queue."""
    from importers.review import list_items

    items = list_items(env.ledger_dir)
    if as_json:
        echo_json(items)
        return
    for item in items:
        suggestion = item["suggestion"]
        hint = suggestion["state_party"] if suggestion else "-"
        if suggestion and suggestion.get("conflict"):
            hint += " (conflict: the payer's own account or address points elsewhere)"
        click.echo(
            f"{item['id']}  {item['date']}  {item['amount']:>12} {item['currency']}  "
            f"{item['payer'] or '?'} | {item['remittance'] or ''} | suggestion: {hint}"
        )
    click.echo(f"{len(items)} item(s) to review")


@review.command()
@click.argument("item_id", metavar="ID")
@click.option("--state-party", metavar="ISO3", required=True,
              help="the State's three-letter code, or its whole name in any language (\"Alemania\")")
@click.option("--year", type=YEAR, required=True, help="work-plan year")
@click.option("--work-plan", metavar="WP", default="core", show_default=True)
@click.option("--remember", is_flag=True, help="learn a matching rule from this decision")
@pass_env
def resolve(env: Environment, item_id: str, state_party: str, year: int, work_plan: str, remember: bool) -> None:
    """Attribute a receipt to a State Party."""
    from importers.review import resolve as resolve_item

    done = resolve_item(env.ledger_dir, item_id, state_party=_code(env, state_party), year=year, work_plan=work_plan,
                        remember=remember, user=env.user)
    learned = " (rule remembered)" if done.rule else ""
    click.echo(f"{done.id}: {done.bank_ref} -> {done.state_party} {done.wp_year} ({done.account}){learned}")


def _code(env: Environment, typed: str) -> str:
    """A three-letter code as typed (the review checks it), else the code of
    the State that name means exactly, as the web queue reads it
    (``ledger.state_search``); a name of several States, or of none, is refused."""
    from ledger.registry import Registry
    from ledger.state_search import StateNotFound, resolve as state_of

    text = typed.strip()
    if len(text) == 3 and text.isascii() and text.isalpha():
        return text
    try:
        return state_of(Registry.load(env.ledger_dir), text)
    except StateNotFound as exc:
        raise Refused(str(exc)) from None
