"""``isu-ledger import``: dry run, JSON contract, archive names, refusals.

The month-by-month year is in test_import_year2025.py; here the edges of the
pipeline, each on a small ledger with statements derived from the samples.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from common.terminal import Terminal

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO.parent / "shared" / "samples" / "year2025"
JAN = SAMPLES / "ubs-isu-2025-01.camt053.xml"



@pytest.fixture
def books(cli, tmp_path):
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not available")
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", "431870.40", "--as-of", "2024-12-31")[0] == 0
    return ledger


def variant(tmp_path: Path, source: Path, name: str, *edits: tuple[str, str]) -> Path:
    text = source.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_contract(cli, books):
    code, out, err = cli(books, "import", str(JAN), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"files", "imported", "duplicates", "needs_review"}
    (f,) = doc["files"]
    assert {k: f[k] for k in ("format", "statements", "entries", "imported", "duplicates", "needs_review")} == {
        "format": "camt.053.001.08", "statements": 1, "entries": 3, "imported": 3, "duplicates": 0, "needs_review": 0,
    }
    assert f["file"] == str(JAN) and isinstance(f["errors"], list)
    assert (books / "documents" / "2025" / JAN.name).read_bytes() == JAN.read_bytes()
    assert "bank_ref: \"UBS202501290003\"" in (books / "txns" / "2025.beancount").read_text()


def test_dry_run_writes_nothing_and_previews(cli, head, books):
    before = head(books)
    code, out, err = cli(books, "import", str(JAN), "--dry-run", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dry_run"] is True and doc["imported"] == 3
    idents = doc["files"][0]["identifications"]
    assert [i["state_party"] for i in idents] == ["SEN", "DEU"] and all(i["why"] for i in idents)
    assert head(books) == before and not (books / "documents" / "2025").exists()
    code, out, _ = cli(books, "import", str(JAN), "--dry-run")
    assert code == 0 and "would import 3 entries" in out and "-> DEU" in out


def test_human_summary(cli, books):
    code, out, _ = cli(books, "import", str(JAN))
    assert code == 0
    assert re.search(r"imported 3 entries, 0 already booked, 0 to review \(commit [0-9a-f]{12}\)", out)


def test_archive_name_taken_by_other_bytes_gets_a_hash_suffix(cli, books, tmp_path):
    assert cli(books, "import", str(JAN))[0] == 0
    feb = SAMPLES / "ubs-isu-2025-02.camt053.xml"
    (tmp_path / "x").mkdir()
    same_name = tmp_path / "x" / JAN.name
    same_name.write_bytes(feb.read_bytes())
    code, _, err = cli(books, "import", str(same_name))
    assert code == 0, err
    archived = sorted(p.name for p in (books / "documents" / "2025").iterdir())
    assert len(archived) == 2 and JAN.name in archived
    assert any(re.fullmatch(r"ubs-isu-2025-01-[0-9a-f]{8}\.camt053\.xml", name) for name in archived)
    txns = (books / "txns" / "2025.beancount").read_text()
    assert "documents/2025/ubs-isu-2025-01-" in txns


def test_balances_that_do_not_reconcile_are_refused(cli, head, books, tmp_path):
    bad = variant(tmp_path, JAN, "bad-balance.xml", ("479720.40", "479720.50"))
    before = head(books)
    code, out, err = cli(books, "import", str(bad))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "bad-balance.xml" in err and "do not reconcile" in err and "difference 0.10" in err
    assert head(books) == before


def test_non_chf_statement_is_refused(cli, books, tmp_path):
    eur = variant(tmp_path, JAN, "eur.xml", ("<Ccy>CHF</Ccy>", "<Ccy>EUR</Ccy>"))
    code, _, err = cli(books, "import", str(eur))
    assert code == 2 and "eur.xml" in err and "EUR" in err


def test_camt054_of_a_booked_batch_adds_nothing(cli, head, books, tmp_path):
    months = sorted(SAMPLES.glob("ubs-isu-2025-0[1-6]*"))
    assert cli(books, "import", *map(str, months))[0] == 0
    june = SAMPLES / "ubs-isu-2025-06.camt053.xml"
    text = june.read_text(encoding="utf-8")
    text = re.sub(r"<Bal>.*?</Bal>\s*", "", text, flags=re.S)
    text = text.replace("camt.053.001.08", "camt.054.001.08").replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn")
    text = text.replace("<Stmt>", "<Ntfctn>").replace("</Stmt>", "</Ntfctn>")
    notification = tmp_path / "ubs-isu-2025-06.camt054.xml"
    notification.write_text(text, encoding="utf-8")
    before = head(books)
    code, out, err = cli(books, "import", str(notification), "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == 0 and json.loads(out)["duplicates"] == 3
    assert head(books) == before


def test_progress_bar_only_on_a_terminal(cli, books, tmp_path):
    """At a terminal the import shows click's progress bar on standard error;
    elsewhere standard error stays empty."""
    piped = tmp_path / "piped"
    shutil.copytree(books, piped)
    term = Terminal(books, "import", str(JAN))
    code, out, shown = term.close()
    assert code == 0 and "imported 3 entries" in out, shown
    assert re.search(r"import +\[#+-*\] +\d/3 .*booked ubs-isu-2025-01\.camt053\.xml", shown), shown
    assert shown.endswith("\n") and "imported" not in shown
    code, out, err = cli(piped, "import", str(JAN))
    assert (code, err) == (0, "") and "imported 3 entries" in out


def test_missing_file_is_one_line(cli, books):
    code, _, err = cli(books, "import", str(books / "nope.xml"))
    assert code == 2 and "nope.xml" in err and len(err.splitlines()) == 1
