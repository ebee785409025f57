"""Workbooks as users fill them."""

from __future__ import annotations

from pathlib import Path

import openpyxl


def fill(path: Path, sheet: str, header: list[str], rows: list[list]) -> Path:
    """A workbook as a user would fill it: one sheet, a header row, data rows."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


# What a hostile or broken upload does to a workbook's XML: the zip is sound,
# the sheet inside is not.
DOCTYPE = b'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
LAUGHS = b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
DAMAGE = {
    "truncated": lambda xml: xml[: len(xml) // 2],
    "external-entity": lambda xml: DOCTYPE + xml.replace(b"<sheetData>", b"<sheetData>&x;", 1),
    "internal-entities": lambda xml: LAUGHS + xml.replace(b"<sheetData>", b"<sheetData>&b;", 1),
}


def damaged(source: Path, target: Path, how: str) -> Path:
    """A copy of the workbook ``source`` whose first sheet's XML is damaged
    ``how`` (a key of DAMAGE); every other member is kept as it was."""
    import zipfile

    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for member in original.infolist():
            content = original.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = DAMAGE[how](content)
            copy.writestr(member, content)
    return target
