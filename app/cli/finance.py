"""``isu-ledger`` commands of the year's finances: pledges, budgets, GICHD
expenditure, the buffer, close-year and sign-off.

Each is a thin shell over ``ledger.finance.pledges``, ``ledger.finance.budgets``,
``ledger.finance.expenditure``, ``ledger.finance.buffer`` and ``ledger.finance.yearend``: plan the
entries, then write them once through the ledger writer. Refusals and
spreadsheet row errors print one line each and exit 2, nothing written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.cli.base import Command, Context, _Parser, _year


def _refusals() -> tuple[type[BaseException], ...]:
    """Refusals of the part-3 commands: one line each, exit 2, nothing written."""
    from ledger.finance.budgets import BudgetRefused
    from ledger.finance.buffer import BufferRefused
    from ledger.finance.pledges import PledgeRefused
    from ledger.finance.yearend import YearEndRefused

    return (BudgetRefused, BufferRefused, PledgeRefused, YearEndRefused)


def _refusing(fn: Command) -> Command:
    """Turn a part-3 refusal or workbook errors into error lines and exit 2."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        from ledger.finance.workbooks import ExcelErrors

        try:
            return fn(args, ctx)
        except ExcelErrors as exc:
            for line in exc.errors:
                ctx.error(line)
            ctx.error("refused: nothing written")
            return 2
        except _refusals() as exc:
            ctx.error(" ".join(str(exc).split()))
            return 2

    command.__name__ = fn.__name__
    command.__doc__ = fn.__doc__
    return command


def _books(ctx: Context):
    from ledger.conventions import MAIN_FILE
    from ledger.loader import load_books

    if not (ctx.ledger_dir / MAIN_FILE).is_file():
        raise FileNotFoundError(2, "no ledger here (run 'isu-ledger init' first)", str(ctx.ledger_dir))
    return load_books(ctx.ledger_dir)


def _value(parse, text, option: str):
    """A command-line value through the same parser as a spreadsheet cell."""
    from ledger.finance.pledges import PledgeRefused

    try:
        return parse(text)
    except ValueError as exc:
        raise PledgeRefused(f"{option} {exc}") from None


def _today():
    import datetime

    return datetime.date.today()


def _write(ctx: Context, action: str, entries: list, replacements=(), files=()) -> str | None:
    from ledger.store.writer import write_plan

    return write_plan(ctx.ledger_dir, ctx.user, action, entries, replacements, files)


