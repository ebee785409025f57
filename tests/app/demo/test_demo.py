"""The demo books: built once per module through the real import path, then
checked the way a user would - bean-check, isu-ledger check, Fava, the
review queue, the year locks - and read for the story they must tell.

The build is pinned to ``TODAY`` so the report goldens under
``tests/golden/reports/demo/`` never change from one day to the next
(``ISU_UPDATE_GOLDENS=1`` regenerates them; review the diff).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from beancount.core import data

from ledger import conventions, receipts
from app.demo.build import build_demo, create_demo_accounts
from ledger.finance import yearend
from ledger.loader import load_books
from ledger.plugins.year_lock import locked_years

TODAY = datetime.date(2026, 11, 28)
FIRST = 2020
REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO.parent / "shared" / "schemas" / "camt"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "books"
    lines: list[str] = []
    result = build_demo(path, today=TODAY, say=lines.append)
    return path, result, lines


def transactions(path):
    """The books' transactions, without the year-end closings (bookkeeping, not activity)."""
    return [e for e in load_books(path).entries if isinstance(e, data.Transaction) and not conventions.is_closing(e)]


def contribution_postings(path):
    for txn in transactions(path):
        for p in txn.postings:
            if conventions.is_contribution_account(p.account):
                yield txn, p


# --- the books are sound ---------------------------------------------------------


