"""``isu-ledger demo``: realistic books for 2020 to today, built the real way.

Nothing here writes ledger text. The demo invents what happened (seeded, so
the same ``seed`` and ``today`` give byte-identical ledger files), renders it
as the bank and the host would deliver it - monthly UBS statements in camt.053
.001.04/.001.08, MT940 and CSV exports in three languages, a camt.054 for one
batch, the GICHD's expenditure workbooks - and then does what finance staff
do, through the product's own functions: ``init``, pledges, budgets and their
revisions, ``import``, ``review resolve`` (some with ``remember``),
``expenditure import``, buffer allocations, ``close-year`` and ``sign-off``.
So the demo is also an end-to-end exercise of the product: if any of those
functions refused what a real year throws at them, the demo would fail.

The story (see ``app.demo.scenario`` for the people and the money):
about thirty States Parties pay each year, from ministries, treasuries and
Permanent Missions in Geneva, in CHF, EUR, USD, GBP, NOK, SEK, DKK, AUD and
CAD; some pay in batches, one payment a year is reversed and re-sent, one
State pays its next year in December and one pays last year's contribution
late - in January of odd years' following year, while that year is still open
(each year is closed on 16 March, after the January and February statements),
in April of even years' following year, after the close; a few receipts name no
State and wait for staff. The 2024 Review Conference year ends in deficit and
draws the buffer down. Every past year is closed on 16 March and signed off on
28 April when those days have come; the current year is open up to the last
complete month.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from app.demo import statements as S
from app.demo.scenario import AUDIT_FIRM, AUDITOR, Scenario, YearPlan, build_scenario
from app.roles import ROLES
from ledger import conventions, money

DEFAULT_SEED = 2020
FIRST_YEAR = 2020
OPENING_BALANCE = Decimal("612408.15")
# The demo accounts' full names; the auditor's is the name its sign-offs record.
DEMO_FULL_NAMES = {"admin": "Demo Administrator", "finance": "Demo Finance Officer", "auditor": "A. Auditor", "committee": "Demo Committee Member"}

FINANCE = "finance:demo"
# The bank statements are imported in three stages a year: January-February,
# March-June, July-December; the previous year is closed on CLOSE_DAY, after
# the first stage, so receipts of January and February still count for it.
STAGES = (range(1, 3), range(3, 7), range(7, 13))
CLOSE_DAY = (3, 16)
# Support in kind the GICHD and Switzerland give each year (disclosed, not booked):
# provider, nature, description, estimated CHF value in the first year (None: not valued), basis.
IN_KIND = (
    ("GICHD", "Office space", "Offices and meeting rooms for the ISU at the Maison de la paix, Geneva",
     Decimal("96000"), "GICHD rent per square metre x the ISU's share of the floor"),
    ("GICHD", "Finance, HR and IT services", "Accounting, payroll, procurement and IT support",
     Decimal("45000"), "GICHD cost allocation (hours x standard rates)"),
    ("Switzerland", "Conference facilities", "Rooms and interpretation booths for the intersessional meetings",
     Decimal("30000"), "CICG rental rates for the days used"),
    ("Switzerland", "Travel support", "Travel of delegates from affected States to the Meeting of the States Parties",
     None, "not valued: paid by Switzerland directly to the delegates"),
)
# Why a budget line differed materially from its final budget, as finance staff explain it.
VARIANCES = {
    "Staff": "A post was vacant for part of the year while it was recruited.",
    "Travel": "Fewer country missions than planned; several were held online.",
    "Meetings": "The host country provided the meeting venue in kind.",
    "Communications": "The website redesign moved to the following year.",
    "GICHDServices": "The GICHD's service charges were lower than budgeted.",
    "Other": "The contingency was not needed.",
}
DIRECTOR = "admin:demo"
AUDIT = "auditor:demo"


class DemoError(Exception):
    """The demo could not be built (one line)."""


@dataclass
class YearSummary:
    year: int
    states: int
    bank_files: int
    entries: int
    reviewed: int
    status: str


@dataclass
class DemoResult:
    ledger_dir: Path
    today: datetime.date
    years: list[YearSummary] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # user name -> password
    seconds: float = 0.0


# --- git dates ---------------------------------------------------------------


@contextlib.contextmanager
def _story_time() -> Iterator[Callable[[datetime.date], None]]:
    """Commits dated on the day the story does each thing (reproducible history).

    git reads GIT_AUTHOR_DATE/GIT_COMMITTER_DATE from the environment the
    ledger's git wrapper passes on; the previous values are restored after.
    """
    keys = ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")
    saved = {k: os.environ.get(k) for k in keys}

    def at(day: datetime.date) -> None:
        stamp = f"{day.isoformat()}T17:00:00+0100"
        for key in keys:
            os.environ[key] = stamp

    try:
        yield at
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- the builder -------------------------------------------------------------------


class _Builder:
    """Does the story's actions in order, one product call each."""

    def __init__(self, ledger_dir: Path, scenario: Scenario, work: Path, at: Callable[[datetime.date], None],
                 say: Callable[[str], None]):
        self.dir = ledger_dir
        self.sc = scenario
        self.work = work
        self.at = at
        self.say = say
        self.today = scenario.today

    # -- setup
    def init(self) -> None:
        from ledger.books import init_ledger
        from ledger.finance.buffer import policy_entry

        self.at(datetime.date(FIRST_YEAR - 1, 12, 31))
        init_ledger(self.dir, opening_balance=OPENING_BALANCE, as_of=datetime.date(FIRST_YEAR - 1, 12, 31), user=DIRECTOR)
        kind, value, decision, day = self.sc.buffer_policy
        self._write(f"buffer policy {kind} {value}", [policy_entry(kind, value, decision, day)], DIRECTOR, day)
        self._languages(day)

    def _languages(self, day: datetime.date) -> None:
        """The States' working languages in the registry (their letters are written in it)."""
        from ledger import conventions
        from ledger.registry_language import language_csv

        text = language_csv(self.dir, self.sc.languages)
        self._write("registry languages", [], DIRECTOR, day, files=[(conventions.REGISTRY_FILE, text.encode("utf-8"))])

    def _write(self, action: str, entries: list, user: str, day: datetime.date, replacements=(), files=()) -> None:
        from ledger.store.writer import LedgerWriter

        self.at(day)
        with LedgerWriter(self.dir, user, action) as writer:
            for rel, content in files:
                writer.write_file(rel, content)
            for old, new in replacements:
                writer.replace_entry(old, new)
            writer.add_entries(entries)

    def _entries(self) -> list:
        from ledger.loader import load_books

        return load_books(self.dir).entries

    # -- decisions
    def _budget_entries(self, year: int, revision: bool, entries: list) -> tuple[list, datetime.date | None]:
        from ledger.finance.budgets import BudgetItem, plan_budget

        plan = self.sc.years[year]
        lines, decision, decided = plan.revision if revision else plan.budget
        if decided > self.today:
            return [], None
        items = [BudgetItem(year, line, amount) for line, amount in lines.items()]
        return plan_budget(entries, items, decision, decided), decided

    def _pledge_entries(self, year: int, entries: list) -> list:
        from ledger.finance.pledges import check_spec, plan_pledges
        from ledger.plugins.year_lock import locked_years
        from ledger.registry import Registry

        specs = self.sc.years[year].pledges
        codes = Registry.load(self.dir).codes()
        locked = locked_years(entries)
        for spec in specs:
            problems = check_spec(spec, codes, locked, self.today)
            if problems:
                raise DemoError(f"pledge {spec.state_party} {spec.wp_year}: {problems[0][1]}")
        return plan_pledges(entries, specs, self.today).new

    def start_of_year(self, year: int) -> None:
        """The work plan and budget endorsed for the year and the pledges
        announced for it: one write (budget and pledge imports, as staff
        would do from the templates)."""
        entries = self._entries()
        budget, decided = self._budget_entries(year, False, entries)
        pledges = self._pledge_entries(year, entries)
        if budget or pledges:
            day = decided or min(p.date for p in self.sc.years[year].pledges)
            self._write(f"budget import isu-budget-{year}.xlsx; pledge import isu-pledges-{year}.xlsx",
                        budget + pledges, DIRECTOR, day)

    def budget_revision(self, year: int) -> None:
        entries, decided = self._budget_entries(year, True, self._entries())
        if entries:
            self._write(f"budget import isu-budget-{year}-revised.xlsx", entries, DIRECTOR, decided)

    def buffer_moves(self, year: int) -> None:
        from ledger.finance.buffer import plan_movement

        for amount, decision, day in self.sc.years[year].buffer_moves:
            if day <= self.today:
                entry = plan_movement(self._entries(), amount, decision, day, draw=False)
                self._write(f"buffer allocate {amount}", [entry], DIRECTOR, day)

    # -- the bank
    def import_months(self, year: int, stage: range) -> tuple[int, int, int]:
        """Import the stage's monthly statements in one call (a camt.054
        first when one details a batch), then resolve what went to review;
        returns (files, entries, reviewed)."""
        from importers.importing import import_files

        plan = self.sc.years[year]
        months = [m for m in plan.statements if m.month in stage and m.last_day < self.today]
        if not months:
            return 0, 0, 0
        files, entries, reviewed = 0, 0, 0
        for statement, entry in plan.notifications:
            if statement in months:
                path = self._file(f"ubs-isu-{statement.year}-{statement.month:02d}-{entry.ref}.camt054.xml",
                                  S.camt054(statement, entry))
                self.at(entry.booked)
                report = import_files(self.dir, [path], user=FINANCE)
                files, entries = files + 1, entries + report.imported
        paths = [self._file(name, content) for name, content in (self.sc.render(m) for m in months)]
        self.at(months[-1].last_day + datetime.timedelta(days=3))
        report = import_files(self.dir, paths, user=FINANCE)
        errors = [e for f in report.files for e in f.errors]
        if errors:
            raise DemoError(f"import of {year} months {stage.start}-{stage.stop - 1}: {errors[0]}")
        files, entries = files + len(paths), entries + report.imported
        reviewed += self.resolve_reviews(months[-1].last_day + datetime.timedelta(days=5))
        return files, entries, reviewed

    def _file(self, name: str, content: bytes) -> str:
        path = self.work / name
        path.write_bytes(content)
        return str(path)

    def resolve_reviews(self, day: datetime.date) -> int:
        """Staff attribute every receipt in review, as the story knows who paid."""
        from ledger.loader import load_books
        from importers.review import resolve, review_items

        done = 0
        for item in review_items(load_books(self.dir).entries):
            meta = item.posting.meta or {}
            ref = item.txn.meta.get(conventions.META_BANK_REF)
            truth = self.sc.truth.get((ref, money.text(-item.posting.units.number)))
            if truth is None:
                raise DemoError(f"review item {item.id} ({ref}, {meta.get(conventions.META_PAYER)}): the story does not know who paid")
            state, wp_year, remember = truth
            self.at(day)
            resolve(self.dir, item.id, state_party=state, year=wp_year, remember=remember and bool(meta.get(conventions.META_PAYER_ACCOUNT)), user=FINANCE)
            done += 1
        return done

    # -- the host
    def expenditure(self, year: int, half: int) -> None:
        """The GICHD's half-year report: written as the workbook, imported as staff do."""
        from ledger.finance.workbooks import write_template
        from ledger.finance.expenditure import TEMPLATE, plan_import

        months = range(1, 7) if half == 1 else range(7, 13)
        rows = [r for r in self.sc.years[year].expenditure if r["date"].month in months and r["date"] <= self._cutoff()]
        if not rows:
            return
        name = f"gichd-isu-expenditure-{year}-h{half}.xlsx"
        path = self.work / name
        write_template(path, TEMPLATE, rows)
        report_day = max(r["date"] for r in rows) + datetime.timedelta(days=12)
        path.write_bytes(S.reproducible_xlsx(path.read_bytes(), report_day))
        plan = plan_import(self.dir.resolve(), path, self._entries())
        if plan.entries:
            self._write(f"expenditure import {name}", plan.entries, FINANCE, report_day, files=[plan.archive])

    def _cutoff(self) -> datetime.date:
        """The last day of the last complete month before ``today``."""
        return self.today.replace(day=1) - datetime.timedelta(days=1)

    # -- year end
    def year_end(self, year: int) -> str:
        """Close ``year`` on 16 March (after the next year's January and
        February statements) and sign it off on 28 April, each only when
        that day has come; returns the year's status."""
        from ledger.finance.yearend import close_year

        day = datetime.date(year + 1, *CLOSE_DAY)
        if day > self.today:
            return "open"
        self.disclosures(year, day)
        self.at(day)
        close_year(self.dir, year, user=DIRECTOR, today=self.today)
        return self.sign_off(year)

    def disclosures(self, year: int, day: datetime.date) -> None:
        """What finance staff record before the close: the support in kind of
        the year, and an explanation of each material budget variance."""
        from ledger.finance.budgets import variance_entry
        from ledger.finance.inkind import in_kind_entry
        from ledger.loader import load_books
        from reports.budget import budget_report
        from ledger.money import rounded
        from reports.financial import is_material

        growth = Decimal(1) + Decimal("0.02") * (year - FIRST_YEAR)
        entries = [in_kind_entry(year, provider, nature, text, None if value is None else rounded(value * growth, "1"), basis)
                   for provider, nature, text, value, basis in IN_KIND]
        self._write(f"in-kind {year}", entries, FINANCE, day)
        books = load_books(self.dir)
        report = budget_report(books, year, datetime.date(year, 12, 31))
        explained = [variance_entry(books.entries, year, line.line, VARIANCES.get(line.line, VARIANCES["Other"]), day)
                     for line in report.lines if is_material(line.difference, line.final)]
        if explained:
            self._write(f"budget explain {year}", explained, FINANCE, day)

    def sign_off(self, year: int) -> str:
        from ledger.finance.yearend import sign_off

        opinion = datetime.date(year + 1, 4, 28)
        if opinion > self.today:
            return "closed, audit pending"
        self.at(opinion)
        sign_off(self.dir, year, AUDITOR, opinion, user=AUDIT, today=self.today, on_behalf_of=AUDIT_FIRM,
                 opinion="unmodified")
        return f"closed and signed off ({AUDITOR}, {AUDIT_FIRM}, unmodified opinion {opinion})"


