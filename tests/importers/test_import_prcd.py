"""Statements whose opening is a PRCD (previous closing) balance, or that have
no readable opening at all: reconciled on import, never booked unchecked."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from common.cli import cli, head
from common.statements import GERMANY, camt053

D = datetime.date
OPENING = Decimal("1000.00")
RECEIPT = {**GERMANY, "date": D(2025, 1, 29), "amount": Decimal("500.00"), "ref": "P-1", "text": "ISU 2025 Core Work Plan"}


def books(tmp_path):
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", str(OPENING), "--as-of", "2024-12-31")[0] == 0
    return ledger


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_prcd_opening_reconciles_or_is_refused(tmp_path):
    ledger = books(tmp_path)
    good = camt053([RECEIPT], opening=(D(2024, 12, 31), OPENING), ident="S1").replace("<Cd>OPBD</Cd>", "<Cd>PRCD</Cd>")
    broken = good.replace(">1500.00</Amt>", ">1600.00</Amt>")
    before = head(ledger)
    code, _, err = cli(ledger, "import", str(write(tmp_path, "bad.xml", broken)))
    assert code == 2 and "balances do not reconcile" in err and len(err.strip().splitlines()) == 1
    assert head(ledger) == before
    code, out, err = cli(ledger, "import", str(write(tmp_path, "good.xml", good)))
    assert code == 0, err


def test_no_opening_imports_only_when_it_continues_the_books(tmp_path):
    ledger = books(tmp_path)
    text = camt053([RECEIPT], opening=(D(2024, 12, 31), OPENING), ident="S2")
    no_opening = re.sub(r"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd>.*?</Bal>", "", text)
    wrong = no_opening.replace(">1500.00</Amt>", ">1400.00</Amt>")
    before = head(ledger)
    code, _, err = cli(ledger, "import", str(write(tmp_path, "wrong.xml", wrong)))
    assert code == 2 and "has no opening balance and does not continue the books" in err
    assert head(ledger) == before
    code, _, err = cli(ledger, "import", str(write(tmp_path, "right.xml", no_opening)))
    assert code == 0, err
