"""Speed of isu-ledger measured from the outside: one table, versions side by side.

    .venv/bin/python bench/perf.py                      # this venv's isu-ledger (make bench)
    python bench/perf.py --venv before=/old/.venv --venv after=/new/.venv
    python bench/perf.py --quick --json                 # a tiny profile (tests/test_bench_perf.py)

Each ``--venv`` is an installed isu-ledger, driven only through what stays the
same across versions: the ``isu-ledger`` command line (README; DESIGN.md
section 5), HTTP to a running ``isu-ledger serve`` (app/web/openapi.yaml), and
that venv's ``bean-check`` and ``fava``. Nothing of the project is imported
here, so the code before and after a refactor is measured the same way.

Books, one set per version (each version writes its own):

* ISU scale: ``isu-ledger demo --today 2026-07-15`` (2020 to June 2026; the
  same date gives the same books);
* 100k: ``isu-ledger init``, then 100,000 generated transactions dated 2025
  appended to ``txns/2025.beancount`` as the importer writes them (receipts of
  States Parties with the metadata the ISU plugins require, GICHD transfers,
  bank fees, a few receipts in suspense; a balance assertion a month),
  committed to git. The statement files their ``statement`` metadata names are
  not written: nothing measured here reads them.

Figures (commands: median of ``--runs``; web: p95 of 30 requests after warm-up):

* ISU scale, each beside a bare ``bean-check --no-cache`` of the same books (a
  true parse, plugins included) with the goal <= 1.5x bean-check + 0.3 s:
  ``import`` of one new month (a generated camt.053 continuing the books,
  imported into a fresh copy each run) and its ``--dry-run`` before it (the
  preview: the writer's full check on a scratch copy), ``check``, ``report annual --format
  pdf``, and the first page after ``serve`` starts (process start until the
  dashboard answers 200 after login). Warm p95 of the web pages and main API
  endpoints: goal <= 100 ms.
* 100k: bean-check; Fava's warm ``/api/income_statement`` p95 (that venv's Fava,
  standalone, on the same file); our warm report API p95, goal >= 10x faster
  than Fava's; import-to-visible (``isu-ledger import`` of one new week's
  statement until the running server's contributions report shows it), goal
  <= 1.5x bean-check.

Versions take turns (run 1 of each, then run 2, ...) so that both meet the same
machine. Every figure is printed as measured, misses included; the exit code
is 0 unless the bench itself could not run (then 2, with one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import requests

DEMO_TODAY = "2026-07-15"  # the demo's story ends here: 2026 is open up to June
PASSWORD = "bench-perf correct horse battery staple"
GICHD_IBAN = "CH1000240240FP1000010"
STARTUP_TIMEOUT = 900.0  # seconds a server may take to answer (Fava loading 100k transactions)
VISIBLE_TIMEOUT = 900.0
# The child processes see only the measured venv: no path, database or cache of the caller.
DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "ISU_DATABASE_URL", "ISU_LEDGER_DIR", "ISU_SECRET_KEY",
            "BEANCOUNT_LOAD_CACHE_FILENAME")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@isu-ledger.invalid",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@isu-ledger.invalid"}
TXN_LINE = re.compile(r"^\d{4}-\d\d-\d\d [*!] ", re.M)


class BenchError(Exception):
    """The bench could not run (one line)."""


@dataclass(frozen=True)
class Profile:
    name: str
    demo: bool  # ISU scale = the demo books; else `small` generated transactions
    small: int
    big: int  # transactions of the big books
    runs: int
    requests: int  # timed requests per web page, after `warmup` untimed ones
    warmup: int
    month_entries: int  # entries of the one-month statement imported at ISU scale


FULL = Profile("full", demo=True, small=0, big=100_000, runs=3, requests=30, warmup=3, month_entries=8)
QUICK = Profile("quick", demo=False, small=200, big=2_000, runs=1, requests=5, warmup=1, month_entries=8)

# The web pages and API endpoints measured warm at ISU scale ({year}: the last closed year).
PAGES = (
    ("/", "dashboard"),
    ("/review/", "review page"),
    ("/reports/", "reports page"),
    ("/reports/contributions?year={year}", "contributions report page"),
    ("/api/position", "API position"),
    ("/api/review", "API review"),
    ("/api/year-end", "API year-end"),
    ("/api/reports/contributions?year={year}", "API contributions"),
    ("/api/reports/annual?year={year}", "API annual"),
    ("/api/reports/budget?year={year}", "API budget"),
    ("/api/reports/buffer?year={year}", "API buffer"),
)
REPORT_API = ("contributions", "annual", "budget", "buffer")  # measured at 100k against Fava


@dataclass(frozen=True)
class Row:
    """One line of the table: ``key`` into the samples, how to sum them up, the goal."""

    key: str
    label: str
    stat: str  # "median" or "p95"
    goal: str = ""  # "command", "page", "fava", "visible" or "" (no goal: a yardstick)
    unit: str = "s"


def rows(profile: Profile) -> list[tuple[str, list[Row]]]:
    isu = [
        Row("isu.bean-check", "bean-check --no-cache (yardstick)", "median"),
        Row("isu.import", f"import of one month ({profile.month_entries} entries)", "median", "command"),
        Row("isu.preview", "  its --dry-run first (the preview: the writer's check on a scratch copy)", "median", "command"),
        Row("isu.check", "check", "median", "command"),
        Row("isu.report-pdf", "report annual --format pdf", "median", "command"),
        Row("isu.first-page", "first page after serve starts", "median", "command"),
    ] + [Row(f"isu.page {path}", f"warm p95 {label}", "p95", "page", "ms") for path, label in PAGES]
    big = [
        Row("big.bean-check", "bean-check --no-cache (yardstick)", "median"),
        Row("big.bean-check-cached", "bean-check, Beancount's cache warm", "median"),
        Row("big.fava", "Fava /api/income_statement warm p95", "p95", unit="ms"),
    ] + [Row(f"big.api {name}", f"warm p95 /api/reports/{name}", "p95", "fava", "ms") for name in REPORT_API] + [
        Row("big.visible", "import-to-visible (one week)", "median", "visible"),
        Row("big.import", "  of which the import command", "median"),
    ]
    return [("ISU scale", isu), (f"{profile.big:,} transactions", big)]


# --- processes -----------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
    for key, value in GIT_IDENTITY.items():
        env.setdefault(key, value)
    env["ISU_SECRET_KEY"] = "bench-perf-secret-" + "0" * 32
    return env


ENV = child_env()


def run(cmd: list, *, stdin: str | None = None) -> tuple[float, str]:
    """Run ``cmd`` to completion: (wall seconds, standard output); BenchError if it fails."""
    started = time.perf_counter()
    done = subprocess.run([str(c) for c in cmd], input=stdin, capture_output=True, text=True, env=ENV)
    took = time.perf_counter() - started
    if done.returncode:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise BenchError(f"{Path(cmd[0]).name} {' '.join(str(c) for c in cmd[1:4])}...: exit {done.returncode}: {last}")
    return took, done.stdout


@contextlib.contextmanager
def background(cmd: list, log: Path):
    """A server process in its own session; stopped (its group, by id) on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, env=ENV,
                                start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(proc: subprocess.Popen, session: requests.Session, url: str, log: Path) -> requests.Response:
    """The first answer of a starting server at ``url``."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines() or ["no output"]
            raise BenchError(f"server exited ({proc.returncode}) before answering: {lines[-1]}")
        try:
            return session.get(url, allow_redirects=False, timeout=STARTUP_TIMEOUT)
        except requests.ConnectionError:
            time.sleep(0.01)
    raise BenchError(f"{url}: no answer within {STARTUP_TIMEOUT:.0f} s")


def get(session: requests.Session, url: str) -> requests.Response:
    r = session.get(url, allow_redirects=False, timeout=STARTUP_TIMEOUT)
    if r.status_code != 200:
        raise BenchError(f"GET {urlsplit(url).path}: HTTP {r.status_code}")
    return r


def latencies(session: requests.Session, url: str, profile: Profile) -> list[float]:
    """Seconds of ``profile.requests`` GETs of ``url`` after ``profile.warmup`` untimed ones."""
    for _ in range(profile.warmup):
        get(session, url)
    samples = []
    for _ in range(profile.requests):
        started = time.perf_counter()
        get(session, url)
        samples.append(time.perf_counter() - started)
    return samples


# --- the books, read and written as text --------------------------------------------------


def bank_account(books: Path) -> tuple[str, str]:
    """(account, IBAN) of the bank account: the ``open`` carrying ``iban``."""
    text = (books / "accounts.beancount").read_text(encoding="utf-8")
    m = re.search(r'^\d{4}-\d\d-\d\d open (\S+)[^\n]*\n\s+iban: "([^"]+)"', text, re.M)
    if not m:
        raise BenchError(f"{books}/accounts.beancount: no account with an iban")
    return m[1], m[2].replace(" ", "")


def last_balance(books: Path, account: str) -> tuple[datetime.date, Decimal]:
    """The latest balance assertion of the bank: where the next statement starts."""
    pattern = re.compile(rf"^(\d{{4}}-\d\d-\d\d) balance {re.escape(account)}\s+(-?[\d.]+) CHF", re.M)
    best: tuple[datetime.date, Decimal] | None = None
    for path in sorted((books / "txns").glob("*.beancount")):
        for m in pattern.finditer(path.read_text(encoding="utf-8")):
            day = datetime.date.fromisoformat(m[1])
            if best is None or day >= best[0]:
                best = (day, Decimal(m[2]))
    if best is None:
        raise BenchError(f"{books}: no balance assertion of {account}")
    return best


def registry_states(books: Path) -> list[tuple[str, str]]:
    """(ISO3, name) of the States Parties in the books' registry (the host country aside)."""
    with open(books / "registry" / "contributors.csv", encoding="utf-8", newline="") as fh:
        states = [(r["iso3"], r["name"]) for r in csv.DictReader(fh)
                  if r.get("kind") == "state_party" and r.get("iso2") not in (None, "", "CH")]
    states.sort(key=lambda s: s[0] != "NOR")  # Norway first: the one receipt every statement holds
    return states


