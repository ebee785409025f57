"""``isu-ledger import-undo``: one import taken out of the books in one commit,
refused (nothing written) when it cannot be undone; the same file imports again
to the same entries."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from common.cli import cli, head

from ledger.store import gitrepo


def _import(ledger: Path, tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = cli(ledger, "import", str(path), "--json")
    assert code == 0, err
    return json.loads(out)["commit"]


def _added(ledger: Path, commit: str) -> str:
    """The text an import commit added (its diff without the headers)."""
    diff = gitrepo.run(ledger, "diff", "--unified=0", f"{commit}^", commit, "--", "txns")
    return "".join(line for line in diff.splitlines(keepends=True) if line.startswith("+") and not line.startswith("+++"))


def test_undo_takes_out_exactly_what_the_import_booked_and_the_file_imports_again(ledger, august_statement, tmp_path):
    before = (ledger / "txns/2025.beancount").read_bytes()
    booked = _import(ledger, tmp_path, "aug.camt053.xml", august_statement)
    assert (ledger / "documents/2025/aug.camt053.xml").is_file()

    code, out, err = cli(ledger, "import-undo", booked[:10], "--dry-run")
    assert code == 0, err
    assert "would remove 3 entries, 1 of them bank transactions, and 1 archived file(s)" in out
    assert head(ledger) == booked

    code, out, err = cli(ledger, "import-undo", booked[:10], "--json")
    assert code == 0, err
    report = json.loads(out)
    undo = report["commit"]
    assert head(ledger) == undo != booked and report["import"] == booked and report["entries"] == 3
    assert gitrepo.log(ledger, "-1", "--format=%s", undo).strip() == f"undo import {booked}"
    assert (ledger / "txns/2025.beancount").read_bytes() == before  # byte for byte as before the import
    assert not (ledger / "documents/2025/aug.camt053.xml").exists()
    assert cli(ledger, "check")[0] == 0

    again = _import(ledger, tmp_path, "aug.camt053.xml", august_statement)
    assert _added(ledger, again) == _added(ledger, booked)  # the same entries, the same text
    assert gitrepo.run(ledger, "diff", "--stat", booked, again).strip() == ""

    code, _, err = cli(ledger, "import-undo", booked[:10])
    assert code == 2 and err.strip().endswith(f"was undone already (commit {undo[:12]})")
    assert len(err.strip().splitlines()) == 1 and head(ledger) == again


def test_a_later_import_must_be_undone_first(ledger, august_statement, tmp_path):
    july = gitrepo.log(ledger, "--format=%H", "--grep=^import ", "-1").strip()
    august = _import(ledger, tmp_path, "aug.camt053.xml", august_statement)
    code, _, err = cli(ledger, "import-undo", july)
    assert code == 2 and head(ledger) == august
    assert err.strip() == (f"isu-ledger: the import {july[:12]} (july.camt053.xml) cannot be undone: the import "
                           f"{august[:12]} (aug.camt053.xml) continues from its closing balance; undo that first")
    assert cli(ledger, "import-undo", august)[0] == 0
    code, _, err = cli(ledger, "import-undo", july)
    assert code == 0, err
    assert "APP-07" not in (ledger / "txns/2025.beancount").read_text(encoding="utf-8")


def test_a_receipt_resolved_since_the_import_refuses_the_undo_and_names_it(ledger, august_statement, tmp_path):
    august = _import(ledger, tmp_path, "aug.camt053.xml", august_statement)
    items = json.loads(cli(ledger, "review", "list", "--json")[1])
    item = next(i for i in items if i["payer"] == "J DOE")
    assert cli(ledger, "review", "resolve", item["id"], "--state-party", "CHE", "--year", "2025")[0] == 0
    resolved = head(ledger)
    code, _, err = cli(ledger, "import-undo", august)
    assert code == 2 and head(ledger) == resolved
    assert "cannot be undone: review decisions were made on its receipts since: 2025-08-05 1500.00 CHF J DOE (bank ref APP-0801)" in err


def test_an_import_in_a_signed_off_year_cannot_be_undone(ledger):
    from ledger.finance.yearend import close_year, sign_off

    july = gitrepo.log(ledger, "--format=%H", "--grep=^import ", "-1").strip()
    close_year(ledger, 2025, user="test", today=datetime.date(2026, 2, 1))
    sign_off(ledger, 2025, "Aude Auditor", datetime.date(2026, 3, 31), user="test", today=datetime.date(2026, 4, 1))
    signed = head(ledger)
    code, _, err = cli(ledger, "import-undo", july)
    assert code == 2 and head(ledger) == signed
    assert err.strip() == (f"isu-ledger: the import {july[:12]} (july.camt053.xml) cannot be undone: 2025 is signed off "
                           "(auditor Aude Auditor, opinion 2026-03-31); book a correction in the open year")


@pytest.mark.parametrize("ref, message", [
    ("zzz", "zzz: not an import commit (give the commit id an import printed)"),
    ("deadbeef", "deadbeef: no such commit in the books"),
    ("12", "12: no web import batches here (no database); give the import's commit"),
])
def test_what_is_not_an_import_is_refused_in_one_line(ledger, ref, message):
    before = head(ledger)
    code, _, err = cli(ledger, "import-undo", ref)
    assert code == 2 and err.strip() == f"isu-ledger: {message}" and head(ledger) == before


def test_a_commit_that_is_not_an_import_is_refused(ledger):
    first = gitrepo.log(ledger, "--format=%H", "--reverse").split()[0]
    code, _, err = cli(ledger, "import-undo", first)
    assert code == 2 and "is not an import (" in err
