"""The fixture books (tests/reports/conftest.py) are sound: they check clean and hold what the reports need."""

from __future__ import annotations



from ledger.loader import load_books



def test_fixture_books_are_clean_and_2024_is_locked(auditor, report_books):
    from ledger.plugins.year_lock import locked_years

    books = load_books(report_books)
    assert books.ok, books.errors
    locked = locked_years(books.entries)
    assert set(locked) == {2024}
    assert locked[2024].auditor == auditor
