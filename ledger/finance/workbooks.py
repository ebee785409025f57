"""Excel templates the ISU fills in (pledges, budgets, GICHD expenditure).

Staff and the host keep these figures in spreadsheets, so the ledger offers
an ``.xlsx`` template per kind of data (written by ``isu-ledger <kind>
template -o FILE``) and reads it back. The rules of a read:

* columns are found by their header in row 1 (case and spacing ignored), so
  a user may reorder them or add their own notes columns;
* every cell is converted and checked; a problem is reported as
  ``FILE:SHEET!ROW: column C (Header): problem`` and *all* problems of the
  workbook are collected before anything is refused, so one round of fixes
  is enough;
* a workbook with any problem raises ``ExcelErrors``: the caller writes
  nothing (all-or-nothing, like every change to the books).

The field parsers (``parse_money``, which is ``ledger.money.parse``,
``parse_date``, ``parse_year``) are also what the CLI uses for the same values
typed on the command line, so a value means the same wherever it is entered.
Money never passes through a binary float: a numeric cell (which openpyxl
returns as ``float``) is converted via its shortest round-trip ``repr`` and
must have at most two decimals.
"""

from __future__ import annotations

import datetime
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from ledger.money import parse as parse_money  # money cells and --amount read alike

_ISO3 = re.compile(r"^[A-Z]{3}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ExcelErrors(Exception):
    """A workbook (or a value) that cannot be imported; ``errors`` has one
    line per problem, ``FILE:SHEET!ROW: column C (Header): problem``."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors) or ["unknown problem"]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(self.errors[0] + more)


# --- field parsers (cells and command-line values) ----------------------------


def parse_date(value: Any) -> datetime.date:
    """A date from a date cell or ISO text (``2025-06-30``)."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!s}: not a date (YYYY-MM-DD)")


def parse_year(value: Any) -> int:
    """A work-plan year: a whole number from 1999 to 2100."""
    from ledger.plugins.isu_rules import MAX_YEAR, MIN_YEAR

    text = repr(value) if isinstance(value, float) else str(value).strip()
    text = text.removesuffix(".0")
    if isinstance(value, bool) or not text.isdigit() or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ValueError(f"{value!s}: not a year ({MIN_YEAR} to {MAX_YEAR})")
    return int(text)


def parse_text(value: Any) -> str:
    """Text on one line (newlines and tabs folded to spaces), stripped."""
    text = " ".join(str(value).split())
    if not text:
        raise ValueError("is empty")
    return text


def parse_iso3(value: Any) -> str:
    text = str(value).strip().upper()
    if not _ISO3.match(text):
        raise ValueError(f"{value!s}: not an ISO 3166-1 alpha-3 code (e.g. DEU)")
    return text


def parse_currency(value: Any) -> str:
    text = str(value).strip().upper()
    if not _CURRENCY.match(text):
        raise ValueError(f"{value!s}: not an ISO 4217 currency code (e.g. CHF, EUR)")
    return text


PARSERS: dict[str, Callable[[Any], Any]] = {
    "money": parse_money,
    "signed_money": lambda v: parse_money(v, allow_negative=True),
    "date": parse_date,
    "year": parse_year,
    "text": parse_text,
    "iso3": parse_iso3,
    "currency": parse_currency,
}


