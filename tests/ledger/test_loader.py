"""The loader parses once per change of the files and reports errors as data."""

from __future__ import annotations

import os

from beancount.core import data

from ledger import conventions
from ledger.loader import LoadError, load_books, parse_count


def _append(path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_second_load_without_change_is_the_same_object(ledger_dir):
    first = load_books(ledger_dir)
    loads = parse_count()
    second = load_books(ledger_dir)
    assert second is first
    assert parse_count() == loads


def test_loaded_books_hold_the_chart_and_opening_balance(ledger_dir):
    books = load_books(ledger_dir)
    opens = {e.account: e for e in books.entries if isinstance(e, data.Open)}
    assert opens[conventions.BANK].meta[conventions.META_IBAN] == "CH4500240240FP1006276"
    assert {conventions.UNIDENTIFIED, conventions.ADVANCE, conventions.BUFFER, conventions.OPENING, conventions.BANK_CHARGES} <= set(opens)
    assert all(e.currencies == [conventions.CURRENCY] for e in opens.values())
    assert sorted(books.files) == sorted([conventions.MAIN_FILE, conventions.ACCOUNTS_FILE, "txns/2025.beancount", "txns/2026.beancount"])


def test_changed_file_is_parsed_again(ledger_dir):
    first = load_books(ledger_dir)
    loads = parse_count()
    _append(ledger_dir / "txns/2026.beancount", "\n2026-01-02 note Assets:Bank:UBS:CHF \"checked\"\n")
    second = load_books(ledger_dir)
    assert second is not first
    assert parse_count() == loads + 1
    assert any(isinstance(e, data.Note) for e in second.entries)
    assert second.fingerprint != first.fingerprint
    assert load_books(ledger_dir) is second


def test_touch_without_content_change_reparses_but_keeps_fingerprint(ledger_dir):
    first = load_books(ledger_dir)
    stat = (ledger_dir / conventions.ACCOUNTS_FILE).stat()
    os.utime(ledger_dir / conventions.ACCOUNTS_FILE, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = load_books(ledger_dir)
    assert second is not first
    assert second.fingerprint == first.fingerprint


def test_new_year_file_is_noticed(ledger_dir):
    first = load_books(ledger_dir)
    (ledger_dir / "txns/2030.beancount").write_text('2030-01-01 note Assets:Bank:UBS:CHF "new year"\n')
    second = load_books(ledger_dir)
    assert second is not first
    assert "txns/2030.beancount" in second.files
    assert any(isinstance(e, data.Note) and e.comment == "new year" for e in second.entries)


def test_errors_are_data_with_relative_file_and_line(ledger_dir):
    _append(ledger_dir / "txns/2026.beancount", "\n2026-01-03 * \"x\"\n  Assets:Nowhere  1.00 CHF\n  Equity:Opening-Balances  -1.00 CHF\n")
    lineno = (ledger_dir / "txns/2026.beancount").read_text().splitlines().index('2026-01-03 * "x"') + 1
    books = load_books(ledger_dir)
    assert not books.ok
    matching = [e for e in books.errors if "Assets:Nowhere" in e.message]
    assert matching, books.errors
    assert isinstance(matching[0], LoadError)
    assert matching[0].source == f"txns/2026.beancount:{lineno}"
    assert str(matching[0]).startswith(f"txns/2026.beancount:{lineno}: ")


def test_fingerprint_is_content_not_location(ledger_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(ledger_dir, copy)
    assert load_books(copy).fingerprint == load_books(ledger_dir).fingerprint


def test_registry_change_invalidates_the_cached_load(ledger_dir):
    """The isu_rules plugin reads registry/contributors.csv: editing it (a
    staff-added contributor) must re-run the plugins, not serve a stale load."""
    first = load_books(ledger_dir)
    loads = parse_count()
    registry = ledger_dir / conventions.REGISTRY_FILE
    registry.write_text(registry.read_text(encoding="utf-8") + "XGI,,Test contributor,other,,,,\n", encoding="utf-8")
    second = load_books(ledger_dir)
    assert parse_count() == loads + 1
    assert second is not first
