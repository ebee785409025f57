"""The writer's dry run (the same staging and check on a scratch copy, nothing
written) and its removals (an entry with its separating blank line, a file),
as an import's preview and undo use them."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from ledger import conventions
from ledger.loader import load_books
from ledger.store import gitrepo
from ledger.store.writer import CheckFailed, LedgerWriter


def _receipt(day: datetime.date, value: str):
    """The writer tests' own receipt (an identified contribution as the importer books it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("writer_tests", Path(__file__).with_name("test_writer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.receipt(day, value)


def _files(ledger: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ledger)): p.read_bytes() for p in sorted(ledger.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(ledger).parts and p.name != conventions.LOCK_FILE}


def test_a_dry_run_checks_like_the_write_and_writes_nothing(ledger_dir):
    before, head = _files(ledger_dir), gitrepo.head(ledger_dir)
    with LedgerWriter(ledger_dir, "test", "dry", dry_run=True) as writer:
        writer.add_entries([_receipt(datetime.date(2026, 2, 3), "1000.00")])
        writer.write_file("documents/2026/x.xml", b"<x/>")
    assert writer.commit is None and gitrepo.head(ledger_dir) == head and _files(ledger_dir) == before
    broken = _receipt(datetime.date(2026, 2, 3), "1000.00")
    broken = broken._replace(postings=[p._replace(account="Income:Nowhere") if i else p for i, p in enumerate(broken.postings)])
    with pytest.raises(CheckFailed, match="Income:Nowhere"):
        with LedgerWriter(ledger_dir, "test", "dry", dry_run=True) as writer:
            writer.add_entries([broken])
    assert gitrepo.head(ledger_dir) == head and _files(ledger_dir) == before
    assert not list(ledger_dir.parent.glob(".isu-dry-run-*"))  # the scratch copy is gone


def test_removing_what_was_appended_gives_back_the_bytes_and_a_file_goes(ledger_dir):
    year = ledger_dir / "txns/2026.beancount"
    with LedgerWriter(ledger_dir, "test", "one") as writer:
        writer.add_entries([_receipt(datetime.date(2026, 1, 5), "10.00")])
    before = year.read_bytes()
    with LedgerWriter(ledger_dir, "test", "two") as writer:
        writer.add_entries([_receipt(datetime.date(2026, 2, 3), "20.00"), _receipt(datetime.date(2026, 2, 4), "30.00")])
        writer.write_file("documents/2026/s.xml", b"<s/>")
    added = [e for e in load_books(ledger_dir).entries if e.date >= datetime.date(2026, 2, 1) and hasattr(e, "postings")]
    assert len(added) == 2
    with LedgerWriter(ledger_dir, "test", "undo two") as writer:
        for entry in added:
            writer.remove_entry(entry)
        writer.remove_file("documents/2026/s.xml")
    assert year.read_bytes() == before
    assert not (ledger_dir / "documents/2026").exists()  # the emptied folder goes too
    assert gitrepo.log(ledger_dir, "-1", "--format=%s").strip() == "undo two"
    assert gitrepo.status(ledger_dir) == []
