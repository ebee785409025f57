"""``isu-ledger pledge``, ``budget``, ``expenditure`` and ``buffer``: the year's finances.

Each command is a thin shell over ``ledger.finance``: plan the entries, then
write them once through the ledger writer. A refusal or the row errors of a
workbook print one line each and exit 2, nothing written (``base.as_refusal``).
"""

from __future__ import annotations

from pathlib import Path

import click

from ledger import money

from app.cli.base import YEAR, Environment, Refused, dry_run_note, echo_json, load, pass_env, today, write

DATE_HELP = "date of the decision (default today)"


def _value(parse, text: str, option: str):
    """A command-line value through the same parser as a spreadsheet cell."""
    try:
        return parse(text)
    except ValueError as exc:
        raise Refused(f"{option} {exc}") from None


def _date(text: str | None, option: str = "--date"):
    """A date option; today when it is not given."""
    from ledger.finance import workbooks

    return _value(workbooks.parse_date, text, option) if text else today()


def _template(env: Environment, template, rows_fn, output: str, year: int | None) -> None:
    """Write an Excel template, with the recorded rows when there are books."""
    from ledger.conventions import MAIN_FILE
    from ledger.finance.workbooks import write_template
    from ledger.loader import load_books

    rows = []
    if rows_fn is not None and (env.ledger_dir / MAIN_FILE).is_file():
        rows = rows_fn(load_books(env.ledger_dir).entries, year)
    path = write_template(output, template, rows)
    click.echo(f"{path}: template {template.sheet!r} with {len(rows)} row(s)")


_output_option = click.option("-o", "--output", metavar="FILE.xlsx", required=True)


# --- pledges -------------------------------------------------------------------------


@click.group()
def pledge() -> None:
    """Pledges of States Parties."""


def _pledge_specs(env: Environment, entries: list, spec, years: str | None) -> list:
    """The pledge, or one per year of a ``--years YYYY-YYYY`` schedule, each checked."""
    from ledger.finance import workbooks
    from ledger.finance.pledges import check_spec, pledges, schedule_specs
    from ledger.plugins.year_lock import locked_years
    from ledger.registry import Registry

    specs = [spec]
    if years:
        first, _, last = years.partition("-")
        span = [_value(workbooks.parse_year, y, "--years") for y in (first, last or first)]
        taken = {p.schedule for p in pledges(entries) if p.schedule}
        specs = schedule_specs(spec, span[0], span[1], taken)
    codes = Registry.load(env.ledger_dir).codes()
    for one in specs:
        for key, problem in check_spec(one, codes, locked_years(entries), today()):
            raise Refused(f"--{key.replace('_', '-')} {problem}")
    return specs


@pledge.command()
@click.option("--state-party", metavar="ISO3", required=True)
@click.option("--amount", metavar="AMOUNT", required=True, help="amount (for each year of a schedule)")
@click.option("--currency", default="CHF", show_default=True)
@click.option("--year", type=YEAR, help="work-plan year")
@click.option("--years", metavar="YYYY-YYYY", help="a multi-year schedule: one pledge per year")
@click.option("--expected", metavar="DATE", help="expected payment date (of the first year)")
@click.option("--work-plan", metavar="WP", default="core", show_default=True)
@click.option("--date", metavar="DATE", help="date of the pledge (default today)")
@click.option("--note", metavar="TEXT")
@pass_env
def add(env: Environment, state_party: str, amount: str, currency: str, year: int | None, years: str | None,
        expected: str | None, work_plan: str, date: str | None, note: str | None) -> None:
    """Record a pledge (or a multi-year schedule)."""
    from ledger.finance import workbooks
    from ledger.finance.pledges import PledgeSpec, plan_pledges

    books = load(env)
    if (year is None) == (years is None):
        raise Refused("give --year YYYY for one year or --years YYYY-YYYY for a schedule")
    spec = PledgeSpec(
        state_party=_value(workbooks.parse_iso3, state_party, "--state-party"),
        wp_year=year or 0,
        amount=_value(workbooks.parse_money, amount, "--amount"),
        currency=_value(workbooks.parse_currency, currency, "--currency"),
        expected=_value(workbooks.parse_date, expected, "--expected") if expected else None,
        work_plan=work_plan,
        date=_value(workbooks.parse_date, date, "--date") if date else None,
        note=" ".join(note.split()) if note else None,
    )
    specs = _pledge_specs(env, books.entries, spec, years)
    plan = plan_pledges(books.entries, specs, today())
    write(env, f"pledge add {spec.state_party}", plan.new)
    for entry in plan.new:
        pledged = entry.values[2].value
        click.echo(f"{entry.meta['pledge_id']}: {entry.values[0].value} {entry.values[1].value} {money.text(pledged.number)} {pledged.currency}")


