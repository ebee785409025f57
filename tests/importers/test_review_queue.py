"""The review queue as people read and work it: the importer's reasoning as
plain facts, a conflict in words, several receipts resolved in one commit,
a decision undone (the receipt back as the importer left it, its rule
forgotten), and what a signed-off year does to both."""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path

import pytest
from common.statements import camt053

from importers.explain import AGAINST, FOR, PROBLEM, ambiguous_year, conflict, facts
from importers.review import Choice, ReviewRefused, list_items, resolve_many
from importers.review_undo import undo
from ledger import conventions

FRANCE_IBAN = "FR7630006000011234567890189"
RECEIPTS = [
    {"ref": "Q-1", "date": "2025-07-10", "amount": "2000.00", "name": "ACME TRADING SARL", "text": "INVOICE 42"},
    {"ref": "Q-2", "date": "2025-07-11", "amount": "3000.00", "name": "MINISTERE DES AFFAIRES ETRANGERES FRANCE",
     "text": "CONTRIBUTION ISU", "iban": FRANCE_IBAN},
    {"ref": "Q-3", "date": "2025-07-12", "amount": "4000.00", "name": "TESORO PUBLICO DE ESPANA", "text": "ISU 2025",
     "iban": "DE89370400440532013000"},
    {"ref": "Q-4", "date": "2025-07-13", "amount": "5000.00", "name": "J DOE; X 'Y' -> ABC", "text": "AUSTRIA 2024 2025",
     "iban": FRANCE_IBAN},
]


def import_statement(ledger: Path, tmp_path: Path, name: str, entries: list[dict], opening: tuple) -> None:
    from importers.importing import import_files

    path = tmp_path / name
    path.write_text(camt053(entries, opening=opening, ident=name), encoding="utf-8")
    import_files(ledger, [path], user="test:import")


@pytest.fixture
def books(tmp_path) -> Path:
    from ledger.books import init_ledger

    ledger = init_ledger(tmp_path / "books", opening_balance="100000.00", as_of="2025-06-30", user="test:init").ledger_dir
    import_statement(ledger, tmp_path, "july.xml", RECEIPTS, ("2025-06-30", "100000.00"))
    return ledger


def by_payer(ledger: Path) -> dict[str, dict]:
    return {i["payer"]: i for i in list_items(ledger)}


def git(ledger: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ledger, capture_output=True, text=True, check=True).stdout


