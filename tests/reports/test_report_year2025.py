"""The ../shared/samples/year2025 statements imported, the review resolved as
expected.json says, then ``report contributions --format json`` for each
work-plan year must give expected.json's ``received_by_year``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest


SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "year2025"



def test_year2025_contributions_report_reproduces_expected(cli, tmp_path):
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not available")
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
    ledger = tmp_path / "books"
    code, _, err = cli(ledger, "init", "--opening-balance", expected["opening"]["amount"], "--as-of", expected["opening"]["date"])
    assert code == 0, err
    code, _, err = cli(ledger, "import", *(str(SAMPLES / f["file"]) for f in expected["files"]))
    assert code == 0, err
    code, out, err = cli(ledger, "review", "list", "--json")
    items = json.loads(out)
    for want in expected["resolve"]:
        (item,) = [i for i in items if i["date"] == want["date"] and i["amount"] == want["amount"]]
        code, _, err = cli(ledger, "review", "resolve", item["id"], "--state-party", want["state_party"],
                           "--year", str(want["wp_year"]))
        assert code == 0, err
    got = {}
    for year in sorted(expected["received_by_year"]):
        # As of the last day of the statements: receipts booked in 2025 for every work-plan year.
        code, out, err = cli(ledger, "report", "contributions", "--year", year, "--as-of", expected["closing"]["date"])
        assert code == 0, err
        doc = json.loads(out)
        got[year] = {row["state_party"]: row["received"] for row in doc["rows"] if row["received"] != "0.00"}
        assert doc["total_received"] == f"{sum(map(Decimal, got[year].values())):.2f}"
    assert got == expected["received_by_year"]
    code, out, _ = cli(ledger, "report", "contributions", "--year", "2025", "--as-of", expected["closing"]["date"])
    doc = json.loads(out)
    assert doc["unidentified"] == "0.00"  # the ambiguous receipt was resolved
    assert {r["state_party"]: r["advance_next_year"] for r in doc["rows"]}["NOR"] == expected["received_by_year"]["2026"]["NOR"]
