"""The fixture books every report test reads (``report_books``).

Two work-plan years: 2024 (closed and signed off by the auditor) and 2025 (open,
books up to 30 September). They hold what the reports must get right: receipts
with bank charges, a reversal and its re-sent payment, an unidentified receipt,
interest, advances for the next year and their recognition, a late payment for
a signed-off year (``designated_year``), pledges, budgets with a revision,
expenditure per budget line, a buffer policy and an allocation. The ledger text
is written here, as Beancount tests do, and checked clean by the ISU plugins.

The demo ledger (another part) will replace none of this: these books stay
small so that every expected figure in the tests can be checked by hand.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger import fingerprint as fp
from ledger.store import gitrepo
from ledger.books import init_ledger
from ledger.loader import load_books

BANK_ACCOUNT = "CH4500240240FP1006276"


def receipt(date, ref, payer, state, wp_year, gross, *, account="Income:Contributions:Core",
            charges=None, extra="", reversal_of=None, remittance=None) -> str:
    """One bank receipt attributed to a State (the importer's layout)."""
    remittance = remittance or f"ISU {wp_year} Core Work Plan"
    net = gross - (charges or 0)
    sign = -1 if reversal_of else 1
    lines = [
        f'{date} * "{payer}" "{remittance}" #ISU-{wp_year} ^bank-{ref}',
        f'  bank_ref: "{ref}"',
        f'  bank_account: "{BANK_ACCOUNT}"',
        f'  statement: "documents/{date[:4]}/ubs.camt053.xml"',
        f"  Assets:Bank:UBS:CHF  {sign * net:.2f} CHF",
    ]
    if charges:
        lines.append(f"  Expenses:Bank:Charges  {charges:.2f} CHF")
    lines += [
        f"  {account}  {-sign * gross:.2f} CHF",
        f'    state_party: "{state}"',
        '    work_plan: "core"',
        f"    wp_year: {wp_year}",
        f'    payer: "{payer}"',
    ]
    if reversal_of:
        lines.append(f'    reversal_of: "{reversal_of}"')
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def plain(date, ref, narration, bank, other_account, *, flag="*", meta="") -> str:
    bank = Decimal(str(bank))
    amount = f"{bank:.2f}"
    text = (
        f'{date} {flag} "UBS" "{narration}" ^bank-{ref}\n'
        f'  bank_ref: "{ref}"\n'
        f'  bank_account: "{BANK_ACCOUNT}"\n'
        f"  Assets:Bank:UBS:CHF  {amount} CHF\n"
        f"  {other_account}  {-bank:.2f} CHF\n"
    )
    return text + meta


def expenditure(date, ref, line, amount) -> str:
    return (
        f'{date} * "GICHD" "{line} costs"\n'
        '  isu_kind: "expenditure"\n'
        f'  gichd_ref: "{ref}"\n'
        f"  Expenses:Budget:{line}  {amount:.2f} CHF\n"
        f"  Assets:Clearing:GICHD  {-amount:.2f} CHF\n"
    )


def budget(decided, line, amount, wp_year) -> str:
    """A budget decision: dated 1 January of its year, decided on ``decided``
    (ledger.finance.budgets: revisions are ordered by ``decided``)."""
    return (
        f'{wp_year}-01-01 custom "budget" Expenses:Budget:{line} "yearly" {amount:.2f} CHF\n'
        f"  wp_year: {wp_year}\n"
        '  work_plan: "core"\n'
        '  decision: "approved by the Meeting of the States Parties"\n'
        f"  decided: {decided}\n"
    )


def pledge(date, state, year, amount, pid, currency="CHF") -> str:
    return (
        f'{date} custom "isu-pledge" "{state}" {year} {amount:.2f} {currency}\n'
        f'  pledge_id: "{pid}"\n'
        '  work_plan: "core"\n'
        f"  expected: {year}-06-30\n"
    )


TXNS_2016 = '2016-01-01 custom "isu-buffer-policy" "months" 3\n  decision: "14th Meeting of the States Parties (2015)"\n'

TXNS_2024 = "\n".join([
    *(budget("2023-11-30", line, amt, 2024) for line, amt in
      [("Staff", 420000), ("Travel", 60000), ("Meetings", 80000), ("Communications", 20000), ("GICHDServices", 40000)]),
    budget("2024-06-01", "Travel", 50000, 2024),
    pledge("2024-01-20", "DEU", 2024, 300000, "P-2024-DEU"),
    pledge("2024-01-25", "NOR", 2024, 200000, "P-2024-NOR"),
    pledge("2024-02-01", "CHE", 2024, 60000, "P-2024-CHE"),
    pledge("2024-02-01", "SEN", 2024, 50000, "P-2024-SEN"),
    plain("2024-01-31", "T2024A", "Transfer to GICHD", -300000, "Assets:Clearing:GICHD"),
    receipt("2024-02-10", "R2024DEU", "FEDERAL FOREIGN OFFICE", "DEU", 2024, 300000),
    receipt("2024-03-15", "R2024NOR", "NORWEGIAN MINISTRY OF FOREIGN AFFAIRS", "NOR", 2024, 200000),
    receipt("2024-04-02", "R2024ITA1", "MINISTERO DEGLI AFFARI ESTERI", "ITA", 2024, 18820),
    receipt("2024-04-05", "R2024ITA1R", "MINISTERO DEGLI AFFARI ESTERI", "ITA", 2024, 18820, reversal_of="R2024ITA1"),
    receipt("2024-04-10", "R2024ITA2", "MINISTERO DEGLI AFFARI ESTERI", "ITA", 2024, 18820),
    receipt("2024-05-20", "R2024CHE", "DFAE", "CHE", 2024, 60000, charges=20),
    receipt("2024-06-05", "R2024SEN", "TRESOR PUBLIC DU SENEGAL", "SEN", 2024, 25000),
    plain("2024-07-31", "T2024B", "Transfer to GICHD", -270000, "Assets:Clearing:GICHD"),
    plain("2024-11-10", "R2024UNK", "Unknown payer", 1500, "Income:Contributions:Unidentified", flag="!",
          meta='    payer: "MINISTRY OF FOREIGN AFFAIRS"\n    remittance: "contribution"\n'),
    receipt("2024-12-15", "R2025NORADV", "NORWEGIAN MINISTRY OF FOREIGN AFFAIRS", "NOR", 2025, 80000,
            account="Liabilities:Contributions:ReceivedInAdvance"),
    plain("2024-12-31", "I2024", "Interest", "120.50", "Income:Interest"),
    *(expenditure(d, f"EXP-2024-{i}", line, amt) for i, (d, line, amt) in enumerate([
        ("2024-06-30", "Staff", 200000), ("2024-12-31", "Staff", 200000), ("2024-09-30", "Travel", 45000),
        ("2024-10-31", "Meetings", 70000), ("2024-11-30", "Communications", 15000),
        ("2024-12-31", "GICHDServices", 40000)])),
    '2024-12-31 * "Allocation to the financial security buffer"\n'
    '  isu_kind: "buffer"\n'
    '  decision: "Coordinating Committee, 2024-11-20"\n'
    "  Equity:FundBalance  30000.00 CHF\n"
    "  Equity:Reserves:FinancialSecurityBuffer  -30000.00 CHF\n",
])

TXNS_2025 = "\n".join([
    *(budget("2024-11-29", line, amt, 2025) for line, amt in
      [("Staff", 520000), ("Travel", 60000), ("Meetings", 80000), ("Communications", 20000), ("GICHDServices", 45000)]),
    budget("2025-07-01", "Meetings", 90000, 2025),
    '2025-01-01 * "Recognition of contributions received in advance for 2025" #ISU-2025\n'
    '  isu_kind: "recognition"\n'
    "  Liabilities:Contributions:ReceivedInAdvance  80000.00 CHF\n"
    '    state_party: "NOR"\n    work_plan: "core"\n    wp_year: 2025\n'
    "  Income:Contributions:Core  -80000.00 CHF\n"
    '    state_party: "NOR"\n    work_plan: "core"\n    wp_year: 2025\n',
    pledge("2025-01-15", "DEU", 2025, 300000, "P-2025-DEU"),
    pledge("2025-01-20", "NOR", 2025, 200000, "P-2025-NOR"),
    pledge("2025-02-01", "CHE", 2025, 60000, "P-2025-CHE"),
    pledge("2025-02-01", "SEN", 2025, 25000, "P-2025-SEN"),
    pledge("2025-02-05", "BEL", 2025, 50000, "P-2025-BEL", currency="EUR"),
    pledge("2025-02-06", "ITA", 2025, 20000, "P-2025-ITA", currency="EUR"),
    receipt("2025-04-14", "R2025BEL", "SPF AFFAIRES ETRANGERES", "BEL", 2025, 23525,
            extra='    instructed: "25000.00 EUR"\n    rate: "0.9410"'),
    plain("2025-01-31", "T2025A", "Transfer to GICHD", -300000, "Assets:Clearing:GICHD"),
    receipt("2025-02-10", "R2025DEU", "FEDERAL FOREIGN OFFICE", "DEU", 2025, 300000),
    receipt("2025-02-20", "R2025SEN", "TRESOR PUBLIC DU SENEGAL", "SEN", 2025, 25000,
            extra="    designated_year: 2024", remittance="UAM 2024"),
    receipt("2025-03-01", "R2025NOR", "NORWEGIAN MINISTRY OF FOREIGN AFFAIRS", "NOR", 2025, 120000),
    plain("2025-05-05", "R2025UNK", "Unknown payer", 2000, "Income:Contributions:Unidentified", flag="!",
          meta='    payer: "EMBASSY"\n    remittance: "donation"\n'),
    receipt("2025-06-15", "R2025CHE", "DFAE", "CHE", 2025, 30000),
    plain("2025-06-30", "I2025", "Interest", "85.25", "Income:Interest"),
    plain("2025-06-30", "T2025B", "Transfer to GICHD", -200000, "Assets:Clearing:GICHD"),
    receipt("2025-09-30", "R2026CHEADV", "DFAE", "CHE", 2026, 40000, account="Liabilities:Contributions:ReceivedInAdvance"),
    *(expenditure(d, f"EXP-2025-{i}", line, amt) for i, (d, line, amt) in enumerate([
        ("2025-03-31", "Staff", 130000), ("2025-06-30", "Staff", 130000), ("2025-09-30", "Staff", 130000),
        ("2025-05-31", "Travel", 40000), ("2025-06-30", "Meetings", 50000),
        ("2025-08-31", "Communications", 12000), ("2025-09-30", "GICHDServices", 30000)])),
])

AUDITOR = "Fiduciaire Exemple SA"
OPINION = datetime.date(2025, 3, 28)


def build_books(ledger: Path) -> Path:
    """Create the fixture books in ``ledger`` (a new directory) and commit them.

    2024 is signed off with the fingerprint of its entries as loaded, exactly
    as ``sign-off`` would record it.
    """
    init_ledger(ledger, opening_balance="400000.00", as_of="2023-12-31", user="test:init")
    txns = ledger / "txns"
    (txns / "2016.beancount").write_text(TXNS_2016, encoding="utf-8")
    (txns / "2024.beancount").write_text(TXNS_2024, encoding="utf-8")
    (txns / "2025.beancount").write_text(TXNS_2025, encoding="utf-8")
    books = load_books(ledger)
    assert books.ok, books.errors
    fingerprint = fp.year_fingerprint(books.entries, 2024)
    with (txns / "2025.beancount").open("a", encoding="utf-8") as out:
        out.write(f'\n2025-03-31 custom "isu-sign-off" 2024 "{AUDITOR}" {OPINION} "{fingerprint}"\n')
    gitrepo.add(ledger, ["txns"])
    gitrepo.commit(ledger, "fixture books\n\nUser: test\nAction: fixture\n", "test:fixture")
    return ledger


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def report_books(tmp_path_factory) -> Path:
    """The fixture books, built once per test session (modules import this fixture)."""
    if "books" in _BUILT:
        return _BUILT["books"]
    mp = pytest.MonkeyPatch()
    for key, value in {
        "GIT_AUTHOR_NAME": "isu-test", "GIT_AUTHOR_EMAIL": "isu-test@isu-ledger.invalid",
        "GIT_COMMITTER_NAME": "isu-test", "GIT_COMMITTER_EMAIL": "isu-test@isu-ledger.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }.items():
        mp.setenv(key, value)
    try:
        _BUILT["books"] = build_books(tmp_path_factory.mktemp("reports") / "books")
        return _BUILT["books"]
    finally:
        mp.undo()


@pytest.fixture
def auditor() -> str:
    """The auditor who signed 2024 off in the fixture books."""
    return AUDITOR


@pytest.fixture
def opinion_date() -> datetime.date:
    """The date of the audit opinion on 2024."""
    return OPINION
