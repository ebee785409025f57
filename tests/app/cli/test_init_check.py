"""``isu-ledger init`` and ``check`` through the CLI, bean-check and Fava."""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data
from common.cli import run
from common.terminal import Terminal

from ledger import conventions
from ledger.loader import load_books
from ledger.store import gitrepo

REPO = Path(__file__).resolve().parents[3]
BEAN_CHECK = REPO / ".venv" / "bin" / "bean-check"
SHARED = REPO.parent / "shared"


def run_cli(*argv: str) -> tuple[int, str, str]:
    return run(*argv)


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
        [sys.executable, "-m", "app.cli", "check"],
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


# Check digits right, but too short for Germany; a country without IBANs.
@pytest.mark.parametrize("iban", ["CH4500240240FP1006277", "XX4500240240FP1006276", "CH45", "not an iban",
                                  "DE863704004405320130", "US2300240240FP100627"])
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


NO_LEDGER = "no ledger here (run 'isu-ledger init' first)"
NO_ACCOUNTS = "no ledger here (its database holds the web accounts; or set ISU_DATABASE_URL)"


@pytest.mark.parametrize("argv,code,said", [
    (["demo", "--today", "2019-06-30"], 2, "today (2019-06-30) must be after 2020: the demo starts with a whole past year"),
    (["import", "a.xml", "--dry-run", "--json"], 2, "{books}: not an isu-ledger directory (no main.beancount)"),
    (["review", "list", "--json"], 0, ""),
    (["review", "resolve", "7", "--state-party", "DEU", "--year", "2026", "--remember"], 2, "7: no such review item (see 'review list')"),
    (["report", "contributions", "--year", "2026", "--format", "json"], 2, f"{{books}}: {NO_LEDGER}"),
    (["report", "statement", "--state-party", "DEU", "--year", "2026", "--format", "html", "-o", "x.html"], 2, f"{{books}}: {NO_LEDGER}"),
    (["close-year", "2025"], 2, f"{{books}}: {NO_LEDGER}"),
    (["sign-off", "2025", "--auditor", "A. Auditor", "--opinion-date", "2026-03-01"], 2, f"{{books}}: {NO_LEDGER}"),
    (["sign-off", "2025", "--auditor", "A. Auditor", "--on-behalf-of", "SFAO", "--opinion-date", "2026-03-01"], 2, f"{{books}}: {NO_LEDGER}"),
    (["user", "add", "alice", "--role", "finance"], 2, f"{{books}}: {NO_ACCOUNTS}"),
    (["user", "add", "aude", "--role", "auditor", "--full-name", "Aude Roe"], 2, f"{{books}}: {NO_ACCOUNTS}"),
    (["user", "passwd", "alice"], 2, f"{{books}}: {NO_ACCOUNTS}"),
    (["user", "set", "alice", "--full-name", "Alice Roe"], 2, f"{{books}}: {NO_ACCOUNTS}"),
    (["user", "disable", "alice"], 2, f"{{books}}: {NO_ACCOUNTS}"),
    (["serve", "--port", "5001"], 2, f"{{books}}: {NO_LEDGER}"),
])
def test_every_command_takes_its_documented_arguments(tmp_path, monkeypatch, argv, code, said):
    """Every command of the contract parses its documented arguments and runs
    into its own answer for a directory without books: one line naming the
    directory (or the item), exit 2, nothing written."""
    monkeypatch.delenv("ISU_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    books = tmp_path / "books"
    books.mkdir()
    got, out, err = run_cli("--ledger", str(books), *argv)
    assert (got, err) == (code, f"isu-ledger: {said.format(books=books)}\n" if said else ""), out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["books"] and not any(books.iterdir())


def test_ledger_option_after_the_command(tmp_path, books):
    """``--ledger DIR`` is accepted after a command's name too, at any depth."""
    assert run_cli("check", "--ledger", str(books)) == (0, f"{books}: ok\n", "")
    assert run_cli("--ledger", str(tmp_path / "none"), "review", "--ledger", str(books), "list") == (0, "0 item(s) to review\n", "")


def test_ledger_directory_from_the_environment(books, monkeypatch):
    monkeypatch.setenv("ISU_LEDGER_DIR", str(books))
    assert run_cli("check") == (0, f"{books}: ok\n", "")


@pytest.mark.parametrize("argv", [
    ["review", "resolve", "7", "--year", "26"],
    ["review", "resolve", "7", "--state-party", "DEU"],
    ["frobnicate"],
    [],
    ["review"],
    ["report", "ledgers", "--year", "2026"],
    ["user", "add", "alice", "--role", "root"],
    ["import"],
    ["check", "--no-such-option"],
])
def test_usage_errors_are_one_line(tmp_path, argv):
    """No usage banner: one line naming the problem, exit 2."""
    code, out, err = run_cli("--ledger", str(tmp_path), *argv)
    assert code == 2 and out == "" and err.startswith("isu-ledger: ") and err.count("\n") == 1, err
    assert "Usage:" not in err


def test_help_is_the_contract(tmp_path):
    code, out, err = run_cli("--help")
    assert code == 0 and err == ""
    for name in ("init", "demo", "parse", "import", "review", "check", "report", "close-year", "sign-off", "pledge",
                 "budget", "expenditure", "buffer", "user", "serve"):
        assert f"  {name} " in out, name


def test_parse_bad_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Document><unclosed>")
    code, out, err = run_cli("parse", str(bad), "--json")
    assert code == 2 and out == ""
    assert err.startswith(f"isu-ledger: {bad}: ") and err.count("\n") == 1


BAD_61 = ":20:X\n:25:CH9300762011623852957\n:28C:1\n:60F:C250101CHF1000,00\n" \
         ":61:2501010101CXX,00NTRFREF\n:62F:C250101CHF1100,00\n"


def test_parse_refusal_names_the_field_without_internals(tmp_path):
    """An unreadable amount in a :61: line: one line naming the field and the
    text, no Python repr, no library logging."""
    bad = tmp_path / "bad.sta"
    bad.write_text(BAD_61)
    code, out, err = run_cli("parse", str(bad))
    assert code == 2 and out == ""
    assert err == f"isu-ledger: {bad}: MT940 statement 1: field :61: (a statement line) cannot be read: '2501010101CXX,00NTRFREF'\n"


def test_parse_verbose_shows_what_the_reader_met(tmp_path):
    """--verbose: the library's own messages and the underlying error as
    'detail:' lines, then the same one-line reason last; exit 2 still."""
    bad = tmp_path / "bad.sta"
    bad.write_text(BAD_61)
    code, out, err = run_cli("parse", "--verbose", str(bad))
    lines = err.splitlines()
    assert code == 2 and out == ""
    assert lines[-1] == f"isu-ledger: {bad}: MT940 statement 1: field :61: (a statement line) cannot be read: '2501010101CXX,00NTRFREF'"
    details = lines[:-1]
    assert details and all(line.startswith("detail: ") for line in details)
    assert any("no match" in line and "X,00NTRFREF" in line for line in details)
    assert any(line.startswith("detail: RuntimeError: ") for line in details)
    xml = tmp_path / "bad.xml"
    xml.write_text("<Document><unclosed>")
    code, _, err = run_cli("parse", "-v", str(xml))
    assert code == 2 and err.splitlines()[0].startswith("detail: XMLSyntaxError: ")


def test_parse_verbose_details_are_inert_lines(tmp_path):
    """A bank's text in the detail lines (terminal escapes, line breaks) is
    shown inert: no control character reaches the terminal."""
    bad = tmp_path / "esc.sta"
    bad.write_text(BAD_61.replace("NTRFREF", "NTRF\x1b[2J\rREF"))
    code, _, err = run_cli("parse", "--verbose", str(bad))
    assert code == 2 and err.count("isu-ledger: ") == 1
    assert not any(ch in err for ch in "\x1b\r\x00"), err


def test_parse_json_of_a_sample(tmp_path):
    samples = sorted(SHARED.glob("samples/year2025/*.camt053.xml")) if SHARED.exists() else []
    if not samples:
        pytest.skip("../shared/samples not available")
    import json

    code, out, err = run_cli("parse", str(samples[0]), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format"] and isinstance(doc["statements"], list)


def test_interrupt_at_a_prompt_is_one_line_exit_130(books):
    """Ctrl-C while the password is asked: one line, exit 130, no account database made."""
    term = Terminal(books, "user", "add", "erin", "--role", "auditor")
    term.expect("New password: ")
    term.proc.send_signal(signal.SIGINT)
    code, out, shown = term.close()
    assert (code, out) == (130, "") and shown.strip().endswith("isu-ledger: interrupted"), shown
    assert "Traceback" not in shown and not (books / "isu-ledger.sqlite3").exists()
