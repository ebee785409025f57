"""importers/booking.py: bank entries -> Beancount entries (docs/booking.md).

Goldens: one ``tests/golden/booking/<sample>.beancount`` per ISU sample file,
booked with the real identification and the packaged registry; regenerate
with ``ISU_UPDATE_GOLDENS=1`` and review the diff. The unit tests below use
a fake ``attribute`` so each booking rule is pinned on its own.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data
from beancount.parser import parser, printer

from importers.booking import (
    Booked,
    Originals,
    book_statement,
    document_entry,
)
from importers.model import Balance, Detail, Entry, Money, ParseResult, Statement
from ledger import conventions

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples" / "year2025"
GOLDEN = REPO / "tests" / "golden" / "booking"
IBAN = "CH4500240240FP1006276"
D = Decimal


def _sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    files = sorted(p for p in SAMPLES.glob("ubs-isu-2025-*") if p.is_file())
    return files + sorted(SAMPLES.glob("overlap/*")) + sorted(SAMPLES.glob("tricky/*"))


@pytest.fixture(scope="module")
def identify_attribute():
    from importers.identify import identify
    from ledger.registry import Registry

    registry = Registry.load(None)

    def attribute(detail, entry):
        return identify(detail, entry, registry=registry, rules=[], booking_date=entry.booked)

    return attribute


def _render(entries) -> str:
    return "\n".join(printer.format_entry(e) for e in entries)


@pytest.mark.parametrize("path", _sample_files(), ids=lambda p: p.name)
def test_booking_golden(path, identify_attribute):
    from importers.parse import parse_file

    result = parse_file(path)
    archive = f"documents/2025/{path.name}"
    entries = []
    for st in result.statements:
        booked = book_statement(
            result, st, attribute=identify_attribute, archive_path=archive, existing_refs=set(), originals=Originals()
        )
        entries += booked.entries
    entries.append(document_entry(archive, max(e.date for e in entries), relative_to="txns"))
    text = _render(entries)
    golden = GOLDEN / f"{path.name}.beancount"
    if os.environ.get("ISU_UPDATE_GOLDENS") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"golden {golden} is missing: run with ISU_UPDATE_GOLDENS=1 and review it")
    assert text == golden.read_text(encoding="utf-8")
    # The text is a ledger fragment that parses back with no error and no extra directive.
    parsed, errors, _ = parser.parse_string(text)
    assert not errors
    assert len(parsed) == len(entries)


def test_every_sample_has_a_golden():
    files = _sample_files()
    if not files:
        pytest.skip("../shared/samples not available")
    assert {p.name + ".beancount" for p in files} == {p.name for p in GOLDEN.glob("*.beancount")}


# --- unit rules with a fake attribution --------------------------------------


@dataclass(frozen=True)
class FakeAttribution:
    state_party: str | None
    wp_year: int | None
    work_plan: str = "core"
    confidence: Decimal = D("0.95")
    why: str = "fake"
    needs_review: bool = False
    suggestion: str | None = None
    suggested_year: int | None = None
    evidence: tuple = ()


def by_payer(table: dict):
    """attribute() from a payer -> (State, year) table; unknown payers go to review."""

    def attribute(detail, entry):
        hit = table.get(detail.payer)
        if hit is None:
            return FakeAttribution(None, None, needs_review=True, suggestion="FRA", suggested_year=2025, why="unsure")
        return FakeAttribution(*hit)

    return attribute


def entry(amount, *details, day=datetime.date(2025, 3, 5), ref="R1", status="BOOK", reversal=False, **kw):
    return Entry(
        amount=D(amount), currency="CHF", booked=day, value=day, status=status, reversal=reversal,
        ref=ref, details=list(details), **kw,
    )


def detail(amount, payer="P", **kw):
    return Detail(amount=D(amount) if amount is not None else None, currency=kw.pop("currency", "CHF"), payer=payer, **kw)


def book(*entries, attribute=None, kind="statement", existing=(), originals=None, locked=(), gichd=(), closing=None):
    st = Statement(id="S1", account=IBAN, currency="CHF", kind=kind, entries=list(entries), closing=closing)
    result = ParseResult(path="x.xml", format="camt.053.001.08", statements=[st])
    return book_statement(
        result, st, attribute=attribute or by_payer({"P": ("DEU", 2025)}), archive_path="documents/2025/x.xml",
        existing_refs=set(existing), originals=originals, locked_years=locked, gichd_ibans=gichd,
    )


def txns(booked: Booked) -> list[data.Transaction]:
    return [e for e in booked.entries if isinstance(e, data.Transaction)]


def postings(txn) -> list[tuple[str, Decimal]]:
    return [(p.account, p.units.number) for p in txn.postings]


def test_identified_receipt_metadata_tag_link():
    d = detail("94100.00", "P", payer_account="DE02120300000000202051", remittance="ISU 2025",
               instructed=Money(D("100000.00"), "EUR"), rate=D("0.9410"))
    (t,) = txns(book(entry("94100.00", d, ref="UBS1")))
    assert t.flag == "*" and t.payee == "P" and t.narration == "ISU 2025"
    assert t.tags == {"ISU-2025"} and t.links == {"bank-UBS1"}
    assert t.meta[conventions.META_BANK_REF] == "UBS1" and t.meta[conventions.META_ACCOUNT] == IBAN
    assert t.meta[conventions.META_STATEMENT] == "documents/2025/x.xml"
    assert postings(t) == [(conventions.BANK, D("94100.00")), ("Income:Contributions:Core", D("-94100.00"))]
    meta = t.postings[1].meta
    assert meta["state_party"] == "DEU" and meta["wp_year"] == D(2025) and meta["work_plan"] == "core"
    assert meta["instructed"] == "100000.00 EUR" and meta["rate"] == "0.9410"


def test_charges_are_grossed_up():
    d = detail("4436.20", charges=D("20.00"), instructed=Money(D("5000.00"), "USD"), rate=D("0.89124"))
    (t,) = txns(book(entry("4436.20", d)))
    assert postings(t) == [
        (conventions.BANK, D("4436.20")), ("Income:Contributions:Core", D("-4456.20")), (conventions.BANK_CHARGES, D("20.00")),
    ]


def test_no_charges_means_no_recomputation_from_instructed_amount():
    d = detail("9000.00", instructed=Money(D("10000.00"), "EUR"), rate=D("0.9410"))  # 9410 by the rate
    (t,) = txns(book(entry("9000.00", d)))
    assert postings(t) == [(conventions.BANK, D("9000.00")), ("Income:Contributions:Core", D("-9000.00"))]


def test_batch_gives_one_posting_per_detail():
    attribute = by_payer({"A": ("LTU", 2025), "B": ("LVA", 2025)})
    e = entry("7528.00", detail("4705.00", "A"), detail("2823.00", "B"), batch_count=2)
    (t,) = txns(book(e, attribute=attribute))
    assert postings(t)[1:] == [("Income:Contributions:Core", D("-4705.00")), ("Income:Contributions:Core", D("-2823.00"))]
    assert [p.meta["state_party"] for p in t.postings[1:]] == ["LTU", "LVA"]


def test_batch_with_gross_details_and_entry_charges():
    attribute = by_payer({"A": ("LTU", 2025), "B": ("LVA", 2025)})
    e = entry("990.00", detail("600.00", "A"), detail("400.00", "B"), charges=D("10.00"))
    (t,) = txns(book(e, attribute=attribute))
    assert postings(t) == [
        (conventions.BANK, D("990.00")), ("Income:Contributions:Core", D("-600.00")),
        ("Income:Contributions:Core", D("-400.00")), (conventions.BANK_CHARGES, D("10.00")),
    ]


@pytest.mark.parametrize(
    "details",
    [
        [detail("500.00", "P"), detail("400.00", "P")],  # do not add up
        [detail("500.00", "P", currency="EUR"), detail("500.00", "P", currency="EUR")],  # other currency
        [detail(None, "P"), detail("1000.00", "P")],  # an amount missing
    ],
)
def test_batch_that_does_not_make_up_the_entry_goes_whole_to_review(details):
    (t,) = txns(book(entry("1000.00", *details)))
    assert t.flag == "!"
    assert postings(t) == [(conventions.BANK, D("1000.00")), (conventions.UNIDENTIFIED, D("-1000.00"))]
    assert "split it by hand" in t.postings[1].meta["why"]


def test_unidentified_keeps_the_suggestion():
    (t,) = txns(book(entry("2000.00", detail("2000.00", "NOBODY", remittance="VOLUNTARY"))))
    assert t.flag == "!" and not t.tags
    meta = t.postings[1].meta
    assert t.postings[1].account == conventions.UNIDENTIFIED
    assert meta["suggest_state_party"] == "FRA" and meta["suggest_year"] == D(2025) and meta["why"] == "unsure"
    assert meta["payer"] == "NOBODY" and meta["remittance"] == "VOLUNTARY"


def test_advance_and_late_payments():
    advance = book(entry("10.00", detail("10.00"), day=datetime.date(2025, 12, 8)),
                   attribute=by_payer({"P": ("NOR", 2026)}))
    (t,) = txns(advance)
    assert t.postings[1].account == conventions.ADVANCE and t.tags == {"ISU-2026"}
    late_open = txns(book(entry("10.00", detail("10.00")), attribute=by_payer({"P": ("SEN", 2024)})))[0]
    assert late_open.postings[1].account == "Income:Contributions:Core"
    assert late_open.postings[1].meta["wp_year"] == D(2024)
    late_locked = txns(book(entry("10.00", detail("10.00")), attribute=by_payer({"P": ("SEN", 2024)}), locked={2024}))[0]
    meta = late_locked.postings[1].meta
    assert meta["wp_year"] == D(2025) and meta["designated_year"] == D(2024) and late_locked.tags == {"ISU-2025"}


def test_reversal_cancels_the_original_in_the_same_statement():
    original = entry("15000.00", detail("15000.00", "P", payer_account="TR1"), ref="ORIG", day=datetime.date(2025, 8, 4))
    reversal = entry("-15000.00", detail("-15000.00", "P", payer_account="TR1"), ref="REV",
                     reversal=True, day=datetime.date(2025, 8, 6))
    first, second = txns(book(original, reversal))
    assert second.meta[conventions.META_REVERSAL_OF] == "ORIG"
    assert postings(second) == [(conventions.BANK, D("-15000.00")), ("Income:Contributions:Core", D("15000.00"))]
    assert second.postings[1].meta["state_party"] == "DEU" and second.tags == {"ISU-2025"}


def test_reversal_finds_an_earlier_receipt_in_the_ledger_once():
    earlier = txns(book(entry("500.00", detail("500.00", "P", payer_account="X1"), ref="OLD")))
    originals = Originals(earlier)
    rev = lambda ref: entry("-500.00", detail("-500.00", "P", payer_account="X1"), ref=ref, reversal=True)  # noqa: E731
    (t,) = txns(book(rev("REV1"), originals=originals))
    assert t.meta[conventions.META_REVERSAL_OF] == "OLD"
    (again,) = txns(book(rev("REV2"), originals=originals))  # the original is reversed already
    assert again.flag == "!" and again.postings[1].account == conventions.UNIDENTIFIED
    assert conventions.META_REVERSAL_OF not in again.meta


def test_needs_review_counts_what_the_review_queue_gains():
    """One item per suspense posting (a batch of two unknown payers is two),
    none for an unidentified receipt and its reversal (they cancel out), none
    for a debit left to reconcile: that is ``unreconciled``."""
    from importers.review import review_items

    batch = entry("900.00", detail("500.00", "NOBODY"), detail("400.00", "ANYBODY"), ref="B1", batch_count=2)
    unknown = entry("300.00", detail("300.00", "NOBODY"), ref="U1", day=datetime.date(2025, 3, 6))
    taken_back = entry("-300.00", detail("-300.00", "NOBODY"), ref="U2", reversal=True, day=datetime.date(2025, 3, 7))
    known = entry("100.00", detail("100.00", "P"), ref="K1")
    supplier = entry("-50.00", detail("-50.00", "A SUPPLIER"), ref="S1")
    booked = book(batch, unknown, taken_back, known, supplier)
    assert len(review_items(booked.entries)) == 2
    assert (booked.needs_review, booked.unreconciled) == (2, 1)
    assert [t.flag for t in txns(booked)].count("!") == 4  # the flag still marks all of them


def test_gichd_fees_interest_and_the_rest():
    gichd_by_name = entry("-71250.00", detail("-71250.00", "GICHD"), ref="G1")
    gichd_by_iban = entry("-100.00", detail("-100.00", "SOMEONE", payer_account="CH10 0024 0240 FP10 0001 0"), ref="G2")
    fee = entry("-25.00", detail("-25.00", None, remittance="ACCOUNT MAINTENANCE FEE"), ref="F1")
    interest = entry("8.10", detail("8.10", None, remittance="INTEREST 2025"), ref="I1")
    interest_code = entry("1.00", ref="I2", bank_code="ACMT/MCOP/INTR")
    other = entry("-300.00", detail("-300.00", "A SUPPLIER"), ref="O1")
    returned = entry("300.00", detail("300.00", "A SUPPLIER", return_reason="AC01"), ref="O2")
    booked = book(gichd_by_name, gichd_by_iban, fee, interest, interest_code, other, returned,
                  gichd={"CH1000240240FP1000010"})
    accounts = [t.postings[1].account for t in txns(booked)]
    assert accounts == [conventions.GICHD_CLEARING, conventions.GICHD_CLEARING, conventions.BANK_CHARGES, conventions.INTEREST, conventions.INTEREST,
                        conventions.UNRECONCILED, conventions.UNRECONCILED]
    assert [t.flag for t in txns(booked)] == ["*", "*", "*", "*", "*", "!", "!"]
    assert booked.needs_review == 0 and booked.unreconciled == 2  # the review queue is for receipts


def test_only_booked_entries_duplicates_and_reports():
    pending = entry("1.00", detail("1.00"), ref="P1", status="PDNG")
    info = entry("1.00", detail("1.00"), ref="P2", status="INFO")
    known = entry("1.00", detail("1.00"), ref="K1")
    new = entry("1.00", detail("1.00"), ref="N1")
    twice = entry("1.00", detail("1.00"), ref="N1")
    closing = Balance(datetime.date(2025, 3, 31), D("100.00"), "CHF")
    booked = book(pending, info, known, new, twice, existing={(IBAN, "K1")}, closing=closing)
    assert (booked.imported, booked.duplicates) == (1, 2)
    assert [e.meta.get(conventions.META_BANK_REF) for e in txns(booked)] == ["N1"]
    (bal,) = [e for e in booked.entries if isinstance(e, data.Balance)]
    assert bal.date == datetime.date(2025, 4, 1) and bal.amount.number == D("100.00")
    report = book(new, kind="report", closing=closing)
    assert report.entries == [] and report.imported == 0


def test_no_balance_when_nothing_is_new():
    closing = Balance(datetime.date(2025, 3, 31), D("100.00"), "CHF")
    booked = book(entry("1.00", detail("1.00"), ref="K1"), existing={(IBAN, "K1")}, closing=closing)
    assert booked.entries == [] and booked.duplicates == 1


def test_entry_without_reference_gets_a_stable_one():
    a = txns(book(entry("1.00", detail("1.00"), ref=None)))[0].meta[conventions.META_BANK_REF]
    b = txns(book(entry("1.00", detail("1.00"), ref=None)))[0].meta[conventions.META_BANK_REF]
    assert a == b and a.startswith("H")


def test_hostile_text_stays_inert():
    text = 'X"\n2020-01-01 open Assets:Stolen\n; '
    (t,) = txns(book(entry("1.00", detail("1.00", payer=text, remittance=text))))
    rendered = printer.format_entry(t)
    parsed, errors, _ = parser.parse_string(rendered)
    assert not errors and len(parsed) == 1
    one_line = 'X" 2020-01-01 open Assets:Stolen ;'
    assert parsed[0].payee == one_line and parsed[0].postings[1].meta["remittance"] == one_line


# Every character that ends a line for str.splitlines() (Beancount counts "\n" only).
SEPARATORS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\t", "\x00", "\x7f"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=repr)
def test_bank_text_becomes_one_line(separator):
    """Policy 14: payer and remittance text become one line of ledger text."""
    text = f"MINISTRY{separator}OF FOREIGN AFFAIRS{separator}"
    (t,) = txns(book(entry("1.00", detail("1.00", payer=text, remittance=f"ISU{separator}2025"))))
    strings = [t.payee, t.narration] + [v for p in t.postings for v in (p.meta or {}).values() if isinstance(v, str)]
    strings += [v for v in t.meta.values() if isinstance(v, str)]
    assert all(s is None or s == " ".join(s.split()) and s.isprintable() for s in strings), strings
    assert t.payee == "MINISTRY OF FOREIGN AFFAIRS" and t.postings[1].meta["remittance"] == "ISU 2025"
