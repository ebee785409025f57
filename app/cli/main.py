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
from pathlib import Path
from typing import TextIO

from app.cli.base import (
    PROG,
    REPORT_NAMES,
    ROLES,
    Command,
    Context,
    UsageError,
    _Parser,
    _year,
)
from app.cli.finance import (
    _add_part3_parsers,
    _today,
    cmd_budget_import,
    cmd_budget_list,
    cmd_budget_set,
    cmd_budget_template,
    cmd_buffer_allocate,
    cmd_buffer_draw,
    cmd_buffer_policy,
    cmd_close_year,
    cmd_expenditure_import,
    cmd_expenditure_template,
    cmd_pledge_add,
    cmd_pledge_import,
    cmd_pledge_list,
    cmd_pledge_template,
    cmd_sign_off,
)

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
    from importers.parse import parse_file, to_json

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
    from importers.importing import (
        ImportRefused,
        TerminalProgress,
        import_files,
        summary_lines,
    )

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
    from importers.review import list_items

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
    from importers.review import ReviewRefused, resolve

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

    from app.web import create_wsgi
    from app.web.serving import server_config
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
    """``user add|passwd|disable``: web accounts (app.web.users), one line of output."""

    def command(args: argparse.Namespace, ctx: Context) -> int:
        from app.web import users
        from app.web.serving import user_session
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



def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    """demo [DIR]: realistic books from 2020 to today, through the real import path."""
    import datetime

    from ledger.books import InitRefused
    from app.demo.build import DEFAULT_SEED, DemoError, build_demo

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
    from ledger.store.gitrepo import GitError
    from ledger.store.writer import CheckFailed, WriteRefused

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
        from ledger.store.writer import CheckFailed

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
