"""The one entry point to the bank file parsers: bytes in, ParseResult out.

``parse_file`` reads (with a size cap), ``detect`` names the format,
``parse_bytes`` dispatches. Every refusal is a :class:`BadFile` with a
one-line message; no other exception escapes (library errors are converted
here as a last guard, after each parser converted the ones it expects).
"""

from __future__ import annotations

import hashlib
from decimal import DecimalException
from pathlib import Path

from lxml import etree

from importers.parse.camt import detect_version, parse_camt_bytes
from importers.model import BadFile, ParseResult
from importers.parse.serialize import to_json  # noqa: F401  (re-exported: the parse --json contract)
from importers.parse.mt940 import parse_mt940
from importers.parse.ubs_csv import looks_like_ubs_csv, parse_ubs_csv
from importers.parse.xmlsafe import parse_xml

MAX_BYTES = 50 * 1024 * 1024  # 50 MiB: far above any real monthly statement


def _sniff(path: str, data: bytes) -> str:
    """"xml", "mt940" or "ubs-csv" from the first bytes, or BadFile."""
    if not data or data.isspace():  # (no stripped copy of a 20 MB file)
        raise BadFile(path, "empty file")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"\x00" in data[:4096]:
        raise BadFile(path, "binary data: not a bank statement (camt XML, MT940 or UBS CSV)")
    if head.startswith(b"<"):
        return "xml"
    text = head.decode("latin-1")
    if text.startswith(("{1:", ":20:")) or (":20:" in text and ":25:" in text):
        return "mt940"
    if looks_like_ubs_csv(data[:65536].decode("utf-8", errors="replace")) or looks_like_ubs_csv(
        data[:65536].decode("cp1252", errors="replace")
    ):
        return "ubs-csv"
    raise BadFile(path, "unknown file format: not camt XML, MT940 or UBS CSV")


def detect(path: Path, data: bytes) -> str:
    """The file's format: "camt.053.001.08", "mt940", "ubs-csv"; BadFile if unknown."""
    kind = _sniff(str(path), data)
    if kind == "xml":
        return detect_version(str(path), parse_xml(str(path), data))
    return kind


def parse_bytes(path: str | Path, data: bytes) -> ParseResult:
    """Detect and parse a bank file already in memory."""
    name = str(path)
    if len(data) > MAX_BYTES:
        raise BadFile(name, f"file too large: {len(data)} bytes (limit {MAX_BYTES})")
    try:
        kind = _sniff(name, data)
        if kind == "xml":
            result = parse_camt_bytes(name, data)
        elif kind == "mt940":
            result = parse_mt940(name, data)
        else:
            result = parse_ubs_csv(name, data)
    except BadFile:
        raise
    except (ValueError, LookupError, ArithmeticError, DecimalException, TypeError, AttributeError,
            RuntimeError, etree.LxmlError) as exc:  # last guard: a parser met something unforeseen
        problem = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise BadFile(name, f"unreadable {kind_name(data)} file: {problem}") from exc
    result.sha256 = hashlib.sha256(data).hexdigest()
    return result


def kind_name(data: bytes) -> str:
    return "XML" if data.lstrip()[:1] == b"<" else "bank"


def parse_file(path: str | Path, max_bytes: int = MAX_BYTES) -> ParseResult:
    """Read ``path`` (refusing more than ``max_bytes``), detect and parse it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BadFile(str(path), f"file too large: {size} bytes (limit {max_bytes})")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise BadFile(str(path), f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise BadFile(str(path), f"file too large: more than {max_bytes} bytes")
    return parse_bytes(path, data)