def test_bean_check_is_clean(demo):
    path, _, _ = demo
    done = subprocess.run([str(REPO / ".venv" / "bin" / "bean-check"), str(path / conventions.MAIN_FILE)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_isu_check_and_empty_review_queue(cli, demo):
    path, _, _ = demo
    assert cli(path, "check")[0] == 0
    code, out, _ = cli(path, "review", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_fava_loads_and_shows_the_budgets(demo):
    from fava.core import FavaLedger

    path, _, _ = demo
    ledger = FavaLedger(str(path / conventions.MAIN_FILE))
    assert not ledger.errors, ledger.errors[:3]
    assert not ledger.budgets.errors
    for year in (TODAY.year - 1, TODAY.year):
        staff = ledger.budgets.calculate(f"{conventions.EXPENSES}:Staff", datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))
        assert staff.get("CHF", 0) > 400000, (year, staff)


def test_past_years_signed_off_current_open(demo):
    path, result, lines = demo
    locked = locked_years(load_books(path).entries)
    assert sorted(locked) == list(range(FIRST, TODAY.year))
    assert {s.auditor for s in locked.values()} == {"A. Auditor"}
    assert {yearend.on_behalf_of(s) for s in locked.values()} == {"Example Audit SA"}
    assert {yearend.opinion_of(s) for s in locked.values()} == {"unmodified"}
    assert [y.status.split(" (")[0] for y in result.years] == ["closed and signed off"] * (TODAY.year - FIRST) + ["open"]
    assert len(lines) == TODAY.year - FIRST + 1 and all(line[:4].isdigit() for line in lines)


def test_in_march_last_year_is_open_and_counts_its_january_receipt(tmp_path, cli):
    """Before 16 March the previous year is still open: a receipt for it that
    the bank booked in January counts for it (policy 4), in its contributions
    report and its preliminary annual report; once closed it stays there."""
    path = tmp_path / "books"
    result = build_demo(path, today=datetime.date(2026, 3, 10), say=lambda _line: None, accounts=False)
    assert [(y.year, y.status.split(" (")[0]) for y in result.years[-3:]] == [
        (2024, "closed and signed off"), (2025, "open"), (2026, "open")]
    entries = load_books(path).entries
    late = [(txn, p, state) for txn, p, state, wp_year in receipts.contribution_postings(entries)
            if txn.date.year == 2026 and wp_year == 2025]
    assert len(late) == 1 and late[0][0].date.month == 1
    txn, posting, state = late[0]
    assert conventions.META_DESIGNATED_YEAR not in (posting.meta or {})
    report = json.loads(cli(path, "report", "contributions", "--year", "2025", "--format", "json")[1])
    row = next(r for r in report["rows"] if r["state_party"] == state)
    assert row["received"] == f"{-posting.units.number:.2f}" and row["receipts"] == 1
    assert report["status"] == "preliminary"
    assert 2025 not in locked_years(entries)


def test_bank_balance_matches_last_statement(demo):
    path, _, _ = demo
    balances = [e for e in load_books(path).entries if isinstance(e, data.Balance) and e.account == conventions.BANK]
    assert balances[-1].date == TODAY.replace(day=1)  # the October statement, asserted on 1 November
    assert len(balances) == 12 * (TODAY.year - FIRST) + TODAY.month - 1 + 1  # + the opening balance


# --- the story ---------------------------------------------------------------------


def test_about_thirty_states_pay_each_year(demo):
    path, result, _ = demo
    states: dict[int, set] = {}
    for _, p in contribution_postings(path):
        states.setdefault(int(p.meta[conventions.META_WP_YEAR]), set()).add(p.meta[conventions.META_STATE_PARTY])
    for year in range(FIRST, TODAY.year):
        assert 25 <= len(states[year]) <= 36, (year, len(states[year]))
    assert all(25 <= y.states <= 36 for y in result.years)


def test_the_year_holds_what_real_years_hold(demo):
    path, _, _ = demo
    txns = transactions(path)
    metas = [p.meta for _, p in contribution_postings(path)]
    currencies = {m[conventions.META_INSTRUCTED].split()[1] for m in metas if m.get(conventions.META_INSTRUCTED)}
    assert {"EUR", "USD", "NOK", "SEK", "DKK", "GBP", "AUD", "CAD"} <= currencies
    assert any(sum(conventions.is_contribution_account(p.account) for p in t.postings) >= 3 for t in txns), "a batch"
    assert sum(1 for t in txns if t.meta.get(conventions.META_REVERSAL_OF)) >= TODAY.year - FIRST, "a reversal a year"
    assert any(p.account == conventions.ADVANCE and p.units.number < 0 for t in txns for p in t.postings), "an advance"
    late = [t for t, p in contribution_postings(path) if int(p.meta[conventions.META_WP_YEAR]) < t.date.year and t.meta.get(conventions.META_BANK_REF)]
    assert late, "a late payment for the previous year"
    charged = [t for t in txns if t.meta.get(conventions.META_BANK_REF) and any(p.account == conventions.BANK_CHARGES for p in t.postings)
               and any(conventions.is_contribution_account(p.account) for p in t.postings)]
    assert len(charged) >= 2 * (TODAY.year - FIRST)
    resolved = [p for _, p in contribution_postings(path) if str(p.meta.get(conventions.META_WHY, "")).startswith("resolved by")]
    assert len(resolved) >= 2 * (TODAY.year - FIRST + 1)
    assert len((path / conventions.RULES_FILE).read_text().splitlines()) > 2, "rules learned with --remember"
    kinds = Counter(t.meta.get(conventions.META_KIND) for t in txns)
    assert kinds["expenditure"] > 200 and kinds["close"] >= 1 and kinds["recognition"] >= 1 and kinds["buffer"] == 2
    assert any(p.account == conventions.INTEREST for t in txns for p in t.postings)


def test_buffer_reached_in_some_years_and_drawn_in_one(demo):
    path, _, _ = demo
    closed = {}
    for e in load_books(path).entries:
        if isinstance(e, data.Custom) and e.type == "isu-year-closed":
            closed[int(e.values[0].value)] = e.meta
    assert set(closed) == set(range(FIRST, TODAY.year))
    assert any(m["buffer_balance"] >= m["buffer_target"] for m in closed.values())
    assert sum(1 for m in closed.values() if m["to_buffer"] < 0) == 1


def test_budgets_revised_by_the_meetings(demo):
    from ledger.finance.budgets import budget_lines

    path, _, _ = demo
    entries = load_books(path).entries
    decisions = {d.decision for line in budget_lines(entries, 2021) for d in line.decisions}
    assert "approved by the 19th Meeting of the States Parties" in decisions
    assert any("Fifth Review Conference" in d.decision for line in budget_lines(entries, 2024) for d in line.decisions)
    total = sum(line.final for line in budget_lines(entries, 2023))
    assert 1_000_000 <= total <= 1_250_000


def test_every_format_went_through_the_import(demo):
    from lxml import etree

    path, _, _ = demo
    docs = sorted((path / conventions.DOCUMENTS_DIR).rglob("*.*"))
    names = [d.name for d in docs]
    assert any(n.endswith(".mt940") for n in names)
    assert {n.rsplit("-", 1)[1] for n in names if n.endswith(".csv")} == {"en.csv", "de.csv", "fr.csv"}
    assert any(n.endswith(".camt054.xml") for n in names)
    assert any(n.endswith(".xlsx") for n in names)
    if not SCHEMAS.is_dir():
        pytest.skip("../shared/schemas missing")
    versions = Counter()
    schemas = {}
    for doc in docs:
        if doc.suffix != ".xml":
            continue
        root = etree.parse(str(doc)).getroot()
        version = root.nsmap[None].rsplit(":", 1)[1]
        versions[version] += 1
        schema = schemas.get(version) or schemas.setdefault(version, etree.XMLSchema(etree.parse(str(SCHEMAS / f"{version}.xsd"))))
        assert schema.validate(root), (doc.name, schema.error_log.last_error)
    assert {"camt.053.001.04", "camt.053.001.08", "camt.054.001.08"} <= set(versions)


def test_demo_accounts_one_per_role(demo):
    from app.web import users
    from app.web.serving import user_session

    path, result, _ = demo
    assert sorted(result.accounts) == ["demo-admin", "demo-auditor", "demo-committee", "demo-finance"]
    with user_session(path, {}) as session:
        roles = {name: users.get_user(session, name).role for name in result.accounts}
    assert roles == {f"demo-{r}": r for r in ("admin", "auditor", "committee", "finance")}
    again = create_demo_accounts(path, {})
    assert again.keys() == result.accounts.keys() and again != result.accounts  # new passwords, same accounts


def test_demo_refuses_a_directory_with_books(cli, demo):
    path, _, _ = demo
    code, _, err = cli(path, "demo", str(path), "--today", TODAY.isoformat())
    assert code == 2 and "already holds a ledger" in err


# --- reports ---------------------------------------------------------------------------

REPORTS = (("contributions", None), ("annual", None), ("budget", None), ("buffer", None), ("statement", "NOR"))
YEARS = (TODAY.year - 1, TODAY.year)  # audited and preliminary


def _masked(doc):
    """A JSON report without what names this particular build (hashes, commit)."""
    if isinstance(doc, dict):
        return {k: ("<masked>" if k in ("ledger_sha256", "ledger_commit", "fingerprint") and v else _masked(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_masked(v) for v in doc]
    return doc


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("name,state", REPORTS)
def test_report_golden(cli, assert_golden, demo, name, state, year):
    path, _, _ = demo
    extra = ["--state-party", state] if state else []
    code, out, err = cli(path, "report", name, "--year", str(year), "--format", "json", *extra)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == ("audited" if year < TODAY.year else "preliminary")
    suffix = f"-{state}" if state else ""
    assert_golden(f"reports/demo/{name}-{year}{suffix}", _masked(doc))


@pytest.mark.parametrize("fmt", ("xlsx", "pdf", "html"))
def test_reports_render_in_every_format(cli, demo, tmp_path, fmt):
    path, _, _ = demo
    for name, state in REPORTS:
        for year in YEARS:
            out = tmp_path / f"{name}-{year}.{fmt}"
            extra = ["--state-party", state] if state else []
            code, _, err = cli(path, "report", name, "--year", str(year), "--format", fmt, "-o", str(out), *extra)
            assert code == 0, err
            content = out.read_bytes()
            assert content[:4] in (b"PK\x03\x04", b"%PDF") or content.lstrip()[:1] == b"<", (name, year, fmt)


def test_report_pack(cli, demo, tmp_path):
    path, _, _ = demo
    out = tmp_path / "pack.zip"
    code, _, err = cli(path, "report", "pack", "--year", str(TODAY.year - 1), "-o", str(out))
    assert code == 0, err
    assert zipfile.ZipFile(out).testzip() is None


# --- determinism ---------------------------------------------------------------------------


def _ledger_files(root: Path) -> dict[str, bytes]:
    """Every file the books' git repository tracks (ledger files, registry,
    archived documents) - not the web app's database or other working files."""
    tracked = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True).stdout
    files = {}
    for rel in sorted(name.decode() for name in tracked.split(b"\0") if name):
        content = (root / rel).read_bytes()
        if rel == conventions.RULES_FILE:  # created_at is when staff clicked: the real clock
            content = b"\n".join(b",".join(c for i, c in enumerate(line.split(b",")) if i != 5)
                                 for line in content.splitlines())
        files[rel] = content
    return files


def test_same_seed_and_today_give_the_same_books(tmp_path):
    """Two builds of a short story (2020 signed off, 2021 open): identical bytes."""
    short = datetime.date(2021, 8, 10)
    one, two = tmp_path / "one", tmp_path / "two"
    for target in (one, two):
        build_demo(target, today=short, accounts=False, say=lambda line: None)
    first, second = _ledger_files(one), _ledger_files(two)
    assert sorted(first) == sorted(second) and len(first) > 20
    assert [rel for rel in first if first[rel] != second[rel]] == []


@pytest.mark.slow
def test_the_full_demo_is_reproducible(demo, tmp_path):
    path, _, _ = demo
    again = tmp_path / "again"
    build_demo(again, today=TODAY, accounts=False, say=lambda line: None)
    first, second = _ledger_files(path), _ledger_files(again)
    assert sorted(first) == sorted(second), set(first) ^ set(second)
    assert [rel for rel in first if first[rel] != second[rel]] == []
