"""``isu-ledger check``: the books as ``bean-check`` sees them, plus the ISU rules.

The ISU rules (contribution metadata, registry codes, deferrals, locked
years) are Beancount plugins loaded by ``main.beancount``, so this is the
same load ``bean-check`` and Fava do; the errors come back as plain lines
``relative/file.beancount:LINE: message`` for the CLI and the web app.
"""

from __future__ import annotations

from pathlib import Path

from ledger import conventions
from ledger.loader import load_books


def check_ledger(ledger_dir: Path | str, *, recover: bool = True) -> list[str]:
    """Every problem of the ledger, one ``file:line: message`` string each.

    With ``recover`` (the default), a write interrupted by a crash is rolled
    back first (see ``ledger.store.writer.recover_journal``); the writer itself
    checks with ``recover=False`` because its own journal is not a crash.
    """
    ledger_dir = Path(ledger_dir).resolve()
    if not (ledger_dir / conventions.MAIN_FILE).is_file():
        return [f"{ledger_dir / conventions.MAIN_FILE}: no ledger here (run isu-ledger init)"]
    if recover:
        from ledger.store.writer import recover_journal

        recover_journal(ledger_dir)
    books = load_books(ledger_dir)
    return [str(error) for error in books.errors]
