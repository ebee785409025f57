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

Errors are data: each is a ``LoadError(source, message)`` naming
``file:line`` relative to the ledger directory, as Fava shows them.
"""

from __future__ import annotations

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

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _CacheSlot:
    key: tuple
    books: Books


_cache: dict[Path, _CacheSlot] = {}
_cache_lock = threading.Lock()
_stats = {"loads": 0, "hits": 0}


def cache_info() -> dict[str, int]:
    """How many real loads (parses) and cache hits happened in this process."""
    return dict(_stats)


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _stat_key(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (str(path), None)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def _plugin_files() -> list[Path]:
    """Source files of the ISU plugins (found without importing them)."""
    files = []
    for name in PLUGIN_DEPENDENCIES + PLUGIN_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    package, resource = PACKAGED_DATA
    files.append(Path(importlib.util.find_spec(package).origin).parent / resource)
    return files


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


def _fingerprint(ledger_dir: Path, files: list[str]) -> tuple[str, tuple[str, ...]]:
    digest = hashlib.sha256()
    rels = []
    for name in sorted(files):
        path = Path(name)
        try:
            rel = str(path.resolve().relative_to(ledger_dir))
        except ValueError:
            rel = str(path)
        rels.append(rel)
        digest.update(rel.encode("utf-8") + b"\0")
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest(), tuple(rels)


def _load_uncached(ledger_dir: Path) -> Books:
    main = ledger_dir / C.MAIN_FILE
    entries, errors, options_map = bc_loader._load([(str(main), True)], None, None, None)
    _stats["loads"] += 1
    files = list(options_map.get("include") or [str(main)])
    fingerprint, rels = _fingerprint(ledger_dir, files)
    books = Books(
        ledger_dir=ledger_dir,
        entries=entries,
        errors=[_to_load_error(ledger_dir, e) for e in errors],
        options_map=options_map,
        fingerprint=fingerprint,
        files=rels,
    )
    return books


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
        books = _load_uncached(ledger_dir)
        post_files = _key_files(ledger_dir, [str(ledger_dir / f) for f in books.files])
        # Keep the key taken *before* parsing when it covers the same files:
        # a file changed during the parse then differs from it, and the next
        # call parses again instead of serving what was read half-way.
        key = pre_key if post_files == pre_files else _cache_key(post_files)
        _cache[ledger_dir] = _CacheSlot(key, books)
        return books
