"""Load the books once per change of the files.

Parsing a multi-year ledger with its plugins takes long enough that the web
app, the reports and the CLI must not redo it for every request. We cache the
result of the last load per ledger directory and key it on what the load
read: (path, mtime_ns, size, inode) of every file Beancount opened
(``options_map["include"]``), the listing of ``txns/`` (a new year file
matches the glob include without any included file changing) and the ISU
plugin source files. Any change re-loads; nothing else does.

We call Beancount's uncached loader on purpose: its own pickle cache does not
notice a new file matching a glob include, and it would hide a plugin change.

A new process does not parse either when ``.isu-cache/load.bin`` holds the
load of the files as they are now (``ledger.load_cache``: keyed on content
and code, authenticated before it is unpickled). Every clean load outside a
write is kept there; inside a write (``write_in_progress``) the load of the
check is kept only once the write is committed, and forgotten when it fails.
That post-commit write runs in a background (non-daemon) thread - pickling
100,000 transactions takes seconds the committed import need not wait for -
ordered per ledger so an older load never replaces a newer one.

Errors are data: each is a ``LoadError(source, message)`` naming
``file:line`` relative to the ledger directory, as Fava shows them.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import importlib
import importlib.util
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from beancount import loader as bc_loader

from ledger import conventions as C
from ledger import load_cache
from ledger.gcpause import gc_paused

# Plugin modules whose source is part of the cache key (they are the rules).
PLUGIN_MODULES = ("ledger.plugins.isu_rules", "ledger.plugins.year_lock")
# Code and packaged data the plugins' verdicts depend on: a change of any of
# them invalidates a cached load too (reloaded before the plugins, in order).
PLUGIN_DEPENDENCIES = ("ledger.names", "ledger.registry", "ledger.fingerprint")
PACKAGED_DATA = ("ledger", "data/contributors.csv")


class LoadError(NamedTuple):
    """A problem with the books: where (``file:line``) and what."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class Books:
    """One load of the ledger: entries (sorted, plugins applied), errors, options.

    ``fingerprint`` is the sha256 over the content of every file the load
    read (relative path and bytes), so a report can name exactly the books it
    was computed from.
    """

    ledger_dir: Path
    entries: list
    errors: list[LoadError]
    options_map: dict[str, Any]
    fingerprint: str
    files: tuple[str, ...] = field(default=())  # relative paths read
    # The load cache key: sha256 over the ledger path, every file the load
    # depends on (registry included) and the ISU code; "" if not known.
    digest: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _CacheSlot:
    key: tuple
    books: Books


_cache: dict[Path, _CacheSlot] = {}
_cache_lock = threading.Lock()
_stats = {"loads": 0, "hits": 0, "persistent_hits": 0, "persisted": 0}
# Ledgers being written (see write_in_progress): their loads are not kept in
# the persistent cache until the write is committed.
_writes: dict[Path, "WriteLoads"] = {}
# Off switch for the persistent cache (the bench measures a cold parse with it).
PERSISTENT = True


def cache_info() -> dict[str, int]:
    """How many real loads (parses), in-process hits and persistent-cache hits
    happened in this process, and how many loads were persisted."""
    return dict(_stats)


def clear_cache() -> None:
    """Forget the in-process loads (the persistent cache stays: a later call
    behaves like the first call of a new process - which starts only after
    the old one has finished its background cache writes, so we wait for
    them too)."""
    wait_persisted()
    with _cache_lock:
        _cache.clear()