def transactions(books: Path) -> int:
    return sum(len(TXN_LINE.findall(p.read_text(encoding="utf-8"))) for p in (books / "txns").glob("*.beancount"))


def books_digest(books: Path) -> str:
    """SHA-256 of the ledger text (to tell whether two versions built the same books)."""
    h = hashlib.sha256()
    for path in sorted([books / "main.beancount", books / "accounts.beancount", *(books / "txns").glob("*.beancount")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Line:
    """One bank entry of a generated statement (or of the generated books)."""

    day: datetime.date
    kind: str  # receipt, unknown, gichd, fee
    amount: Decimal  # positive; receipts credit, the rest debit
    ref: str
    payer: str = ""
    text: str = ""
    iso3: str = ""
    name: str = ""

    @property
    def signed(self) -> Decimal:
        return self.amount if self.kind in ("receipt", "unknown") else -self.amount


def bank_lines(rng: random.Random, states: list[tuple[str, str]], start: datetime.date, end: datetime.date,
               n: int, ident: str, balance: Decimal) -> list[Line]:
    """``n`` entries spread from ``start`` to ``end``: mostly receipts of States
    Parties (the first always Norway's), GICHD transfers, fees, a few unknown
    payers. Seeded by ``rng``; references unique per ``ident``."""
    days = (end - start).days + 1
    lines = []
    for i in range(n):
        day = start + datetime.timedelta(days=i * days // n)
        ref = f"PERF{ident}{i:06d}"
        roll = 0.0 if i == 0 else rng.random()
        if roll < 0.77:
            iso3, name = states[0] if i == 0 else rng.choice(states)
            amount = Decimal(rng.randrange(100_000, 20_000_000)) / 100
            text = f"ISU {day.year} Core Work Plan {name} ref {rng.randrange(10000, 99999)}/{i}"
            line = Line(day, "receipt", amount, ref, f"PERMANENT MISSION OF {name.upper()}", text, iso3, name)
        elif roll < 0.78:
            amount = Decimal(rng.randrange(1000, 9000)) * 10
            line = Line(day, "unknown", amount, ref, "MINISTRY OF FOREIGN AFFAIRS",
                        f"VOLUNTARY CONTRIBUTION REF {rng.randrange(10000, 99999)}")
        elif roll < 0.90 and balance > 200_000:
            amount = Decimal(rng.randrange(1000, 5000)) * 10
            line = Line(day, "gichd", amount, ref, "GICHD", f"ISU costs {day:%Y-%m} {i}")
        else:
            line = Line(day, "fee", Decimal("25.00"), ref, text="ACCOUNT MAINTENANCE FEE")
        balance += line.signed
        lines.append(line)
    return lines


def camt053(iban: str, lines: list[Line], opening: Decimal, start: datetime.date, end: datetime.date, ident: str) -> str:
    """A camt.053.001.08 statement of ``lines`` from ``start`` to ``end``, opening at ``opening``."""
    codes = {"receipt": ("PMNT", "RCDT", "XBCT"), "unknown": ("PMNT", "RCDT", "XBCT"),
             "gichd": ("PMNT", "ICDT", "DMCT"), "fee": ("ACMT", "MDOP", "CHRG")}
    chunks = []
    for line in lines:
        credit = line.signed > 0
        ind = "CRDT" if credit else "DBIT"
        if line.kind == "fee":
            party = ""
        elif credit:
            party = (f"<RltdPties><Dbtr><Pty><Nm>{escape(line.payer)}</Nm><PstlAdr><Ctry>CH</Ctry></PstlAdr></Pty></Dbtr>"
                     "</RltdPties>")
        else:
            party = (f"<RltdPties><Cdtr><Pty><Nm>{escape(line.payer)}</Nm></Pty></Cdtr><CdtrAcct><Id><IBAN>{GICHD_IBAN}"
                     "</IBAN></Id></CdtrAcct></RltdPties>")
        domain, family, sub = codes[line.kind]
        chunks.append(
            f'<Ntry><Amt Ccy="CHF">{line.amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f"<BookgDt><Dt>{line.day}</Dt></BookgDt><ValDt><Dt>{line.day}</Dt></ValDt><AcctSvcrRef>{line.ref}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>{domain}</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f'<NtryDtls><TxDtls><Refs><AcctSvcrRef>{line.ref}-1</AcctSvcrRef></Refs><Amt Ccy="CHF">{line.amount}</Amt>'
            f"<CdtDbtInd>{ind}</CdtDbtInd>{party}<RmtInf><Ustrd>{escape(line.text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
        )
    closing = opening + sum((line.signed for line in lines), Decimal(0))

    def bal(code: str, amount: Decimal, day: datetime.date) -> str:
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{abs(amount)}</Amt>'
                f'<CdtDbtInd>{"CRDT" if amount >= 0 else "DBIT"}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n')

    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        f"<BkToCstmrStmt>\n<GrpHdr><MsgId>M-{ident}</MsgId><CreDtTm>{end}T23:00:00</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>S-{ident}</Id><CreDtTm>{end}T23:00:00</CreDtTm><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>CHF</Ccy></Acct>\n"
        + bal("OPBD", opening, start - datetime.timedelta(days=1)) + bal("CLBD", closing, end)
        + "".join(chunks) + "</Stmt></BkToCstmrStmt></Document>\n"
    )


def next_statement(books: Path, path: Path, days: int, n: int, seed: int) -> Path:
    """Write a statement of ``n`` entries over ``days`` days continuing ``books``
    from their last bank balance; its references are new to the books."""
    account, iban = bank_account(books)
    start, opening = last_balance(books, account)
    end = start + datetime.timedelta(days=days - 1)
    ident = f"S{start:%Y%m%d}"
    lines = bank_lines(random.Random(seed), registry_states(books), start, end, n, ident, opening)
    path.write_text(camt053(iban, lines, opening, start, end, ident), encoding="utf-8")
    return path


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ledger_entry(line: Line, account: str, iban: str, statement: str) -> str:
    """``line`` as the importer books it (docs/booking.md)."""
    year = line.day.year
    head = (f"  bank_ref: {quoted(line.ref)}\n  bank_account: {quoted(iban)}\n  statement: {quoted(statement)}\n"
            f"  {account}  {line.signed} CHF\n")
    if line.kind == "receipt":
        why = (f"{line.iso3} {year} core (score 0.95); payer '{line.payer}' -> {line.iso3} (name '{line.name}', 0.90); "
               f"year: 'ISU {year}' -> {year}; work plan: core")
        return (f"{line.day} * {quoted(line.payer)} {quoted(line.text)} #ISU-{year} ^bank-{line.ref}\n" + head
                + f"  Income:Contributions:Core  -{line.amount} CHF\n    state_party: {quoted(line.iso3)}\n"
                f'    work_plan: "core"\n    wp_year: {year}\n    payer: {quoted(line.payer)}\n'
                f"    remittance: {quoted(line.text)}\n    confidence: 0.95\n    why: {quoted(why)}\n")
    if line.kind == "unknown":
        return (f"{line.day} ! {quoted(line.payer)} {quoted(line.text)} ^bank-{line.ref}\n" + head
                + f"  Income:Contributions:Unidentified  -{line.amount} CHF\n    payer: {quoted(line.payer)}\n"
                f"    remittance: {quoted(line.text)}\n    confidence: 0\n"
                '    why: "review: no evidence of a State; work plan: core"\n')
    if line.kind == "gichd":
        return (f"{line.day} * {quoted(line.payer)} {quoted(line.text)} ^bank-{line.ref}\n" + head
                + f"  Assets:Clearing:GICHD  {line.amount} CHF\n    payer: {quoted(line.payer)}\n"
                f"    payer_account: {quoted(GICHD_IBAN)}\n    remittance: {quoted(line.text)}\n")
    return (f"{line.day} * {quoted(line.text)} ^bank-{line.ref}\n" + head
            + f"  Expenses:Bank:Charges  {line.amount} CHF\n    remittance: {quoted(line.text)}\n")


def grow_books(books: Path, n: int, seed: int) -> None:
    """Append ``n`` transactions of one year to fresh books (their last balance
    assertion on 1 January): the year's file gets the entries and a balance
    assertion at each month's start, the next year's file the closing one;
    then one git commit."""
    account, iban = bank_account(books)
    start, balance = last_balance(books, account)
    if (start.month, start.day) != (1, 1):
        raise BenchError(f"{books}: expected fresh books whose bank balance is asserted on 1 January, not {start}")
    year = start.year
    lines = bank_lines(random.Random(seed), registry_states(books), start, datetime.date(year, 12, 31), n, f"G{year}", balance)
    out, month = [], 1
    for line in lines:
        if line.day.month != month:
            month = line.day.month
            out.append(f"{line.day.replace(day=1)} balance {account}  {balance} CHF\n")
        out.append(ledger_entry(line, account, iban, f"documents/{year}/bench-{year}-{month:02d}.camt053.xml"))
        balance += line.signed
    this_year = books / "txns" / f"{year}.beancount"
    with open(this_year, "a", encoding="utf-8") as fh:
        fh.write("\n" + "\n".join(out))
    next_year = books / "txns" / f"{year + 1}.beancount"
    if not next_year.exists():
        header = "".join(ln for ln in this_year.read_text(encoding="utf-8").splitlines(keepends=True)[:3] if ln.startswith(";"))
        next_year.write_text(header.replace(str(year), str(year + 1)), encoding="utf-8")
    with open(next_year, "a", encoding="utf-8") as fh:
        fh.write(f"\n{datetime.date(year + 1, 1, 1)} balance {account}  {balance} CHF\n")
    run(["git", "-C", books, "add", "-A"])
    run(["git", "-C", books, "commit", "-q", "-m", f"bench: {n} generated transactions of {year}"])


# --- one version: its books and its measurements --------------------------------------------


@dataclass
class Version:
    label: str
    venv: Path
    root: Path  # this version's books and files
    samples: dict[str, list[float]] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def isu(self) -> Path:
        return self.root / "isu"

    @property
    def big(self) -> Path:
        return self.root / "big"

    def bin(self, name: str) -> Path:
        return self.venv / "bin" / name

    def cli(self, books: Path, *args) -> list:
        return [self.bin("isu-ledger"), "--ledger", books, *args]

    def add(self, key: str, *seconds: float) -> None:
        self.samples.setdefault(key, []).extend(seconds)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build_books(v: Version, profile: Profile) -> None:
    """The ISU-scale and the big books of ``v``, reused from an earlier run with
    ``--work`` when that run finished building them for the same profile."""
    for name, books in (("isu", v.isu), ("big", v.big)):
        ready = v.root / f"{name}.ready"
        if ready.is_file() and ready.read_text() == profile.name and (books / "main.beancount").is_file():
            say(f"{v.label}: reusing {books}")
            continue
        shutil.rmtree(books, ignore_errors=True)
        started = time.perf_counter()
        if name == "isu" and profile.demo:
            run(v.cli(books, "demo", books, "--today", DEMO_TODAY))
        else:
            run(v.cli(books, "init", "--opening-balance", "612408.15", "--as-of", "2024-12-31"))
            grow_books(books, profile.small if name == "isu" else profile.big, seed=2025)
        run(v.cli(books, "user", "add", "bench", "--role", "admin"), stdin=PASSWORD + "\n")
        ready.write_text(profile.name)
        say(f"{v.label}: built {books} ({transactions(books):,} transactions) in {time.perf_counter() - started:.0f} s")
    v.facts["isu_transactions"] = transactions(v.isu)
    v.facts["big_transactions"] = transactions(v.big)
    v.facts["isu_books_sha256"] = books_digest(v.isu)
    v.facts["report_year"] = last_balance(v.isu, bank_account(v.isu)[0])[0].year - 1


def bean_check(v: Version, books: Path, no_cache: bool = True) -> float:
    return run([v.bin("bean-check"), *(["--no-cache"] if no_cache else []), books / "main.beancount"])[0]


def measure_commands(v: Version, profile: Profile, work: Path, run_no: int) -> None:
    """One run of the ISU-scale commands."""
    year = v.facts["report_year"]
    v.add("isu.bean-check", bean_check(v, v.isu))
    copy = work / f"import-{v.label}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(v.isu, copy, symlinks=True)
    statement = next_statement(v.isu, work / f"month-{v.label}.camt053.xml", days=30, n=profile.month_entries, seed=7)
    v.add("isu.preview", run(v.cli(copy, "import", "--dry-run", "--json", statement))[0])
    took, out = run(v.cli(copy, "import", "--json", statement))
    booked = json.loads(out)
    if not booked.get("imported"):
        raise BenchError(f"{statement.name}: the import booked nothing ({out.strip()[:200]})")
    v.facts["isu_import_booked"] = booked["imported"]
    v.facts["isu_import_to_review"] = booked.get("needs_review")
    v.add("isu.import", took)
    shutil.rmtree(copy)
    v.add("isu.check", run(v.cli(v.isu, "check"))[0])
    pdf = work / f"annual-{v.label}.pdf"
    v.add("isu.report-pdf", run(v.cli(v.isu, "report", "annual", "--year", year, "--format", "pdf", "-o", pdf))[0])
    if not pdf.read_bytes().startswith(b"%PDF"):
        raise BenchError(f"{pdf}: not a PDF")
    with serving(v, v.isu, work) as (session, base, first):
        v.add("isu.first-page", first)
        if run_no == profile.runs - 1:  # warm pages once, on the last run's server
            for path, _label in PAGES:
                v.add(f"isu.page {path}", *latencies(session, base + path.format(year=year), profile))


@contextlib.contextmanager
def serving(v: Version, books: Path, work: Path):
    """``isu-ledger serve`` on a free port, logged in as the bench's admin:
    (session, base URL, seconds from process start to the dashboard's first 200)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = work / f"serve-{v.label}.log"
    session = requests.Session()
    started = time.perf_counter()
    with background(v.cli(books, "serve", "--host", "127.0.0.1", "--port", port), log) as proc:
        token = wait_up(proc, session, base + "/api/csrf", log).json()["csrf_token"]
        r = session.post(base + "/api/login", json={"name": "bench", "password": PASSWORD},
                         headers={"X-CSRFToken": token}, timeout=STARTUP_TIMEOUT)
        if r.status_code != 200:
            raise BenchError(f"login: HTTP {r.status_code}")
        get(session, base + "/")
        yield session, base, time.perf_counter() - started


@contextlib.contextmanager
def fava(v: Version, books: Path, work: Path):
    """That venv's Fava, standalone and read-only, on ``books``: (session, the ledger's base URL)."""
    port = free_port()
    log = work / f"fava-{v.label}.log"
    session = requests.Session()
    with background([v.bin("fava"), "--read-only", "--host", "127.0.0.1", "--port", port, books / "main.beancount"], log) as proc:
        r = wait_up(proc, session, f"http://127.0.0.1:{port}/", log)
        slug = urlsplit(r.headers.get("Location", "")).path.strip("/").split("/")[0]
        if not slug:
            raise BenchError(f"Fava answered / with HTTP {r.status_code}, no ledger to redirect to")
        yield session, f"http://127.0.0.1:{port}/{slug}"


def measure_big(v: Version, profile: Profile, work: Path) -> None:
    """Fava and our report API warm, then import-to-visible, on the big books."""
    year = last_balance(v.big, bank_account(v.big)[0])[0].year - 1
    with fava(v, v.big, work) as (session, base):
        v.add("big.fava", *latencies(session, base + "/api/income_statement", profile))
    say(f"{v.label}: Fava measured")
    with serving(v, v.big, work) as (session, base, _first):
        for name in REPORT_API:
            v.add(f"big.api {name}", *latencies(session, f"{base}/api/reports/{name}?year={year}", profile))
        say(f"{v.label}: report API measured")
        for k in range(profile.runs):
            visible, took = import_to_visible(v, session, base, work, seed=100 + k)
            v.add("big.visible", visible)
            v.add("big.import", took)
            say(f"{v.label}: import-to-visible {visible:.2f} s")


def import_to_visible(v: Version, session: requests.Session, base: str, work: Path, seed: int) -> tuple[float, float]:
    """Seconds from the start of ``isu-ledger import`` of one new week until the
    running server's contributions report shows it; and the import's own seconds."""
    statement = next_statement(v.big, work / f"week-{v.label}.camt053.xml", days=7, n=8, seed=seed)
    year = last_balance(v.big, bank_account(v.big)[0])[0].year
    url = f"{base}/api/reports/contributions?year={year}"
    before = get(session, url).json()["total_received"]
    started = time.perf_counter()
    took, out = run(v.cli(v.big, "import", "--json", statement))
    if not json.loads(out).get("imported"):
        raise BenchError(f"{statement.name}: the import booked nothing ({out.strip()[:200]})")
    while get(session, url).json()["total_received"] == before:
        if time.perf_counter() - started > VISIBLE_TIMEOUT:
            raise BenchError(f"the import was not visible in {url} after {VISIBLE_TIMEOUT:.0f} s")
        time.sleep(0.01)
    return time.perf_counter() - started, took


# --- the report ---------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def figure(row: Row, samples: dict[str, list[float]]) -> dict | None:
    """``row``'s figure from ``samples``: value (seconds), ratio to its yardstick and pass."""
    if not samples.get(row.key):
        return None
    value = statistics.median(samples[row.key]) if row.stat == "median" else p95(samples[row.key])
    out: dict = {"label": row.label, "seconds": round(value, 4), "runs": len(samples[row.key]), "unit": row.unit}
    scale = row.key.split(".")[0]
    yardstick = statistics.median(samples[f"{scale}.bean-check"]) if samples.get(f"{scale}.bean-check") else None
    if row.goal == "command" and yardstick:
        out.update(goal="<= 1.5x bean-check + 0.3 s", ratio=round(value / yardstick, 2),
                   passed=value <= 1.5 * yardstick + 0.3)
    elif row.goal == "visible" and yardstick:
        out.update(goal="<= 1.5x bean-check", ratio=round(value / yardstick, 2), passed=value <= 1.5 * yardstick)
    elif row.goal == "page":
        out.update(goal="p95 <= 100 ms", passed=value <= 0.100)
    elif row.goal == "fava" and samples.get("big.fava"):
        faster = p95(samples["big.fava"]) / value
        out.update(goal=">= 10x faster than Fava", faster=round(faster, 1), passed=faster >= 10)
    return out


