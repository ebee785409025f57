"""The persistent load cache (ledger/load_cache.py) and its use by the loader,
the writer and the report memo: a hit gives the same books; any change of
the files, the registry or the ISU code, any damage or forgery is a miss and a
correct parse; a planted pickle is never unpickled; a failed write leaves
nothing of its state behind."""

from __future__ import annotations

import datetime
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import data

from ledger import conventions as C
from ledger import load_cache
from ledger import loader
from ledger.loader import cache_info, clear_cache, load_books

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def books_dir(tmp_path, monkeypatch) -> Path:
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.invalid",
                       "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x.invalid"}.items():
        monkeypatch.setenv(key, value)
    from ledger.books import init_ledger

    ledger = init_ledger(tmp_path / "books", opening_balance="1000.00", as_of="2025-12-31", user="test").ledger_dir
    clear_cache()
    yield ledger.resolve()
    clear_cache()


def cache_file(ledger: Path) -> Path:
    return ledger / load_cache.CACHE_DIR / load_cache.DATA_FILE


def restart() -> dict:
    """Forget the in-process loads, as a new process would; the stats before."""
    clear_cache()
    return cache_info()


def parsed_again(ledger: Path) -> bool:
    """Load as a new process would; True when it parsed (did not use the cache)."""
    before = restart()
    books = load_books(ledger)
    after = cache_info()
    assert books.errors == []
    return after["loads"] == before["loads"] + 1


def comparable(entries):
    return [(type(e).__name__, e.date, getattr(e, "account", None), getattr(e, "narration", None),
             tuple((p.account, p.units) for p in getattr(e, "postings", ()))) for e in entries]


def test_a_restart_reads_the_cache_and_gets_equal_books(books_dir):
    first = load_books(books_dir)
    assert cache_file(books_dir).is_file()
    key = books_dir / load_cache.CACHE_DIR / load_cache.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    before = restart()
    again = load_books(books_dir)
    after = cache_info()
    assert after["persistent_hits"] == before["persistent_hits"] + 1 and after["loads"] == before["loads"]
    assert again is not first
    assert comparable(again.entries) == comparable(first.entries)
    assert again.fingerprint == first.fingerprint and again.digest == first.digest and again.files == first.files
    assert again.options_map["title"] == first.options_map["title"]


def test_a_new_process_hits_the_cache(books_dir):
    load_books(books_dir)
    code = ("import json, sys; from ledger.loader import load_books, cache_info; "
            "b = load_books(sys.argv[1]); print(json.dumps([cache_info(), len(b.entries), b.fingerprint]))")
    out = subprocess.run([sys.executable, "-c", code, str(books_dir)], capture_output=True, text=True, cwd=REPO,
                         check=True).stdout
    import json

    info, n, fingerprint = json.loads(out)
    assert info["persistent_hits"] == 1 and info["loads"] == 0
    assert n == len(load_books(books_dir).entries) and fingerprint == load_books(books_dir).fingerprint


@pytest.mark.parametrize("rel", [C.MAIN_FILE, C.ACCOUNTS_FILE, "txns/2025.beancount", C.REGISTRY_FILE])
def test_any_change_of_a_file_is_a_miss(books_dir, rel):
    load_books(books_dir)
    path = books_dir / rel
    stat = path.stat()
    path.write_bytes(path.read_bytes() + (b"\n; changed\n" if rel.endswith(".beancount") else b""))
    if not rel.endswith(".beancount"):  # the registry: same size, same mtime, other content
        content = path.read_bytes()
        path.write_bytes(content.replace(b"Afghanistan", b"AfghanistaN", 1))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert parsed_again(books_dir)


def test_a_new_year_file_is_a_miss(books_dir):
    load_books(books_dir)
    (books_dir / "txns/2027.beancount").write_text("; 2027\n2027-01-05 open Assets:Extra CHF\n")
    assert parsed_again(books_dir)
    assert any(isinstance(e, data.Open) and e.account == "Assets:Extra" for e in load_books(books_dir).entries)


def test_a_change_of_the_plugin_code_is_a_miss(books_dir, monkeypatch, tmp_path):
    load_books(books_dir)
    assert not parsed_again(books_dir)
    extra = tmp_path / "plugin_dependency.py"
    extra.write_text("RULE = 1\n")
    files = load_cache.code_files()
    monkeypatch.setattr(load_cache, "code_files", lambda: [*files, extra])
    assert parsed_again(books_dir)  # a new dependency
    assert not parsed_again(books_dir)
    extra.write_text("RULE = 2\n")
    assert parsed_again(books_dir)  # an upgraded dependency


def test_a_change_of_versions_is_a_miss(books_dir, monkeypatch):
    load_books(books_dir)
    monkeypatch.setattr(load_cache, "_versions", lambda: "beancount 9.9.9; python CPython 3.99")
    assert parsed_again(books_dir)


def test_a_copy_of_the_ledger_does_not_serve_the_original_paths(books_dir, tmp_path):
    import shutil

    load_books(books_dir)
    copy = tmp_path / "copy"
    shutil.copytree(books_dir, copy)
    assert parsed_again(copy.resolve())
    assert all(str(copy.resolve()) in e.meta["filename"] for e in load_books(copy).entries if e.meta.get("filename", "").startswith("/"))


