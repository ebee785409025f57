"""``isu-ledger review``: the suspense queue, resolving, learning a rule."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from common.cli import cli
from beancount.core import data
from common.statements import camt053

from ledger import conventions
from ledger.loader import load_books
from importers.review import item_id

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "year2025"
JULY = SAMPLES / "ubs-isu-2025-07.camt053.xml"



@pytest.fixture
def books(tmp_path):
    """A ledger whose books run to the end of June 2025 (opening 364411.60 CHF),
    with July imported: one unidentified receipt of 2000.00 CHF."""
    if not SAMPLES.is_dir():
        pytest.skip("../shared/samples not available")
    ledger = tmp_path / "books"
    assert cli(ledger, "init", "--opening-balance", "300664.60", "--as-of", "2025-06-30")[0] == 0
    code, _, err = cli(ledger, "import", str(JULY))
    assert code == 0, err
    return ledger


def queue(ledger):
    code, out, _ = cli(ledger, "review", "list", "--json")
    assert code == 0
    return json.loads(out)


def test_list_shape_and_stable_id(books):
    (item,) = queue(books)
    contract = {"id", "date", "amount", "currency", "payer", "payer_account", "remittance", "suggestion"}
    assert set(item) == contract | {"label", "why", "facts"}  # added for people: see importers.review.explained
    assert item["label"] == "2025-07-09, 2,000.00 CHF from MINISTRY OF FOREIGN AFFAIRS"
    assert item["date"] == "2025-07-09" and item["amount"] == "2000.00" and item["currency"] == "CHF"
    assert item["payer"] == "MINISTRY OF FOREIGN AFFAIRS" and item["remittance"] == "VOLUNTARY CONTRIBUTION"
    assert item["id"] == item_id("CH4500240240FP1006276", "UBS202507090001", 0)
    assert len(item["id"]) == 8
    # an unrelated write does not change the id
    aug = SAMPLES / "ubs-isu-2025-08.camt053.xml"
    assert cli(books, "import", str(aug))[0] == 0
    assert [i["id"] for i in queue(books)] == [item["id"]]


def test_resolve_rewrites_only_the_contribution_side(books):
    (item,) = queue(books)
    before = [e for e in load_books(books).entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == "UBS202507090001"][0]
    code, out, err = cli(books, "review", "resolve", item["id"], "--state-party", "svk", "--year", "2025")
    assert code == 0, err and "SVK 2025" in out
    assert queue(books) == []
    entries = load_books(books).entries
    (txn,) = [e for e in entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == "UBS202507090001"]
    assert txn.flag == "*" and "ISU-2025" in txn.tags
    assert txn.postings[0] == before.postings[0]._replace(meta=txn.postings[0].meta)
    posting = txn.postings[1]
    assert posting.account == "Income:Contributions:Core" and posting.units == before.postings[1].units
    assert posting.meta["state_party"] == "SVK" and int(posting.meta["wp_year"]) == 2025
    assert posting.meta["why"].startswith("resolved by ")
    assert "suggest_year" not in posting.meta
    assert cli(books, "check")[0] == 0


@pytest.mark.parametrize("name", ["Slovakia", "Eslovaquia", "slovaquie", "Slovakia (SVK)"])
def test_resolve_by_the_states_name_in_any_language(books, name):
    (item,) = queue(books)
    code, out, err = cli(books, "review", "resolve", item["id"], "--state-party", name, "--year", "2025")
    assert code == 0, err
    assert "-> SVK 2025" in out and queue(books) == []


def test_resolve_for_a_later_year_is_an_advance(books):
    (item,) = queue(books)
    assert cli(books, "review", "resolve", item["id"], "--state-party", "SVK", "--year", "2026")[0] == 0
    entries = load_books(books).entries
    (txn,) = [e for e in entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == "UBS202507090001"]
    assert txn.postings[1].account == conventions.ADVANCE and "ISU-2026" in txn.tags


def import_text(ledger: Path, tmp_path: Path, name: str, text: str) -> dict:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, out, err = cli(ledger, "import", str(path), "--json")
    assert code == 0, err
    return json.loads(out)


def receipt(ledger: Path, ref: str) -> data.Transaction:
    (txn,) = [e for e in load_books(ledger).entries if isinstance(e, data.Transaction) and e.meta.get("bank_ref") == ref]
    return txn


def test_remember_by_account_identifies_the_next_receipt(books, tmp_path):
    payer = {"name": "STATNA POKLADNICA", "iban": "SK3112000000198742637541"}
    doc = import_text(books, tmp_path, "aug.xml", camt053(
        [{"ref": "T0809", "date": "2025-08-09", "amount": "3000.00", "text": "CONTRIBUTION", **payer}],
        opening=("2025-07-31", "231414.60"), closing=("2025-08-31", "234414.60"), ident="T-T0809"))
    assert doc["needs_review"] == 1 and doc["unreconciled"] == 0
    (item,) = [i for i in queue(books) if i["payer_account"] == payer["iban"]]
    code, _, err = cli(books, "review", "resolve", item["id"], "--state-party", "SVK", "--year", "2025", "--remember")
    assert code == 0, err
    rules = (books / "registry" / "rules.csv").read_text()
    assert "SK3112000000198742637541" in rules and "SVK" in rules
    log = subprocess.run(["git", "show", "--stat", "--format=%s", "HEAD"], cwd=books, capture_output=True, text=True).stdout
    assert "registry/rules.csv" in log and "txns/2025.beancount" in log  # one commit for both
    doc = import_text(books, tmp_path, "sep.xml", camt053(
        [{"ref": "T0909", "date": "2025-09-09", "amount": "5000.00", "text": "ISU 2025", **payer}],
        opening=("2025-08-31", "234414.60"), closing=("2025-09-30", "239414.60"), ident="T-T0909"))
    assert doc["needs_review"] == 0
    posting = receipt(books, "T0909").postings[1]
    assert posting.meta["state_party"] == "SVK" and "rule" in posting.meta["why"]


def test_remember_by_generic_name_only_suggests(books, tmp_path):
    (item,) = queue(books)
    code, _, err = cli(books, "review", "resolve", item["id"], "--state-party", "SVK", "--year", "2025", "--remember")
    assert code == 0, err
    assert "MINISTRY OF FOREIGN AFFAIRS" in (books / "registry" / "rules.csv").read_text()
    import_text(books, tmp_path, "aug.xml", camt053(
        [{"ref": "T0809", "date": "2025-08-09", "amount": "3000.00", "name": "MINISTRY OF FOREIGN AFFAIRS", "text": "ISU 2025"}],
        opening=("2025-07-31", "231414.60"), closing=("2025-08-31", "234414.60"), ident="T-T0809"))
    (item,) = queue(books)  # every State has a "Ministry of Foreign Affairs": a hint, not an identification
    assert item["suggestion"]["state_party"] == "SVK" and "rule" in item["suggestion"]["why"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["deadbeef", "--state-party", "SVK", "--year", "2025"], "no such review item"),
        (["{id}", "--state-party", "XXX", "--year", "2025"], "XXX"),
        (["{id}", "--state-party", "Atlantis", "--year", "2025"], "No State Party or contributor is called 'Atlantis'."),
        (["{id}", "--state-party", "Congo", "--year", "2025"],
         "'Congo' is the name of several: Democratic Republic of the Congo (COD), Congo (COG). Pick one."),
        (["{id}", "--state-party", "Slovaki", "--year", "2025"], "Did you mean Slovakia (SVK)"),
        (["{id}", "--state-party", "SVK", "--year", "1990"], "1990"),
        (["{id}", "--state-party", "SVK", "--year", "2031"], "2031"),
        (["{id}", "--state-party", "SVK", "--year", "2025", "--work-plan", "nope"], "nope"),
    ],
)
def test_bad_resolve_exits_2_nothing_written(head, books, args, message):
    (item,) = queue(books)
    before = head(books)
    code, out, err = cli(books, "review", "resolve", *[a.format(id=item["id"]) for a in args])
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and message in err
    assert head(books) == before and queue(books) == [item]


def _ubs_csv(rows: list[tuple[str, str, str, str, str]], opening: str, closing: str, iban: str = "CH45 0024 0240 FP10 0627 6") -> str:
    """A UBS e-banking CSV export of the ISU account: rows of (day, ref, amount, name, reason)."""
    lines = ["Account number:;0240-00627.01M;", f"IBAN:;{iban};", "From:;01.01.2026;",
             "Until:;31.01.2026;", f"Opening balance:;{opening};", f"Closing balance:;{closing};", "Valued in:;CHF;",
             f"Numbers of transactions in this period:;{len(rows)};", "",
             "Trade date;Trade time;Booking date;Value date;Currency;Debit;Credit;Individual amount;Balance;"
             "Transaction no.;Description1;Description2;Description3;Footnotes;"]
    for day, ref, amount, name, reason in rows:
        lines.append(f"{day};;{day};{day};CHF;;{amount};;;{ref};{name};;Reason for payment: {reason};;")
    return "\n".join(lines) + "\n"


# camt (XML) carries \n, \r, U+0085, U+2028, U+2029; a UBS CSV export also \x0b, \x0c, \x1c-\x1e.
@pytest.mark.parametrize("separator", ["\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"], ids=repr)
def test_bank_text_with_a_line_separator_leaves_the_queue_and_pledges_working(ledger_dir, tmp_path, separator):
    """A receipt whose bank text holds a line separator is booked on one line;
    a later review item of the same year's file resolves, a pledge updates."""
    import openpyxl

    if separator in "\n\r\x85\u2028\u2029":
        entries = [
            {"ref": "SEP1", "date": "2026-01-05", "amount": "100.00", "name": f"J DOE{separator}2ND LINE", "text": f"GIFT{separator}THANKS"},
            {"ref": "SEP2", "date": "2026-01-06", "amount": "200.00", "name": "ACME TRADING", "text": "INVOICE 7"},
        ]
        statement = tmp_path / f"jan{separator}sep.xml"  # a file name is text too
        iban = f"CH4500240240{separator}FP1006276"  # the bank's own account line, too
        statement.write_text(camt053(entries, opening=("2025-12-31", "612408.15"), ident="S-SEP", iban=iban), encoding="utf-8")
    else:
        statement = tmp_path / f"jan{separator}sep.csv"  # a file name is text too
        statement.write_text(_ubs_csv([("05.01.2026", "SEP1", "100.00", f"J DOE{separator}2ND LINE", f"GIFT{separator}THANKS"),
                                       ("06.01.2026", "SEP2", "200.00", "ACME TRADING", "INVOICE 7")],
                                      "612'408.15", "612'708.15", f"CH45 0024{separator}0240 FP10 0627 6"), encoding="utf-8")
    code, _, err = cli(ledger_dir, "import", str(statement))
    assert code == 0, err
    text = (ledger_dir / "txns/2026.beancount").read_bytes().decode("utf-8")
    assert "J DOE 2ND LINE" in text
    assert text.endswith("\n") and text.splitlines() == text.split("\n")[:-1]  # no separator but the "\\n" Beancount counts
    archived = f"documents/2026/jan sep.{statement.suffix[1:]}"
    assert f'statement: "{archived}"' in text and (ledger_dir / archived).read_bytes() == statement.read_bytes()
    (later,) = [item for item in queue(ledger_dir) if item["payer"] == "ACME TRADING"]
    code, _, err = cli(ledger_dir, "review", "resolve", later["id"], "--state-party", "SVK", "--year", "2026")
    assert code == 0, err
    assert cli(ledger_dir, "pledge", "add", "--state-party", "NOR", "--amount", "1000", "--year", "2026", "--note", f"note{separator}verbale")[0] == 0
    workbook = tmp_path / "pledges.xlsx"
    assert cli(ledger_dir, "pledge", "template", "--year", "2026", "-o", str(workbook))[0] == 0
    wb = openpyxl.load_workbook(workbook)
    ws = wb["Pledges"]
    header = [c.value for c in ws[1]]
    (row,) = [r for r in ws.iter_rows(min_row=2) if r[header.index("State Party")].value == "NOR"]
    row[header.index("Amount")].value = 1500
    wb.save(workbook)
    code, _, err = cli(ledger_dir, "pledge", "import", str(workbook))
    assert code == 0, err
    assert cli(ledger_dir, "check")[0] == 0
