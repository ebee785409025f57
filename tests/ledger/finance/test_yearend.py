"""Year end through the CLI: close-year, sign-off, the lock, and the year after.

The receipts come in through the real import of camt.053 statements that
the test generates, so the flow is the one staff run: import 2025, close
2025, sign it off, import 2026 with a late payment meant for 2025 (counted
in 2026 with ``designated_year``), and every attempt to change 2025 refused.
"""

from __future__ import annotations

import datetime
import io
import subprocess
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from beancount.core import data
from beancount.core.amount import Amount

from ledger import conventions as C
from ledger.finance import yearend
from app.cli.main import main
from ledger.loader import load_books
from ledger.store.writer import LedgerWriter, WriteRefused

pytestmark = pytest.mark.usefixtures("needs_plugins")

IBAN = "CH4500240240FP1006276"
GICHD_IBAN = "CH1000240240FP1000010"


def cli(ledger: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(["--ledger", str(ledger), *args], stdout=out, stderr=err), out.getvalue(), err.getvalue()


def head(ledger: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ledger, capture_output=True, text=True).stdout.strip()


def _entry(n: int, e: dict) -> str:
    credit = e["amount"] > 0
    amount = f"{abs(e['amount']):.2f}"
    ind = "CRDT" if credit else "DBIT"
    day = e["date"].isoformat()
    ref = e["ref"]
    amt_dtls = ""
    if e.get("instructed"):
        inst, ccy, rate = e["instructed"]
        amt_dtls = (
            f'<AmtDtls><InstdAmt><Amt Ccy="{ccy}">{inst}</Amt></InstdAmt><TxAmt><Amt Ccy="CHF">{amount}</Amt>'
            f"<CcyXchg><SrcCcy>{ccy}</SrcCcy><TrgtCcy>CHF</TrgtCcy><UnitCcy>{ccy}</UnitCcy><XchgRate>{rate}</XchgRate>"
            f"</CcyXchg></TxAmt></AmtDtls>"
        )
    party, acct = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    family = "RCDT" if credit else "ICDT"
    return (
        f'<Ntry><NtryRef>{n}</NtryRef><Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs><AcctSvcrRef>{ref}-1</AcctSvcrRef><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f'<Amt Ccy="CHF">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{amt_dtls}'
        f"<RltdPties><{party}><Pty><Nm>{escape(e['name'])}</Nm></Pty></{party}>"
        f"<{acct}><Id><IBAN>{e['iban']}</IBAN></Id></{acct}></RltdPties>"
        f"<RmtInf><Ustrd>{escape(e['text'])}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def camt053(path: Path, stmt_id: str, opening: tuple[datetime.date, Decimal], entries: list[dict]) -> Path:
    """A minimal, valid camt.053.001.08 statement of the ISU account."""
    closing_date = max(e["date"] for e in entries)
    closing = opening[1] + sum(e["amount"] for e in entries)
    body = "".join(_entry(n, e) for n, e in enumerate(entries, start=1))
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{stmt_id}</MsgId><CreDtTm>{closing_date}T23:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{stmt_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{closing_date}T23:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>CHF</Ccy></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{opening[1]:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{opening[0]}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">{closing:.2f}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{closing_date}</Dt></Dt></Bal>"
        f"{body}</Stmt></BkToCstmrStmt></Document>",
        encoding="utf-8",
    )
    return path


D = datetime.date
GERMANY = {"name": "FEDERAL FOREIGN OFFICE", "iban": "DE02120300000000202051"}
NORWAY = {"name": "UTENRIKSDEPARTEMENTET", "iban": "NO9386011117947"}

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


def import_ok(ledger: Path, path: Path) -> None:
    code, out, err = cli(ledger, "import", str(path))
    assert code == 0, err
    code, out, err = cli(ledger, "review", "list", "--json")
    assert out.strip() == "[]", f"receipts need review: {out}"


def closed_2025(books: Path, tmp_path: Path) -> Path:
    """2025 imported with a budget, a buffer policy and expenditure, then closed."""
    assert cli(books, "buffer", "policy", "--kind", "amount", "--value", "30000", "--decision",
               "14th Meeting of the States Parties", "--date", "2016-01-01")[0] == 0
    assert cli(books, "budget", "set", "--year", "2025", "--line", "Staff", "--amount", "80000",
               "--decision", "approved by the 22nd Meeting of the States Parties", "--date", "2024-11-29")[0] == 0
    import_ok(books, camt053(tmp_path / "2025.xml", "STMT-2025", (D(2024, 12, 31), OPENING), YEAR_2025))
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
    assert recognition.date == D(2026, 1, 1) and C.year_tag(2026) in recognition.tags
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
    from test_workbooks import fill

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
    import_ok(books, camt053(tmp_path / "2026.xml", "STMT-2026", (D(2025, 12, 31), CLOSING_2025), YEAR_2026))
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
    note = data.Note(data.new_metadata("<test>", 0), D(2025, 7, 1), C.BANK, "late note", None, None)
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
    import_ok(books, camt053(tmp_path / "2025.xml", "STMT-2025", (D(2024, 12, 31), OPENING), YEAR_2025[:1]))
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2026-03-31")
    assert code == 2 and "not closed" in err
    assert cli(books, "close-year", "2025")[0] == 0
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2025-12-31")
    assert code == 2 and "after the year's end" in err
    code, _, err = cli(books, "sign-off", "2025", "--auditor", "A", "--opinion-date", "2999-01-01")
    assert code == 2 and "future" in err
    # A change after close-year: sign-off asks for the year to be closed again.
    sheet = tmp_path / "exp.xlsx"
    from test_workbooks import fill

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
