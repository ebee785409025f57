"""Support in kind: recorded as data (custom entries), listed, refused when
bad or for a signed-off year, and disclosed in note 10 of the annual report."""

from __future__ import annotations

import json
from decimal import Decimal

from ledger.finance.inkind import in_kind
from ledger.loader import load_books
from reports.annual import annual_report


def test_add_list_and_disclose(cli, ledger_dir):
    code, out, err = cli(ledger_dir, "in-kind", "add", "--year", "2026", "--provider", "GICHD", "--nature", "Office space",
                         "--description", "Offices in Geneva", "--value", "96000", "--basis", "rent per m2")
    assert code == 0, err and "96,000.00" in out
    assert cli(ledger_dir, "in-kind", "add", "--year", "2026", "--provider", "Switzerland", "--nature", "Travel",
               "--description", "Delegates' travel")[0] == 0
    items = in_kind(load_books(ledger_dir).entries, 2026)
    assert [(i.provider, i.nature, i.value) for i in items] == [("GICHD", "Office space", Decimal("96000.00")),
                                                                ("Switzerland", "Travel", None)]
    code, out, _ = cli(ledger_dir, "in-kind", "list", "--year", "2026", "--json")
    assert json.loads(out)[0]["value"] == "96000.00"
    note = next(n for n in annual_report(load_books(ledger_dir), 2026).statements.notes if n.number == 10)
    assert note.table is not None and note.table.totals[3] == Decimal("96000.00")
    assert "96,000.00" in note.paragraphs[0]


def test_refusals(cli, ledger_dir):
    for args, problem in ((["--value", "-5"], "negative"), (["--value", "abc"], "--value"),
                          (["--description", 'a "quote"'], "quotes")):
        base = {"--year": "2026", "--provider": "GICHD", "--nature": "Office", "--description": "Offices"}
        for i in range(0, len(args), 2):
            base[args[i]] = args[i + 1]
        code, _, err = cli(ledger_dir, "in-kind", "add", *[x for kv in base.items() for x in kv])
        assert code == 2 and problem in err and len(err.strip().splitlines()) == 1, err
    assert in_kind(load_books(ledger_dir).entries, 2026) == []
