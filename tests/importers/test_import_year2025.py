"""A year of ISU statements imported month by month through the CLI.

Uses ``../shared/samples/year2025`` and its ``expected.json``: the totals per
State Party and work-plan year, the closing balance, what must be resolved by
hand, and the ground truth no receipt may ever contradict.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from common.cli import cli
from beancount.core import data

from ledger import conventions
from ledger.loader import load_books

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "year2025"



def snapshot(ledger: Path) -> dict[str, bytes]:
    """Every file of the ledger (not .git) and the git HEAD."""
    files = {
        str(p.relative_to(ledger)): p.read_bytes()
        for p in ledger.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(ledger).parts
    }
    files["HEAD"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ledger, capture_output=True).stdout
    return files


@pytest.fixture(scope="module")
def expected():
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not available")
    return json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def month_files(expected) -> list[Path]:
    return [SAMPLES / f["file"] for f in expected["files"]]


def new_ledger(tmp_path: Path, expected) -> Path:
    ledger = tmp_path / "books"
    code, _, err = cli(ledger, "init", "--opening-balance", expected["opening"]["amount"], "--as-of", expected["opening"]["date"])
    assert code == 0, err
    return ledger


@pytest.fixture(scope="module")
def year_ledger(tmp_path_factory, expected, request):
    """The whole year imported month by month and the review resolved as told."""
    request.getfixturevalue("_module_git_identity")
    ledger = new_ledger(tmp_path_factory.mktemp("year"), expected)
    to_review = 0
    for path in month_files(expected):
        code, out, err = cli(ledger, "import", str(path), "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["files"][0]["imported"] > 0
        to_review += doc["needs_review"]
    code, out, _ = cli(ledger, "review", "list", "--json")
    items = json.loads(out)
    assert to_review == len(items) == len(expected["resolve"])  # what the imports said they put in review
    for want in expected["resolve"]:
        (item,) = [i for i in items if i["date"] == want["date"] and i["amount"] == want["amount"]]
        code, _, err = cli(
            ledger, "review", "resolve", item["id"], "--state-party", want["state_party"],
            "--year", str(want["wp_year"]), "--remember",
        )
        assert code == 0, err
    return ledger


@pytest.fixture(scope="module")
def _module_git_identity():
    mp = pytest.MonkeyPatch()
    for key, value in {
        "GIT_AUTHOR_NAME": "isu-test", "GIT_AUTHOR_EMAIL": "isu-test@isu-ledger.invalid",
        "GIT_COMMITTER_NAME": "isu-test", "GIT_COMMITTER_EMAIL": "isu-test@isu-ledger.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        mp.setenv(key, value)
    yield
    mp.undo()


def contribution_postings(entries):
    for e in entries:
        if isinstance(e, data.Transaction):
            for p in e.postings:
                if conventions.is_contribution_account(p.account):
                    yield e, p


def test_received_by_state_and_year(year_ledger, expected):
    books = load_books(year_ledger)
    assert books.ok, books.errors
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for _, p in contribution_postings(books.entries):
        totals[str(int(p.meta["wp_year"]))][p.meta["state_party"]] -= p.units.number
    got = {y: {s: str(v) for s, v in by.items() if v} for y, by in totals.items()}
    assert got == expected["received_by_year"]


def test_closing_balance_check_and_charges(year_ledger, expected):
    books = load_books(year_ledger)
    bank = sum(
        (p.units.number for e in books.entries if isinstance(e, data.Transaction) for p in e.postings if p.account == conventions.BANK),
        Decimal(0),
    )
    assert str(bank) == expected["closing"]["amount"]
    code, _, err = cli(year_ledger, "check")
    assert code == 0, err
    receipt_charges = sum(
        (p.units.number for e in books.entries if isinstance(e, data.Transaction)
         if any(conventions.is_contribution_account(q.account) for q in e.postings)
         for p in e.postings if p.account == conventions.BANK_CHARGES),
        Decimal(0),
    )
    assert str(receipt_charges) == expected["bank_charges_on_receipts"]
    code, out, _ = cli(year_ledger, "review", "list", "--json")
    assert json.loads(out) == []


def test_no_receipt_attributed_against_the_truth(year_ledger, expected):
    books = load_books(year_ledger)
    truth = defaultdict(set)
    for t in expected["truth"]:
        truth[(t["date"], t["payer"])].add(t["state_party"])
    seen = 0
    for e, p in contribution_postings(books.entries):
        key = (e.date.isoformat(), p.meta.get("payer"))
        assert key in truth, f"{key} attributed but not in the truth list"
        assert p.meta["state_party"] in truth[key]
        seen += 1
    assert seen == len(expected["truth"])


def test_reimport_adds_nothing(year_ledger, expected):
    before = snapshot(year_ledger)
    for path in month_files(expected):
        code, out, err = cli(year_ledger, "import", str(path), "--json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["imported"] == 0 and doc["duplicates"] == doc["files"][0]["entries"] > 0
    assert snapshot(year_ledger) == before


def test_overlap_after_january_imports_nothing(tmp_path, expected):
    ledger = new_ledger(tmp_path, expected)
    assert cli(ledger, "import", str(month_files(expected)[0]))[0] == 0
    before = snapshot(ledger)
    code, out, err = cli(ledger, "import", str(SAMPLES / "overlap" / "ubs-isu-2025-01-first-half.camt053.xml"), "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == 0 and json.loads(out)["duplicates"] == 1
    assert snapshot(ledger) == before


def test_overlap_first_then_the_full_month(tmp_path, expected):
    ledger = new_ledger(tmp_path, expected)
    assert cli(ledger, "import", str(SAMPLES / "overlap" / "ubs-isu-2025-01-first-half.camt053.xml"))[0] == 0
    code, out, err = cli(ledger, "import", str(month_files(expected)[0]), "--json")
    assert code == 0, err
    assert (json.loads(out)["imported"], json.loads(out)["duplicates"]) == (2, 1)
    assert cli(ledger, "check")[0] == 0


@pytest.mark.parametrize("order", [(0, 2), (2,), (0, 1, 3)], ids=["gap", "march-first", "gap-later"])
def test_out_of_order_or_gap_is_refused(tmp_path, expected, order):
    ledger = new_ledger(tmp_path, expected)
    files = month_files(expected)
    for i in order[:-1]:
        assert cli(ledger, "import", str(files[i]))[0] == 0
    before = snapshot(ledger)
    code, out, err = cli(ledger, "import", str(files[order[-1]]))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert files[order[-1]].name in err and "gap:" in err and "is a statement missing?" in err
    assert snapshot(ledger) == before


def test_one_call_sorts_the_files_and_commits_once(head, tmp_path, expected):
    ledger = new_ledger(tmp_path, expected)
    head = snapshot(ledger)["HEAD"]
    files = list(reversed(month_files(expected)[:3]))
    code, out, err = cli(ledger, "import", *map(str, files), "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == 10
    log = subprocess.run(["git", "log", "--format=%s", f"{head.decode().strip()}..HEAD"], cwd=ledger,
                         capture_output=True, text=True).stdout.splitlines()
    assert len(log) == 1 and log[0].startswith("import ")


def test_bad_files_are_refused_one_line_nothing_written(tmp_path, expected):
    ledger = new_ledger(tmp_path, expected)
    before = snapshot(ledger)
    for name in expected["bad_files"]:
        path = SAMPLES / "bad" / name
        code, out, err = cli(ledger, "import", str(path))
        assert code == 2, name
        lines = err.strip().splitlines()
        assert len(lines) == 1 and name in lines[0] and "Traceback" not in err
        assert snapshot(ledger) == before
    # a bad file among good ones: still nothing written
    code, _, err = cli(ledger, "import", str(month_files(expected)[0]), str(SAMPLES / "bad" / "truncated.camt053.xml"))
    assert code == 2 and "truncated.camt053.xml" in err
    assert snapshot(ledger) == before


def test_tricky_text_is_inert(tmp_path, expected):
    ledger = new_ledger(tmp_path, expected)
    path = SAMPLES / "tricky" / "injection-in-text.camt053.xml"
    code, _, err = cli(ledger, "import", str(path))
    assert code == 0, err
    books = load_books(ledger)
    assert books.ok
    assert not any(isinstance(e, data.Open) and e.account == "Assets:Stolen" for e in books.entries)
    (txn,) = [e for e in books.entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == "UBS202501140001"]
    assert txn.narration == "CONTRIBUTION UAM 2024 X\" 2020-01-01 open Assets:Stolen ;"  # one line (policy 14)
    assert txn.postings[1].meta["remittance"] == txn.narration
    kinds = sorted(type(e).__name__ for e in books.entries if e.date.year == 2025)
    assert kinds.count("Transaction") == 3 and "Open" not in kinds
