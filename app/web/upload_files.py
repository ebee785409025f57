"""Uploaded files: size-limited (MAX_CONTENT_LENGTH), names sanitised with
werkzeug's ``secure_filename`` and shortened, kept in a private temporary directory until
the action is confirmed or discarded, and accepted by their *content*
(the importers' format detection, or the Excel container), never by their
extension."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from app.web.views import Refused

MAX_FILES = 24
MAX_NAME = 120  # characters of a kept file name: well under any file system's 255 bytes
MAX_SUFFIX = 16


def safe_name(filename: str | None) -> str:
    """The name an upload is kept under: werkzeug's ``secure_filename`` (ASCII,
    no path), shortened to MAX_NAME characters with its suffix kept, so a
    name of any length can be stored (and archived with the books); "" when
    nothing usable is left."""
    name = secure_filename(filename or "")
    if len(name) <= MAX_NAME:
        return name
    suffix = Path(name).suffix
    if len(suffix) > MAX_SUFFIX:
        suffix = ""
    return name[: MAX_NAME - len(suffix)].rstrip("._-") + suffix


def _upload_root() -> str | None:
    return current_app.config.get("UPLOAD_DIR") or None


def save(files: list[FileStorage], kind: str) -> tuple[Path, list[dict]]:
    """Save ``files`` into a new private directory; return it and, per file,
    ``{"name", "path", "size", "format"}``. ``kind`` is ``"bank"`` (bank
    statements: detected by the importers) or ``"xlsx"`` (Excel templates).
    Refused (400) for no file, too many, an unusable name or unknown content."""
    files = [f for f in files if f is not None and f.filename]
    if not files:
        raise Refused("choose at least one file")
    if len(files) > MAX_FILES:
        raise Refused(f"at most {MAX_FILES} files at once")
    directory = Path(tempfile.mkdtemp(prefix="isu-upload-", dir=_upload_root()))
    saved: list[dict] = []
    try:
        for storage in files:
            name = safe_name(storage.filename)
            if not name:
                raise Refused(f"{(storage.filename or '')[:80]!r}: not a usable file name")
            if any(s["name"] == name for s in saved):
                raise Refused(f"{name}: uploaded twice")
            path = directory / name
            storage.save(path)
            raw = path.read_bytes()
            if not raw:
                raise Refused(f"{name}: the file is empty")
            saved.append({"name": name, "path": str(path), "size": len(raw), "format": detect(name, raw, kind)})
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory, saved


def detect(name: str, raw: bytes, kind: str) -> str:
    """The file's format from its content; Refused with the reason otherwise."""
    if kind == "xlsx":
        if not raw.startswith(b"PK\x03\x04"):
            raise Refused(f"{name}: not an Excel workbook (.xlsx)")
        return "xlsx"
    from importers import parse as api
    from importers.model import BadFile

    try:
        return api.detect(Path(name), raw)
    except BadFile as exc:
        raise Refused(f"{name}: {exc.problem}") from None


def discard(directory: str | Path | None) -> None:
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def rename_paths(text: str, files: list[dict]) -> str:
    """A message with the temporary paths replaced by the uploaded names."""
    for f in files:
        text = text.replace(f["path"], f["name"])
    return text