def _damage(path: Path, how: str) -> None:
    blob = bytearray(path.read_bytes())
    if how == "flip":
        blob[len(blob) // 2] ^= 0x01
    elif how == "flip-tag":
        blob[len(load_cache.MAGIC) + 3] ^= 0x80
    elif how == "truncate":
        del blob[len(blob) - 100 :]
    elif how == "empty":
        blob = bytearray()
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("how", ["flip", "flip-tag", "truncate", "empty"])
def test_a_damaged_cache_file_is_ignored(books_dir, how):
    load_books(books_dir)
    _damage(cache_file(books_dir), how)
    assert parsed_again(books_dir)
    assert not parsed_again(books_dir)  # and replaced by a good one


def test_another_key_is_a_miss(books_dir):
    load_books(books_dir)
    key = books_dir / load_cache.CACHE_DIR / load_cache.KEY_FILE
    key.write_text("ab" * load_cache.KEY_BYTES)
    assert parsed_again(books_dir)


def test_a_key_others_can_read_is_refused(books_dir):
    load_books(books_dir)
    key = books_dir / load_cache.CACHE_DIR / load_cache.KEY_FILE
    key.chmod(0o644)
    assert load_cache.read(books_dir) is None
    assert parsed_again(books_dir)


class _Exploit:
    """A pickle that creates a file when it is unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


def _forged(ledger: Path, marker: Path, key: bytes | None) -> bytes:
    """A cache file with a valid layout, a matching header, an exploit as payload
    and a tag made with ``key`` (None: a tag of zeros)."""
    import hashlib
    import hmac
    import json

    hashes = load_cache.file_hashes(ledger, load_cache.base_files(ledger))
    digest = load_cache.state_digest(ledger, hashes, load_cache.code_digest())
    header = json.dumps({"files": sorted(hashes), "digest": digest}).encode()
    body = len(header).to_bytes(8, "big") + header + pickle.dumps(_Exploit(marker))
    tag = hmac.new(key, body, hashlib.sha256).digest() if key else b"\0" * 32
    return load_cache.MAGIC + tag + body


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["no-tag", "guessed-key"])
def test_a_planted_pickle_is_never_unpickled(books_dir, tmp_path, key):
    load_books(books_dir)
    marker = tmp_path / "unpickled"
    cache_file(books_dir).write_bytes(_forged(books_dir, marker, key))
    assert parsed_again(books_dir)
    assert not marker.exists()


def test_the_forgery_would_have_run_with_the_real_key(books_dir, tmp_path):
    """The test above can fail: with the ledger's key the same file is unpickled."""
    load_books(books_dir)
    real = bytes.fromhex((books_dir / load_cache.CACHE_DIR / load_cache.KEY_FILE).read_text())
    marker = tmp_path / "unpickled"
    cache_file(books_dir).write_bytes(_forged(books_dir, marker, real))
    assert load_cache.read(books_dir) is None  # the payload is no (entries, errors, options) triple...
    assert marker.exists()  # ...but it was unpickled: only the key stands between a file and pickle


def test_a_ledger_without_git_has_no_persistent_cache(tmp_path):
    assert load_cache.write(tmp_path, {}, "0" * 64, [], [], {}) is False
    assert not (tmp_path / ".git").exists()
    assert load_cache.read(tmp_path) is None


def _receipt(day: datetime.date, amount: str, account: str = "Income:Contributions:Core") -> data.Transaction:
    meta = {C.META_BANK_REF: f"T-{day}-{amount}", C.META_ACCOUNT: "CH4500240240FP1006276"}
    posting_meta = {C.META_STATE_PARTY: "DEU", C.META_WORK_PLAN: "core", C.META_WP_YEAR: Decimal(day.year)}
    units = data.Amount(Decimal(amount), "CHF")
    return data.Transaction(
        meta, day, "*", "FEDERAL FOREIGN OFFICE", "ISU 2026 Core Work Plan", frozenset({f"ISU-{day.year}"}),
        frozenset(), [data.Posting(C.BANK, units, None, None, None, {}),
                      data.Posting(account, -units, None, None, None, posting_meta)])


def test_a_write_hands_its_checked_load_to_the_readers(books_dir, needs_plugins):
    from ledger.store.writer import LedgerWriter

    load_books(books_dir)
    loads = cache_info()["loads"]
    with LedgerWriter(books_dir, user="test", action="one receipt") as w:
        w.add_entries([_receipt(datetime.date(2026, 1, 20), "10.00")])
    books = load_books(books_dir)
    assert cache_info()["loads"] == loads + 1  # the check's parse, nothing after it
    assert any(isinstance(e, data.Transaction) and e.date == datetime.date(2026, 1, 20) for e in books.entries)
    assert not parsed_again(books_dir)  # and the next process reads it back


def test_a_failed_write_does_not_poison_the_cache(books_dir, needs_plugins):
    from ledger.store.writer import CheckFailed, LedgerWriter

    good = load_books(books_dir)
    cached = cache_file(books_dir).read_bytes()
    with pytest.raises(CheckFailed):
        with LedgerWriter(books_dir, user="test", action="bad") as w:
            w.add_entries([_receipt(datetime.date(2026, 1, 21), "5.00", account="Income:No:Such:Account")])
    assert cache_file(books_dir).read_bytes() == cached  # the rejected state was never persisted
    assert loader._cache.get(books_dir) is None or loader._cache[books_dir].books is good
    books = load_books(books_dir)
    assert books.errors == []
    assert not any(isinstance(e, data.Transaction) and e.date == datetime.date(2026, 1, 21) for e in books.entries)
    assert comparable(books.entries) == comparable(good.entries)


def test_report_models_are_memoised_per_books(books_dir):
    from reports import command

    command.clear_memo()
    books, commit = command.load(books_dir)
    first = command.build(books, "contributions", 2026, None, commit=commit)
    assert command.build(books, "contributions", 2026, None, commit=commit) is first
    assert command.memo_info()["hits"] >= 1
    assert command.build(books, "contributions", 2025, None, commit=commit) is not first
    (books_dir / "txns/2026.beancount").write_text("; 2026\n2026-01-05 open Assets:Extra CHF\n")
    changed, _ = command.load(books_dir)
    assert changed.digest != books.digest
    assert command.build(changed, "contributions", 2026, None, commit=commit) is not first


def _hashes(ledger: Path, books) -> dict[str, str]:
    return load_cache.file_hashes(ledger, sorted(set(load_cache.base_files(ledger)) | set(books.files)))


def test_the_background_write_after_a_commit_publishes_the_final_state(books_dir, needs_plugins):
    from ledger.store.writer import LedgerWriter

    load_books(books_dir)
    for n, day in enumerate((20, 21, 22)):
        with LedgerWriter(books_dir, user="test", action=f"receipt {n}") as w:
            w.add_entries([_receipt(datetime.date(2026, 1, day), f"{n + 1}.00")])
    assert loader.wait_persisted(timeout=60)
    cached = load_cache.read(books_dir)
    assert cached is not None  # the last write's load, for the files as they are now
    days = {e.date.day for e in cached.entries if isinstance(e, data.Transaction) and e.date.month == 1
            and e.date.year == 2026}
    assert {20, 21, 22} <= days
    assert not parsed_again(books_dir)


def test_a_stale_load_is_never_published(books_dir, needs_plugins, monkeypatch):
    old = load_books(books_dir)
    old_hashes = _hashes(books_dir, old)
    (books_dir / C.TXN_DIR / "2026.beancount").write_text("; 2026\n2026-01-05 open Assets:Extra CHF\n")
    new = load_books(books_dir)
    assert new is not old and new.digest != old.digest
    published = cache_file(books_dir).read_bytes()
    written = []
    real_write = load_cache.write
    monkeypatch.setattr(load_cache, "write", lambda d, h, digest, *a: written.append(digest) or real_write(d, h, digest, *a))
    # The files changed since ``old`` was loaded: persisting it now is refused.
    loader._persist(old, old_hashes, background=True)
    assert loader.wait_persisted(timeout=60)
    assert written == [] and cache_file(books_dir).read_bytes() == published
    # Two requests queued behind a busy writer: only the newer is written.
    with loader._persist_ledger_locks[books_dir]:
        loader._persist(new, _hashes(books_dir, new), background=True)  # stands for an older request
        loader._persist(new, _hashes(books_dir, new), background=True)
    assert loader.wait_persisted(timeout=60)
    assert written == [new.digest]
    # An older request reaching the lock after a newer one was written is skipped.
    seq = loader._persist_written[books_dir] - 1
    loader._persist_now(new, _hashes(books_dir, new), seq, loader._persist_ledger_locks[books_dir])
    assert written == [new.digest]
    assert not parsed_again(books_dir)


def test_a_command_line_write_returns_at_once_and_leaves_its_load_for_the_next_process(books_dir):
    """``isu-ledger`` hands the cache write of its checked load to a detached
    child at exit: a caller reading its output is not kept waiting for it,
    and the next process finds the committed state in the cache."""
    import time

    cache_file(books_dir).unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--ledger", str(books_dir), "pledge", "add", "--state-party", "DEU",
         "--amount", "1000.00", "--year", "2026", "--date", "2026-01-05"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    code = ("import json, sys; from ledger.loader import load_books, cache_info; "
            "b = load_books(sys.argv[1]); print(json.dumps([cache_info(), len(b.entries), b.fingerprint]))")
    import json

    deadline = time.monotonic() + 60
    while True:  # the child writes it within moments of the exit
        out = subprocess.run([sys.executable, "-c", code, str(books_dir)], capture_output=True, text=True, cwd=REPO,
                             check=True).stdout
        info, n, fingerprint = json.loads(out)
        if info["persistent_hits"] == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    clear_cache()
    books = load_books(books_dir)
    assert info["persistent_hits"] == 1 and info["loads"] == 0
    assert n == len(books.entries) and fingerprint == books.fingerprint  # the committed state, not the one before
