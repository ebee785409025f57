"""The one writer: staged writes, check, commit, lock, journal, refusals."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import amount, data

from ledger import conventions
from ledger.store import gitrepo
from ledger.check import check_ledger
from ledger.loader import load_books
from ledger.store.writer import CheckFailed, LedgerWriter, WriteRefused

REPO = Path(__file__).resolve().parents[3]
EVIL = 'X" \n2025-01-01 open Assets:Evil\n\\ back\\slash \\" end'
INJECTIONS = [
    EVIL,
    'include "/etc/passwd"',
    '"\nplugin "os.system"\n"',
    '"\noption "title" "Hacked"\n',
    "trailing backslash \\",
    "\\\"\\\\\\n",
    "; comment\n* heading\n2025-01-01 balance Assets:Bank:UBS:CHF 0 CHF",
]


def receipt(day: datetime.date, value: str, payer: str = "FEDERAL FOREIGN OFFICE", remittance: str = "ISU 2026 Core Work Plan", **extra) -> data.Transaction:
    """An identified contribution as the importer books it (docs/booking.md)."""
    units = amount.Amount(Decimal(value), conventions.CURRENCY)
    posting_meta = {
        conventions.META_STATE_PARTY: "DEU",
        conventions.META_WORK_PLAN: "core",
        conventions.META_WP_YEAR: Decimal(day.year),
        conventions.META_PAYER: payer,
        conventions.META_REMITTANCE: remittance,
        **extra,
    }
    return data.Transaction(
        data.new_metadata("<test>", 0, {conventions.META_BANK_REF: f"REF{day:%Y%m%d}{value}", conventions.META_ACCOUNT: "CH4500240240FP1006276"}),
        day,
        "*",
        payer,
        remittance,
        frozenset({conventions.year_tag(day.year)}),
        frozenset({conventions.bank_link(f"REF{day:%Y%m%d}{value}")}),
        [
            data.Posting(conventions.BANK, units, None, None, None, None),
            data.Posting(conventions.contribution_account("core"), -units, None, None, None, posting_meta),
        ],
    )


def snapshot(ledger_dir: Path) -> dict[str, bytes]:
    """Every file of the ledger except git's own and the lock file."""
    return {
        str(p.relative_to(ledger_dir)): p.read_bytes()
        for p in sorted(ledger_dir.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(ledger_dir).parts and p.name != conventions.LOCK_FILE
    }


def commits(ledger_dir: Path) -> list[str]:
    return gitrepo.log(ledger_dir, "--format=%an|%s").splitlines()


def test_add_entries_writes_checks_and_commits(ledger_dir):
    with LedgerWriter(ledger_dir, user="finance:alice", action="import ubs-2026-01.xml") as w:
        w.add_entries([receipt(datetime.date(2026, 1, 29), "94100.00")])
    assert w.commit == gitrepo.head(ledger_dir)
    assert commits(ledger_dir)[0] == "finance:alice|import ubs-2026-01.xml"
    assert gitrepo.status(ledger_dir) == []
    assert not (ledger_dir / conventions.JOURNAL_FILE).exists()
    books = load_books(ledger_dir)
    assert books.errors == []
    txns = [e for e in books.entries if isinstance(e, data.Transaction) and e.payee == "FEDERAL FOREIGN OFFICE"]
    assert len(txns) == 1
    assert txns[0].meta["filename"].endswith("txns/2026.beancount")
    assert txns[0].postings[1].meta[conventions.META_STATE_PARTY] == "DEU"


def test_entries_go_to_their_year_file_and_new_file_is_checked(ledger_dir):
    with LedgerWriter(ledger_dir, user="finance:alice", action="two years") as w:
        w.add_entries([receipt(datetime.date(2027, 2, 1), "10.00"), receipt(datetime.date(2026, 3, 1), "20.00")])
    assert "2027-02-01" in (ledger_dir / "txns/2027.beancount").read_text()
    assert "2026-03-01" in (ledger_dir / "txns/2026.beancount").read_text()
    assert check_ledger(ledger_dir) == []


def test_exception_in_block_leaves_files_byte_identical(ledger_dir):
    before, head = snapshot(ledger_dir), gitrepo.head(ledger_dir)
    with pytest.raises(RuntimeError, match="boom"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="fails") as w:
            w.add_entries([receipt(datetime.date(2026, 1, 29), "1.00")])
            w.write_text("registry/rules.csv", "garbage\n")
            raise RuntimeError("boom")
    assert snapshot(ledger_dir) == before
    assert gitrepo.head(ledger_dir) == head


@pytest.mark.parametrize("bad", ["unknown account", "unbalanced"])
def test_check_failure_restores_and_does_not_commit(ledger_dir, bad):
    before, head = snapshot(ledger_dir), gitrepo.head(ledger_dir)
    entry = receipt(datetime.date(2027, 1, 5), "5.00")
    if bad == "unknown account":
        entry = entry._replace(postings=[entry.postings[0]._replace(account="Assets:Nowhere"), entry.postings[1]])
    else:
        entry = entry._replace(postings=[entry.postings[0]._replace(units=amount.Amount(Decimal("6.00"), "CHF")), entry.postings[1]])
    with pytest.raises(CheckFailed) as info:
        with LedgerWriter(ledger_dir, user="finance:alice", action="bad entry") as w:
            w.add_entries([entry])
    assert any(err.startswith("txns/2027.beancount:") for err in info.value.errors), info.value.errors
    assert snapshot(ledger_dir) == before  # the new year file is gone again
    assert gitrepo.head(ledger_dir) == head
    assert gitrepo.status(ledger_dir) == []


@pytest.mark.parametrize("text", INJECTIONS)
def test_bank_text_stays_inert(ledger_dir, text):
    entry = receipt(datetime.date(2026, 2, 2), "7.00", payer=text, remittance=text, ultimate_payer=text)
    entry = entry._replace(meta={**entry.meta, conventions.META_STATEMENT: text})
    count = len(load_books(ledger_dir).entries)
    title = load_books(ledger_dir).options_map["title"]
    with LedgerWriter(ledger_dir, user="finance:alice", action="inert text") as w:
        w.add_entries([entry])
    books = load_books(ledger_dir)
    assert books.errors == []
    assert len(books.entries) == count + 1
    assert books.options_map["title"] == title
    assert not any(isinstance(e, data.Open) and e.account == "Assets:Evil" for e in books.entries)
    (got,) = [e for e in books.entries if isinstance(e, data.Transaction) and e.date == entry.date]
    assert got.payee == text and got.narration == text
    assert got.meta[conventions.META_STATEMENT] == text
    assert got.postings[1].meta[conventions.META_PAYER] == text
    assert got.postings[1].meta["ultimate_payer"] == text


def test_unprintable_entry_is_refused_before_anything_is_written(ledger_dir):
    entry = receipt(datetime.date(2026, 2, 2), "7.00")
    entry = entry._replace(tags=frozenset({"ok\n2026-01-01 open Assets:Evil"}))
    before = snapshot(ledger_dir)
    with pytest.raises(ValueError, match="does not render to itself"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="bad tag") as w:
            w.add_entries([entry])
    assert snapshot(ledger_dir) == before


def test_one_unprintable_entry_among_many_is_named_and_nothing_is_written(ledger_dir):
    entries = [receipt(datetime.date(2026, 3, 1 + n % 28), f"{n + 1}.00") for n in range(60)]
    entries[41] = entries[41]._replace(date=datetime.date(2026, 5, 17), tags=frozenset({"ok\n2026-01-01 open Assets:Evil"}))
    before, head = snapshot(ledger_dir), gitrepo.head(ledger_dir)
    with pytest.raises(ValueError, match="entry dated 2026-05-17 does not render to itself"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="bad tag among many") as w:
            w.add_entries(entries)
    assert snapshot(ledger_dir) == before
    assert gitrepo.head(ledger_dir) == head


def test_appends_after_text_without_final_newline_are_found_on_their_lines(ledger_dir):
    """The proof reads each entry at the line the writer put it on, whatever the file ended with."""
    path = ledger_dir / "txns/2026.beancount"
    with LedgerWriter(ledger_dir, user="finance:alice", action="seed") as w:
        w.write_text("txns/2026.beancount", "; no final newline here")
    with LedgerWriter(ledger_dir, user="finance:alice", action="two") as w:
        w.add_entries([receipt(datetime.date(2026, 4, 1), "1.00"), receipt(datetime.date(2026, 4, 2), "2.00")])
    text = path.read_text()
    assert text.startswith("; no final newline here\n\n2026-04-01 *")
    assert check_ledger(ledger_dir) == []


def test_replace_entry_rewrites_exactly_its_block(ledger_dir):
    with LedgerWriter(ledger_dir, user="finance:alice", action="three receipts") as w:
        w.add_entries([receipt(datetime.date(2026, 1, d), f"{d}.00", payer=f"P{d}\nsecond line") for d in (5, 6, 7)])
    path = ledger_dir / "txns/2026.beancount"
    old_text = path.read_text()
    (middle,) = [e for e in load_books(ledger_dir).entries if isinstance(e, data.Transaction) and e.date.day == 6]
    new = middle._replace(payee="RESOLVED", postings=[middle.postings[0], middle.postings[1]._replace(meta={**middle.postings[1].meta, conventions.META_STATE_PARTY: "FRA"})])
    with LedgerWriter(ledger_dir, user="finance:bob", action="review resolve 6") as w:
        w.replace_entry(middle, new)
    text = path.read_text()
    assert text.count("2026-01-05 *") == text.count("2026-01-06 *") == text.count("2026-01-07 *") == 1
    assert '"RESOLVED"' in text and 'state_party: "FRA"' in text
    # Everything outside the block is byte-identical.
    start = old_text.index("2026-01-06 *")
    end = old_text.index("2026-01-07 *")
    new_start = text.index("2026-01-06 *")
    new_end = text.index("2026-01-07 *")
    assert text[:new_start] == old_text[:start]
    assert text[new_end:] == old_text[end:]
    assert check_ledger(ledger_dir) == []
    assert commits(ledger_dir)[0] == "finance:bob|review resolve 6"


# Characters str.splitlines() ends a line at, where Beancount counts "\n" only.
SEPARATORS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=repr)
def test_replace_entry_after_text_with_a_line_separator(ledger_dir, separator):
    """Text written before an entry may hold any separator: the entry's block
    is still found at the line Beancount reports (a later review resolve)."""
    with LedgerWriter(ledger_dir, user="finance:alice", action="two receipts") as w:
        w.add_entries([receipt(datetime.date(2026, 1, 5), "5.00", payer=f"P5{separator}{separator}x"),
                       receipt(datetime.date(2026, 1, 6), "6.00")])
    (later,) = [e for e in load_books(ledger_dir).entries if isinstance(e, data.Transaction) and e.date.day == 6]
    with LedgerWriter(ledger_dir, user="finance:bob", action="resolve the later one") as w:
        w.replace_entry(later, later._replace(payee="RESOLVED"))
    text = (ledger_dir / "txns/2026.beancount").read_bytes().decode("utf-8")
    assert '"RESOLVED"' in text and f"P5{separator}{separator}x" in text
    assert check_ledger(ledger_dir) == []