def _stat_key(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (str(path), None)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def _plugin_files() -> list[Path]:
    """Source files of the ISU plugins and what they depend on (not imported)."""
    return load_cache.code_files()


def _key_files(ledger_dir: Path, included: list[str]) -> list[str]:
    """The files whose change invalidates a load: main, accounts, every
    ``txns/*.beancount`` (so a new year file is noticed) and whatever the
    last load included."""
    files = {
        str(ledger_dir / C.MAIN_FILE),
        str(ledger_dir / C.ACCOUNTS_FILE),
        str(ledger_dir / C.REGISTRY_FILE),  # read by the isu_rules plugin
    }
    try:
        files.update(str(p) for p in (ledger_dir / C.TXN_DIR).glob("*.beancount"))
    except OSError:
        pass
    files.update(included)
    return sorted(files)


def _cache_key(files: list[str]) -> tuple:
    return (
        tuple(_stat_key(Path(p)) for p in files),
        tuple(_stat_key(p) for p in _plugin_files()),
    )


def _reload_changed_plugins(old_key: tuple | None, new_key: tuple) -> None:
    """Re-import a plugin whose source changed since the last load.

    Beancount imports plugins with importlib, which returns the module from
    ``sys.modules``; without this a long-running server would keep the old
    rules after an upgrade of the plugin file.
    """
    if old_key is None or old_key[1] == new_key[1]:
        return
    for name in PLUGIN_DEPENDENCIES + PLUGIN_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            importlib.reload(module)


def relative_source(ledger_dir: Path, meta: dict | None) -> str:
    """``file:line`` for an entry or error source, relative to the ledger."""
    if not meta:
        return C.MAIN_FILE
    filename = str(meta.get("filename") or "")
    lineno = meta.get("lineno")
    if filename and os.path.isabs(filename):
        try:
            filename = str(Path(filename).resolve().relative_to(ledger_dir))
        except ValueError:
            pass
    if not filename or filename.startswith("<"):
        filename = C.MAIN_FILE
    return f"{filename}:{lineno}" if lineno is not None else filename


def _to_load_error(ledger_dir: Path, error: Any) -> LoadError:
    text = str(getattr(error, "message", error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and "Traceback (most recent call last)" in text:
        # A plugin that failed to import or crashed: its last line says why.
        lines = [lines[0].replace("Traceback (most recent call last):", "").strip(), lines[-1]]
    message = " ".join(" ".join(lines).split())
    return LoadError(relative_source(ledger_dir, getattr(error, "source", None)), message)


def _fingerprint(ledger_dir: Path, files: list[str], hashes: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """sha256 over (relative path, sha256 of content) of each file read."""
    digest = hashlib.sha256()
    rels = []
    for name in sorted(files):
        rel = load_cache.relative(ledger_dir, name)
        rels.append(rel)
        digest.update(rel.encode("utf-8") + b"\0")
        content = hashes.get(rel)
        if content is None:
            content = load_cache.file_hashes(ledger_dir, [rel])[rel]
        digest.update(bytes.fromhex(content) if content != "missing" else hashlib.sha256(b"").digest())
    return digest.hexdigest(), tuple(rels)


def _books(ledger_dir: Path, entries: list, errors: list, options_map: dict, hashes: dict[str, str],
           digest: str) -> Books:
    main = ledger_dir / C.MAIN_FILE
    files = list(options_map.get("include") or [str(main)])
    fingerprint, rels = _fingerprint(ledger_dir, files, hashes)
    return Books(
        ledger_dir=ledger_dir,
        entries=entries,
        errors=[_to_load_error(ledger_dir, e) for e in errors],
        options_map=options_map,
        fingerprint=fingerprint,
        files=rels,
        digest=digest,
    )


# --- what a load parses -------------------------------------------------------
# The writer proves that the entries it printed parse back to themselves, and
# the check after its write parses those very files: rather than parse a
# 20,000-entry import twice, the check's parse is the proof. Beancount's
# loader reads every file through ``beancount.parser.parser.parse_file``, so
# the loader module is given a view of that parser module whose
# ``parse_file`` also hands each file's result to this thread's watcher, if
# one is set (``watching_parses``). Nothing else about the parse changes.

_watchers = threading.local()


class _WatchedParser:
    """``beancount.parser.parser`` as Beancount's loader sees it (see above)."""

    isu_watched = True

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def parse_file(self, filename, *args, **kwargs):
        result = self._module.parse_file(filename, *args, **kwargs)
        watcher = getattr(_watchers, "watcher", None)
        if watcher is not None:
            watcher(os.path.normpath(filename), result[0], result[1])
        return result


if not getattr(bc_loader.parser, "isu_watched", False):
    bc_loader.parser = _WatchedParser(bc_loader.parser)


@contextlib.contextmanager
def watching_parses(watcher):
    """Call ``watcher(absolute filename, entries, errors)`` for every file
    parsed by a load in this thread inside the block (before booking and
    plugins: the entries exactly as written)."""
    previous = getattr(_watchers, "watcher", None)
    _watchers.watcher = watcher
    try:
        yield
    finally:
        _watchers.watcher = previous


def _load_uncached(ledger_dir: Path, known: tuple[str, ...] = (), code: str | None = None) -> Books:
    """Parse the books. The files are hashed before and after the parse: the
    load is kept in the persistent cache only when they did not change in
    between (and not while a write is being checked: see write_in_progress)."""
    code = code or load_cache.code_digest()
    before = load_cache.file_hashes(ledger_dir, sorted(set(load_cache.base_files(ledger_dir)) | set(known)))
    main = ledger_dir / C.MAIN_FILE
    entries, errors, options_map = bc_loader._load([(str(main), True)], None, None, None)
    _stats["loads"] += 1
    read = [load_cache.relative(ledger_dir, f) for f in options_map.get("include") or [str(main)]]
    after = load_cache.file_hashes(ledger_dir, sorted(set(load_cache.base_files(ledger_dir)) | set(read)))
    stable = after == before
    digest = load_cache.state_digest(ledger_dir, after, code) if stable else ""
    books = _books(ledger_dir, entries, errors, options_map, after, digest)
    if stable:
        pending = _writes.get(ledger_dir)
        if pending is not None:
            pending.loads.append((books, after))
        elif PERSISTENT:
            _persist(books, after)
    return books


# Persistent writes, ordered per ledger: every request takes a number; a
# request older than the last one written (or than one queued after it) is
# skipped, so the file never goes back to an older state of the books.
_persist_lock = threading.Lock()  # guards the three tables below
_persist_seq = 0
_persist_requested: dict[Path, int] = {}  # ledger -> newest request
_persist_written: dict[Path, int] = {}  # ledger -> newest request written (or decided)
_persist_ledger_locks: dict[Path, threading.Lock] = {}  # one writer at a time per ledger
_persist_threads: list[threading.Thread] = []
# A command-line process ends right after its command: the last load it
# would persist in the background is written at exit by a detached child
# process (see _persist_detached) instead of a thread the process waits for.
_detach = False
_detached: dict[Path, tuple[Books, dict[str, str]]] = {}  # ledger -> newest load to persist at exit


def detach_background_persists() -> None:
    """Called by the command line (a process that ends after one command):
    from now on background cache writes wait for the exit and are then done
    by a detached child, so ``isu-ledger import`` returns once committed."""
    global _detach
    if not _detach:
        _detach = True
        atexit.register(_persist_at_exit)


def _persist_at_exit() -> None:
    """At exit (no other thread runs any more): one detached write per ledger."""
    while _detached:
        _ledger, (books, hashes) = _detached.popitem()
        if not _persist_detached(books, hashes):
            _write_if_current(books, hashes)


def _write_if_current(books: Books, hashes: dict[str, str]) -> bool:
    """Write the cache unless the files changed since the load (another process wrote)."""
    if load_cache.file_hashes(books.ledger_dir, sorted(hashes)) != hashes:
        return False
    return load_cache.write(books.ledger_dir, hashes, books.digest, books.entries, [], books.options_map)


def _persist(books: Books, hashes: dict[str, str], *, background: bool = False) -> None:
    """Keep a clean load for the next process (books with errors are parsed
    again: they are rare and about to be fixed).

    ``background``: write from a (non-daemon) thread, so the caller - a
    committed write - returns at once; pickling 100,000 transactions takes
    seconds. The in-process cache already holds the load, and the process
    does not exit before the thread is done. On the command line (see
    ``detach_background_persists``) the newest such load is written at exit
    by a detached child process instead.
    """
    global _persist_seq
    if not (books.ok and books.digest):
        return
    with _persist_lock:
        _persist_seq += 1
        seq = _persist_seq
        _persist_requested[books.ledger_dir] = seq
        ledger_lock = _persist_ledger_locks.setdefault(books.ledger_dir, threading.Lock())
    if not background:
        _detached.pop(books.ledger_dir, None)  # older than this load
        _persist_now(books, hashes, seq, ledger_lock)
        return
    if _detach:
        _detached[books.ledger_dir] = (books, hashes)
        return
    thread = threading.Thread(target=_persist_now, args=(books, hashes, seq, ledger_lock),
                              name=f"isu-load-cache {books.ledger_dir.name}", daemon=False)
    with _persist_lock:
        _persist_threads[:] = [t for t in _persist_threads if t.is_alive()]
        _persist_threads.append(thread)
    thread.start()


def _persist_now(books: Books, hashes: dict[str, str], seq: int, ledger_lock: threading.Lock) -> None:
    ledger_dir = books.ledger_dir
    with ledger_lock:
        with _persist_lock:
            if seq < _persist_requested.get(ledger_dir, 0) or seq <= _persist_written.get(ledger_dir, 0):
                return  # a newer load is (or will be) persisted: this one is stale
            _persist_written[ledger_dir] = seq
        # The files may have changed since the load (another process wrote):
        # then this load is not the current state and must not be published.
        if _write_if_current(books, hashes):
            _stats["persisted"] += 1


def _persist_detached(books: Books, hashes: dict[str, str]) -> bool:
    """Write the cache from a forked child that outlives this process; False
    when it cannot fork (the caller then uses a thread).

    The child holds no descriptor of ours (standard streams go to
    /dev/null, so a caller reading our output sees its end when we exit),
    takes no lock another thread could have held at the fork, and writes
    only if the files are still the ones loaded. Two children racing leave
    one of two loads in the cache; a reader checks the file hashes recorded
    with it, so a stale one is a miss, never a wrong answer.
    """
    try:
        pid = os.fork()
    except OSError:
        return False
    if pid:
        return True
    try:  # the child: never returns
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, 65536)
        gc.disable()
        _write_if_current(books, hashes)
    finally:
        os._exit(0)


def wait_persisted(timeout: float | None = None) -> bool:
    """Wait for the background cache writes of this process; True when none is left."""
    with _persist_lock:
        threads = list(_persist_threads)
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(timeout)
    return not any(t.is_alive() for t in threads)


def _from_persistent(ledger_dir: Path, code: str) -> Books | None:
    if not PERSISTENT:
        return None
    cached = load_cache.read(ledger_dir, code)
    if cached is None:
        return None
    _stats["persistent_hits"] += 1
    return _books(ledger_dir, cached.entries, cached.errors, cached.options_map, cached.hashes, cached.digest)


def load_books(ledger_dir: Path | str) -> Books:
    """The books of ``ledger_dir``, parsed only if a file changed since last time.

    Returns the same ``Books`` object while nothing changed. A missing
    ``main.beancount`` is reported as an error, not raised.
    """
    ledger_dir = Path(ledger_dir).resolve()
    with _cache_lock:
        slot = _cache.get(ledger_dir)
        included = [str(ledger_dir / f) for f in slot.books.files] if slot else []
        pre_files = _key_files(ledger_dir, included)
        pre_key = _cache_key(pre_files)
        if slot is not None and pre_key == slot.key:
            _stats["hits"] += 1
            return slot.books
        _reload_changed_plugins(slot.key if slot else None, pre_key)
        code = load_cache.code_digest()
        books = None
        with gc_paused():
            if ledger_dir not in _writes:  # a write being checked parses what it wrote
                books = _from_persistent(ledger_dir, code)
            if books is None:
                known = slot.books.files if slot else ()
                books = _load_uncached(ledger_dir, known, code)
        post_files = _key_files(ledger_dir, [str(ledger_dir / f) for f in books.files])
        # Keep the key taken *before* parsing when it covers the same files:
        # a file changed during the parse then differs from it, and the next
        # call parses again instead of serving what was read half-way.
        key = pre_key if post_files == pre_files else _cache_key(post_files)
        _cache[ledger_dir] = _CacheSlot(key, books)
        return books


class WriteLoads:
    """The loads made while a write is checked (see ``write_in_progress``)."""

    def __init__(self) -> None:
        self.loads: list[tuple[Books, dict[str, str]]] = []
        self._committed = False

    def committed(self) -> None:
        """The write is committed: its checked load may be kept."""
        self._committed = True


@contextlib.contextmanager
def write_in_progress(ledger_dir: Path | str):
    """Around the check and commit of a write (the writer holds the lock).

    The check's load becomes the in-process load *and* the persistent one,
    so the report after an import parses nothing - but only once the caller
    says ``committed()``: when the check or the commit fails the files are
    restored, and a load of the rejected state is forgotten, never kept.
    """
    ledger_dir = Path(ledger_dir).resolve()
    pending = WriteLoads()
    with _cache_lock:
        _writes[ledger_dir] = pending
        before = _cache.get(ledger_dir)
    try:
        yield pending
    finally:
        with _cache_lock:
            _writes.pop(ledger_dir, None)
            slot = _cache.get(ledger_dir)
            if not pending._committed and slot is not None and slot is not before:
                del _cache[ledger_dir]  # loaded from the rejected files
        if pending._committed and pending.loads and PERSISTENT:
            books, hashes = pending.loads[-1]
            if slot is not None and slot.books is books:
                _persist(books, hashes, background=True)
