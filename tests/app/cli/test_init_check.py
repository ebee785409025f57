"""``isu-ledger init`` and ``check`` through the CLI, bean-check and Fava."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data

from ledger import conventions
from ledger.store import gitrepo
from app.cli.main import COMMANDS, build_parser, main
from ledger.loader import load_books

REPO = Path(__file__).resolve().parents[3]
BEAN_CHECK = REPO / ".venv" / "bin" / "bean-check"
SHARED = REPO.parent / "shared"


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def bean_check(ledger: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BEAN_CHECK), str(ledger / conventions.MAIN_FILE)], capture_output=True, text=True, cwd=ledger.parent)


@pytest.fixture
def books(tmp_path) -> Path:
    path = tmp_path / "books"
    code, out, err = run_cli("--ledger", str(path), "init", "--opening-balance", "612408.15", "--as-of", "2025-12-31")
    assert code == 0, err
    assert "initialised the ISU ledger" in out
    return path


def test_init_gives_a_clean_ledger(books):
    proc = bean_check(books)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run_cli("--ledger", str(books), "check")[0] == 0
    # Same through the real console entry point, ledger from the environment.
    env_proc = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "check"],
        capture_output=True, text=True, cwd=REPO, env={**_env(), "ISU_LEDGER_DIR": str(books)},
    )
    assert env_proc.returncode == 0, env_proc.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_init_commit_layout_and_opening_balance(books):
    log = gitrepo.log(books, "--format=%s").splitlines()
    assert log == ["init ledger (opening balance 612408.15 CHF as of 2025-12-31)"]
    assert gitrepo.run(books, "branch", "--show-current").strip() == "main"
    tracked = set(gitrepo.run(books, "ls-files").split())
    assert {conventions.MAIN_FILE, conventions.ACCOUNTS_FILE, conventions.REGISTRY_FILE, conventions.RULES_FILE, "documents/.keep", ".gitignore",
            "txns/2025.beancount", "txns/2026.beancount"} == tracked
    assert (books / conventions.RULES_FILE).read_text() == "payer_account,payer_name,state_party,work_plan,created_by,created_at,note\n"
    packaged = REPO / "ledger" / "data" / "contributors.csv"
    assert (books / conventions.REGISTRY_FILE).read_bytes() == packaged.read_bytes()
    main_text = (books / conventions.MAIN_FILE).read_text()
    assert 'plugin "ledger.plugins.isu_rules"' in main_text and 'plugin "ledger.plugins.year_lock"' in main_text
    assert 'include "txns/*.beancount"' in main_text
    ignored = (books / ".gitignore").read_text().split()
    assert conventions.LOCK_FILE in ignored and conventions.JOURNAL_FILE in ignored

    entries = load_books(books).entries
    (opening,) = [e for e in entries if isinstance(e, data.Transaction)]
    assert opening.date == datetime.date(2025, 12, 31)
    assert {p.account: p.units.number for p in opening.postings} == {
        conventions.BANK: Decimal("612408.15"), conventions.OPENING: Decimal("-612408.15")}
    (balance,) = [e for e in entries if isinstance(e, data.Balance)]
    assert (balance.date, balance.account, balance.amount.number) == (datetime.date(2026, 1, 1), conventions.BANK, Decimal("612408.15"))


def test_init_without_opening_balance_and_custom_iban(tmp_path):
    path = tmp_path / "plain"
    code, _, err = run_cli("--ledger", str(path), "init", "--iban", "DE89 3704 0044 0532 0130 00")
    assert code == 0, err
    opens = {e.account: e for e in load_books(path).entries if isinstance(e, data.Open)}
    assert opens[conventions.BANK].meta[conventions.META_IBAN] == "DE89370400440532013000"
    assert run_cli("--ledger", str(path), "check")[0] == 0


@pytest.mark.parametrize("iban", ["CH4500240240FP1006277", "XX4500240240FP1006276", "CH45", "not an iban"])
def test_bad_iban_refused(tmp_path, iban):
    path = tmp_path / "books"
    code, out, err = run_cli("--ledger", str(path), "init", "--iban", iban)
    assert code == 2
    assert err.startswith(f"isu-ledger: {iban}: ") and err.count("\n") == 1
    assert not path.exists()


def test_init_twice_refused(books):
    head = gitrepo.head(books)
    code, _, err = run_cli("--ledger", str(books), "init")
    assert code == 2
    assert err == f"isu-ledger: {books}: already holds a ledger\n"
    assert gitrepo.head(books) == head


@pytest.mark.parametrize("args", [["--opening-balance", "12.5"], ["--as-of", "2025-12-31"],
                                  ["--opening-balance", "1.001", "--as-of", "2025-12-31"],
                                  ["--opening-balance", "abc", "--as-of", "2025-12-31"],
                                  ["--opening-balance", "1", "--as-of", "31.12.2025"]])
def test_bad_opening_balance_refused(tmp_path, args):
    code, _, err = run_cli("--ledger", str(tmp_path / "b"), "init", *args)
    assert code == 2 and err.startswith("isu-ledger: ") and err.count("\n") == 1
    assert not (tmp_path / "b").exists()


def test_fava_opens_the_ledger(books):
    from fava.core import FavaLedger

    ledger = FavaLedger(str(books / conventions.MAIN_FILE))
    assert ledger.errors == []
    assert ledger.options["title"] == "ISU — APMBC Implementation Support Unit"


def test_hand_added_contribution_without_state_party_fails_check(books):
    """A contribution posting without state_party breaks both check and bean-check, naming file and line."""
    target = books / "txns/2026.beancount"
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(
            "\n2026-02-03 * \"SOMEONE\" \"ISU 2026\" #ISU-2026\n"
            "  Assets:Bank:UBS:CHF          500.00 CHF\n"
            "  Income:Contributions:Core   -500.00 CHF\n"
            "    work_plan: \"core\"\n"
            "    wp_year: 2026\n"
        )
    lines = target.read_text().splitlines()
    txn_line = lines.index('2026-02-03 * "SOMEONE" "ISU 2026" #ISU-2026') + 1
    code, _, err = run_cli("--ledger", str(books), "check")
    assert code == 1
    assert any(line.startswith("txns/2026.beancount:") and "state_party" in line for line in err.splitlines()), err
    cited = {int(line.split(":")[1]) for line in err.splitlines() if line.startswith("txns/2026.beancount:")}
    assert cited & {txn_line, txn_line + 2}, (cited, txn_line)
    proc = bean_check(books)
    assert proc.returncode != 0
    assert "2026.beancount" in proc.stdout + proc.stderr and "state_party" in proc.stdout + proc.stderr


def test_check_without_ledger_exits_1(tmp_path):
    code, _, err = run_cli("--ledger", str(tmp_path / "none"), "check")
    assert code == 1 and "no ledger here" in err


@pytest.mark.parametrize("argv,name", [
    (["demo"], "demo"),
    (["import", "a.xml", "--dry-run", "--json"], "import"),
    (["review", "list", "--json"], "review list"),
    (["review", "resolve", "7", "--state-party", "DEU", "--year", "2026", "--remember"], "review resolve"),
    (["report", "contributions", "--year", "2026", "--format", "json"], "report"),
    (["report", "statement", "--state-party", "DEU", "--year", "2026", "--format", "html", "-o", "x.html"], "report"),
    (["close-year", "2025"], "close-year"),
    (["sign-off", "2025", "--auditor", "A. Auditor", "--opinion-date", "2026-03-01"], "sign-off"),
    (["user", "add", "alice", "--role", "finance"], "user add"),
    (["user", "passwd", "alice"], "user passwd"),
    (["user", "disable", "alice"], "user disable"),
    (["serve", "--port", "5001"], "serve"),
])
def test_other_commands_are_registered(tmp_path, argv, name):
    """Every command of the contract parses its documented arguments; one
    whose part is not built yet says so in one line and exits 2."""
    assert build_parser().parse_args(["--ledger", str(tmp_path), *argv]).command_key == name
    if getattr(COMMANDS[name], "not_yet_available", False):
        code, out, err = run_cli("--ledger", str(tmp_path), *argv)
        assert (code, out, err) == (2, "", f"isu-ledger: '{name}' is not yet available\n")


def test_usage_errors_are_one_line(tmp_path):
    code, _, err = run_cli("review", "resolve", "7", "--year", "26")
    assert code == 2 and err.startswith("isu-ledger: ") and err.count("\n") == 1
    assert run_cli("frobnicate")[0] == 2


def test_parse_bad_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Document><unclosed>")
    code, out, err = run_cli("parse", str(bad), "--json")
    assert code == 2 and out == ""
    assert err.startswith(f"isu-ledger: {bad}: ") and err.count("\n") == 1


def test_parse_json_of_a_sample(tmp_path):
    samples = sorted(SHARED.glob("samples/year2025/*.camt053.xml")) if SHARED.exists() else []
    if not samples:
        pytest.skip("../shared/samples not available")
    import json

    code, out, err = run_cli("parse", str(samples[0]), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format"] and isinstance(doc["statements"], list)