def report(versions: list[Version], profile: Profile) -> dict:
    """The JSON-ready result of the run (``render`` prints it as the table)."""
    digests = {v.facts.get("isu_books_sha256") for v in versions}
    return {
        "profile": profile.name,
        "runs": profile.runs,
        "requests": profile.requests,
        "demo_today": DEMO_TODAY if profile.demo else None,
        "same_isu_books": len(digests) == 1,
        "sections": [(title, [row.key for row in section]) for title, section in rows(profile)],
        "versions": [
            {"label": v.label, "venv": str(v.venv), **v.facts,
             "figures": {row.key: f for _t, section in rows(profile) for row in section
                         if (f := figure(row, v.samples)) is not None}}
            for v in versions
        ],
    }


def cell(f: dict | None) -> str:
    if f is None:
        return "-"
    text = f"{f['seconds'] * 1000:,.1f} ms" if f["unit"] == "ms" else f"{f['seconds']:,.2f} s"
    if "ratio" in f:
        text += f" ({f['ratio']:.2f}x)"
    if "faster" in f:
        text += f" ({f['faster']:,.1f}x faster)"
    if "passed" in f:
        text += " pass" if f["passed"] else " FAIL"
    return text


def render(result: dict) -> str:
    """The figures table of ``report``'s result, as text: what was measured, the
    table (one column per version), then the goals missed."""
    versions = result["versions"]
    lines = [f"isu-ledger speed ({result['profile']} profile: commands median of {result['runs']} runs, "
             f"web p95 of {result['requests']} warm requests; ratios to bean-check --no-cache of the same books)"]
    demo = f" (demo --today {result['demo_today']})" if result["demo_today"] else ""
    lines.extend(f"  {v['label']}: {v['venv']}; ISU scale {v['isu_transactions']:,} transactions{demo}, big "
                 f"{v['big_transactions']:,}; the month's import booked {v['isu_import_booked']} entries "
                 f"({v['isu_import_to_review']} to review)" for v in versions)
    if len(versions) > 1:
        lines.append(f"  ISU-scale books identical across versions: {'yes' if result['same_isu_books'] else 'no'}")
    lines += ["", *_table(result), ""]
    misses = [f"  {v['label']}: {f['label'].strip()}" for v in versions for f in v["figures"].values() if f.get("passed") is False]
    lines.append(f"goals missed: {len(misses)}" if misses else "every goal met")
    return "\n".join(lines + misses)