@pledge.command("list")
@click.option("--year", type=YEAR)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def pledge_list(env: Environment, year: int | None, as_json: bool) -> None:
    """List pledges."""
    from ledger.finance.pledges import pledges, to_json

    found = pledges(load(env).entries, year)
    if as_json:
        echo_json([to_json(p) for p in found])
        return
    for p in found:
        expected = p.expected.isoformat() if p.expected else "-"
        schedule = f"  schedule {p.schedule}" if p.schedule else ""
        click.echo(f"{p.pledge_id:<16} {p.state_party} {p.wp_year} {money.grouped(p.amount):>14} {p.currency}  expected {expected}{schedule}")
    click.echo(f"{len(found)} pledge(s)")


@pledge.command("template")
@_output_option
@click.option("--year", type=YEAR)
@pass_env
def pledge_template(env: Environment, output: str, year: int | None) -> None:
    """Write the pledge Excel template (with the recorded pledges)."""
    from ledger.finance import pledges

    _template(env, pledges.TEMPLATE, pledges.template_rows, output, year)


@pledge.command("import")
@click.argument("file", metavar="FILE.xlsx")
@click.option("--dry-run", is_flag=True)
@pass_env
def pledge_import(env: Environment, file: str, dry_run: bool) -> None:
    """Import pledges from the Excel template."""
    from ledger.finance.pledges import plan_pledges, read_pledge_workbook
    from ledger.registry import Registry

    books = load(env)
    specs = read_pledge_workbook(file, books.entries, Registry.load(env.ledger_dir).codes(), today())
    plan = plan_pledges(books.entries, specs, today())
    if not dry_run and not plan.empty:
        write(env, f"pledge import {Path(file).name}", plan.new, plan.updates)
    click.echo(f"{file}: {len(plan.new)} new, {len(plan.updates)} updated, {len(plan.unchanged)} unchanged pledge(s)"
               + dry_run_note(dry_run))


# --- budgets -------------------------------------------------------------------------


@click.group()
def budget() -> None:
    """The approved work plan and budget."""


def _budget_json(line) -> dict:
    return {
        "line": line.line,
        "account": line.account,
        "wp_year": line.wp_year,
        "original": money.text(line.original),
        "final": money.text(line.final),
        "decisions": [
            {"decided": d.decided.isoformat(), "amount": money.text(d.amount), "decision": d.decision} for d in line.decisions
        ],
    }


@budget.command("set")
@click.option("--year", type=YEAR, required=True)
@click.option("--line", metavar="LINE", required=True)
@click.option("--amount", metavar="AMOUNT", required=True)
@click.option("--decision", metavar="TEXT", required=True)
@click.option("--date", metavar="DATE", help=DATE_HELP)
@click.option("--work-plan", metavar="WP", default="core", show_default=True)
@pass_env
def budget_set(env: Environment, year: int, line: str, amount: str, decision: str, date: str | None, work_plan: str) -> None:
    """Record (or revise) the budget of a line for a year."""
    from ledger.finance import workbooks
    from ledger.finance.budgets import BudgetItem, plan_budget

    books = load(env)
    chf = _value(workbooks.parse_money, amount, "--amount")
    decided = _date(date)
    entries = plan_budget(books.entries, [BudgetItem(year, line, chf, work_plan)], decision, decided)
    if not entries:
        click.echo(f"{line} {year}: already {money.grouped(chf)} CHF; unchanged")
        return
    write(env, f"budget set {line} {year}", entries)
    account = entries[0].values[0].value
    click.echo(f"{account} {year}: {money.grouped(chf)} CHF ({' '.join(decision.split())}, {decided})")


