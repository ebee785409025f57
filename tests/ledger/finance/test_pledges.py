"""Pledges: entered by CLI, schedules, and the status against receipts with FX."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest
from common.cli import cli, import_ok
from common.statements import GERMANY, NORWAY, write_camt053

from beancount.core import data
from beancount.core.amount import Amount

from ledger.finance import pledges
from ledger.loader import load_books


OPENING = Decimal("100000.00")

D = datetime.date


@pytest.fixture
def books(tmp_path):
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", str(OPENING), "--as-of", "2024-12-31")[0] == 0
    return ledger


def add(ledger: Path, *args: str) -> str:
    code, out, err = cli(ledger, "pledge", "add", *args)
    assert code == 0, err
    return out


def test_add_schedule_and_list(books):
    out = add(books, "--state-party", "nor", "--amount", "50000", "--years", "2026-2028", "--expected", "2026-03-31",
              "--date", "2026-01-15", "--note", "Note verbale 12/2026")
    assert out.splitlines() == [
        "P-2026-NOR-01: NOR 2026 50000.00 CHF", "P-2027-NOR-01: NOR 2027 50000.00 CHF", "P-2028-NOR-01: NOR 2028 50000.00 CHF"]
    add(books, "--state-party", "NOR", "--amount", "1000", "--year", "2026", "--date", "2026-02-01")
    found = pledges.pledges(load_books(books).entries)
    assert [p.pledge_id for p in found] == ["P-2026-NOR-01", "P-2026-NOR-02", "P-2027-NOR-01", "P-2028-NOR-01"]
    assert {p.schedule for p in found if p.amount == Decimal("50000.00")} == {"S-NOR-2026-2028"}
    assert [p.expected for p in found if p.schedule] == [D(2026, 3, 31), D(2027, 3, 31), D(2028, 3, 31)]
    code, out, _ = cli(books, "pledge", "list", "--year", "2027", "--json")
    assert json.loads(out) == [{
        "pledge_id": "P-2027-NOR-01", "state_party": "NOR", "wp_year": 2027, "amount": "50000.00", "currency": "CHF",
        "expected": "2027-03-31", "work_plan": "core", "schedule": "S-NOR-2026-2028", "note": "Note verbale 12/2026",
        "date": "2026-01-15"}]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--state-party", "XYZ", "--amount", "1", "--year", "2026"], "XYZ: not in the registry"),
        (["--state-party", "DEU", "--amount", "1"], "give --year YYYY for one year or --years"),
        (["--state-party", "DEU", "--amount", "1", "--year", "2026", "--years", "2026-2027"], "give --year"),
        (["--state-party", "DEU", "--amount", "0", "--year", "2026"], "--amount 0: must not be zero"),
        (["--state-party", "DEU", "--amount", "1", "--year", "2026", "--currency", "euro"], "--currency euro: not an ISO 4217"),
        (["--state-party", "DEU", "--amount", "1", "--years", "2028-2026"], "the last year is before the first"),
        (["--state-party", "DEU", "--amount", "1", "--year", "2026", "--work-plan", "side"], "side: not a work plan"),
    ],
)
def test_add_refusals_are_one_line_and_write_nothing(books, args, problem):
    before = (books / ".git" / "HEAD").read_text(), sorted(p.name for p in (books / "txns").iterdir())
    code, out, err = cli(books, "pledge", "add", *args)
    assert code == 2 and problem in err and err.count("\n") == 1
    assert before == ((books / ".git" / "HEAD").read_text(), sorted(p.name for p in (books / "txns").iterdir()))
    assert not pledges.pledges(load_books(books).entries)


def test_status_against_receipts_with_fx(books, tmp_path):
    add(books, "--state-party", "DEU", "--amount", "100000", "--currency", "EUR", "--year", "2025", "--date", "2025-01-10")
    add(books, "--state-party", "NOR", "--amount", "50000", "--year", "2025", "--date", "2025-01-10")
    add(books, "--state-party", "NOR", "--amount", "40000", "--currency", "NOK", "--year", "2026", "--date", "2025-01-10")
    # The rate known when Germany pledged (e.g. the UN operational rate), for the FX difference.
    status_entries = load_books(books).entries
    (deu,) = [p for p in pledges.pledges(status_entries) if p.state_party == "DEU"]
    from ledger.store.writer import LedgerWriter

    with LedgerWriter(books, "test", "pledge rate") as w:
        meta = dict(deu.entry.meta)
        meta["rate"] = Decimal("0.9500")
        w.replace_entry(deu.entry, deu.entry._replace(meta=meta))
    import_ok(books, write_camt053(tmp_path / "s.xml", [
        {**GERMANY, "date": D(2025, 1, 29), "amount": Decimal("47050.00"), "ref": "R1", "text": "ISU 2025 Core Work Plan",
         "instructed": ("50000.00", "EUR", "0.9410")},
        {**NORWAY, "date": D(2025, 2, 3), "amount": Decimal("30000.00"), "ref": "R2", "text": "APMBC ISU contribution 2025"},
    ], opening=(D(2024, 12, 31), OPENING), ident="S-1"))
    entries = load_books(books).entries
    rows = {s.state_party: s for s in pledges.pledge_status(entries, 2025, datetime.date(2025, 12, 31))}
    # Half of the EUR pledge paid: the pledge counts at its own rate (policy 13), the
    # unpaid half too; what the bank credited differs by the exchange difference.
    assert rows["DEU"].pledged == Decimal("95000.00") and rows["DEU"].received == Decimal("47050.00")
    assert rows["DEU"].outstanding == Decimal("47500.00") and rows["DEU"].fx_pending
    assert rows["DEU"].fx_difference == Decimal("-450.00")  # 47050 - 50000 x 0.95
    assert rows["DEU"].pledged_original == {"EUR": Decimal("100000.00")}
    assert (rows["NOR"].pledged, rows["NOR"].received, rows["NOR"].outstanding) == (
        Decimal("50000.00"), Decimal("30000.00"), Decimal("20000.00"))
    assert not rows["NOR"].fx_pending and rows["NOR"].fx_difference is None
    # Germany pays the other half: fully paid in EUR, nothing outstanding whatever the rate did.
    closing = OPENING + Decimal("77050.00")
    import_ok(books, write_camt053(tmp_path / "s2.xml", [
        {**GERMANY, "date": D(2025, 6, 2), "amount": Decimal("46500.00"), "ref": "R3", "text": "ISU 2025 Core Work Plan",
         "instructed": ("50000.00", "EUR", "0.9300")}], opening=(D(2025, 2, 3), closing), ident="S-2"))
    rows = {s.state_party: s for s in pledges.pledge_status(load_books(books).entries, 2025)}
    assert rows["DEU"].pledged == Decimal("95000.00") and rows["DEU"].received == Decimal("93550.00")
    assert rows["DEU"].outstanding == Decimal("0.00") and not rows["DEU"].fx_pending
    assert rows["DEU"].fx_difference == Decimal("-1450.00")  # 93550 - 100000 x 0.95: reported, not outstanding
    # A foreign-currency pledge with no rate recorded and nothing received has no CHF value:
    # pending, original shown; with a price in the books on the pledge date it counts at that rate.
    (nor26,) = pledges.pledge_status(load_books(books).entries, 2026)
    assert nor26.pledged is None and nor26.outstanding is None and nor26.fx_pending
    assert nor26.pledged_original == {"NOK": Decimal("40000.00")}
    with LedgerWriter(books, "test", "NOK price") as w:
        w.add_entries([data.Price(data.new_metadata("<test>", 0), D(2025, 1, 2), "NOK", Amount(Decimal("0.0800"), "CHF"))])
    (nor26,) = pledges.pledge_status(load_books(books).entries, 2026)
    assert (nor26.pledged, nor26.outstanding) == (Decimal("3200.00"), Decimal("3200.00"))
    # As of a date before the receipts: nothing received yet.
    early = {s.state_party: s for s in pledges.pledge_status(load_books(books).entries, 2025, D(2025, 1, 20))}
    assert early["NOR"].received == 0 and early["NOR"].outstanding == Decimal("50000.00")