def test_the_reasoning_reads_as_facts(books):
    items = by_payer(books)
    acme = items["ACME TRADING SARL"]
    assert acme["label"] == "2025-07-10, 2,000.00 CHF from ACME TRADING SARL"
    assert acme["suggestion"] is None and acme["why"].startswith("review: ")
    assert {"kind": PROBLEM, "text": "No name in the payment points to a State"} in acme["facts"]

    france = items["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    texts = [f["text"] for f in france["facts"]]
    assert "Payer name matches France" in texts and "IBAN country: FR (France)" in texts
    assert "The remittance names no year: the receipt's year 2025 is assumed" in texts
    assert france["suggestion"]["name"] == "France" and france["suggestion"]["conflict"] is None
    assert not any("->" in t or "score" in t for t in texts)

    spain = items["TESORO PUBLICO DE ESPANA"]
    assert spain["suggestion"]["conflict"] == "Evidence points to Germany and Spain"
    kinds = {f["text"]: f["kind"] for f in spain["facts"]}
    assert kinds["Payer name matches 'España' of Spain"] == FOR
    assert kinds["Against it: IBAN country: DE (Germany)"] == AGAINST
    assert kinds["Evidence points to Germany and Spain"] == PROBLEM

    # Bank text that looks like the reasoning's own separators stays one fact.
    doe = items["J DOE; X 'Y' -> ABC"]
    assert ambiguous_year(doe["why"]) and doe["suggestion"]["conflict"]
    assert "The remittance names several years: 2024, 2025" in [f["text"] for f in doe["facts"]]


def test_an_unknown_part_is_kept_as_written():
    why = "review: no evidence of a State; something the importer says now; year: 'ISU 2025' -> 2025; work plan: core"
    assert [f.text for f in facts(why)] == [
        "No name in the payment points to a State", "something the importer says now",
        "Work-plan year 2025, from the remittance ('ISU 2025')", "Work plan: core",
    ]
    assert facts(None) == [] and conflict("review: no evidence of a State") is None


def test_several_receipts_resolve_in_one_commit(books):
    items = by_payer(books)
    before = git(books, "rev-parse", "HEAD").strip()
    acme, france = items["ACME TRADING SARL"], items["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    done = resolve_many(books, [Choice(acme["id"], "che", 2025, remember=True), Choice(france["id"], "FRA", 2025)], user="test:bob")
    assert [d.state_party for d in done] == ["CHE", "FRA"] and done[0].commit == done[1].commit
    assert git(books, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert done[0].rule is not None and done[1].rule is None
    assert done[1].label == france["label"]
    assert set(by_payer(books)) == {"TESORO PUBLICO DE ESPANA", "J DOE; X 'Y' -> ABC"}


def test_one_refusal_writes_nothing_and_names_the_receipt(books):
    items = by_payer(books)
    before = git(books, "rev-parse", "HEAD").strip()
    with pytest.raises(ReviewRefused) as refused:
        resolve_many(books, [Choice(items["ACME TRADING SARL"]["id"], "CHE", 2025),
                             Choice(items["TESORO PUBLICO DE ESPANA"]["id"], "CHE", 2031)], user="test:bob")
    assert refused.value.receipt == "2025-07-12, 4,000.00 CHF from TESORO PUBLICO DE ESPANA"
    assert "2031" in refused.value.reason and items["TESORO PUBLICO DE ESPANA"]["id"] not in refused.value.reason
    assert git(books, "rev-parse", "HEAD").strip() == before and len(list_items(books)) == 4


def test_undo_puts_the_receipt_back_and_forgets_its_rule(books):
    items = by_payer(books)
    acme = items["ACME TRADING SARL"]
    text_before = (books / "txns" / "2025.beancount").read_text(encoding="utf-8")
    (done,) = resolve_many(books, [Choice(acme["id"], "CHE", 2025, remember=True)], user="test:bob")
    assert "ACME TRADING SARL" in (books / conventions.RULES_FILE).read_text(encoding="utf-8")

    undone = undo(books, done.commit, acme["id"], user="test:ann")
    assert undone.rule_forgotten and undone.label == acme["label"] and undone.commit != done.commit
    assert (books / "txns" / "2025.beancount").read_text(encoding="utf-8") == text_before
    assert "ACME TRADING SARL" not in (books / conventions.RULES_FILE).read_text(encoding="utf-8")
    assert by_payer(books)["ACME TRADING SARL"] == acme  # suggestion and reasoning as the importer left them
    assert git(books, "log", "-1", "--format=%an|%s").startswith("test:ann|review undo")
    # Twice is refused plainly, naming the receipt.
    with pytest.raises(ReviewRefused) as again:
        undo(books, done.commit, acme["id"], user="test:ann")
    assert again.value.reason == "the receipt is already back in the review queue"


def test_undo_of_a_bulk_decision_returns_one_receipt_at_a_time(books):
    items = by_payer(books)
    acme, france = items["ACME TRADING SARL"], items["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    done = resolve_many(books, [Choice(acme["id"], "CHE", 2025), Choice(france["id"], "FRA", 2025)], user="test:bob")
    undo(books, done[0].commit, france["id"], user="test:bob")
    assert set(by_payer(books)) == {"MINISTERE DES AFFAIRES ETRANGERES FRANCE", "TESORO PUBLICO DE ESPANA", "J DOE; X 'Y' -> ABC"}


def test_a_signed_off_year(books, tmp_path):
    """A decision in a year signed off since cannot be undone; a later
    receipt for that year is booked in its own year, designated for it."""
    from ledger.finance.yearend import close_year, sign_off

    items = by_payer(books)
    done = resolve_many(books, [Choice(i["id"], "CHE", 2025) for i in items.values()], user="test:bob")
    close_year(books, 2025, user="test:bob", today=datetime.date(2026, 2, 1))
    sign_off(books, 2025, "Aude Auditor", datetime.date(2026, 3, 1), user="test:aude", today=datetime.date(2026, 3, 2))
    with pytest.raises(ReviewRefused) as refused:
        undo(books, done[0].commit, done[0].id, user="test:bob")
    assert "2025, which is signed off" in refused.value.reason

    import_statement(books, tmp_path, "jan.xml", [{"ref": "Q-9", "date": "2026-01-15", "amount": "700.00", "name": "J DOE",
                                                  "text": "GIFT"}], ("2025-12-31", "114000.00"))
    (late,) = list_items(books)
    (booked,) = resolve_many(books, [Choice(late["id"], "AUT", 2025)], user="test:bob")
    assert booked.wp_year == 2026 and booked.designated_year == 2025


@pytest.mark.parametrize("given, shown", [
    ("two States share this name", "two States share this name"),
    (True, "the evidence points to more than one State"),
    (None, None),
])
def test_the_importers_own_conflict_is_kept(books, monkeypatch, given, shown):
    """A suggestion the importer marks as a conflict (``conflict``: a short text) stays one."""
    from importers import review

    plain = review.ReviewItem.to_json

    def with_conflict(self):
        out = plain(self)
        if out["suggestion"]:
            out["suggestion"]["conflict"] = given
        return out

    monkeypatch.setattr(review.ReviewItem, "to_json", with_conflict)
    france = by_payer(books)["MINISTERE DES AFFAIRES ETRANGERES FRANCE"]
    assert france["suggestion"]["conflict"] == shown