def test_replace_entry_refuses_stale_entry(ledger_dir):
    with LedgerWriter(ledger_dir, user="finance:alice", action="one") as w:
        w.add_entries([receipt(datetime.date(2026, 1, 5), "5.00")])
    (entry,) = [e for e in load_books(ledger_dir).entries if isinstance(e, data.Transaction) and e.date.year == 2026]
    stale = entry._replace(meta={**entry.meta, "lineno": entry.meta["lineno"] + 1})
    with pytest.raises(WriteRefused, match="not there any more"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="stale") as w:
            w.replace_entry(stale, entry)


def test_write_file_refuses_paths_outside_the_ledger(ledger_dir):
    with LedgerWriter(ledger_dir, user="finance:alice", action="paths") as w:
        for bad in ("../outside.txt", "/etc/passwd", ".git/config", "documents/../../x", conventions.JOURNAL_FILE, ""):
            with pytest.raises(WriteRefused):
                w.write_file(bad, b"x")
    assert not (ledger_dir.parent / "outside.txt").exists()


def test_write_file_and_text_commit(ledger_dir):
    rules = (ledger_dir / conventions.RULES_FILE).read_text() + "DE02120300000000202051,FEDERAL FOREIGN OFFICE,DEU,core,finance:alice,2026-01-29,\n"
    with LedgerWriter(ledger_dir, user="finance:alice", action="archive statement") as w:
        w.write_file("documents/2026/ubs.xml", b"<Document/>")
        w.write_text(conventions.RULES_FILE, rules)
    assert (ledger_dir / "documents/2026/ubs.xml").read_bytes() == b"<Document/>"
    assert "documents/2026/ubs.xml" in gitrepo.run(ledger_dir, "ls-files")
    assert gitrepo.status(ledger_dir) == []


