"""Hardened XML parsing for bank files.

Bank XML comes from outside (downloads, e-mail, uploads), so it is parsed as
hostile input: no DTD is loaded, no entity is resolved, nothing is fetched
from the network, no "huge tree" mode, and never ``recover=True`` (which
silently drops data). Bank files never carry a DOCTYPE, so any DOCTYPE is
refused *before* lxml sees the document: entity bombs and XXE payloads are
turned away without a single expansion.

Every failure becomes :class:`importers.model.BadFile` with a one-line message.
"""

from __future__ import annotations

import re

from lxml import etree

from importers.model import BadFile

# The prolog: XML declaration, processing instructions, comments, whitespace.
_PROLOG_ITEM = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)
_BOMS = (b"\xef\xbb\xbf",)


def prolog_end(data: bytes) -> int:
    """Where the prolog ends: after a BOM, the XML declaration, processing
    instructions, comments and whitespace; the root element (or a DOCTYPE)
    starts here in a well-formed file."""
    pos = 0
    for bom in _BOMS:
        if data.startswith(bom):
            pos = len(bom)
    while True:
        match = _PROLOG_ITEM.match(data, pos)
        if not match or match.end() == pos:
            return pos
        pos = match.end()


def _check_prolog(path: str, data: bytes) -> None:
    """Refuse a DOCTYPE (or any other ``<!`` declaration) before the root element."""
    pos = prolog_end(data)
    if data[pos : pos + 9].upper() == b"<!DOCTYPE":
        raise BadFile(path, "DOCTYPE is not allowed in bank files (possible entity attack)")
    if data[pos : pos + 2] == b"<!":
        raise BadFile(path, "markup declaration before the root element is not allowed in bank files")


def _parser(keep_pis: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        recover=False,
        remove_comments=True,
        remove_pis=not keep_pis,
    )


def parse_xml(path: str, data: bytes, *, keep_pis: bool = False) -> etree._Element:
    """Parse ``data`` safely and return the root element, or raise BadFile.

    Processing instructions are dropped, unless ``keep_pis`` (for markers of
    our own: see importers.parse.camt).
    """
    if not data or data.isspace():
        raise BadFile(path, "empty file")
    _check_prolog(path, data)
    try:
        tree = etree.fromstring(data, parser=_parser(keep_pis)).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else "?"
        message = (exc.msg or str(exc)).splitlines()[0]
        raise BadFile(path, f"not well-formed XML at line {line}: {message}") from exc
    except (ValueError, etree.LxmlError) as exc:
        raise BadFile(path, f"not well-formed XML: {str(exc).splitlines()[0]}") from exc
    if tree.docinfo.doctype:
        raise BadFile(path, "DOCTYPE is not allowed in bank files (possible entity attack)")
    root = tree.getroot()
    # An entity reference left unresolved would sit in the tree as an Entity node.
    for node in root.iter(etree.Entity):
        raise BadFile(path, f"entity reference {node.text} is not allowed in bank files")
    return root
