"""Year end through the CLI: close-year, sign-off, the lock, and the year after.

The receipts come in through the real import of camt.053 statements that
the test generates, so the flow is the one staff run: import 2025, close
2025, sign it off, import 2026 with a late payment meant for 2025 (counted
in 2026 with ``designated_year``), and every attempt to change 2025 refused.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from common.cli import cli, head, import_ok
from common.statements import GERMANY, GICHD_IBAN, NORWAY, write_camt053
from common.workbooks import fill
from beancount.core import data
from beancount.core.amount import Amount

from ledger import conventions
from ledger.finance import yearend
from ledger.loader import load_books
from ledger.store.writer import LedgerWriter, WriteRefused


D = datetime.date
YEAR_2025 = [
    {**GERMANY, "date": D(2025, 1, 29), "amount": Decimal("94100.00"), "ref": "T25-0001",
     "text": "ISU 2025 Core Work Plan", "instructed": ("100000.00", "EUR", "0.9410")},
    {"name": "GICHD", "iban": GICHD_IBAN, "date": D(2025, 3, 3), "amount": Decimal("-60000.00"), "ref": "T25-0002",
     "text": "ISU costs 2025"},
    {**NORWAY, "date": D(2025, 12, 15), "amount": Decimal("50000.00"), "ref": "T25-0003",
     "text": "APMBC ISU contribution 2026"},
]
OPENING = Decimal("431870.40")
CLOSING_2025 = OPENING + sum(e["amount"] for e in YEAR_2025)
YEAR_2026 = [
    {**GERMANY, "date": D(2026, 2, 10), "amount": Decimal("20000.00"), "ref": "T26-0001",
     "text": "ISU 2025 Core Work Plan balance"},
]


@pytest.fixture
def books(tmp_path) -> Path:
    ledger = tmp_path / "books"
    code, _, err = cli(ledger, "init", "--opening-balance", str(OPENING), "--as-of", "2024-12-31")
    assert code == 0, err
    return ledger


def closed_2025(books: Path, tmp_path: Path) -> Path:
    """2025 imported with a budget, a buffer policy and expenditure, then closed."""
    assert cli(books, "buffer", "policy", "--kind", "amount", "--value", "30000", "--decision",
               "14th Meeting of the States Parties", "--date", "2016-01-01")[0] == 0
    assert cli(books, "budget", "set", "--year", "2025", "--line", "Staff", "--amount", "80000",
               "--decision", "approved by the 22nd Meeting of the States Parties", "--date", "2024-11-29")[0] == 0
    import_ok(books, write_camt053(tmp_path / "2025.xml", YEAR_2025, opening=(D(2024, 12, 31), OPENING), ident="STMT-2025"))
    code, out, err = cli(books, "close-year", "2025")
    assert code == 0, err
    assert f"2025 closed; commit {head(books)[:12]}" in out  # the commit that booked it, as the audit trail names it
    return books


def txn_postings(books: Path, bank_ref: str) -> list[data.Posting]:
    (txn,) = [e for e in load_books(books).entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == bank_ref]
    return txn.postings


def test_close_year_books_buffer_carry_forward_and_recognition(books, tmp_path):
    closed_2025(books, tmp_path)
    entries = load_books(books).entries
    income, expenditure, surplus = yearend.year_result(entries, 2025)
    # The Norwegian payment for 2026 is deferred, so 2025 income is Germany's only;
    # the GICHD transfer is clearing, not expenditure.
    assert (income, expenditure, surplus) == (Decimal("94100.00"), Decimal(0), Decimal("94100.00"))
    figures = yearend.closed_figures(entries, 2025)
    assert figures["to_buffer"] == Decimal("30000.00") and figures["carried_forward"] == Decimal("64100.00")
    from ledger.finance import buffer

    assert buffer.balance(entries, D(2025, 12, 31)) == Decimal("30000.00")
    # The advance is recognised in 2026 income on 1 January with its attribution.
    (recognition,) = [e for e in entries if isinstance(e, data.Transaction) and e.meta.get("isu_kind") == "recognition"]
    assert recognition.date == D(2026, 1, 1) and conventions.year_tag(2026) in recognition.tags
    income_leg = [p for p in recognition.postings if p.account == "Income:Contributions:Core"]
    assert income_leg[0].units == Amount(Decimal("-50000.00"), "CHF")
    assert income_leg[0].meta["state_party"] == "NOR" and income_leg[0].meta["recognises"] == "T25-0003"
    assert yearend.year_result(entries, 2026)[0] == Decimal("50000.00")
    # Closing again with nothing changed books nothing.
    before = head(books)
    code, out, _ = cli(books, "close-year", "2025")
    assert code == 0 and "nothing to book" in out and head(books) == before


def test_deficit_draws_the_buffer_and_dry_run_writes_nothing(books, tmp_path):
    cli(books, "buffer", "policy", "--kind", "months", "--value", "3", "--decision", "MSP", "--date", "2016-01-01")
    assert cli(books, "buffer", "allocate", "--amount", "40000", "--decision", "CC", "--date", "2025-01-10")[0] == 0
    sheet = tmp_path / "exp.xlsx"
    fill(sheet, "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"],
         [["2025-05-31", "Staff", "Staff costs May", 25000, "EXP-1"]])
    code, _, err = cli(books, "expenditure", "import", str(sheet))
    assert code == 0, err
    before = head(books)
    code, out, _ = cli(books, "close-year", "2025", "--dry-run")
    assert code == 0 and "deficit 25,000.00" in out and "dry run" in out and head(books) == before
    assert cli(books, "close-year", "2025")[0] == 0
    entries = load_books(books).entries
    from ledger.finance import buffer

    assert buffer.balance(entries, D(2025, 12, 31)) == Decimal("15000.00")
    assert [m.amount for m in buffer.movements(entries, 2025)] == [Decimal("40000.00"), Decimal("-25000.00")]


def test_two_year_flow_sign_off_lock_and_late_payment(books, tmp_path):
    closed_2025(books, tmp_path)
    code, out, err = cli(books, "sign-off", "2025", "--auditor", "Swiss Federal Audit Office", "--opinion-date", "2026-03-31")
    assert code == 0, err
    assert "locked" in out
    entries = load_books(books).entries
    assert 2025 in yearend.locked_years(entries)
    assert cli(books, "check")[0] == 0

    # 2026: a German payment "for 2025" after 2025 is signed off counts in 2026.
    import_ok(books, write_camt053(tmp_path / "2026.xml", YEAR_2026, opening=(D(2025, 12, 31), CLOSING_2025), ident="STMT-2026"))
    (contribution,) = [p for p in txn_postings(books, "T26-0001") if p.account.startswith("Income:")]
    assert contribution.meta["wp_year"] == 2026 and contribution.meta["designated_year"] == 2025
    from ledger.finance.pledges import pledge_status

    status = {s.state_party: s for s in pledge_status(load_books(books).entries, 2026)}
    assert status["DEU"].received == Decimal("20000.00") and status["NOR"].received == Decimal("50000.00")

    # Anything dated 2025 is refused: CLI, writer, and a hand edit fails check.
    before = head(books)
    code, _, err = cli(books, "buffer", "allocate", "--amount", "1", "--decision", "x", "--date", "2025-06-01")
    assert code == 2 and err.count("\n") == 1
    assert "2025 is signed off (auditor Swiss Federal Audit Office, opinion 2026-03-31): nothing dated in 2025 can change; book a correction in the open year" in err
    code, _, err = cli(books, "budget", "set", "--year", "2025", "--line", "Staff", "--amount", "1", "--decision", "x")
    assert code == 2 and "signed off" in err
    code, _, err = cli(books, "close-year", "2025")
    assert code == 2 and "signed off" in err
    assert head(books) == before
    txns = (books / "txns" / "2025.beancount").read_text()
    (books / "txns" / "2025.beancount").write_text(txns.replace("94100.00 CHF", "94000.00 CHF", 1))
    code, _, err = cli(books, "check")
    assert code == 1 and "signed off" in err and "changed since sign-off" in err
    (books / "txns" / "2025.beancount").write_text(txns)

    # A correction goes into the open year with a reference.
    code, _, err = cli(books, "buffer", "allocate", "--amount", "1000", "--decision",
                       "correction of 2025 allocation, ref. audit letter 2026-04", "--date", "2026-04-15")
    assert code == 0, err


def test_writer_refuses_add_and_replace_in_a_signed_off_year(books, tmp_path):
    closed_2025(books, tmp_path)
    assert cli(books, "sign-off", "2025", "--auditor", "A. Auditor", "--opinion-date", "2026-03-31")[0] == 0
    before = head(books)
    entries = load_books(books).entries
    note = data.Note(data.new_metadata("<test>", 0), D(2025, 7, 1), conventions.BANK, "late note", None, None)
    with pytest.raises(WriteRefused, match=r"^2025 is signed off \(auditor A\. Auditor, opinion 2026-03-31\): nothing dated in 2025"):
        with LedgerWriter(books, "test", "late note") as w:
            w.add_entries([note])
    (pledge,) = [e for e in entries if isinstance(e, data.Custom) and e.type == "budget"]
    with pytest.raises(WriteRefused, match="2025 is signed off"):
        with LedgerWriter(books, "test", "move") as w:
            w.replace_entry(pledge, pledge._replace(date=D(2026, 1, 1)))
    assert head(books) == before
    # The next year stays open to the writer.
    with LedgerWriter(books, "test", "note") as w:
        w.add_entries([note._replace(date=D(2026, 7, 1))])
    assert head(books) != before


def test_sign_off_refusals(books, tmp_path):
    import_ok(books, write_camt053(tmp_path / "2025.xml", YEAR_2025[:1], opening=(D(2024, 12, 31), OPENING), ident="STMT-2025"))
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2026-03-31")
    assert code == 2 and "not closed" in err
    assert cli(books, "close-year", "2025")[0] == 0
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2025-12-31")
    assert code == 2 and "after the year's end" in err
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2999-01-01")
    assert code == 2 and "future" in err
    # A change after close-year: sign-off asks for the year to be closed again.
    sheet = tmp_path / "exp.xlsx"
    fill(sheet, "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"],
         [["2025-12-20", "Travel", "Mission", 1000, "EXP-9"]])
    assert cli(books, "expenditure", "import", str(sheet))[0] == 0
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2026-03-31")
    assert code == 2 and "changed since it was closed" in err
    assert cli(books, "close-year", "2025")[0] == 0
    assert cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2026-03-31")[0] == 0
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "B", "--opinion-date", "2026-04-01")
    assert code == 2 and "already signed off" in err


def test_close_year_refuses_a_year_not_ended(books):
    code, _, err = cli(books, "close-year", str(datetime.date.today().year))
    assert code == 2 and "has not ended" in err


def test_year_end_only_for_years_the_books_hold(books):
    """The books begin with the opening balance of 2024-12-31: closing or
    signing off 1999 (or 2023) is refused, and no txns/1999.beancount appears."""
    before = head(books)
    for year in ("1999", "2023"):
        code, out, err = cli(books, "close-year", year)
        assert (code, out) == (2, "") and f"the books begin in 2024 (first entry 2024-12-31); they hold no {year}" in err
        code, out, err = cli(books, "sign-off", year, "--auditor", "Mallory", "--opinion-date", "2026-03-31")
        assert (code, out) == (2, "") and f"they hold no {year}" in err
    assert head(books) == before and not (books / "txns" / "1999.beancount").exists()


def test_a_ledger_without_transactions_has_no_year_to_close(tmp_path):
    empty = tmp_path / "empty"
    assert cli(empty, "init")[0] == 0
    code, _, err = cli(empty, "close-year", "2024")
    assert code == 2 and "the books hold no transaction yet" in err


def test_sign_off_records_on_whose_behalf_apart_from_the_auditor(books, tmp_path):
    from ledger.store import gitrepo

    closed_2025(books, tmp_path)
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "Jane Roe", "--opinion-date", "2026-03-31",
                       "--opinion", "glowing")
    assert code == 2 and "--opinion" in err
    code, out, err = cli(books, "sign-off", "2025", "--auditor", "Jane  Roe", "--on-behalf-of", "Swiss Federal Audit Office",
                         "--opinion-date", "2026-03-31", "--opinion", "qualified")
    assert code == 0, err
    assert out.startswith("2025 signed off (auditor Jane Roe, on behalf of Swiss Federal Audit Office, qualified opinion 2026-03-31)")
    lock = yearend.locked_years(load_books(books).entries)[2025]
    assert lock.auditor == "Jane Roe" and yearend.on_behalf_of(lock) == "Swiss Federal Audit Office"
    assert yearend.opinion_of(lock) == "qualified"
    assert gitrepo.log(books, "-1", "--format=%s").strip() == (
        "sign-off 2025 (auditor Jane Roe, on behalf of Swiss Federal Audit Office, qualified opinion 2026-03-31)"
    )
    # The annual report gives the opinion, the auditor and the firm.
    from reports.annual import annual_report

    report = annual_report(load_books(books), 2025).statements.auditor_report
    assert report[0].startswith("Qualified opinion.") and "Jane Roe, Swiss Federal Audit Office" in report[3]
    assert cli(books, "check")[0] == 0


@pytest.mark.parametrize("option", ["--auditor", "--on-behalf-of"])
def test_signer_names_are_one_plain_line(books, tmp_path, option):
    closed_2025(books, tmp_path)
    before = head(books)
    other = {"--auditor": ["--on-behalf-of", "Office"], "--on-behalf-of": ["--auditor", "Jane Roe"]}[option]
    for bad in ('Jane "Mallory" Roe', "Jane\\Roe", "x" * 201):
        code, _, err = cli(books, "sign-off", "2025", option, bad, *other, "--opinion-date", "2026-03-31")
        assert code == 2 and err.startswith(f"isu-ledger: {option}: "), err
    assert head(books) == before


def _equity(entries) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for e in entries:
        if isinstance(e, data.Transaction) and e.date <= D(2025, 12, 31):
            for p in e.postings:
                out[p.account] = out.get(p.account, Decimal(0)) + p.units.number
    return {k: v for k, v in out.items() if v}


def test_close_year_moves_the_result_and_the_opening_into_the_fund_balance(books, tmp_path):
    closed_2025(books, tmp_path)
    entries = load_books(books).entries
    (closing,) = [e for e in entries if conventions.is_closing(e)]
    assert closing.date == D(2025, 12, 31) and conventions.TAG_CLOSING in closing.tags
    balances = _equity(entries)
    # After the close no income or expense account of 2025 holds anything, the
    # opening balances are in the fund balance, and equity is the net assets:
    # buffer 30,000 and the rest unrestricted.
    assert not [a for a in balances if a.startswith(("Income:", "Expenses:")) or a == conventions.OPENING]
    net = sum(v for a, v in balances.items() if a.startswith(("Assets:", "Liabilities:")))
    assert -balances[conventions.BUFFER] == Decimal("30000.00")
    assert -balances[conventions.FUND_BALANCE] == net - Decimal("30000.00")
    # The closing is not activity: the year's result is the same without it.
    assert yearend.year_result(entries, 2025) == yearend.year_result([e for e in entries if not conventions.is_closing(e)], 2025)


def test_close_again_after_a_late_change_books_only_the_difference(books, tmp_path):
    closed_2025(books, tmp_path)
    sheet = tmp_path / "exp.xlsx"
    fill(sheet, "Expenditure", ["Date", "Budget line", "Description", "Amount", "Reference"],
         [["2025-12-20", "Staff", "Staff costs December", 1000, "EXP-9"]])
    assert cli(books, "expenditure", "import", str(sheet))[0] == 0
    # The sign-off is refused while the late expenditure is not closed.
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A. Auditor", "--opinion-date", "2026-03-01")
    assert code == 2 and "close-year 2025" in err
    assert cli(books, "close-year", "2025")[0] == 0
    entries = load_books(books).entries
    closings = [e for e in entries if conventions.is_closing(e)]
    assert len(closings) == 2
    assert [p.units.number for p in closings[1].postings if p.account == "Expenses:Budget:Staff"] == [Decimal("-1000.00")]
    assert not [a for a in _equity(entries) if a.startswith(("Income:", "Expenses:"))]