def test_refuses_dirty_tree_at_enter(ledger_dir):
    with open(ledger_dir / "txns/2026.beancount", "a") as fh:
        fh.write("; edited by hand\n")
    with pytest.raises(WriteRefused, match="txns/2026.beancount"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="x"):
            pass


def test_refuses_file_edited_by_hand_after_enter(ledger_dir):
    target = ledger_dir / "txns/2026.beancount"
    head = gitrepo.head(ledger_dir)
    with pytest.raises(WriteRefused, match="txns/2026.beancount: changed on disk"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="x") as w:
            w.add_entries([receipt(datetime.date(2026, 1, 5), "5.00")])
            with open(target, "a") as fh:
                fh.write("; edited by hand meanwhile\n")
    assert target.read_text().endswith("; edited by hand meanwhile\n")  # the hand edit is not lost
    assert gitrepo.head(ledger_dir) == head


def test_lock_busy_refuses_after_timeout(ledger_dir):
    with LedgerWriter(ledger_dir, user="a", action="holds the lock"):
        with pytest.raises(WriteRefused, match="ledger is busy: another write is in progress"):
            with LedgerWriter(ledger_dir, user="b", action="waits", timeout=0.2):
                pass


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, time, pathlib
    from beancount.parser import parser
    from ledger import check
    from ledger.store import writer
    ledger, day, marker, mode = sys.argv[1:5]
    check_ledger = check.check_ledger
    def written_then_checked(*args, **kwargs):  # the writer checks after writing the files
        pathlib.Path(marker).write_text("written")
        time.sleep(60 if mode == "crash" else 0.3)
        return check_ledger(*args, **kwargs)
    check.check_ledger = written_then_checked
    text = f'''
    {day} * "PAYER {day}" "ISU 2026 Core Work Plan" #ISU-2026
      bank_ref: "REF-{day}"
      bank_account: "CH4500240240FP1006276"
      Assets:Bank:UBS:CHF          100.00 CHF
      Income:Contributions:Core   -100.00 CHF
        state_party: "FRA"
        work_plan: "core"
        wp_year: 2026
    '''
    entries, errors, _ = parser.parse_string(text)
    assert not errors, errors
    with writer.LedgerWriter(ledger, user=f"test:{day}", action=f"write {day}") as w:
        w.add_entries(entries)
    print(w.commit)
    """
)


def _start_writer(ledger_dir: Path, day: str, marker: Path, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(ledger_dir), day, str(marker), mode],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"writer exited early: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("writer never reached the write")
        time.sleep(0.02)


def test_two_processes_write_at_once(ledger_dir, tmp_path):
    procs = [_start_writer(ledger_dir, day, tmp_path / f"m{day}", "slow") for day in ("2026-02-01", "2026-02-02")]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    log = commits(ledger_dir)
    assert "test:2026-02-01|write 2026-02-01" in log and "test:2026-02-02|write 2026-02-02" in log
    text = (ledger_dir / "txns/2026.beancount").read_text()
    assert "PAYER 2026-02-01" in text and "PAYER 2026-02-02" in text
    assert check_ledger(ledger_dir) == []
    assert gitrepo.status(ledger_dir) == []


@pytest.mark.parametrize("recover_with", ["check", "writer"])
def test_crash_between_write_and_commit_is_rolled_back(ledger_dir, tmp_path, capfd, recover_with):
    before, head = snapshot(ledger_dir), gitrepo.head(ledger_dir)
    marker = tmp_path / "written"
    proc = _start_writer(ledger_dir, "2027-03-03", marker, "crash")
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # The crash left the half-done write and its journal behind.
    assert (ledger_dir / conventions.JOURNAL_FILE).exists()
    assert (ledger_dir / "txns/2027.beancount").exists()
    capfd.readouterr()
    if recover_with == "check":
        assert check_ledger(ledger_dir) == []
    else:
        with LedgerWriter(ledger_dir, user="finance:alice", action="after crash") as w:
            w.add_entries([receipt(datetime.date(2026, 4, 4), "4.00")])
        assert commits(ledger_dir)[0] == "finance:alice|after crash"
    assert "recovered from an interrupted write (write 2027-03-03 by test:2027-03-03)" in capfd.readouterr().err
    assert not (ledger_dir / conventions.JOURNAL_FILE).exists()
    assert not (ledger_dir / "txns/2027.beancount").exists()  # no partial data
    assert "PAYER 2027-03-03" not in "".join(v.decode() for k, v in snapshot(ledger_dir).items() if k.endswith(".beancount"))
    if recover_with == "check":
        assert snapshot(ledger_dir) == before and gitrepo.head(ledger_dir) == head
    assert check_ledger(ledger_dir) == []
    assert gitrepo.status(ledger_dir) == []


def test_crash_in_a_tracked_file_is_restored_from_git(ledger_dir, tmp_path, capfd):
    """A committed file is journalled by reference (blob id + sha256), not by
    value; after a SIGKILL the next check takes the old bytes back out of git."""
    import json

    before, head = snapshot(ledger_dir), gitrepo.head(ledger_dir)
    assert "txns/2026.beancount" in before
    marker = tmp_path / "written"
    proc = _start_writer(ledger_dir, "2026-03-03", marker, "crash")
    _wait_for(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    journal = json.loads((ledger_dir / conventions.JOURNAL_FILE).read_text())
    record = journal["files"]["txns/2026.beancount"]
    assert record["restore"] == "git" and record["head"] == head
    assert record["blob"] == gitrepo.head_blobs(ledger_dir, ["txns/2026.beancount"])["txns/2026.beancount"]
    assert "PAYER 2026-03-03" in (ledger_dir / "txns/2026.beancount").read_text()  # the half-done write
    capfd.readouterr()
    assert check_ledger(ledger_dir) == []
    assert "recovered from an interrupted write (write 2026-03-03 by test:2026-03-03)" in capfd.readouterr().err
    assert snapshot(ledger_dir) == before and gitrepo.head(ledger_dir) == head
    assert gitrepo.status(ledger_dir) == []


def test_journal_keeps_bytes_of_files_not_as_in_head(ledger_dir):
    """Only a file whose bytes are HEAD's blob is journalled by reference; new
    and untracked files carry their bytes (or their absence)."""
    import base64
    import json

    from ledger.store import writer

    tracked = (ledger_dir / "txns/2026.beancount").read_bytes()
    writer._write_journal(ledger_dir, gitrepo.head(ledger_dir), "t", "a", {
        "txns/2026.beancount": tracked,
        "documents/new.xml": None,
        "documents/untracked.xml": b"<x/>",
        "accounts.beancount": b"; not what HEAD holds\n",
    })
    files = json.loads((ledger_dir / conventions.JOURNAL_FILE).read_text())["files"]
    (ledger_dir / conventions.JOURNAL_FILE).unlink()
    assert files["txns/2026.beancount"]["restore"] == "git"
    assert files["documents/new.xml"] is None
    assert base64.b64decode(files["documents/untracked.xml"]) == b"<x/>"
    assert base64.b64decode(files["accounts.beancount"]) == b"; not what HEAD holds\n"
    assert writer._journalled_bytes(ledger_dir, "txns/2026.beancount", files["txns/2026.beancount"]) == tracked
    forged = {**files["txns/2026.beancount"], "sha256": "0" * 64}
    with pytest.raises(WriteRefused, match="does not match its checksum"):
        writer._journalled_bytes(ledger_dir, "txns/2026.beancount", forged)


def test_refuses_when_head_moved_during_the_write(ledger_dir):
    with pytest.raises(WriteRefused, match="committed to by someone else"):
        with LedgerWriter(ledger_dir, user="finance:alice", action="x") as w:
            w.add_entries([receipt(datetime.date(2026, 1, 5), "5.00")])
            gitrepo.run(ledger_dir, "commit", "-q", "--allow-empty", "-m", "by hand", user="someone")
    assert "2026-01-05" not in (ledger_dir / "txns/2026.beancount").read_text()


def test_open_directive_can_target_the_chart_of_accounts(ledger_dir):
    account = "Expenses:Budget:Evaluation"
    opened = data.Open(data.new_metadata("<test>", 0), datetime.date(2000, 1, 1), account, [conventions.CURRENCY], None)
    with LedgerWriter(ledger_dir, user="admin:root", action="open budget line") as w:
        w.add_entries([opened], file=conventions.ACCOUNTS_FILE)
        with pytest.raises(WriteRefused):
            w.add_entries([opened], file="documents/x.beancount")
    assert f"open {account}" in (ledger_dir / conventions.ACCOUNTS_FILE).read_text()
    assert not (ledger_dir / "txns/2000.beancount").exists()
    assert check_ledger(ledger_dir) == []
