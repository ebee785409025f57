"""Speed at 100x scale: one table, ours beside ``bean-check`` and Fava.

    .venv/bin/python bench/scale_bench.py            # the demo books and ~100,000 transactions
    .venv/bin/python bench/scale_bench.py --quick    # a small profile (CI: tests/test_scale_small.py)

Two ledgers, built the real way (nothing writes ledger text but the product):

* **ISU scale**: the demo books (``app.demo.build.build_demo``: budgets, pledges,
  the buffer, closed and signed-off years, the open year);
* **100k**: a copy of those books plus generated camt.053 statements of the
  open year imported through ``import_files`` (receipts from Permanent
  Missions of States Parties, GICHD transfers, bank fees), until the ledger
  holds about 100,000 transactions.

For each ledger it measures, in one run:

* a bare ``bean-check --no-cache`` of the ledger (a true parse: Beancount's
  own pickle cache is disabled) and Fava's ``/api/income_statement``, first
  request in a fresh process (cold) and again (warm) - the yardsticks;
* our cold start: a new process that builds the served app (``create_wsgi``)
  and answers the first contributions report request, with the persistent
  load cache warm (the normal state after any write) and with it empty;
* warm report API latency: p50/p95 of N requests each of the contributions,
  annual and buffer JSON reports (Flask test client, logged in);
* import-to-visible: a generated 1,000-entry statement continuing from the
  ledger's last balance, through ``import_files``, until the report API shows
  the new total.

Targets at 100k: warm p95 <= 50 ms, import-to-visible <= 1.5x bean-check,
cold start <= 0.5x bean-check.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@isu-ledger.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@isu-ledger.invalid"}
DEMO_TODAY = datetime.date(2026, 3, 15)  # the demo's story ends here: 2026 is open up to February
PER_STATEMENT = 25_000  # entries per generated statement (the importer refuses files over 50 MB)
CENT = Decimal("0.01")
CACHE_DIR = ".isu-cache"
GICHD_IBAN = "CH1000240240FP1000010"  # paid by name: booking knows the GICHD's names


@dataclass(frozen=True)
class Profile:
    name: str
    demo: bool  # ISU scale = the demo books (else a fresh ledger with `small` generated entries)
    small: int  # generated entries of the small ledger when not the demo
    big: int  # transactions the big ledger should hold (about)
    requests: int  # warm requests per report
    import_entries: int  # entries of the import-to-visible statement


FULL = Profile("full", demo=True, small=0, big=100_000, requests=200, import_entries=1000)
QUICK = Profile("quick", demo=False, small=300, big=3_000, requests=20, import_entries=100)

TARGETS = {  # metric -> (max ratio to bean-check or absolute ms, kind)
    "warm p95": (50.0, "ms"),
    "import-to-visible": (1.5, "ratio"),
    "cold start (cache warm)": (0.5, "ratio"),
}


# --- generated statements ------------------------------------------------------------


def _state_payers() -> list[tuple[str, str]]:
    """(payer line, State name) of every State Party the registry names: the
    Permanent Mission in Geneva, as most States pay."""
    from ledger.registry import Registry

    return [(f"PERMANENT MISSION OF {c.name.upper()}", c.name)
            for c in Registry.load(None).contributors() if c.kind == "state_party" and c.iso2 not in (None, "CH")]


def statement_xml(iban: str, gichd_iban: str, opening: Decimal, start: datetime.date, end: datetime.date,
                  n: int, seed: int, ident: str) -> tuple[str, Decimal]:
    """A camt.053.001.08 statement of ``n`` entries booked from ``start`` to
    ``end``, opening at ``opening``; returns (xml, closing balance).

    Seeded: the same arguments give the same bytes. References are unique
    per ``ident`` so statements never collide in de-duplication.
    """
    rng = random.Random(seed)
    payers = _state_payers()
    days = (end - start).days + 1
    balance = opening
    chunks = []
    for i in range(n):
        day = start + datetime.timedelta(days=i * days // n)
        ref = f"SB{ident}{i:07d}"
        kind = rng.random()
        if kind < 0.10 and balance > 100_000:
            amount, credit = Decimal(rng.randrange(1000, 5000)) * 10, False
            party = (f"<RltdPties><Cdtr><Pty><Nm>GICHD</Nm></Pty></Cdtr><CdtrAcct><Id><IBAN>{gichd_iban}</IBAN></Id></CdtrAcct>"
                     f"</RltdPties><RmtInf><Ustrd>ISU costs {day:%Y-%m} {i}</Ustrd></RmtInf>")
            code = ("PMNT", "ICDT", "DMCT")
        elif kind < 0.15 and balance > 1000:
            amount, credit = Decimal("25.00"), False
            party, code = "<RmtInf><Ustrd>ACCOUNT MAINTENANCE FEE</Ustrd></RmtInf>", ("ACMT", "MDOP", "CHRG")
        else:
            payer, state = rng.choice(payers)
            amount, credit = Decimal(rng.randrange(100000, 20000000)) / 100, True
            text = f"ISU {day.year} Core Work Plan {state} ref {rng.randrange(10000, 99999)}/{i}"
            party = (f"<RltdPties><Dbtr><Pty><Nm>{payer}</Nm><PstlAdr><Ctry>CH</Ctry></PstlAdr></Pty></Dbtr></RltdPties>"
                     f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>")
            code = ("PMNT", "RCDT", "XBCT")
        balance += amount if credit else -amount
        ind = "CRDT" if credit else "DBIT"
        chunks.append(
            f'<Ntry><Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
            f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>{code[0]}</Cd><Fmly><Cd>{code[1]}</Cd><SubFmlyCd>{code[2]}</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f'<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}-1</AcctSvcrRef></Refs><Amt Ccy="CHF">{amount}</Amt>'
            f"<CdtDbtInd>{ind}</CdtDbtInd>{party}</TxDtls></NtryDtls></Ntry>\n"
        )
    opening_day = start - datetime.timedelta(days=1)

    def bal(code: str, amount: Decimal, day: datetime.date) -> str:
        return (f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{abs(amount)}</Amt>'
                f'<CdtDbtInd>{"CRDT" if amount >= 0 else "DBIT"}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n')

    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
        f"<BkToCstmrStmt>\n<GrpHdr><MsgId>M-{ident}</MsgId><CreDtTm>{end}T23:00:00</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>S-{ident}</Id><CreDtTm>{end}T23:00:00</CreDtTm><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>CHF</Ccy></Acct>\n"
        + bal("OPBD", opening, opening_day) + bal("CLBD", balance, end)
        + "".join(chunks) + "</Stmt></BkToCstmrStmt></Document>\n"
    )
    return xml, balance


@dataclass
class BankState:
    iban: str
    last_day: datetime.date  # the last day a statement covered
    balance: Decimal  # the bank balance at the end of that day


def bank_state(ledger: Path) -> BankState:
    """Where the next statement starts: the last balance assertion of the bank."""
    from beancount.core import data

    from ledger import conventions as C
    from ledger.loader import load_books

    entries = load_books(ledger).entries
    iban = last = None
    for e in entries:
        if isinstance(e, data.Open) and e.account == C.BANK:
            iban = e.meta.get(C.META_IBAN)
        if isinstance(e, data.Balance) and e.account == C.BANK:
            last = e
    if last is None:
        raise SystemExit(f"{ledger}: no balance assertion of the bank account to continue from")
    return BankState(iban=iban.replace(" ", ""), last_day=last.date - datetime.timedelta(days=1),
                     balance=last.amount.number)


def import_generated(ledger: Path, work: Path, n: int, *, seed: int, ident: str, days: int = 30) -> tuple[Decimal, float]:
    """Import ``n`` generated entries over ``days`` days after the ledger's last
    statement; returns (new bank balance, seconds the import took)."""
    from importers.importing import import_files

    state = bank_state(ledger)
    start = state.last_day + datetime.timedelta(days=1)
    xml, closing = statement_xml(state.iban, GICHD_IBAN, state.balance, start,
                                 start + datetime.timedelta(days=days - 1), n, seed, ident)
    path = work / f"bench-{ident}.camt053.xml"
    path.write_text(xml, encoding="utf-8")
    started = time.perf_counter()
    import_files(ledger, [path], user="bench:import")
    return closing, time.perf_counter() - started


def transactions(ledger: Path) -> int:
    from beancount.core import data

    from ledger.loader import load_books

    return sum(isinstance(e, data.Transaction) for e in load_books(ledger).entries)


# --- building the two ledgers ---------------------------------------------------------


def build_small(profile: Profile, root: Path, work: Path) -> Path:
    """ISU scale: the demo books, or (quick profile) a fresh ledger with a few entries."""
    target = root / "isu-scale"
    if profile.demo:
        from app.demo.build import build_demo

        build_demo(target, today=DEMO_TODAY, accounts=False, say=lambda _line: None)
    else:
        from ledger.books import init_ledger

        init_ledger(target, opening_balance="612408.15", as_of=datetime.date(DEMO_TODAY.year - 1, 12, 31), user="bench:init")
        import_generated(target, work, profile.small, seed=1, ident="S0", days=59)
    return target


def build_big(profile: Profile, small: Path, root: Path, work: Path) -> Path:
    """A copy of the small ledger grown to about ``profile.big`` transactions
    by imports of generated statements (each at most PER_STATEMENT entries)."""
    target = root / "100k"
    shutil.copytree(small, target, ignore=shutil.ignore_patterns("isu-cache", "*.sqlite3"))
    missing = profile.big - transactions(target)
    k = 0
    while missing > 0:
        n = min(missing, PER_STATEMENT)
        import_generated(target, work, n, seed=100 + k, ident=f"B{k}", days=50)
        missing -= n
        k += 1
    return target


# --- measurements ---------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO)}
    env.pop("BEANCOUNT_LOAD_CACHE_FILENAME", None)
    return env


def _timed_child(code: str, *args: str) -> tuple[float, dict]:
    """Run ``code`` in a new interpreter; (wall seconds, the JSON it printed last)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], env=_env(), cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def bean_check(ledger: Path) -> float:
    """A bare ``bean-check`` with Beancount's pickle cache disabled (``--no-cache``):
    a true parse, plugins included, in a new process."""
    check = Path(sys.executable).with_name("bean-check")
    started = time.perf_counter()
    subprocess.run([str(check), "--no-cache", str(ledger / "main.beancount")], env=_env(), check=True,
                   capture_output=True)
    return time.perf_counter() - started