@budget.command("explain")
@click.option("--year", type=YEAR, required=True)
@click.option("--line", metavar="LINE", required=True, help="the budget line (e.g. Travel)")
@click.option("--text", metavar="TEXT", required=True, help="why actual differs from the final budget")
@pass_env
def budget_explain(env: Environment, year: int, line: str, text: str) -> None:
    """Record the explanation of a budget line's variance (Statement IV of the annual report)."""
    from ledger.finance.budgets import variance_entry

    books = load(env)
    entry = variance_entry(books.entries, year, line, text, today())
    write(env, f"budget explain {entry.values[1].value} {year}", [entry])
    click.echo(f"{entry.values[1].value} {year}: variance explained")


@budget.command("list")
@click.option("--year", type=YEAR, required=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def budget_list(env: Environment, year: int, as_json: bool) -> None:
    """The budget of a year."""
    from ledger.finance.budgets import budget_lines, total

    lines = budget_lines(load(env).entries, year)
    if as_json:
        echo_json([_budget_json(line) for line in lines])
        return
    for line in lines:
        revised = f"  (original {money.grouped(line.original)}; {len(line.decisions) - 1} revision(s))" if line.revised else ""
        click.echo(f"{line.line:<16} {money.grouped(line.final):>14}{revised}")
    click.echo(f"{'total':<16} {money.grouped(total(lines)):>14} CHF")


@budget.command("template")
@_output_option
@click.option("--year", type=YEAR)
@pass_env
def budget_template(env: Environment, output: str, year: int | None) -> None:
    """Write the budget Excel template (with the current budget)."""
    from ledger.finance import budgets

    _template(env, budgets.TEMPLATE, budgets.template_rows, output, year)


@budget.command("import")
@click.argument("file", metavar="FILE.xlsx")
@click.option("--decision", metavar="TEXT", required=True)
@click.option("--date", metavar="DATE", help=DATE_HELP)
@click.option("--dry-run", is_flag=True)
@pass_env
def budget_import(env: Environment, file: str, decision: str, date: str | None, dry_run: bool) -> None:
    """Import a work plan and budget from the Excel template."""
    from ledger.finance.budgets import plan_budget, read_budget_workbook

    books = load(env)
    decided = _date(date)
    items = read_budget_workbook(file, books.entries)
    entries = plan_budget(books.entries, items, decision, decided)
    if entries and not dry_run:
        write(env, f"budget import {Path(file).name}", entries)
    years = sorted({item.year for item in items})
    click.echo(f"{file}: {len(entries)} budget line(s) recorded, {len(items) - len(entries)} unchanged "
               f"(years {', '.join(map(str, years))}){dry_run_note(dry_run)}")


# --- expenditure -----------------------------------------------------------------------


@click.group()
def expenditure() -> None:
    """The GICHD expenditure report."""


@expenditure.command("template")
@_output_option
@pass_env
def expenditure_template(env: Environment, output: str) -> None:
    """Write the expenditure Excel template."""
    from ledger.finance import expenditure as spending

    _template(env, spending.TEMPLATE, None, output, None)


@expenditure.command("import")
@click.argument("file", metavar="FILE.xlsx")
@click.option("--dry-run", is_flag=True)
@pass_env
def expenditure_import(env: Environment, file: str, dry_run: bool) -> None:
    """Import a GICHD expenditure report and show the clearing."""
    from ledger.finance.expenditure import clearing, clearing_lines, plan_import

    books = load(env)
    plan = plan_import(env.ledger_dir.resolve(), file, books.entries)
    if plan.entries and not dry_run:
        write(env, f"expenditure import {Path(file).name}", plan.entries, files=[plan.archive])
    click.echo(f"{file}: {len(plan.entries)} cost(s) booked, {len(plan.duplicates)} already booked{dry_run_note(dry_run)}")
    after = sorted(books.entries + plan.entries, key=lambda e: e.date)
    for year in sorted({e.date.year for e in plan.entries}):
        click.echo(f"GICHD clearing {year} (CHF): transfers vs expenditure reported")
        click.echo("\n".join(clearing_lines(clearing(after, year))))


# --- the buffer ---------------------------------------------------------------------------


@click.group()
def buffer() -> None:
    """The financial security buffer."""


@buffer.command()
@click.option("--kind", type=click.Choice(("amount", "share", "months")), required=True)
@click.option("--value", metavar="V", required=True)
@click.option("--decision", metavar="TEXT", required=True)
@click.option("--date", metavar="DATE", help="date the policy applies from (default today)")
@pass_env
def policy(env: Environment, kind: str, value: str, decision: str, date: str | None) -> None:
    """Set the buffer's target policy."""
    from ledger.finance.buffer import parse_policy_value, policy_entry

    load(env)
    parsed = parse_policy_value(kind, value)
    day = _date(date)
    entry = policy_entry(kind, parsed, decision, day)
    write(env, f"buffer policy {kind} {parsed}", [entry])
    click.echo(f"buffer policy from {day}: {kind} {parsed} ({entry.meta['decision']})")


def _movement(env: Environment, amount: str, decision: str, date: str, draw: bool) -> None:
    """Allocate to the buffer or draw it down, then say its balance."""
    from ledger.finance import workbooks
    from ledger.finance.buffer import balance, plan_movement

    books = load(env)
    try:
        chf = workbooks.parse_money(amount)
        day = workbooks.parse_date(date)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    entry = plan_movement(books.entries, chf, decision, day, draw)
    write(env, f"buffer {'draw' if draw else 'allocate'} {chf}", [entry])
    after = balance(books.entries + [entry], day)
    click.echo(f"{entry.narration}: {money.grouped(chf)} CHF on {day}; buffer {money.grouped(after)} CHF")


@buffer.command()
@click.option("--amount", metavar="AMOUNT", required=True)
@click.option("--decision", metavar="TEXT", required=True)
@click.option("--date", metavar="DATE", required=True)
@pass_env
def allocate(env: Environment, amount: str, decision: str, date: str) -> None:
    """Allocate to the buffer."""
    _movement(env, amount, decision, date, draw=False)


@buffer.command()
@click.option("--amount", metavar="AMOUNT", required=True)
@click.option("--decision", metavar="TEXT", required=True)
@click.option("--date", metavar="DATE", required=True)
@pass_env
def draw(env: Environment, amount: str, decision: str, date: str) -> None:
    """Draw the buffer down."""
    _movement(env, amount, decision, date, draw=True)


@click.group("in-kind")
def in_kind() -> None:
    """Support in kind (disclosed in the annual report, not booked)."""


@in_kind.command("add")
@click.option("--year", type=YEAR, required=True)
@click.option("--provider", metavar="NAME", required=True, help="e.g. GICHD, Switzerland")
@click.option("--nature", metavar="TEXT", required=True, help="e.g. Office space, Staff support")
@click.option("--description", metavar="TEXT", required=True)
@click.option("--value", metavar="AMOUNT", help="estimated value in CHF")
@click.option("--basis", metavar="TEXT", help="how the value was estimated")
@pass_env
def in_kind_add(env: Environment, year: int, provider: str, nature: str, description: str, value: str | None,
                basis: str | None) -> None:
    """Record an item of support in kind for a year."""
    from ledger.finance import workbooks
    from ledger.finance.inkind import in_kind_entry
    from ledger.plugins.year_lock import locked_years

    books = load(env)
    chf = None if value is None else _value(workbooks.parse_money, value, "--value")
    entry = in_kind_entry(year, provider, nature, description, chf, basis or "", locked_years(books.entries))
    write(env, f"in-kind add {year}", [entry])
    shown = "" if chf is None else f", estimated {money.grouped(chf)} CHF"
    click.echo(f"{year}: {entry.values[1].value} — {entry.values[2].value}{shown}")


@in_kind.command("list")
@click.option("--year", type=YEAR, required=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@pass_env
def in_kind_list(env: Environment, year: int, as_json: bool) -> None:
    """The support in kind recorded for a year."""
    from ledger.finance.inkind import in_kind as items

    found = items(load(env).entries, year)
    if as_json:
        echo_json([{"year": i.year, "provider": i.provider, "nature": i.nature, "description": i.description,
                    "value": None if i.value is None else money.text(i.value), "basis": i.basis} for i in found])
        return
    for i in found:
        value = "" if i.value is None else f"  {money.grouped(i.value)} CHF"
        click.echo(f"{i.provider}: {i.nature} — {i.description}{value}")
