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
