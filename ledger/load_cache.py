"""A load of the books that survives the process: the cold start of the app.

Parsing 100,000 transactions with the ISU plugins takes seconds; unpickling
the result takes a fraction of that. So after a clean load we keep
``(entries, errors, options_map)`` in ``<ledger>/.git/isu-cache/load.bin`` and
the next process (the web app after a restart, the CLI) reads it back
instead of parsing - but only when it is provably the load of the files as
they are now, and provably written by isu-ledger:

* **keyed on content, not times**: the sha256 of every file the load read
  (``options_map["include"]``), of main, accounts, every ``txns/*.beancount``
  (a new year file changes the key), the registry files, the source of the
  ISU plugins and everything their verdicts depend on, the Beancount and
  Python versions and the ledger's own path (entries name their files by
  absolute path). Hashing 20 MB of ledger costs about 30 ms; mtimes lie
  after a ``git checkout`` or a copy.
* **authenticated before it is unpickled**: HMAC-SHA256 over the whole file
  with a per-ledger secret key (``.git/isu-cache/key``, 0600, from ``secrets``),
  checked with ``hmac.compare_digest``. Unpickling runs code; a file
  planted or altered by anyone who cannot read the key is never unpickled.
* **never an error**: a missing, truncated, corrupted, foreign or outdated
  file is ignored (the caller parses and writes a new one); a cache that
  cannot be written is skipped.

This is Beancount's own idea (v2 and v3 keep a ``.*.picklecache`` next to
the ledger) without its two flaws for us: Beancount trusts mtimes and
unpickles whatever file it finds.

Why inside ``.git``: the cache is derived data of the repository, like git's
own index - never in ``git status``, never in a snapshot of the books, not
carried by a clone (nor is the key); a ledger that is not a git repository
(``.git`` missing or not a directory) simply has no persistent cache.

File layout: ``MAGIC | tag (32 bytes) | header length (8, big-endian) |
header (JSON) | payload (pickle)``; the tag covers everything after it.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import logging
import os
import pickle
import platform
import secrets
import stat
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ledger import conventions as C

log = logging.getLogger(__name__)

CACHE_DIR = ".git/isu-cache"
KEY_FILE = "key"
DATA_FILE = "load.bin"
MAGIC = b"isu-ledger load cache 1\n"
TAG_BYTES = 32
KEY_BYTES = 32

# The modules and packaged data the ISU plugins' verdicts depend on: a change
# of any of them (an upgrade) invalidates every cached load.
CODE_MODULES = (
    "ledger.plugins.isu_rules",
    "ledger.plugins.year_lock",
    "ledger.fingerprint",
    "ledger.registry",
    "ledger.names",
    "ledger.conventions",
)
PACKAGED_DATA = ("ledger", "data/contributors.csv")


@dataclass(frozen=True)
class Cached:
    """A load read back from the cache: what the parse returned, and the key."""

    entries: list
    errors: list
    options_map: dict[str, Any]
    digest: str
    hashes: dict[str, str]  # ledger-relative file -> sha256, as verified


# --- the key ------------------------------------------------------------------


def code_files() -> list[Path]:
    """Source files of the ISU plugins and their dependencies, found without
    importing them, plus every other module of ``ledger/plugins/``."""
    files: set[Path] = set()
    for name in CODE_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            files.add(Path(spec.origin))
    package = importlib.util.find_spec("ledger")
    if package is not None and package.origin:
        root = Path(package.origin).parent
        files.update((root / "plugins").glob("*.py"))
        files.add(root / PACKAGED_DATA[1])
    return sorted(files)


def _versions() -> str:
    try:
        beancount = metadata.version("beancount")
    except metadata.PackageNotFoundError:  # pragma: no cover - beancount is a dependency
        beancount = "?"
    return f"beancount {beancount}; python {platform.python_implementation()} {platform.python_version()}"


def code_digest() -> str:
    """The sha256 over the ISU code the load depends on and the versions."""
    digest = hashlib.sha256(_versions().encode("utf-8") + b"\0")
    for path in code_files():
        digest.update(str(path.name).encode("utf-8") + b"\0")
        digest.update(_file_hash(path).encode("ascii"))
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:  # unreadable: a key that never matches a stored one
        return f"unreadable {secrets.token_hex(8)} {exc.errno}"


def base_files(ledger_dir: Path) -> list[str]:
    """Files that are part of every key, whatever the last load included:
    main, accounts, every ``txns/*.beancount`` and the registry files."""
    names = {C.MAIN_FILE, C.ACCOUNTS_FILE, C.REGISTRY_FILE, C.RULES_FILE}
    try:
        names.update(f"{C.TXN_DIR}/{p.name}" for p in (ledger_dir / C.TXN_DIR).glob("*.beancount"))
    except OSError:
        pass
    return sorted(names)


def relative(ledger_dir: Path, name: str) -> str:
    """``name`` relative to the ledger when inside it, else as given."""
    path = Path(name)
    if not path.is_absolute():
        return name
    try:
        return str(path.resolve().relative_to(ledger_dir))
    except ValueError:
        return str(path)


def file_hashes(ledger_dir: Path, rels: list[str]) -> dict[str, str]:
    """sha256 of each file (ledger-relative or absolute name) -> hex digest."""
    return {rel: _file_hash(ledger_dir / rel) for rel in sorted(set(rels))}


def state_digest(ledger_dir: Path, hashes: dict[str, str], code: str) -> str:
    """The cache key: the ledger's path, each file's name and hash, the code."""
    digest = hashlib.sha256(str(ledger_dir).encode("utf-8") + b"\0" + code.encode("ascii") + b"\0")
    for rel in sorted(hashes):
        digest.update(rel.encode("utf-8") + b"\0" + hashes[rel].encode("ascii") + b"\0")
    return digest.hexdigest()


# --- the secret -----------------------------------------------------------------


def _cache_dir(ledger_dir: Path, create: bool) -> Path | None:
    path = ledger_dir / CACHE_DIR
    try:
        if not stat.S_ISDIR(os.lstat(path.parent).st_mode):
            return None
        if create:
            path.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        return None
    return path


def _key(ledger_dir: Path, create: bool) -> bytes | None:
    """The ledger's secret cache key; created (0600) when asked and missing.

    A key readable by group or others, not ours, or behind a symlink is
    refused: anyone who can read it could forge a cache file.
    """
    folder = _cache_dir(ledger_dir, create)
    if folder is None:
        return None
    path = folder / KEY_FILE
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        except OSError:
            return None
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(KEY_BYTES))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            log.debug("%s: ignored (must be a 0600 file of this user)", path)
            return None
        text = f.read(4 * KEY_BYTES).strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


# --- read and write -------------------------------------------------------------------


def read(ledger_dir: Path, code: str | None = None) -> Cached | None:
    """The cached load of ``ledger_dir`` if it is the load of the files as they
    are now and authentic; None otherwise (never raises)."""
    try:
        return _read(ledger_dir, code)
    except Exception as exc:  # noqa: BLE001 - any failure means: parse instead
        log.debug("%s: load cache ignored (%s)", ledger_dir, exc)
        return None


def _read(ledger_dir: Path, code: str | None) -> Cached | None:
    key = _key(ledger_dir, create=False)
    if key is None:
        return None
    try:
        fd = os.open(ledger_dir / CACHE_DIR / DATA_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        blob = f.read()
    head = len(MAGIC) + TAG_BYTES + 8
    if len(blob) < head or not blob.startswith(MAGIC):
        return None
    tag = blob[len(MAGIC) : len(MAGIC) + TAG_BYTES]
    body = memoryview(blob)[len(MAGIC) + TAG_BYTES :]
    if not hmac.compare_digest(tag, hmac.new(key, body, hashlib.sha256).digest()):
        return None
    # Authentic from here on: written by isu-ledger with this ledger's key.
    size = int.from_bytes(body[:8], "big")
    header = json.loads(bytes(body[8 : 8 + size]).decode("utf-8"))
    hashes = file_hashes(ledger_dir, sorted(set(header["files"]) | set(base_files(ledger_dir))))
    digest = state_digest(ledger_dir, hashes, code or code_digest())
    if not hmac.compare_digest(digest, header["digest"]):
        return None
    entries, errors, options_map = pickle.loads(body[8 + size :])
    return Cached(entries, errors, options_map, digest, hashes)


def write(ledger_dir: Path, hashes: dict[str, str], digest: str, entries: list, errors: list,
          options_map: dict[str, Any]) -> bool:
    """Keep this load for the next process; ``hashes`` are the files it read
    (ledger-relative) and ``digest`` their ``state_digest``, both taken
    *before* the parse. Atomic (a reader sees the old file or the new one);
    returns False when the cache cannot be written (never raises)."""
    try:
        key = _key(ledger_dir, create=True)
        if key is None:
            return False
        header = json.dumps({"files": sorted(hashes), "digest": digest}).encode("utf-8")
        folder = ledger_dir / CACHE_DIR
        fd, tmp = tempfile.mkstemp(prefix=".load-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC)
                f.write(bytes(TAG_BYTES))  # placeholder: the tag is known once the payload is written
                mac = _MacWriter(f, hmac.new(key, digestmod=hashlib.sha256))
                mac.write(len(header).to_bytes(8, "big"))
                mac.write(header)
                # Streamed, not pickle.dumps: no second 85 MB copy in memory, and
                # the pickler gives up the GIL at every frame it hands to write(),
                # so a background write does not stall the threads serving requests.
                pickle.dump((entries, errors, options_map), mac, protocol=pickle.HIGHEST_PROTOCOL)
                f.seek(len(MAGIC))
                f.write(mac.mac.digest())
            os.replace(tmp, folder / DATA_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True
    except Exception as exc:  # noqa: BLE001 - a cache that cannot be written is only slower
        log.debug("%s: load cache not written (%s)", ledger_dir, exc)
        return False


class _MacWriter:
    """A file wrapper that feeds everything written to an HMAC as well."""

    def __init__(self, file, mac) -> None:
        self.file = file
        self.mac = mac

    def write(self, data) -> int:
        self.mac.update(data)
        return self.file.write(data)


def clear(ledger_dir: Path | str) -> None:
    """Remove the cached load (the key stays)."""
    try:
        (Path(ledger_dir) / CACHE_DIR / DATA_FILE).unlink(missing_ok=True)
    except OSError:
        pass
