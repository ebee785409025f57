"""``isu-ledger``: the command line, a thin shell over the ledger functions.

The command set and its arguments are the contract of DESIGN.md section 5.
Each command is one small function ``(args, ctx) -> exit code`` registered
in ``COMMANDS`` under its name (``"review list"`` for sub-commands); parts
of the product that are not built yet answer "not yet available" (exit 2)
until their function replaces the placeholder in that mapping.

Expected failures (bad input, refused writes, failed checks) print one line
each on standard error, ``isu-ledger: <file>: <problem>``, and exit 2 (1 for
``check`` finding errors); never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

PROG = "isu-ledger"
REPORT_NAMES = ("contributions", "annual", "budget", "buffer", "statement", "pack")
ROLES = ("admin", "finance", "auditor", "committee")


@dataclass
class Context:
    """What every command gets besides its arguments: where the books are,
    who acts (commit author) and where output goes."""

    ledger_dir: Path
    user: str
    stdout: TextIO
    stderr: TextIO

    def error(self, message: str) -> None:
        print(f"{PROG}: {message}", file=self.stderr)


Command = Callable[[argparse.Namespace, Context], int]


class UsageError(Exception):
    """Bad command-line usage; exits 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other error
        raise UsageError(message)


# --- commands ----------------------------------------------------------------


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.books import DEFAULT_IBAN, init_ledger

    result = init_ledger(
        ctx.ledger_dir,
        iban=args.iban or DEFAULT_IBAN,
        opening_balance=args.opening_balance,
        as_of=args.as_of,
        user=ctx.user,
    )
    print(
        f"initialised the ISU ledger in {result.ledger_dir} "
        f"(IBAN {result.iban}, commit {result.commit[:12]})",
        file=ctx.stdout,
    )
    return 0


def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.check import check_ledger

    errors = check_ledger(ctx.ledger_dir)
    for line in errors:
        print(line, file=ctx.stderr)
    if errors:
        print(f"{PROG}: {len(errors)} error(s) in {ctx.ledger_dir}", file=ctx.stderr)
        return 1
    print(f"{ctx.ledger_dir}: ok", file=ctx.stdout)
    return 0


def cmd_parse(args: argparse.Namespace, ctx: Context) -> int:
    from importers.api import parse_file, to_json

    result = parse_file(args.file)
    if args.json:
        print(json.dumps(to_json(result), indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    print(f"{args.file}: {result.format}", file=ctx.stdout)
    for st in result.statements:
        closing = f"closing {st.closing.amount} {st.closing.currency} on {st.closing.date}" if st.closing else "no closing balance"
        print(f"  statement {st.id} account {st.account}: {len(st.entries)} entries, {closing}", file=ctx.stdout)
    for warning in result.warnings:
        print(f"  warning: {warning}", file=ctx.stdout)
    return 0


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.importing import ImportRefused, TerminalProgress, import_files, summary_lines

    bar = TerminalProgress(ctx.stderr)
    try:
        report = import_files(ctx.ledger_dir, args.files, dry_run=args.dry_run, user=ctx.user, progress=bar)
    except ImportRefused as exc:
        ctx.error(str(exc))
        return 2
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False), file=ctx.stdout)
    else:
        print("\n".join(summary_lines(report)), file=ctx.stdout)
    return 0


def cmd_review_list(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.review import list_items

    items = list_items(ctx.ledger_dir)
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False), file=ctx.stdout)
        return 0
    for item in items:
        hint = item["suggestion"]["state_party"] if item["suggestion"] else "-"
        print(
            f"{item['id']}  {item['date']}  {item['amount']:>12} {item['currency']}  "
            f"{item['payer'] or '?'} | {item['remittance'] or ''} | suggestion: {hint}",
            file=ctx.stdout,
        )
    print(f"{len(items)} item(s) to review", file=ctx.stdout)
    return 0


