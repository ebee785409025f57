"""Load the books once per change of the files (Fava's pattern).

The web app, the reports and the command line all read the books through
``load_books``. A process keeps the last load of each ledger directory and
parses again only when a file it depends on changed: every file Beancount
read (``options_map["include"]``), the listing of ``txns/`` (a new year file
matches the glob include without any included file changing), the registry
the ISU plugin reads, and the plugins' own source (a server picks up new
rules after an upgrade).

Beancount's uncached loader is called on purpose: its pickle cache does not
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

from ledger import conventions

# The ISU plugins and the modules their verdicts depend on (reloaded, in this
# order, when their source changes).
PLUGIN_DEPENDENCIES = ("ledger.names", "ledger.registry", "ledger.fingerprint")
PLUGIN_MODULES = ("ledger.plugins.isu_rules", "ledger.plugins.year_lock")


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
    was computed from. ``memo`` holds what is derived from these books (report
    models): a new load starts with an empty one, so nothing stale is served.
    """

    ledger_dir: Path
    entries: list
    errors: list[LoadError]
    options_map: dict[str, Any]
    fingerprint: str
    files: tuple[str, ...] = field(default=())  # relative paths read
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors


_loads: dict[Path, tuple[tuple, Books]] = {}  # ledger directory -> (key, books)
_lock = threading.Lock()
_parses = 0


def parse_count() -> int:
    """How many times this process parsed books (tests: a change reloads, nothing else does)."""
    return _parses


def forget() -> None:
    """Drop every kept load (the next ``load_books`` parses)."""
    with _lock:
        _loads.clear()


def _stat(path: Path) -> tuple:
    try:
        st = path.stat()
    except OSError:
        return (str(path), None)
    return (str(path), st.st_mtime_ns, st.st_size, st.st_ino)


def _plugin_sources() -> list[Path]:
    sources = []
    for name in PLUGIN_DEPENDENCIES + PLUGIN_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            sources.append(Path(spec.origin))
    return sources


def _dependency_key(ledger_dir: Path, included: tuple[str, ...]) -> tuple:
    """What a load depends on, as (path, mtime, size, inode) of each file."""
    names = {conventions.MAIN_FILE, conventions.ACCOUNTS_FILE, conventions.REGISTRY_FILE, conventions.RULES_FILE}
    names.update(included)
    try:
        names.update(f"{conventions.TXN_DIR}/{p.name}" for p in (ledger_dir / conventions.TXN_DIR).glob("*.beancount"))
    except OSError:
        pass
    return (
        tuple(_stat(ledger_dir / name) for name in sorted(names)),
        tuple(_stat(path) for path in _plugin_sources()),
    )


def _reload_changed_plugins(old_key: tuple | None, new_key: tuple) -> None:
    """Re-import the plugins when their source changed since the last load:
    Beancount imports them through ``sys.modules``, which would keep the old rules."""
    if old_key is None or old_key[1] == new_key[1]:
        return
    for name in PLUGIN_DEPENDENCIES + PLUGIN_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            importlib.reload(module)


def relative_source(ledger_dir: Path, meta: dict | None) -> str:
    """``file:line`` for an entry or error source, relative to the ledger."""
    if not meta:
        return conventions.MAIN_FILE
    filename = str(meta.get("filename") or "")
    lineno = meta.get("lineno")
    if filename and os.path.isabs(filename):
        try:
            filename = str(Path(filename).resolve().relative_to(ledger_dir))
        except ValueError:
            pass
    if not filename or filename.startswith("<"):
        filename = conventions.MAIN_FILE
    return f"{filename}:{lineno}" if lineno is not None else filename


def _load_error(ledger_dir: Path, error: Any) -> LoadError:
    text = str(getattr(error, "message", error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and "Traceback (most recent call last)" in text:
        # A plugin that failed to import or crashed: its last line says why.
        lines = [lines[0].replace("Traceback (most recent call last):", "").strip(), lines[-1]]
    message = " ".join(" ".join(lines).split())
    return LoadError(relative_source(ledger_dir, getattr(error, "source", None)), message)


def _relative(ledger_dir: Path, name: str) -> str:
    try:
        return str(Path(name).resolve().relative_to(ledger_dir))
    except ValueError:
        return name


def _fingerprint(ledger_dir: Path, rels: list[str]) -> str:
    """sha256 over (relative path, sha256 of content) of each file read."""
    digest = hashlib.sha256()
    for rel in sorted(rels):
        digest.update(rel.encode("utf-8") + b"\0")
        try:
            content = (ledger_dir / rel).read_bytes()
        except OSError:
            content = b""
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def _load_uncached(ledger_dir: Path) -> Books:
    global _parses
    main = ledger_dir / conventions.MAIN_FILE
    entries, errors, options_map = bc_loader._load([(str(main), True)], None, None, None)
    _parses += 1
    rels = [_relative(ledger_dir, name) for name in options_map.get("include") or [str(main)]]
    return Books(
        ledger_dir=ledger_dir,
        entries=entries,
        errors=[_load_error(ledger_dir, e) for e in errors],
        options_map=options_map,
        fingerprint=_fingerprint(ledger_dir, rels),
        files=tuple(sorted(rels)),
    )


def load_books(ledger_dir: Path | str) -> Books:
    """The books of ``ledger_dir``, parsed only if a file changed since last time.

    Returns the same ``Books`` object while nothing changed. A missing
    ``main.beancount`` is reported as an error, not raised.
    """
    ledger_dir = Path(ledger_dir).resolve()
    with _lock:
        kept = _loads.get(ledger_dir)
        before = _dependency_key(ledger_dir, kept[1].files if kept else ())
        if kept is not None and kept[0] == before:
            return kept[1]
        _reload_changed_plugins(kept[0] if kept else None, before)
        books = _load_uncached(ledger_dir)
        key = _dependency_key(ledger_dir, books.files)
        if [s[0] for s in key[0]] == [s[0] for s in before[0]]:
            # The same files: keep the key taken before the parse, so a file
            # changed during the parse makes the next call parse again.
            key = before
        _loads[ledger_dir] = (key, books)
        return books