@_refusing
def cmd_pledge_add(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import workbooks
    from ledger.finance.pledges import (
        PledgeRefused,
        PledgeSpec,
        check_spec,
        plan_pledges,
        pledges,
        schedule_specs,
    )
    from ledger.plugins.year_lock import locked_years
    from ledger.registry import Registry

    books = _books(ctx)
    if (args.year is None) == (args.years is None):
        raise PledgeRefused("give --year YYYY for one year or --years YYYY-YYYY for a schedule")
    spec = PledgeSpec(
        state_party=_value(workbooks.parse_iso3, args.state_party, "--state-party"),
        wp_year=args.year or 0,
        amount=_value(workbooks.parse_money, args.amount, "--amount"),
        currency=_value(workbooks.parse_currency, args.currency, "--currency"),
        expected=_value(workbooks.parse_date, args.expected, "--expected") if args.expected else None,
        work_plan=args.work_plan,
        date=_value(workbooks.parse_date, args.date, "--date") if args.date else None,
        note=" ".join(args.note.split()) if args.note else None,
    )
    specs = [spec]
    if args.years:
        first, _, last = args.years.partition("-")
        years = [_value(workbooks.parse_year, y, "--years") for y in (first, last or first)]
        taken = {p.schedule for p in pledges(books.entries) if p.schedule}
        specs = schedule_specs(spec, years[0], years[1], taken)
    codes = Registry.load(ctx.ledger_dir).codes()
    for one in specs:
        for key, problem in check_spec(one, codes, locked_years(books.entries), _today()):
            raise PledgeRefused(f"--{key.replace('_', '-')} {problem}")
    plan = plan_pledges(books.entries, specs, _today())
    _write(ctx, f"pledge add {spec.state_party}", plan.new)
    for entry in plan.new:
        amount = entry.values[2].value
        print(f"{entry.meta['pledge_id']}: {entry.values[0].value} {entry.values[1].value} {amount.number:.2f} {amount.currency}", file=ctx.stdout)
    return 0


@_refusing
def cmd_pledge_list(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance.pledges import pledges, to_json

    found = pledges(_books(ctx).entries, args.year)
    if args.json:
        print(json.dumps([to_json(p) for p in found], indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    for p in found:
        expected = p.expected.isoformat() if p.expected else "-"
        schedule = f"  schedule {p.schedule}" if p.schedule else ""
        print(f"{p.pledge_id:<16} {p.state_party} {p.wp_year} {p.amount:>14,.2f} {p.currency}  expected {expected}{schedule}", file=ctx.stdout)
    print(f"{len(found)} pledge(s)", file=ctx.stdout)
    return 0


def _template(ctx: Context, template, rows_fn, args) -> int:
    from ledger.conventions import MAIN_FILE
    from ledger.finance.workbooks import write_template
    from ledger.loader import load_books

    rows = []
    if rows_fn is not None and (ctx.ledger_dir / MAIN_FILE).is_file():
        rows = rows_fn(load_books(ctx.ledger_dir).entries, getattr(args, "year", None))
    path = write_template(args.output, template, rows)
    print(f"{path}: template {template.sheet!r} with {len(rows)} row(s)", file=ctx.stdout)
    return 0


@_refusing
def cmd_pledge_template(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import pledges

    return _template(ctx, pledges.TEMPLATE, pledges.template_rows, args)


@_refusing
def cmd_pledge_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance.pledges import plan_pledges, read_pledge_workbook
    from ledger.registry import Registry

    books = _books(ctx)
    specs = read_pledge_workbook(args.file, books.entries, Registry.load(ctx.ledger_dir).codes(), _today())
    plan = plan_pledges(books.entries, specs, _today())
    summary = f"{args.file}: {len(plan.new)} new, {len(plan.updates)} updated, {len(plan.unchanged)} unchanged pledge(s)"
    if not args.dry_run and not plan.empty:
        _write(ctx, f"pledge import {Path(args.file).name}", plan.new, plan.updates)
    print(summary + (" (dry run: nothing written)" if args.dry_run else ""), file=ctx.stdout)
    return 0


def _budget_json(line) -> dict:
    return {
        "line": line.line,
        "account": line.account,
        "wp_year": line.wp_year,
        "original": f"{line.original:.2f}",
        "final": f"{line.final:.2f}",
        "decisions": [
            {"decided": d.decided.isoformat(), "amount": f"{d.amount:.2f}", "decision": d.decision} for d in line.decisions
        ],
    }


@_refusing
def cmd_budget_set(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import workbooks
    from ledger.finance.budgets import BudgetItem, plan_budget

    books = _books(ctx)
    amount = _value(workbooks.parse_money, args.amount, "--amount")
    decided = _value(workbooks.parse_date, args.date, "--date") if args.date else _today()
    entries = plan_budget(books.entries, [BudgetItem(args.year, args.line, amount, args.work_plan)], args.decision, decided)
    if not entries:
        print(f"{args.line} {args.year}: already {amount:,.2f} CHF; unchanged", file=ctx.stdout)
        return 0
    _write(ctx, f"budget set {args.line} {args.year}", entries)
    account = entries[0].values[0].value
    print(f"{account} {args.year}: {amount:,.2f} CHF ({' '.join(args.decision.split())}, {decided})", file=ctx.stdout)
    return 0


@_refusing
def cmd_budget_list(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance.budgets import budget_lines, total

    lines = budget_lines(_books(ctx).entries, args.year)
    if args.json:
        print(json.dumps([_budget_json(line) for line in lines], indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    for line in lines:
        revised = f"  (original {line.original:,.2f}; {len(line.decisions) - 1} revision(s))" if line.revised else ""
        print(f"{line.line:<16} {line.final:>14,.2f}{revised}", file=ctx.stdout)
    print(f"{'total':<16} {total(lines):>14,.2f} CHF", file=ctx.stdout)
    return 0


@_refusing
def cmd_budget_template(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import budgets

    return _template(ctx, budgets.TEMPLATE, budgets.template_rows, args)


@_refusing
def cmd_budget_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import workbooks
    from ledger.finance.budgets import plan_budget, read_budget_workbook

    books = _books(ctx)
    decided = _value(workbooks.parse_date, args.date, "--date") if args.date else _today()
    items = read_budget_workbook(args.file, books.entries)
    entries = plan_budget(books.entries, items, args.decision, decided)
    if entries and not args.dry_run:
        _write(ctx, f"budget import {Path(args.file).name}", entries)
    years = sorted({item.year for item in items})
    note = " (dry run: nothing written)" if args.dry_run else ""
    print(
        f"{args.file}: {len(entries)} budget line(s) recorded, {len(items) - len(entries)} unchanged "
        f"(years {', '.join(map(str, years))}){note}",
        file=ctx.stdout,
    )
    return 0


@_refusing
def cmd_expenditure_template(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import expenditure

    return _template(ctx, expenditure.TEMPLATE, None, args)


@_refusing
def cmd_expenditure_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance.expenditure import clearing, clearing_lines, plan_import

    books = _books(ctx)
    plan = plan_import(ctx.ledger_dir.resolve(), args.file, books.entries)
    if plan.entries and not args.dry_run:
        _write(ctx, f"expenditure import {Path(args.file).name}", plan.entries, files=[plan.archive])
    note = " (dry run: nothing written)" if args.dry_run else ""
    print(f"{args.file}: {len(plan.entries)} cost(s) booked, {len(plan.duplicates)} already booked{note}", file=ctx.stdout)
    after = sorted(books.entries + plan.entries, key=lambda e: e.date)
    for year in sorted({e.date.year for e in plan.entries}):
        print(f"GICHD clearing {year} (CHF): transfers vs expenditure reported", file=ctx.stdout)
        print("\n".join(clearing_lines(clearing(after, year))), file=ctx.stdout)
    return 0


@_refusing
def cmd_buffer_policy(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import workbooks
    from ledger.finance.buffer import parse_policy_value, policy_entry

    _books(ctx)
    value = parse_policy_value(args.kind, args.value)
    date = _value(workbooks.parse_date, args.date, "--date") if args.date else _today()
    entry = policy_entry(args.kind, value, args.decision, date)
    _write(ctx, f"buffer policy {args.kind} {value}", [entry])
    print(f"buffer policy from {date}: {args.kind} {value} ({entry.meta['decision']})", file=ctx.stdout)
    return 0


def _buffer_move(args: argparse.Namespace, ctx: Context, draw: bool) -> int:
    from ledger.finance import workbooks
    from ledger.finance.buffer import BufferRefused, balance, plan_movement

    books = _books(ctx)
    try:
        amount = workbooks.parse_money(args.amount)
        date = workbooks.parse_date(args.date)
    except ValueError as exc:
        raise BufferRefused(str(exc)) from None
    entry = plan_movement(books.entries, amount, args.decision, date, draw)
    _write(ctx, f"buffer {'draw' if draw else 'allocate'} {amount}", [entry])
    after = balance(books.entries + [entry], date)
    print(f"{entry.narration}: {amount:,.2f} CHF on {date}; buffer {after:,.2f} CHF", file=ctx.stdout)
    return 0


@_refusing
def cmd_buffer_allocate(args: argparse.Namespace, ctx: Context) -> int:
    return _buffer_move(args, ctx, draw=False)


@_refusing
def cmd_buffer_draw(args: argparse.Namespace, ctx: Context) -> int:
    return _buffer_move(args, ctx, draw=True)


@_refusing
def cmd_close_year(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance.yearend import close_year

    _books(ctx)
    plan = close_year(ctx.ledger_dir, args.year, user=ctx.user, dry_run=args.dry_run)
    print("\n".join(plan.lines()), file=ctx.stdout)
    if plan.empty:
        print(f"{args.year} is closed and unchanged: nothing to book", file=ctx.stdout)
    elif args.dry_run:
        print("(dry run: nothing written)", file=ctx.stdout)
    else:
        print(f"{args.year} closed; commit {(plan.commit or '')[:12]}", file=ctx.stdout)
    return 0


@_refusing
def cmd_sign_off(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.finance import workbooks
    from ledger.finance.yearend import YearEndRefused, sign_off

    _books(ctx)
    try:
        opinion = workbooks.parse_date(args.opinion_date)
    except ValueError as exc:
        raise YearEndRefused(f"--opinion-date {exc}") from None
    result = sign_off(ctx.ledger_dir, args.year, args.auditor, opinion, user=ctx.user)
    print(
        f"{args.year} signed off (auditor {' '.join(args.auditor.split())}, opinion {opinion}); "
        f"fingerprint {result.fingerprint}; commit {(result.commit or '')[:12]}; the year is locked",
        file=ctx.stdout,
    )
    return 0


def _add_part3_parsers(cmd, sub) -> None:
    """Arguments of the pledge, budget, expenditure and buffer commands."""
    pledge = cmd("pledge", "pledges of States Parties")
    pledge_sub = pledge.add_subparsers(dest="pledge_command", metavar="ACTION", parser_class=_Parser)
    pledge_sub.required = True
    sp = cmd("add", "record a pledge (or a multi-year schedule)", "pledge add", pledge_sub)
    sp.add_argument("--state-party", metavar="ISO3", required=True)
    sp.add_argument("--amount", metavar="AMOUNT", required=True, help="amount (for each year of a schedule)")
    sp.add_argument("--currency", default="CHF")
    sp.add_argument("--year", type=_year, help="work-plan year")
    sp.add_argument("--years", metavar="YYYY-YYYY", help="a multi-year schedule: one pledge per year")
    sp.add_argument("--expected", metavar="DATE", help="expected payment date (of the first year)")
    sp.add_argument("--work-plan", metavar="WP", default="core")
    sp.add_argument("--date", metavar="DATE", help="date of the pledge (default today)")
    sp.add_argument("--note", metavar="TEXT")
    sp = cmd("list", "list pledges", "pledge list", pledge_sub)
    sp.add_argument("--year", type=_year)
    sp.add_argument("--json", action="store_true")
    sp = cmd("template", "write the pledge Excel template (with the recorded pledges)", "pledge template", pledge_sub)
    sp.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    sp.add_argument("--year", type=_year)
    sp = cmd("import", "import pledges from the Excel template", "pledge import", pledge_sub)
    sp.add_argument("file", metavar="FILE.xlsx")
    sp.add_argument("--dry-run", action="store_true")

    budget = cmd("budget", "the approved work plan and budget")
    budget_sub = budget.add_subparsers(dest="budget_command", metavar="ACTION", parser_class=_Parser)
    budget_sub.required = True
    sp = cmd("set", "record (or revise) the budget of a line for a year", "budget set", budget_sub)
    sp.add_argument("--year", type=_year, required=True)
    sp.add_argument("--line", metavar="LINE", required=True)
    sp.add_argument("--amount", metavar="AMOUNT", required=True)
    sp.add_argument("--decision", metavar="TEXT", required=True)
    sp.add_argument("--date", metavar="DATE", help="date of the decision (default today)")
    sp.add_argument("--work-plan", metavar="WP", default="core")
    sp = cmd("list", "the budget of a year", "budget list", budget_sub)
    sp.add_argument("--year", type=_year, required=True)
    sp.add_argument("--json", action="store_true")
    sp = cmd("template", "write the budget Excel template (with the current budget)", "budget template", budget_sub)
    sp.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    sp.add_argument("--year", type=_year)
    sp = cmd("import", "import a work plan and budget from the Excel template", "budget import", budget_sub)
    sp.add_argument("file", metavar="FILE.xlsx")
    sp.add_argument("--decision", metavar="TEXT", required=True)
    sp.add_argument("--date", metavar="DATE", help="date of the decision (default today)")
    sp.add_argument("--dry-run", action="store_true")

    spending = cmd("expenditure", "the GICHD expenditure report")
    spending_sub = spending.add_subparsers(dest="expenditure_command", metavar="ACTION", parser_class=_Parser)
    spending_sub.required = True
    sp = cmd("template", "write the expenditure Excel template", "expenditure template", spending_sub)
    sp.add_argument("-o", "--output", metavar="FILE.xlsx", required=True)
    sp = cmd("import", "import a GICHD expenditure report and show the clearing", "expenditure import", spending_sub)
    sp.add_argument("file", metavar="FILE.xlsx")
    sp.add_argument("--dry-run", action="store_true")

    reserve = cmd("buffer", "the financial security buffer")
    reserve_sub = reserve.add_subparsers(dest="buffer_command", metavar="ACTION", parser_class=_Parser)
    reserve_sub.required = True
    sp = cmd("policy", "set the buffer's target policy", "buffer policy", reserve_sub)
    sp.add_argument("--kind", choices=("amount", "share", "months"), required=True)
    sp.add_argument("--value", metavar="V", required=True)
    sp.add_argument("--decision", metavar="TEXT", required=True)
    sp.add_argument("--date", metavar="DATE", help="date the policy applies from (default today)")
    for action, text in (("allocate", "allocate to the buffer"), ("draw", "draw the buffer down")):
        sp = cmd(action, text, f"buffer {action}", reserve_sub)
        sp.add_argument("--amount", metavar="AMOUNT", required=True)
        sp.add_argument("--decision", metavar="TEXT", required=True)
        sp.add_argument("--date", metavar="DATE", required=True)