def cmd_review_resolve(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.review import ReviewRefused, resolve

    try:
        done = resolve(
            ctx.ledger_dir,
            args.id,
            state_party=args.state_party,
            year=args.year,
            work_plan=args.work_plan,
            remember=args.remember,
            user=ctx.user,
        )
    except ReviewRefused as exc:
        ctx.error(str(exc))
        return 2
    learned = " (rule remembered)" if done.rule else ""
    print(f"{done.id}: {done.bank_ref} -> {done.state_party} {done.wp_year} ({done.account}){learned}", file=ctx.stdout)
    return 0


def cmd_report(args: argparse.Namespace, ctx: Context) -> int:
    """report NAME --year YYYY [--as-of DATE] --format F [-o FILE]; report pack --year YYYY -o FILE.zip."""
    from reports import command

    fmt = args.format or "json"
    try:
        if args.name == "pack" and not args.output:
            raise command.ReportRefused("report pack: -o FILE.zip is required")
        if args.name != "pack" and fmt in command.BINARY and not args.output:
            raise command.ReportRefused(f"--format {fmt}: binary output needs -o FILE")
        as_of = command.parse_as_of(args.as_of)
        books, commit = command.load(ctx.ledger_dir)
        if args.name == "pack":
            from reports.pack import build_pack

            pack = build_pack(books, args.year, as_of, commit=commit)
            Path(args.output).write_bytes(pack.data)
            print(f"{args.output}: {len(pack.manifest['files'])} files, {pack.manifest['status']} "
                  f"as of {pack.manifest['as_of']}", file=ctx.stdout)
            return 0
        report = command.build(books, args.name, args.year, as_of, commit=commit, state_party=args.state_party)
        content = command.render(report, fmt)
    except command.ReportRefused as exc:
        ctx.error(str(exc))
        return 2
    if args.output:
        Path(args.output).write_bytes(content)
    else:
        ctx.stdout.write(content.decode("utf-8"))
    return 0


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    """Serve the web app with Fava (read-only, auditors and admins) at /fava/ until interrupted.

    ISU_DATABASE_URL picks the database (default: SQLite in the ledger
    directory), ISU_SECRET_KEY the session key (default: a random key kept in
    the ledger's git-ignored .isu-secret)."""
    from werkzeug.serving import run_simple

    from app import create_wsgi
    from app.serving import server_config
    from ledger.conventions import MAIN_FILE

    if not (ctx.ledger_dir / MAIN_FILE).is_file():
        ctx.error(f"{ctx.ledger_dir}: no ledger here (run 'isu-ledger init' first)")
        return 2
    application = create_wsgi(server_config(ctx.ledger_dir, args.host, os.environ))
    print(f"isu-ledger: serving {ctx.ledger_dir} on http://{args.host}:{args.port}/ (Fava at /fava/)", file=ctx.stderr)
    run_simple(args.host, args.port, application, use_reloader=False, threaded=True)
    return 0


def _read_password(ctx: Context) -> str:
    """A new password: typed twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise UsageError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user_command(action: str) -> Command:
    """``user add|passwd|disable``: web accounts (app.users), one line of output."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        from app import users
        from app.serving import user_session
        from ledger.conventions import MAIN_FILE

        if not os.environ.get("ISU_DATABASE_URL") and not (ctx.ledger_dir / MAIN_FILE).is_file():
            ctx.error(f"{ctx.ledger_dir}: no ledger here (its database holds the web accounts; or set ISU_DATABASE_URL)")
            return 2
        try:
            password = _read_password(ctx) if action in ("add", "passwd") else None
            with user_session(ctx.ledger_dir, os.environ) as session:
                if action == "add":
                    user = users.add_user(session, args.name, args.role, password)
                elif action == "passwd":
                    user = users.set_password(session, args.name, password)
                else:
                    user = users.disable_user(session, args.name)
                session.commit()
        except (users.UserError, UsageError) as exc:
            ctx.error(str(exc))
            return 2
        done = {"add": f"added ({user.role})", "passwd": "password changed", "disable": "disabled"}[action]
        print(f"user {user.name}: {done}", file=ctx.stdout)
        return 0

    command.__name__ = f"cmd_user_{action}"
    return command



# --- part 3: pledges, budgets, expenditure, buffer, year end ---------------------


def _refusals() -> tuple[type[BaseException], ...]:
    """Refusals of the part-3 commands: one line each, exit 2, nothing written."""
    from ledger.budgets import BudgetRefused
    from ledger.buffer import BufferRefused
    from ledger.pledges import PledgeRefused
    from ledger.yearend import YearEndRefused

    return (BudgetRefused, BufferRefused, PledgeRefused, YearEndRefused)


def _refusing(fn: Command) -> Command:
    """Turn a part-3 refusal or workbook errors into error lines and exit 2."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        from ledger.excel import ExcelErrors

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
    from ledger.pledges import PledgeRefused

    try:
        return parse(text)
    except ValueError as exc:
        raise PledgeRefused(f"{option} {exc}") from None


def _today():
    import datetime

    return datetime.date.today()


def _write(ctx: Context, action: str, entries: list, replacements=(), files=()) -> str | None:
    from ledger.writer import LedgerWriter

    with LedgerWriter(ctx.ledger_dir, ctx.user, action) as writer:
        for rel, content in files:
            writer.write_file(rel, content)
        for old, new in replacements:
            writer.replace_entry(old, new)
        writer.add_entries(entries)
    return writer.commit


@_refusing
def cmd_pledge_add(args: argparse.Namespace, ctx: Context) -> int:
    from ledger import excel
    from ledger.pledges import PledgeRefused, PledgeSpec, check_spec, plan_pledges, pledges, schedule_specs
    from ledger.plugins.year_lock import locked_years
    from ledger.registry import Registry

    books = _books(ctx)
    if (args.year is None) == (args.years is None):
        raise PledgeRefused("give --year YYYY for one year or --years YYYY-YYYY for a schedule")
    spec = PledgeSpec(
        state_party=_value(excel.parse_iso3, args.state_party, "--state-party"),
        wp_year=args.year or 0,
        amount=_value(excel.parse_money, args.amount, "--amount"),
        currency=_value(excel.parse_currency, args.currency, "--currency"),
        expected=_value(excel.parse_date, args.expected, "--expected") if args.expected else None,
        work_plan=args.work_plan,
        date=_value(excel.parse_date, args.date, "--date") if args.date else None,
        note=" ".join(args.note.split()) if args.note else None,
    )
    specs = [spec]
    if args.years:
        first, _, last = args.years.partition("-")
        years = [_value(excel.parse_year, y, "--years") for y in (first, last or first)]
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
    from ledger.pledges import pledges, to_json

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
    from ledger.excel import write_template
    from ledger.loader import load_books

    rows = []
    if rows_fn is not None and (ctx.ledger_dir / MAIN_FILE).is_file():
        rows = rows_fn(load_books(ctx.ledger_dir).entries, getattr(args, "year", None))
    path = write_template(args.output, template, rows)
    print(f"{path}: template {template.sheet!r} with {len(rows)} row(s)", file=ctx.stdout)
    return 0


@_refusing
def cmd_pledge_template(args: argparse.Namespace, ctx: Context) -> int:
    from ledger import pledges

    return _template(ctx, pledges.TEMPLATE, pledges.template_rows, args)


@_refusing
def cmd_pledge_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.pledges import plan_pledges, read_pledge_workbook
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
    from ledger import excel
    from ledger.budgets import BudgetItem, plan_budget

    books = _books(ctx)
    amount = _value(excel.parse_money, args.amount, "--amount")
    decided = _value(excel.parse_date, args.date, "--date") if args.date else _today()
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
    from ledger.budgets import budget_lines, total

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
    from ledger import budgets

    return _template(ctx, budgets.TEMPLATE, budgets.template_rows, args)


@_refusing
def cmd_budget_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger import excel
    from ledger.budgets import plan_budget, read_budget_workbook

    books = _books(ctx)
    decided = _value(excel.parse_date, args.date, "--date") if args.date else _today()
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
    from ledger import expenditure

    return _template(ctx, expenditure.TEMPLATE, None, args)


@_refusing
def cmd_expenditure_import(args: argparse.Namespace, ctx: Context) -> int:
    from ledger.expenditure import clearing, clearing_lines, plan_import

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
    from ledger import excel
    from ledger.buffer import parse_policy_value, policy_entry

    _books(ctx)
    value = parse_policy_value(args.kind, args.value)
    date = _value(excel.parse_date, args.date, "--date") if args.date else _today()
    entry = policy_entry(args.kind, value, args.decision, date)
    _write(ctx, f"buffer policy {args.kind} {value}", [entry])
    print(f"buffer policy from {date}: {args.kind} {value} ({entry.meta['decision']})", file=ctx.stdout)
    return 0


def _buffer_move(args: argparse.Namespace, ctx: Context, draw: bool) -> int:
    from ledger import excel
    from ledger.buffer import BufferRefused, balance, plan_movement

    books = _books(ctx)
    try:
        amount = excel.parse_money(args.amount)
        date = excel.parse_date(args.date)
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
    from ledger.yearend import close_year

    _books(ctx)
    plan = close_year(ctx.ledger_dir, args.year, user=ctx.user, dry_run=args.dry_run)
    print("\n".join(plan.lines()), file=ctx.stdout)
    if plan.empty:
        print(f"{args.year} is closed and unchanged: nothing to book", file=ctx.stdout)
    elif args.dry_run:
        print("(dry run: nothing written)", file=ctx.stdout)
    return 0


@_refusing
def cmd_sign_off(args: argparse.Namespace, ctx: Context) -> int:
    from ledger import excel
    from ledger.yearend import YearEndRefused, sign_off

    _books(ctx)
    try:
        opinion = excel.parse_date(args.opinion_date)
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


def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    """demo [DIR]: realistic books from 2020 to today, through the real import path."""
    import datetime

    from ledger.books import InitRefused
    from ledger.demo import DEFAULT_SEED, DemoError, build_demo

    target = Path(args.dir) if args.dir else ctx.ledger_dir
    try:
        today = datetime.date.fromisoformat(args.today) if args.today else _today()
    except ValueError:
        ctx.error(f"--today {args.today}: not a date (YYYY-MM-DD)")
        return 2
    try:
        result = build_demo(target, today=today, seed=DEFAULT_SEED if args.seed is None else args.seed,
                            say=lambda line: print(line, file=ctx.stdout, flush=True))
    except (DemoError, InitRefused) as exc:
        ctx.error(" ".join(str(exc).split()))
        return 2
    print(f"demo books in {result.ledger_dir} (as of {today}), built in {result.seconds:.1f} s", file=ctx.stdout)
    if result.accounts:
        print("demo accounts (web app; passwords generated for this demo only):", file=ctx.stdout)
        for name, password in result.accounts.items():
            print(f"  {name} / {password}", file=ctx.stdout)
    return 0


def not_yet_available(name: str) -> Command:
    """The placeholder of a command whose part is not built yet."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        ctx.error(f"'{name}' is not yet available")
        return 2

    command.__name__ = f"cmd_{name.replace(' ', '_').replace('-', '_')}"
    command.not_yet_available = True  # type: ignore[attr-defined]
    return command


# Command name -> function. Later parts replace the placeholders here.
COMMANDS: dict[str, Command] = {
    "init": cmd_init,
    "check": cmd_check,
    "parse": cmd_parse,
    "demo": cmd_demo,
    "import": cmd_import,
    "review list": cmd_review_list,
    "review resolve": cmd_review_resolve,
    "report": cmd_report,
    "close-year": cmd_close_year,
    "sign-off": cmd_sign_off,
    "pledge add": cmd_pledge_add,
    "pledge list": cmd_pledge_list,
    "pledge template": cmd_pledge_template,
    "pledge import": cmd_pledge_import,
    "budget set": cmd_budget_set,
    "budget list": cmd_budget_list,
    "budget template": cmd_budget_template,
    "budget import": cmd_budget_import,
    "expenditure template": cmd_expenditure_template,
    "expenditure import": cmd_expenditure_import,
    "buffer policy": cmd_buffer_policy,
    "buffer allocate": cmd_buffer_allocate,
    "buffer draw": cmd_buffer_draw,
    "user add": _user_command("add"),
    "user passwd": _user_command("passwd"),
    "user disable": _user_command("disable"),
    "serve": cmd_serve,
}


# --- arguments ---------------------------------------------------------------


def _year(text: str) -> int:
    if not (text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(f"{text}: not a year (YYYY)")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of DESIGN.md section 5 (every command, all arguments)."""
    p = _Parser(prog=PROG, description="The ISU finance and contributions ledger.")
    p.add_argument("--ledger", metavar="DIR", help="ledger directory (default: $ISU_LEDGER_DIR, else ./books)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def cmd(name: str, help_text: str, key: str | None = None, parent=sub) -> argparse.ArgumentParser:
        sp = parent.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(command_key=key or name)
        # --ledger is accepted after the command name too.
        sp.add_argument("--ledger", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return sp

    sp = cmd("init", "create a new ledger (git, chart of accounts, registry)")
    sp.add_argument("--iban", default=None, help="the ISU bank account (default: the UBS Geneva account)")
    sp.add_argument("--opening-balance", metavar="AMOUNT", help="bank balance in CHF at --as-of")
    sp.add_argument("--as-of", metavar="DATE", help="date of the opening balance (YYYY-MM-DD)")

    sp = cmd("demo", "build a realistic multi-year demo ledger")
    sp.add_argument("dir", metavar="DIR", nargs="?", help="where to build it (default: the --ledger directory)")
    sp.add_argument("--today", metavar="DATE", help="the story's today (default: today); the same date gives the same books")
    sp.add_argument("--seed", type=int, default=None, help=argparse.SUPPRESS)

    sp = cmd("parse", "show the normalised content of a bank file (no ledger needed)")
    sp.add_argument("file", metavar="FILE")
    sp.add_argument("--json", action="store_true", help="print JSON")

    sp = cmd("import", "import bank statements (idempotent)")
    sp.add_argument("files", metavar="FILE", nargs="+")
    sp.add_argument("--dry-run", action="store_true")
    sp.add_argument("--json", action="store_true")

    review = cmd("review", "the queue of unidentified receipts")
    review_sub = review.add_subparsers(dest="review_command", metavar="ACTION", parser_class=_Parser)
    review_sub.required = True
    sp = cmd("list", "list the review queue", "review list", review_sub)
    sp.add_argument("--json", action="store_true")
    sp = cmd("resolve", "attribute a receipt to a State Party", "review resolve", review_sub)
    sp.add_argument("id", metavar="ID")
    sp.add_argument("--state-party", metavar="ISO3", required=True)
    sp.add_argument("--year", type=_year, required=True)
    sp.add_argument("--work-plan", metavar="WP", default="core")
    sp.add_argument("--remember", action="store_true", help="learn a matching rule from this decision")

    cmd("check", "bean-check plus the ISU rules")

    sp = cmd("report", "generate a report (contributions, annual, budget, buffer, statement, pack)")
    sp.add_argument("name", metavar="NAME", choices=REPORT_NAMES)
    sp.add_argument("--year", type=_year, required=True)
    sp.add_argument("--as-of", metavar="DATE")
    sp.add_argument("--format", choices=("json", "xlsx", "pdf", "html"), default=None)
    sp.add_argument("--state-party", metavar="ISO3")
    sp.add_argument("-o", "--output", metavar="FILE")

    sp = cmd("close-year", "close a year (surplus/deficit per policy)")
    sp.add_argument("year", type=_year, metavar="YYYY")
    sp.add_argument("--dry-run", action="store_true")

    sp = cmd("sign-off", "record the auditor's sign-off and lock the year")
    sp.add_argument("year", type=_year, metavar="YYYY")
    sp.add_argument("--auditor", metavar="NAME", required=True)
    sp.add_argument("--opinion-date", metavar="DATE", required=True)

    _add_part3_parsers(cmd, sub)

    user = cmd("user", "web accounts")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", parser_class=_Parser)
    user_sub.required = True
    sp = cmd("add", "add a web account", "user add", user_sub)
    sp.add_argument("name", metavar="NAME")
    sp.add_argument("--role", choices=ROLES, required=True)
    sp = cmd("passwd", "set a web account's password", "user passwd", user_sub)
    sp.add_argument("name", metavar="NAME")
    sp = cmd("disable", "disable a web account", "user disable", user_sub)
    sp.add_argument("name", metavar="NAME")

    sp = cmd("serve", "run the web app (Fava at /fava/)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=5000)
    return p


# --- main ----------------------------------------------------------------------


def _default_user() -> str:
    user = os.environ.get("ISU_USER")
    if user:
        return user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are a refusal or bad input, not a bug."""
    from importers.model import BadFile
    from ledger.books import InitRefused
    from ledger.gitrepo import GitError
    from ledger.writer import CheckFailed, WriteRefused

    return (BadFile, InitRefused, WriteRefused, CheckFailed, GitError, FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError)


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    ledger_dir = Path(args.ledger or os.environ.get("ISU_LEDGER_DIR") or "books")
    ctx = Context(ledger_dir=ledger_dir, user=_default_user(), stdout=stdout, stderr=stderr)
    expected = _expected_errors()
    try:
        return COMMANDS[args.command_key](args, ctx)
    except expected as exc:
        from ledger.writer import CheckFailed

        if isinstance(exc, CheckFailed):
            for line in exc.errors:
                print(line, file=stderr)
            ctx.error(f"{ctx.ledger_dir}: refused: the change fails the ledger check; nothing written")
        elif isinstance(exc, OSError) and exc.filename:
            ctx.error(f"{exc.filename}: {exc.strerror}")
        else:
            ctx.error(" ".join(str(exc).split()))
        return 2
    except KeyboardInterrupt:
        ctx.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