def _table(result: dict) -> list[str]:
    versions = result["versions"]
    head = ["figure", "goal", *(v["label"] for v in versions)]
    table = []
    for title, keys in result["sections"]:
        table.append([title, "", *("" for _ in versions)])
        for key in keys:
            found = [v["figures"].get(key) for v in versions]
            known = next((f for f in found if f), None)
            if known is not None:
                table.append(["  " + known["label"], known.get("goal", ""), *(cell(f) for f in found)])
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(head), "-+-".join("-" * w for w in widths), *map(line, table)]


# --- main -----------------------------------------------------------------------------------


def parse_venvs(values: list[str]) -> list[tuple[str, Path]]:
    """``LABEL=PATH`` or ``PATH`` (labelled by the folder holding the venv); default: this venv."""
    out = []
    for value in values or [sys.prefix]:
        label, _, path = value.rpartition("=")
        venv = Path(path).expanduser().resolve()
        label = label or (venv.parent.name if venv.name.startswith(".") else venv.name)
        if not (venv / "bin" / "isu-ledger").is_file():
            raise BenchError(f"{venv}: no bin/isu-ledger in this venv")
        if label in (lbl for lbl, _ in out):
            raise BenchError(f"two venvs labelled {label!r}: name them LABEL=PATH")
        out.append((label, venv))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="The module docstring (bench/perf.py) says what each figure measures.")
    ap.add_argument("--venv", action="append", metavar="[LABEL=]PATH",
                    help="a venv with isu-ledger installed; repeat to compare (default: the venv running this script)")
    ap.add_argument("--work", type=Path, help="build the books here and keep them; reused by a later run "
                    "(default: a temporary directory, removed)")
    ap.add_argument("--runs", type=int, help="runs of each command (default 3; --quick 1)")
    ap.add_argument("--quick", action="store_true", help="a tiny profile: a few hundred generated transactions, one run")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    args = ap.parse_args(argv)
    profile = QUICK if args.quick else FULL
    if args.runs:
        profile = Profile(**{**profile.__dict__, "runs": max(1, args.runs)})
    try:
        with contextlib.ExitStack() as stack:
            work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="isu-perf-")))
            work = work.resolve()
            versions = [Version(label, venv, work / label) for label, venv in parse_venvs(args.venv)]
            for v in versions:
                v.root.mkdir(parents=True, exist_ok=True)
                build_books(v, profile)
            for k in range(profile.runs):
                for v in versions:
                    measure_commands(v, profile, v.root, k)
                say(f"ISU scale: run {k + 1} of {profile.runs} done")
            for k in range(profile.runs):
                for v in versions:
                    v.add("big.bean-check", bean_check(v, v.big))
                    if k == 0:
                        bean_check(v, v.big, no_cache=False)  # writes Beancount's cache (when the load takes over 1 s)
                    v.add("big.bean-check-cached", bean_check(v, v.big, no_cache=False))
            for v in versions:
                measure_big(v, profile, v.root)
            result = report(versions, profile)
    except BenchError as exc:
        print(f"bench/perf.py: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