FAVA_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from fava.application import create_app
app = create_app([sys.argv[1]], load=False, read_only=True)
client = app.test_client()
slug = client.get("/").headers["Location"].strip("/").split("/")[0]
r = client.get(f"/{slug}/api/income_statement")
assert r.status_code == 200, r.status_code
t1 = time.perf_counter()
r = client.get(f"/{slug}/api/income_statement")
assert r.status_code == 200, r.status_code
print(json.dumps({"first": t1 - t0, "warm": time.perf_counter() - t1}))
"""


def fava(ledger: Path) -> tuple[float, float]:
    """Fava's ``/api/income_statement``: (new process to first answer, a second request)."""
    wall, out = _timed_child(FAVA_CHILD, str(ledger / "main.beancount"))
    return wall, out["warm"]


COLD_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from app.web import create_app, create_wsgi
ledger, db, secret, year, served = sys.argv[1:6]
config = {"LEDGER_DIR": ledger, "DATABASE_URL": db, "SECRET_KEY": secret, "SESSION_COOKIE_SECURE": False}
app = (create_wsgi if served == "wsgi" else create_app)(config)
client = app.test_client()
token = client.get("/api/csrf").get_json()["csrf_token"]
r = client.post("/api/login", json={"name": "bench", "password": sys.argv[6]}, headers={"X-CSRFToken": token})
assert r.status_code == 200, r.get_data(as_text=True)
r = client.get(f"/api/reports/contributions?year={year}")
assert r.status_code == 200, r.get_data(as_text=True)
from ledger.loader import cache_info
print(json.dumps({"seconds": time.perf_counter() - t0, "cache": cache_info(), "total": r.get_json()["total_received"]}))
"""
PASSWORD = "bench horse battery staple"
SECRET = "bench-secret-key-not-for-production"


def prepare_app(ledger: Path, work: Path):
    """The app of the in-process measurements, with one committee user."""
    from app.web import create_app
    from app.web.users import add_user

    db = f"sqlite:///{work / (ledger.name + '.sqlite3')}"
    app = create_app({"LEDGER_DIR": ledger, "DATABASE_URL": db, "SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": False})
    with app.extensions["isu_db"]() as s:
        add_user(s, "bench", "committee", PASSWORD)
        s.commit()
    return app, db


def cold_start(ledger: Path, db: str, year: int, served: str) -> tuple[float, dict]:
    wall, out = _timed_child(COLD_CHILD, str(ledger), db, SECRET, str(year), served, PASSWORD)
    return wall, out


def logged_in_client(app):
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    r = client.post("/api/login", json={"name": "bench", "password": PASSWORD}, headers={"X-CSRFToken": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    return client


def report_json(client, name: str, year: int) -> dict:
    r = client.get(f"/api/reports/{name}?year={year}")
    if r.status_code != 200:
        raise SystemExit(f"report {name} {year}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return json.loads(r.get_data())


def warm_latency(client, name: str, year: int, n: int) -> tuple[float, float]:
    """(p50, p95) in ms of ``n`` requests after one warm-up request."""
    report_json(client, name, year)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        report_json(client, name, year)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]


def import_to_visible(ledger: Path, client, work: Path, n: int, year: int) -> tuple[float, str, str]:
    """Seconds from the start of a ``n``-entry import until the report API shows
    its commit and a new total; (seconds, total before, total after)."""
    from ledger.store import gitrepo

    before = report_json(client, "contributions", year)["total_received"]
    state = bank_state(ledger)
    start = state.last_day + datetime.timedelta(days=1)
    # The start day is part of the ident: a second run on the same ledger
    # (--keep) books new references instead of finding them all booked and
    # waiting forever for a total that cannot change.
    xml, _ = statement_xml(state.iban, GICHD_IBAN, state.balance, start, start + datetime.timedelta(days=20),
                           n, seed=7, ident=f"V{ledger.name.replace('-', '')}{start:%Y%m%d}")
    path = work / f"visible-{ledger.name}.camt053.xml"
    path.write_text(xml, encoding="utf-8")
    from importers.importing import import_files

    started = time.perf_counter()
    if not import_files(ledger, [path], user="bench:import").imported:
        raise SystemExit(f"{path.name}: nothing imported (booked already?); the total cannot change")
    head = gitrepo.head(ledger)
    while True:
        report = report_json(client, "contributions", year)
        if report["ledger_commit"] == head and report["total_received"] != before:
            break
        if time.perf_counter() - started > 3600:
            raise SystemExit("the import never became visible in the report API")
    return time.perf_counter() - started, before, report["total_received"]


@dataclass
class Figures:
    rows: dict[str, float] = field(default_factory=dict)  # metric -> value
    bean_check: float = 0.0
    transactions: int = 0
    notes: list[str] = field(default_factory=list)


def measure(ledger: Path, work: Path, profile: Profile, year: int, say) -> Figures:
    from ledger import load_cache
    from ledger.loader import clear_cache

    f = Figures(transactions=transactions(ledger))
    say(f"{ledger.name}: {f.transactions} transactions")
    f.bean_check = bean_check(ledger)
    say(f"  bean-check --no-cache {f.bean_check:.2f} s")
    cold, warm = fava(ledger)
    f.rows["Fava income_statement, new process (s)"] = cold
    f.rows["Fava income_statement, warm (ms)"] = warm * 1000
    app, db = prepare_app(ledger, work)
    load_cache.clear(ledger)
    seconds, out = cold_start(ledger, db, year, "app")
    f.rows["cold start, empty cache (s)"] = seconds
    seconds, out = cold_start(ledger, db, year, "app")
    if out["cache"]["persistent_hits"] != 1 or out["cache"]["loads"] != 0:
        raise SystemExit(f"cold start did not use the persistent cache: {out['cache']}")
    f.rows["cold start (cache warm)"] = seconds
    seconds, out = cold_start(ledger, db, year, "wsgi")
    f.rows["cold start with Fava mounted (s)"] = seconds
    say(f"  cold starts done")
    clear_cache()
    client = logged_in_client(app)
    for name in ("contributions", "annual", "buffer"):
        p50, p95 = warm_latency(client, name, year, profile.requests)
        f.rows[f"warm p50 {name} (ms)"] = p50
        f.rows[f"warm p95 {name} (ms)"] = p95
    seconds, before, after = import_to_visible(ledger, client, work, profile.import_entries, year)
    f.rows["import-to-visible"] = seconds
    f.notes.append(f"{ledger.name}: contributions {year} total_received {before} -> {after}")
    say(f"  import-to-visible {seconds:.2f} s")
    return f


# --- the table --------------------------------------------------------------------------------

ROWS = (  # (metric, unit, target: ("ratio", x) to bean-check or ("ms", x), or None)
    ("bean-check --no-cache", "s", None),
    ("Fava income_statement, new process (s)", "s", None),
    ("Fava income_statement, warm (ms)", "ms", None),
    ("cold start (cache warm)", "s", ("ratio", 0.5)),
    ("cold start, empty cache (s)", "s", None),
    ("cold start with Fava mounted (s)", "s", None),
    ("warm p50 contributions (ms)", "ms", None),
    ("warm p95 contributions (ms)", "ms", ("ms", 50.0)),
    ("warm p50 annual (ms)", "ms", None),
    ("warm p95 annual (ms)", "ms", ("ms", 50.0)),
    ("warm p50 buffer (ms)", "ms", None),
    ("warm p95 buffer (ms)", "ms", ("ms", 50.0)),
    ("import-to-visible", "s", ("ratio", 1.5)),
)


def table(small: Figures, big: Figures) -> tuple[str, bool]:
    """The one table (text) and whether every target holds at the big scale."""
    head = ("metric", f"ISU scale ({small.transactions:,} txns)", f"big ({big.transactions:,} txns)",
            "bean-check (big)", "ratio", "target", "pass")
    lines, ok = [], True
    for metric, unit, target in ROWS:
        a = small.bean_check if metric.startswith("bean-check") else small.rows[metric]
        b = big.bean_check if metric.startswith("bean-check") else big.rows[metric]
        ratio = f"{b / big.bean_check:.2f}x" if unit == "s" else ""
        verdict, goal = "", ""
        if target is not None:
            kind, limit = target
            good = (b / big.bean_check <= limit) if kind == "ratio" else (b <= limit)
            goal = f"<= {limit}x bean-check" if kind == "ratio" else f"<= {limit:g} ms"
            verdict = "pass" if good else "FAIL"
            ok &= good
        label = metric if metric.endswith(")") or unit == "s" and metric.startswith("bean") else f"{metric} ({unit})"
        lines.append((label, f"{a:,.2f}", f"{b:,.2f}", f"{big.bean_check:,.2f} s", ratio, goal, verdict))
    widths = [max(len(str(row[i])) for row in (head, *lines)) for i in range(len(head))]
    fmt = lambda row: " | ".join(str(c).ljust(w) for c, w in zip(row, widths))  # noqa: E731
    text = "\n".join([fmt(head), "-+-".join("-" * w for w in widths), *map(fmt, lines)])
    return text, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", default=os.environ.get("ISU_BENCH_QUICK") == "1",
                    help="the small profile (CI): a fresh ledger and a few thousand transactions")
    ap.add_argument("--keep", type=Path, help="build the ledgers here and keep them (default: a temporary directory)")
    args = ap.parse_args(argv)
    profile = QUICK if args.quick else FULL
    for key, value in GIT_ENV.items():
        os.environ.setdefault(key, value)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="isu-scale-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        work = root / "work"
        work.mkdir(exist_ok=True)
        started = time.perf_counter()
        small = build_small(profile, root, work)
        say(f"built {small.name} in {time.perf_counter() - started:.0f} s")
        small_figures = measure(small, work, profile, DEMO_TODAY.year, say)
        started = time.perf_counter()
        big = build_big(profile, small, root, work)
        say(f"built {big.name} in {time.perf_counter() - started:.0f} s")
        big_figures = measure(big, work, profile, DEMO_TODAY.year, say)
    text, ok = table(small_figures, big_figures)
    print(f"scale bench ({profile.name} profile; {profile.requests} warm requests per report; "
          f"import of {profile.import_entries} entries; bean-check with --no-cache)")
    print(text)
    for note in small_figures.notes + big_figures.notes:
        print(note)
    print("all targets met" if ok else "some targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