# --- templates ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a template: its header, value kind, and the help text
    written on the Instructions sheet."""

    key: str
    header: str
    kind: str  # a key of PARSERS
    required: bool = True
    help: str = ""
    example: Any = None
    width: int = 16


@dataclass(frozen=True)
class Template:
    """A template: one data sheet, its columns, and what it is for."""

    sheet: str
    title: str
    columns: tuple[Column, ...]
    notes: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> allowed values


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


# A text that starts with one of these is a formula to Excel when typed in.
_FORMULA_START = ("=", "+", "-", "@")


def sheet_value(value: Any) -> Any:
    """``value`` as a cell can hold it: text loses the control characters that
    XML cannot carry (openpyxl refuses them), each becoming a space; any
    other value is returned as it is. Every value a workbook writer takes
    from the books passes through here."""
    return ILLEGAL_CHARACTERS_RE.sub(" ", value) if isinstance(value, str) else value


def texts_stay_text(wb) -> None:
    """Keep every text cell of ``wb`` text, whoever wrote it: every workbook
    the product writes passes through here before it is saved.

    openpyxl stores a string beginning with ``=`` as a formula (and ``#N/A``
    and the like as errors); as a string cell ("s") the text opens as text,
    unchanged. A text that starts like a formula (``= + - @``) also gets the
    cell's ``quotePrefix`` - the leading quote of Excel's own "text" entry,
    kept in the cell's style, not in its text - so that a user who edits the
    cell (a template is filled in) and presses Enter does not turn it into
    a formula either.
    """
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                    if cell.value.startswith(_FORMULA_START):
                        cell.quotePrefix = True


def write_template(path: Path | str, template: Template, rows: Sequence[dict[str, Any]] = ()) -> Path:
    """Write ``template`` to ``path`` (an .xlsx), with ``rows`` filled in.

    Dates are written as date cells and amounts as numbers with two decimals
    (Decimal cells keep their exact value in the file's XML).
    """
    path = Path(path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = template.sheet
    for index, column in enumerate(template.columns, start=1):
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    for r, row in enumerate(rows, start=2):
        for index, column in enumerate(template.columns, start=1):
            value = sheet_value(row.get(column.key))
            cell = ws.cell(row=r, column=index, value=value)
            if column.kind in ("money", "signed_money"):
                cell.number_format = "#,##0.00"
            elif column.kind == "date" and value is not None:
                cell.number_format = "yyyy-mm-dd"
    for key, allowed in template.choices.items():
        index = [c.key for c in template.columns].index(key) + 1
        letter = get_column_letter(index)
        validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
        validation.add(f"{letter}2:{letter}5000")
        ws.add_data_validation(validation)
    info = wb.create_sheet("Instructions")
    info.append([template.title])
    info["A1"].font = Font(bold=True, size=13)
    info.append([])
    for note in template.notes:
        info.append([note])
    info.append([])
    info.append(["Column", "Required", "What to enter", "Example"])
    for cell in info[info.max_row]:
        cell.font = _HEADER_FONT
    for column in template.columns:
        info.append([column.header, "yes" if column.required else "no", column.help, column.example])
    info.column_dimensions["A"].width = 18
    info.column_dimensions["C"].width = 90
    info.column_dimensions["D"].width = 24
    path.parent.mkdir(parents=True, exist_ok=True)
    texts_stay_text(wb)
    wb.save(path)
    return path


# --- reading ----------------------------------------------------------------------


@dataclass
class Row:
    """One data row read from a sheet: converted values by column key, and
    the way to report a problem at this row."""

    number: int
    values: dict[str, Any]
    _where: str
    _letters: dict[str, str]
    _headers: dict[str, str]
    errors: list[str]

    def error(self, key: str | None, problem: str) -> None:
        """Report a problem with this row (in column ``key`` if given)."""
        if key is None:
            self.errors.append(f"{self._where}!{self.number}: {problem}")
        else:
            self.errors.append(
                f"{self._where}!{self.number}: column {self._letters[key]} ({self._headers[key]}): {problem}"
            )


def _norm_header(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


# An .xlsx is a zip archive: a hostile upload can be an archive bomb (a few
# KiB that inflate to GiB) or hold thousands of members. Real templates hold
# about a dozen members and well under a MiB.
MAX_MEMBERS = 500
MAX_UNCOMPRESSED = 64 * 1024 * 1024  # bytes, all members together
MAX_RATIO = 200  # uncompressed / compressed, per member


def _check_archive(path: Path) -> None:
    """Refuse a workbook whose zip structure is hostile, before openpyxl
    inflates anything (sizes come from the central directory)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except FileNotFoundError:
        raise ExcelErrors([f"{path}: no such file"]) from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExcelErrors([f"{path}: not an Excel workbook (.xlsx): {' '.join(str(exc).split()) or type(exc).__name__}"]) from None
    if len(members) > MAX_MEMBERS:
        raise ExcelErrors([f"{path}: refused: {len(members)} archive members (at most {MAX_MEMBERS})"])
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise ExcelErrors([f"{path}: refused: inflates to {total} bytes (at most {MAX_UNCOMPRESSED})"])
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise ExcelErrors([f"{path}: refused: member {m.filename!r} is an archive bomb "
                               f"({m.compress_size} bytes inflating to {m.file_size})"])
    _refuse_dtd(path, members)


# A workbook's XML never declares a DTD; one in an upload can only be an
# attack (external entities, entity expansion), so it is refused before any
# XML parser sees it. The members were sized above, so reading is bounded.
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")


def _refuse_dtd(path: Path, members: list[zipfile.ZipInfo]) -> None:
    keep = max(len(m) for m in DTD_MARKERS) - 1  # a marker split across two chunks
    with zipfile.ZipFile(path) as archive:
        for member in members:
            tail = b""
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(1 << 16):
                        window = tail + chunk
                        if any(marker in window for marker in DTD_MARKERS):
                            raise ExcelErrors([f"{path}: refused: member {member.filename!r} declares a DTD (entities are not allowed)"])
                        tail = window[-keep:]
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
                raise ExcelErrors([f"{path}: not an Excel workbook (.xlsx): {' '.join(str(exc).split()) or type(exc).__name__}"]) from None


def _open(path: Path) -> Any:
    _check_archive(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ExcelErrors([f"{path}: no such file"]) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, SyntaxError) as exc:
        raise ExcelErrors([f"{path}: not an Excel workbook (.xlsx): {' '.join(str(exc).split()) or type(exc).__name__}"]) from None


def read_rows(path: Path | str, template: Template) -> list[Row]:
    """The data rows of ``template.sheet`` in the workbook at ``path``.

    Blank rows are skipped. Each row's cells are converted by their column's
    kind; problems are collected on the rows (``Row.errors`` is shared by
    all rows of one read, so the caller can add its own domain checks and
    then call ``raise_errors``). Raises ``ExcelErrors`` at once when the
    file, the sheet or a required column is missing.
    """
    path = Path(path)
    wb = _open(path)
    try:
        return _read_sheet(path, wb, template)
    except SyntaxError as exc:  # the XML parsers' errors (ElementTree's and lxml's ParseError)
        raise ExcelErrors([f"{path}: damaged workbook: its XML does not parse ({' '.join(str(exc).split())})"]) from None
    finally:
        wb.close()


def _read_sheet(path: Path, wb: Any, template: Template) -> list[Row]:
    """``read_rows`` on an open workbook (openpyxl parses the sheet as it goes)."""
    if template.sheet not in wb.sheetnames:
        raise ExcelErrors([f"{path}: no sheet named {template.sheet!r} (sheets: {', '.join(wb.sheetnames)})"])
    rows_iter = wb[template.sheet].iter_rows(values_only=True)
    where = f"{path}:{template.sheet}"
    positions = _column_positions(next(rows_iter, None) or (), template, where)
    letters = {key: get_column_letter(i + 1) for key, i in positions.items()}
    headers = {c.key: c.header for c in template.columns}
    errors: list[str] = []
    rows: list[Row] = []
    for number, cells in enumerate(rows_iter, start=2):
        raw = _cells_by_key(cells or (), positions)
        if all(v is None for v in raw.values()):
            continue
        row = Row(number, {}, where, letters, headers, errors)
        for column in template.columns:
            row.values[column.key] = _cell_value(row, column, raw.get(column.key), template.choices.get(column.key))
        rows.append(row)
    if not rows and not errors:
        raise ExcelErrors([f"{where}: no data rows (fill in the sheet below the header row)"])
    return rows


def _column_positions(header: Sequence[Any], template: Template, where: str) -> dict[str, int]:
    """Column key -> index in the sheet, found by header text; every required
    column missing from the header row is one problem, raised together."""
    found = {_norm_header(h): i for i, h in enumerate(header) if h is not None}
    positions: dict[str, int] = {}
    problems = []
    for column in template.columns:
        index = found.get(_norm_header(column.header))
        if index is not None:
            positions[column.key] = index
        elif column.required:
            problems.append(f"{where}!1: column {column.header!r} is missing from the header row")
    if problems:
        raise ExcelErrors(problems)
    return positions


def _cells_by_key(cells: Sequence[Any], positions: dict[str, int]) -> dict[str, Any]:
    """The row's cells by column key; blank text and cells past the row's end are None."""
    raw = {key: (cells[i] if i < len(cells) else None) for key, i in positions.items()}
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in raw.items()}


def _cell_value(row: Row, column: Column, value: Any, allowed: Sequence[str] | None) -> Any:
    """One cell converted by its column's kind; a problem is reported on the
    row and the value is None."""
    if value is None:
        if column.required:
            row.error(column.key, "is empty")
        return None
    try:
        converted = PARSERS[column.kind](value)
    except ValueError as exc:
        row.error(column.key, str(exc))
        return None
    if allowed and converted is not None and converted not in allowed:
        row.error(column.key, f"{value!s}: not one of {', '.join(allowed)}")
    return converted


def raise_errors(rows: Sequence[Row]) -> None:
    """Raise ``ExcelErrors`` if any row of the read has a problem."""
    if rows and rows[0].errors:
        raise ExcelErrors(rows[0].errors)
