"""ledger.plugins.isu_rules: each rule fails with file:line and passes when met.

Every test writes the ledger under test as text and loads it through
Beancount's loader with the ``plugin "ledger.plugins.isu_rules"`` line, so
the plugin runs exactly as it does for ``bean-check`` and Fava.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

from ledger import conventions
from ledger.plugins import isu_rules

HEADER = """\
plugin "ledger.plugins.isu_rules"

2000-01-01 open Assets:Bank:UBS:CHF
2000-01-01 open Expenses:Bank:Charges
2000-01-01 open Income:Contributions:Core
2000-01-01 open Income:Contributions:Unidentified
2000-01-01 open Liabilities:Contributions:ReceivedInAdvance
"""

RECEIPT = """
2025-01-29 * "FEDERAL FOREIGN OFFICE" "ISU 2025 Core Work Plan" #ISU-2025 ^bank-UBS1
  bank_ref: "UBS1"
  Assets:Bank:UBS:CHF          94100.00 CHF
  Income:Contributions:Core   -94100.00 CHF
    state_party: "DEU"
    work_plan: "core"
    wp_year: 2025
    payer: "FEDERAL FOREIGN OFFICE"
"""


def ledger_text(body: str) -> str:
    return HEADER + textwrap.dedent(body)


def load(body: str, filename: str | None = None):
    """(entries, errors) of HEADER + body; from a file when ``filename``."""
    text = ledger_text(body)
    if filename is None:
        entries, errors, _ = loader.load_string(text)
    else:
        Path(filename).write_text(text, encoding="utf-8")
        entries, errors, _ = loader.load_file(filename)
    return entries, errors


def messages(body: str, filename: str | None = None) -> list[str]:
    """Every load error as ``file:line: message``, as bean-check prints it."""
    _, errors = load(body, filename)
    return [f"{e.source['filename']}:{e.source['lineno']}: {e.message}" for e in errors]


def line_of(body: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the nth line containing ``needle`` in HEADER + body."""
    seen = 0
    for number, line in enumerate(ledger_text(body).splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not in ledger")


def test_a_complete_receipt_passes():
    assert messages(RECEIPT) == []


# --- attribution metadata -------------------------------------------------------


def test_missing_state_party_names_the_posting_line():
    body = RECEIPT.replace('    state_party: "DEU"\n', "")
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert messages(body) == [
        f"<string>:{line}: contribution posting to Income:Contributions:Core has no state_party"
    ]


def test_unknown_state_party():
    body = RECEIPT.replace('"DEU"', '"XXX"')
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert messages(body) == [
        f'<string>:{line}: state_party "XXX" is not in the registry (registry/contributors.csv)'
    ]


def test_state_party_must_be_a_string_code():
    body = RECEIPT.replace('state_party: "DEU"', "state_party: 276")
    (message,) = messages(body)
    assert "state_party 276 is not a code" in message


def test_missing_work_plan():
    body = RECEIPT.replace('    work_plan: "core"\n', "")
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert messages(body) == [
        f"<string>:{line}: contribution posting to Income:Contributions:Core has no work_plan"
    ]


def test_work_plan_must_match_the_income_account():
    body = RECEIPT.replace('work_plan: "core"', 'work_plan: "victim-assistance"')
    (message,) = messages(body)
    assert message.endswith(
        'work_plan "victim-assistance" belongs to Income:Contributions:Victim-assistance, '
        "not Income:Contributions:Core"
    )


def test_missing_wp_year():
    body = RECEIPT.replace("    wp_year: 2025\n", "")
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert messages(body) == [
        f"<string>:{line}: contribution posting to Income:Contributions:Core has no wp_year"
    ]


@pytest.mark.parametrize("bad", ['"2025"', "2025.5", "1998", "2101", "TRUE"])
def test_wp_year_must_be_a_plausible_whole_year(bad):
    body = RECEIPT.replace("wp_year: 2025", f"wp_year: {bad}")
    errors = messages(body)
    assert len(errors) == 1, errors
    assert f"wp_year {bad} is not a year (a whole number from 1999 to 2100)" in errors[0]


def test_as_year_accepts_decimal_and_int_years_only():
    assert isu_rules.as_year(Decimal("2025")) == 2025
    assert isu_rules.as_year(Decimal("2025.0")) == 2025
    assert isu_rules.as_year(2025) == 2025
    for bad in (Decimal("2025.5"), "2025", True, 1998, 2101, None, Decimal("NaN"), 2025.0):
        assert isu_rules.as_year(bad) is None, bad


def test_wp_year_given_as_int_by_code_passes():
    # Entries built in Python (the importer, the writer) may carry an int.
    entries, errors = load(RECEIPT)
    assert errors == []
    txn = next(e for e in entries if isinstance(e, data.Transaction))
    income = txn.postings[1]
    fixed = txn._replace(
        postings=[txn.postings[0], income._replace(meta={**income.meta, "wp_year": 2025})]
    )
    _, plugin_errors = isu_rules.validate_isu_rules([fixed], {"filename": "<string>"})
    assert plugin_errors == []


def test_year_tag_is_required():
    body = RECEIPT.replace(" #ISU-2025", "")
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert messages(body) == [
        f"<string>:{line}: transaction with a contribution for wp_year 2025 has no tag #ISU-2025"
    ]


def test_every_year_of_a_batch_needs_its_tag():
    body = """
    2025-12-15 * "BATCH" "ISU 2025 and 2026" #ISU-2025
      bank_ref: "UBS9"
      Assets:Bank:UBS:CHF                            300.00 CHF
      Income:Contributions:Core                     -100.00 CHF
        state_party: "NOR"
        work_plan: "core"
        wp_year: 2025
      Liabilities:Contributions:ReceivedInAdvance  -200.00 CHF
        state_party: "NOR"
        work_plan: "core"
        wp_year: 2026
    """
    line = line_of(body, "Liabilities:Contributions:ReceivedInAdvance  -200.00")
    assert messages(body) == [
        f"<string>:{line}: transaction with a contribution for wp_year 2026 has no tag #ISU-2026"
    ]
    assert messages(body.replace("#ISU-2025", "#ISU-2025 #ISU-2026")) == []


# --- bank reference and isu_kind ----------------------------------------------------


def test_bank_ref_is_required_on_a_receipt():
    body = RECEIPT.replace('  bank_ref: "UBS1"\n', "")
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    (message,) = messages(body)
    assert message.startswith(
        f"<string>:{line}: contribution posting to Income:Contributions:Core has no bank_ref"
    )
    assert "isu_kind" in message


def test_bank_ref_on_the_posting_is_enough():
    body = RECEIPT.replace('  bank_ref: "UBS1"\n', "").replace(
        '    payer: "FEDERAL', '    bank_ref: "UBS1"\n    payer: "FEDERAL'
    )
    assert messages(body) == []


@pytest.mark.parametrize("kind", conventions.KINDS)
def test_non_bank_transactions_declare_their_kind(kind):
    body = RECEIPT.replace('  bank_ref: "UBS1"\n', f'  isu_kind: "{kind}"\n')
    assert messages(body) == []


def test_unknown_isu_kind():
    body = RECEIPT.replace('  bank_ref: "UBS1"\n', '  isu_kind: "adjustment"\n')
    errors = messages(body)
    line = line_of(body, '"FEDERAL FOREIGN OFFICE" "ISU 2025')
    assert errors[0] == (
        f'<string>:{line}: isu_kind "adjustment" is not one of '
        + ", ".join(conventions.KINDS)
    )
    assert len(errors) == 2 and "has no bank_ref" in errors[1]


# --- deferral -----------------------------------------------------------------


ADVANCE_RECEIPT = """
2025-12-10 * "NORWAY" "ISU 2026 Core Work Plan" #ISU-2026
  bank_ref: "UBS7"
  Assets:Bank:UBS:CHF                            5000.00 CHF
  Liabilities:Contributions:ReceivedInAdvance   -5000.00 CHF
    state_party: "NOR"
    work_plan: "core"
    wp_year: 2026
"""

RECOGNITION = """
2026-01-01 * "Recognition of contributions received in advance for 2026" #ISU-2026
  isu_kind: "recognition"
  Liabilities:Contributions:ReceivedInAdvance    5000.00 CHF
    state_party: "NOR"
    work_plan: "core"
    wp_year: 2026
  Income:Contributions:Core                     -5000.00 CHF
    state_party: "NOR"
    work_plan: "core"
    wp_year: 2026
"""


def test_an_advance_deferred_and_then_recognised_passes():
    assert messages(ADVANCE_RECEIPT + RECOGNITION) == []


def test_advance_booked_to_income_must_be_deferred():
    body = ADVANCE_RECEIPT.replace(
        "Liabilities:Contributions:ReceivedInAdvance   -5000.00", "Income:Contributions:Core   -5000.00"
    )
    line = line_of(body, "Income:Contributions:Core   -5000.00")
    assert messages(body) == [
        f"<string>:{line}: advance contribution for 2026 must be deferred to "
        "Liabilities:Contributions:ReceivedInAdvance (booked in 2025 to Income:Contributions:Core)"
    ]


def test_a_recognition_may_bring_a_later_year_into_income():
    body = RECOGNITION.replace("2026-01-01", "2025-12-31")
    assert messages(body) == []


def test_credit_to_advance_for_the_current_year_is_refused():
    body = ADVANCE_RECEIPT.replace("wp_year: 2026", "wp_year: 2025").replace("#ISU-2026", "#ISU-2025")
    line = line_of(body, "Liabilities:Contributions:ReceivedInAdvance   -5000.00")
    (message,) = messages(body)
    assert message.startswith(
        f"<string>:{line}: credit to Liabilities:Contributions:ReceivedInAdvance for wp_year 2025 "
        "is not an advance in 2025"
    )


def test_credit_to_advance_for_a_past_year_is_refused():
    body = ADVANCE_RECEIPT.replace("wp_year: 2026", "wp_year: 2024").replace("#ISU-2026", "#ISU-2024")
    (message,) = messages(body)
    assert "for wp_year 2024 is not an advance in 2025" in message


LATE = """
2026-02-03 * "FINLAND" "ISU 2024 contribution" #ISU-2026
  bank_ref: "UBS8"
  Assets:Bank:UBS:CHF          1000.00 CHF
  Income:Contributions:Core   -1000.00 CHF
    state_party: "FIN"
    work_plan: "core"
    wp_year: 2026
    designated_year: 2024
"""


def test_late_payment_for_a_signed_off_year_passes():
    assert messages(LATE) == []


@pytest.mark.parametrize("designated", ["2026", "2027"])
def test_designated_year_must_be_earlier_than_wp_year(designated):
    body = LATE.replace("designated_year: 2024", f"designated_year: {designated}")
    line = line_of(body, "Income:Contributions:Core   -1000.00")
    (message,) = messages(body)
    assert message.startswith(
        f"<string>:{line}: designated_year {designated} must be earlier than wp_year 2026"
    )


def test_designated_year_must_be_a_year():
    body = LATE.replace("designated_year: 2024", 'designated_year: "last year"')
    (message,) = messages(body)
    assert 'designated_year "last year" is not a year' in message


# --- suspense -------------------------------------------------------------------


UNIDENTIFIED = """
2025-03-03 ! "MISSION PERMANENTE" "CONTRIBUTION" #review
  bank_ref: "UBS5"
  Assets:Bank:UBS:CHF                  2500.00 CHF
  Income:Contributions:Unidentified   -2500.00 CHF
    payer: "MISSION PERMANENTE"
    remittance: "CONTRIBUTION"
"""


def test_unidentified_with_payer_passes():
    assert messages(UNIDENTIFIED) == []
    assert messages(UNIDENTIFIED.replace('    remittance: "CONTRIBUTION"\n', "")) == []
    assert messages(UNIDENTIFIED.replace('    payer: "MISSION PERMANENTE"\n', "")) == []


def test_unidentified_needs_payer_or_remittance():
    body = UNIDENTIFIED.replace('    payer: "MISSION PERMANENTE"\n', "").replace(
        '    remittance: "CONTRIBUTION"\n', ""
    )
    line = line_of(body, "Income:Contributions:Unidentified   -2500.00")
    assert messages(body) == [
        f"<string>:{line}: unidentified posting to Income:Contributions:Unidentified has neither "
        "payer nor remittance (the review queue needs one)"
    ]


def test_unidentified_must_not_carry_a_state_party():
    body = UNIDENTIFIED.replace('    payer: "MISSION', '    state_party: "FRA"\n    payer: "MISSION')
    line = line_of(body, "Income:Contributions:Unidentified   -2500.00")
    (message,) = messages(body)
    assert message.startswith(
        f'<string>:{line}: unidentified posting to Income:Contributions:Unidentified carries '
        'state_party "FRA"'
    )


def test_non_contribution_postings_are_not_checked():
    body = """
    2025-04-01 * "UBS" "Account fee"
      Expenses:Bank:Charges   12.00 CHF
      Assets:Bank:UBS:CHF    -12.00 CHF
    """
    assert messages(body) == []


# --- the ledger's own registry --------------------------------------------------


def write_ledger(ledger_dir: Path, body: str, contributors: str | None) -> Path:
    ledger_dir.mkdir(parents=True, exist_ok=True)
    if contributors is not None:
        (ledger_dir / "registry").mkdir(exist_ok=True)
        (ledger_dir / conventions.REGISTRY_FILE).write_text(contributors, encoding="utf-8")
    main = ledger_dir / conventions.MAIN_FILE
    main.write_text(ledger_text(body), encoding="utf-8")
    return main


def file_messages(main: Path) -> list[str]:
    _, errors, _ = loader.load_file(str(main))
    return [f"{e.source['filename']}:{e.source['lineno']}: {e.message}" for e in errors]


FOUNDATION = RECEIPT.replace('"DEU"', '"XAB"')
CONTRIBUTORS = "iso3,iso2,name,kind\nXAB,,Example Demining Foundation,other\n"


def test_codes_added_to_the_ledgers_registry_are_known(tmp_path):
    main = write_ledger(tmp_path / "books", FOUNDATION, CONTRIBUTORS)
    assert file_messages(main) == []
    # The packaged registry alone does not know the code.
    (message,) = messages(FOUNDATION)
    assert 'state_party "XAB" is not in the registry' in message


def test_a_changed_registry_is_read_again(tmp_path):
    main = write_ledger(tmp_path / "books", FOUNDATION, "iso3,iso2,name,kind\n")
    (message,) = file_messages(main)
    assert f"{main}:{line_of(FOUNDATION, 'Income:Contributions:Core   -94100.00')}:" in message
    registry = tmp_path / "books" / conventions.REGISTRY_FILE
    registry.write_text(CONTRIBUTORS, encoding="utf-8")
    stat = registry.stat()
    os.utime(registry, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert file_messages(main) == []


def test_an_unreadable_registry_is_one_error_and_the_other_rules_still_run(tmp_path):
    body = FOUNDATION + RECEIPT.replace("UBS1", "UBS2").replace('    work_plan: "core"\n', "")
    main = write_ledger(tmp_path / "books", body, "not,a,registry\nXAB,1,2\n")
    errors = file_messages(main)
    registry_errors = [m for m in errors if "registry cannot be read" in m]
    assert len(registry_errors) == 1
    assert registry_errors[0].startswith(str(tmp_path / "books" / conventions.REGISTRY_FILE) + ":0:")
    assert any("has no work_plan" in m for m in errors)
    # Codes are not checked against a registry that could not be read.
    assert not any("is not in the registry" in m for m in errors)


# --- bean-check ----------------------------------------------------------------------


def bean_check() -> str:
    found = shutil.which("bean-check", path=str(Path(sys.executable).parent))
    found = found or shutil.which("bean-check")
    if not found:
        pytest.skip("bean-check not installed")
    return found


def test_bean_check_reports_a_missing_state_party(tmp_path):
    body = RECEIPT.replace('    state_party: "DEU"\n', "")
    main = write_ledger(tmp_path / "books", body, None)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    result = subprocess.run(
        [bean_check(), str(main)], capture_output=True, text=True, env=env, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    line = line_of(body, "Income:Contributions:Core   -94100.00")
    assert (
        f"{main}:{line}: contribution posting to Income:Contributions:Core has no state_party"
        in output
    )


def test_bean_check_passes_a_good_ledger(tmp_path):
    main = write_ledger(tmp_path / "books", RECEIPT, None)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    result = subprocess.run(
        [bean_check(), str(main)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