def build_demo(
    ledger_dir: Path | str,
    *,
    today: datetime.date | None = None,
    seed: int = DEFAULT_SEED,
    first_year: int = FIRST_YEAR,
    accounts: bool = True,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Build the demo books in ``ledger_dir`` (new or empty); see the module doc.

    ``today`` fixes the story's end (default: the real today): the current
    year is open up to the last complete month before it. The same ``seed``
    and ``today`` give byte-identical ledger files and documents.
    """
    started = time.monotonic()
    today = today or datetime.date.today()
    if today.year <= first_year:
        raise DemoError(f"today ({today}) must be after {first_year}: the demo starts with a whole past year")
    ledger_dir = Path(ledger_dir).absolute()
    scenario = build_scenario(seed, first_year, today, OPENING_BALANCE)
    result = DemoResult(ledger_dir=ledger_dir, today=today)
    with tempfile.TemporaryDirectory(prefix="isu-demo-") as work, _story_time() as at:
        b = _Builder(ledger_dir, scenario, Path(work), at, say)
        b.init()
        for year in range(first_year, today.year + 1):
            plan: YearPlan = scenario.years[year]
            b.start_of_year(year)
            b.buffer_moves(year)
            files = entries = reviewed = 0
            for months in STAGES:
                f, e, r = b.import_months(year, months)
                files, entries, reviewed = files + f, entries + e, reviewed + r
                if months == STAGES[0] and year > first_year:
                    # January and February are in: the previous year's late
                    # receipts counted for it; now it is closed and audited.
                    result.years[-1].status = b.year_end(year - 1)
                    say(_line(result.years[-1]))
                if months[-1] in (6, 12):
                    b.expenditure(year, 1 if months[-1] == 6 else 2)
            b.budget_revision(year)
            result.years.append(YearSummary(year, len(plan.states), files, entries, reviewed, "open"))
            if year == today.year:
                say(_line(result.years[-1]))
        if accounts:
            result.accounts = create_demo_accounts(ledger_dir)
    result.seconds = time.monotonic() - started
    return result


def _line(summary: YearSummary) -> str:
    return (
        f"{summary.year}: {summary.states} States Parties paid, {summary.bank_files} bank files, "
        f"{summary.entries} bank entries, {summary.reviewed} receipts resolved in review; {summary.status}"
    )


def create_demo_accounts(ledger_dir: Path | str, env: dict | None = None) -> dict[str, str]:
    """One web account per role (admin, finance, auditor, committee) with a
    generated password; returns ``{name: password}``. Empty when the web
    app is not installed. These are the only accounts with passwords the
    program chose: outside the demo there is no default password."""
    try:
        from app.web import users
        from app.web.serving import user_session
    except ImportError:
        return {}
    created = {}
    with user_session(Path(ledger_dir), env if env is not None else os.environ) as session:
        for role in ROLES:
            name = f"demo-{role}"
            password = secrets.token_urlsafe(12)
            if users.get_user(session, name) is None:
                users.add_user(session, name, role, password, DEMO_FULL_NAMES[role])
            else:
                users.set_password(session, name, password)
                users.set_full_name(session, name, DEMO_FULL_NAMES[role])
            created[name] = password
        session.commit()
    return created
